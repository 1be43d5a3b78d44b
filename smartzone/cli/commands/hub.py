"""`smartzone hub`: the ingest worker(s)."""

import threading
from pathlib import Path

import click


@click.command("hub")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Hub settings TOML (default: configs/hub.toml when present).")
@click.option("--broker", help="mqtt://host:port, mqtts://…, or `embedded` (env SZ_BROKER).")
@click.option("--db", "db_url", help="SQLAlchemy URL (env SZ_DB).")
@click.option("--client-id", help="MQTT client id; keep it stable so the broker keeps our queue.")
@click.option("--shared-group", help="Share the subscription with other hub workers.")
@click.option("--username", help="Broker account, e.g. `hub` (env SZ_MQTT_USERNAME); password from "
                                 "SZ_MQTT_PASSWORD or --password-file. Not needed with `embedded`.")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path),
              help="File whose first line is the broker password (env SZ_MQTT_PASSWORD_FILE).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes sharing the subscription (default 1; env SZ_WORKERS). "
                   "One process uses about one core.")
@click.option("--dev", is_flag=True, help="Development only: accept the repository's development face "
                                          "template key (SZ_TEMPLATE_KEYS unset).")
def hub_command(config_file: Path | None, broker: str | None, db_url: str | None,
                client_id: str | None, shared_group: str | None, workers: int | None, username: str | None,
                password_file: Path | None, dev: bool) -> None:
    """Store every device message exactly once; runs until SIGTERM or Ctrl-C.

    Messages are validated and written in batches, and acknowledged only after the
    commit. Bad input is dead-lettered with its reason and raw bytes. With --workers N,
    N processes share the subscription (client ids <client-id>.w0 …, group `hub` unless
    --shared-group says otherwise).
    """
    from device_hub.ingest.hub import Hub, IngestOptions
    from device_hub.ingest.workers import run_workers
    from device_hub.link.mqtt import SessionOptions
    from server.db import make_engine, session_factory
    from smartzone.cli.compose import broker as open_broker
    from smartzone.cli.compose import fail, load_branch_configs, open_database, stop_on_signals
    from szconfig import ConfigError, default_config_dir, load_hub_settings
    from szconfig.mqtt_auth import SecretSourceError, mqtt_password

    if config_file is None:
        candidate = default_config_dir() / "hub.toml"
        config_file = candidate if candidate.exists() else None
    try:
        settings = load_hub_settings(config_file, broker=broker, db=db_url, client_id=client_id,
                                     shared_group=shared_group, workers=workers, mqtt_username=username,
                                     mqtt_password_file=password_file)
        password = mqtt_password(settings.mqtt_password_file)
    except (ConfigError, SecretSourceError) as err:
        fail(str(err))
    _check_crm_secrets(dev)
    branches = load_branch_configs(_resolve(settings.branches_dir))
    engine, factory = open_database(settings.db, branches)
    stop = stop_on_signals()
    with open_broker(settings.broker, settings.var_dir, username=settings.mqtt_username, password=password) as url:

        def run(client_id: str, group: str | None, stop: threading.Event, factory) -> int:
            hub = Hub(url=url, db=factory, branches=set(branches),
                      session=SessionOptions(client_id=client_id, mqtt5=settings.mqtt_version == "5",
                                             session_expiry_s=settings.session_expiry_s,
                                             keepalive_s=settings.keepalive_s, ca_file=settings.tls_ca_file),
                      options=IngestOptions(batch_max=settings.batch_max, batch_wait_ms=settings.batch_wait_ms,
                                            max_payload_bytes=settings.max_payload_bytes, shared_group=group,
                                            max_clock_ahead_s=settings.max_clock_ahead_s,
                                            max_event_age_s=settings.max_event_age_s))
            c = hub.run(stop)
            click.echo(f"hub stopped ({client_id}): received {c.received}, stored {c.stored}, duplicates "
                       f"{c.duplicates}, dead-lettered {c.dead_lettered}, heartbeats {c.heartbeats}; {c.batches} "
                       f"batches, {c.reconnects} reconnects, {c.db_retries} database retries", err=True)
            return 0

        click.echo(f"hub: {url} → {settings.db} ({len(branches)} branches, {settings.workers} worker"
                   f"{'s' if settings.workers > 1 else ''}); Ctrl-C to stop", err=True)
        if settings.workers == 1:
            run(settings.client_id, settings.shared_group, stop, factory)
            return
        engine.dispose()  # each worker opens its own connections
        group = settings.shared_group or "hub"

        def worker(index: int) -> int:
            return run(f"{settings.client_id}.w{index}", group, stop_on_signals(),
                       session_factory(make_engine(settings.db)))

        code = run_workers(settings.workers, worker, stop)
    if code:
        raise SystemExit(code)


def _check_crm_secrets(dev: bool) -> None:
    """The hub's CRM code decrypts face templates with the server's SZ_TEMPLATE_KEYS: refuse the dev key."""
    from server.customers.config import configure
    from smartzone.cli.compose import fail
    from szconfig import ConfigError
    from szconfig.secrets import DevSecretError, check_server_secrets

    try:
        check_server_secrets(configure().settings, dev=dev, what="the hub", only={"SZ_TEMPLATE_KEYS"})
    except (ConfigError, DevSecretError) as err:
        fail(str(err))


def _resolve(path: Path) -> Path:
    from szconfig import default_config_dir

    if path.exists() or path.is_absolute():
        return path
    return default_config_dir().parent / path


def register(cli: click.Group) -> None:
    cli.add_command(hub_command)
