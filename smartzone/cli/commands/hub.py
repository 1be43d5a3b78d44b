"""`smartzone hub`: the ingest worker(s), in any role; `run_hub` is shared with `smartzone edge` and `central`."""

from __future__ import annotations

import threading
from pathlib import Path

import click

ROLE_OPTION = click.option("--role", type=click.Choice(["all", "edge", "central"]), default=None,
                           help="all (default): one site does everything; edge: one branch's queue, its events "
                                "sent up to the centre (needs --branch); central: what the edges send up "
                                "(env SZ_ROLE).")


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
@ROLE_OPTION
@click.option("--branch", help="The branch an edge serves (role edge; env SZ_BRANCH).")
@click.option("--dev", is_flag=True, help="Development only: accept the repository's development face "
                                          "template key (SZ_TEMPLATE_KEYS unset).")
def hub_command(config_file: Path | None, broker: str | None, db_url: str | None,
                client_id: str | None, shared_group: str | None, workers: int | None, username: str | None,
                password_file: Path | None, role: str | None, branch: str | None, dev: bool) -> None:
    """Store every device message exactly once; runs until SIGTERM or Ctrl-C.

    Messages are validated and written in batches, and acknowledged only after the
    commit. Bad input is dead-lettered with its reason and raw bytes. With --workers N,
    N processes share the subscription (client ids <client-id>.w0 …, group `hub` unless
    --shared-group says otherwise).
    """
    settings = load(config_file, "hub.toml", broker=broker, db=db_url, client_id=client_id,
                    shared_group=shared_group, workers=workers, mqtt_username=username,
                    mqtt_password_file=password_file, role=role, branch=branch)
    run_hub(settings, dev=dev)


def load(config_file: Path | None, default_name: str, **overrides):
    """Hub settings: the TOML (default configs/<default_name> when present), SZ_* variables, then options."""
    from smartzone.cli.compose import fail
    from szconfig import ConfigError, default_config_dir, load_hub_settings

    if config_file is None:
        candidate = default_config_dir() / default_name
        config_file = candidate if candidate.exists() else None
    try:
        return load_hub_settings(config_file, **overrides)
    except (ConfigError, ValueError) as err:
        fail(str(err))


def run_hub(settings, *, dev: bool, broker_url=None, on_ready=None) -> None:
    """Run the hub (or its workers) until a stop signal. `broker_url`: a BrokerUrl to use instead of
    settings.broker (the edge's own broker); `on_ready(factory)` runs once the hub is started (the edge's
    console)."""
    from contextlib import nullcontext

    from device_hub.ingest.hub import Hub, IngestOptions
    from device_hub.ingest.workers import run_workers
    from device_hub.link.mqtt import SessionOptions
    from server.db import make_engine, session_factory
    from smartzone.cli.compose import broker as open_broker
    from smartzone.cli.compose import fail, load_branch_configs, open_database, stop_on_signals
    from szconfig.mqtt_auth import SecretSourceError, mqtt_password
    from szconfig.roles import Role

    try:
        password = mqtt_password(settings.mqtt_password_file)
    except SecretSourceError as err:
        fail(str(err))
    _check_crm_secrets(dev, settings.role)
    branches = load_branch_configs(_resolve(settings.branches_dir))
    if settings.role is Role.EDGE:
        if settings.branch not in branches:
            fail(f"branch {settings.branch!r} has no configuration in {settings.branches_dir}")
        branches = {settings.branch: branches[settings.branch]}
    engine, factory = open_database(settings.db, branches)
    stop = stop_on_signals()
    broker_cm = nullcontext(broker_url) if broker_url else open_broker(
        settings.broker, settings.var_dir, username=settings.mqtt_username, password=password)
    with broker_cm as url:

        def run(client_id: str, group: str | None, stop: threading.Event, factory) -> int:
            hub = Hub(url=url, db=factory, branches=set(branches),
                      session=SessionOptions(client_id=client_id, mqtt5=settings.mqtt_version == "5",
                                             session_expiry_s=settings.session_expiry_s,
                                             keepalive_s=settings.keepalive_s, ca_file=settings.tls_ca_file),
                      options=IngestOptions(batch_max=settings.batch_max, batch_wait_ms=settings.batch_wait_ms,
                                            max_payload_bytes=settings.max_payload_bytes, shared_group=group,
                                            max_clock_ahead_s=settings.max_clock_ahead_s,
                                            max_event_age_s=settings.max_event_age_s, role=settings.role,
                                            branch=settings.branch,
                                            uplink_confirm_timeout_s=settings.uplink_confirm_timeout_s,
                                            uplink_window=settings.uplink_window))
            c = hub.run(stop)
            up = f"; sent up {hub.link.sent}, confirmed {hub.link.confirmed}" if hub.link else ""
            click.echo(f"hub stopped ({client_id}): received {c.received}, stored {c.stored}, duplicates "
                       f"{c.duplicates}, dead-lettered {c.dead_lettered}, heartbeats {c.heartbeats}; {c.batches} "
                       f"batches, {c.reconnects} reconnects, {c.db_retries} database retries{up}", err=True)
            return 0

        where = f" for {settings.branch}" if settings.role is Role.EDGE else ""
        click.echo(f"hub ({settings.role}{where}): {url} → {settings.db} ({len(branches)} branches, "
                   f"{settings.workers} worker{'s' if settings.workers > 1 else ''}); Ctrl-C to stop", err=True)
        if settings.workers == 1:
            extra = on_ready(factory) if on_ready else None
            try:
                run(settings.client_id, settings.shared_group, stop, factory)
            finally:
                if extra:
                    extra()
            return
        if settings.role is Role.EDGE:
            fail("an edge runs one hub process (its branch's queue is small); leave --workers at 1")
        engine.dispose()  # each worker opens its own connections
        group = settings.shared_group or "hub"

        def worker(index: int) -> int:
            return run(f"{settings.client_id}.w{index}", group, stop_on_signals(),
                       session_factory(make_engine(settings.db)))

        code = run_workers(settings.workers, worker, stop)
    if code:
        raise SystemExit(code)


def _check_crm_secrets(dev: bool, role) -> None:
    """The hub's CRM code decrypts face templates with the server's SZ_TEMPLATE_KEYS (or template_keys_file):
    refuse the dev key or a key that does not parse. An edge (which matches face probes in its cached templates)
    runs without a key instead: it answers every probe `unknown` and says so here, once; its queue needs none."""
    import logging

    from pydantic import SecretStr

    from server.customers.config import configure
    from smartzone.cli.compose import fail
    from szconfig import ConfigError
    from szconfig.roles import Role
    from szconfig.secrets import DevSecretError, check_server_secrets

    try:
        crm = configure()
    except ConfigError as err:
        fail(str(err))
    try:
        check_server_secrets(crm.settings, dev=dev, what="the hub", only={"SZ_TEMPLATE_KEYS"})
        crm.keyring  # noqa: B018 - a key that does not parse (or a file that cannot be read) fails here, not later
    except (DevSecretError, ValueError) as err:
        if role is not Role.EDGE:
            fail(str(err))
        logging.getLogger("smartzone.edge").error(
            "this edge has no face template key (%s): face probes are answered `unknown` and no returning "
            "customer is greeted here; set SZ_TEMPLATE_KEYS (or template_keys_file) to the centre's keys", err)
        configure(crm.settings.model_copy(update={"template_keys": SecretStr(""), "template_keys_file": None}),
                  crm.rules)


def _resolve(path: Path) -> Path:
    from szconfig import default_config_dir

    if path.exists() or path.is_absolute():
        return path
    return default_config_dir().parent / path


def register(cli: click.Group) -> None:
    cli.add_command(hub_command)
