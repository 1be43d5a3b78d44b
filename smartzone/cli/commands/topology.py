"""`smartzone edge` and `smartzone central`: the two roles of a bank-wide deployment (docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path

import click

from smartzone.cli.commands.hub import load, run_hub

DEFAULT_DB = "sqlite:///var/smartzone.db"


@click.command("edge")
@click.option("--branch", help="The branch this edge serves (env SZ_BRANCH).")
@click.option("--central", help="The central broker to bridge to: mqtts://host:8883 or mqtt://host:port "
                                "(env SZ_CENTRAL). The account is edge@<branch>.")
@click.option("--central-password-file", type=click.Path(dir_okay=False, path_type=Path),
              help="File whose first line is edge@<branch>'s password (else SZ_CENTRAL_PASSWORD).")
@click.option("--central-ca-file", type=click.Path(dir_okay=False, path_type=Path),
              help="CA bundle of an mqtts:// centre.")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Edge settings TOML (default: configs/edge.toml when present).")
@click.option("--db", "db_url", help="SQLAlchemy URL of the branch's database (default sqlite:///var/edge-<branch>.db).")
@click.option("--var", "var_dir", type=click.Path(path_type=Path), default=None,
              help="Where the edge's broker keeps its data and accounts (default var/edge-<branch>).")
@click.option("--mqtt-port", type=click.IntRange(0, 65535), default=1883, show_default=True,
              help="Port of the edge's own broker, where the branch's kiosks and display connect (0: any free).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of the branch's staff console.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port of the branch's staff console (teller, lobby and queue pages).")
@click.option("--print-bridge", is_flag=True,
              help="Only print the Mosquitto bridge section (for a Mosquitto you run yourself) and exit.")
@click.option("--dev", is_flag=True, help="Development only: accept the repository's development keys.")
def edge_command(branch: str | None, central: str | None, central_password_file: Path | None,
                 central_ca_file: Path | None, config_file: Path | None, db_url: str | None, var_dir: Path | None,
                 mqtt_port: int, host: str, port: int, print_bridge: bool, dev: bool) -> None:
    """Run one branch's edge: its own broker, bridged to the centre, its hub and its staff console.

    The branch's kiosks and lobby display connect to this broker; tickets, calling, the display and
    the teller and lobby consoles work here, on the branch's own database, with or without the link.
    Every event stored here is sent up and kept until the centre confirms it; commands, leads and
    push-downs from the centre come down the same bridge, queued while the link is away. Provision
    the account on the central broker with `smartzone devices provision-edge --branch B`, and the
    branch's kiosks on this one with `smartzone devices provision --dir <var>/trust …`.
    """
    from device_hub.broker import BrokerMissingError, start_embedded
    from device_hub.link.mqtt import BrokerUrlError, parse_broker_url
    from device_hub.trust import Account
    from device_hub.trust.bridge import BridgeSpec, mosquitto_bridge
    from device_hub.trust.store import AccountStore, AccountStoreError
    from smartzone.cli.compose import fail
    from szconfig.mqtt_auth import SecretSourceError, mqtt_password

    settings = load(config_file, "edge.toml", role="edge", branch=branch, central=central, db=db_url,
                    central_password_file=central_password_file, central_ca_file=central_ca_file)
    b = settings.branch
    var_dir = var_dir or Path("var") / f"edge-{b}"
    if settings.db == DEFAULT_DB:
        settings = settings.model_copy(update={"db": f"sqlite:///{Path('var') / f'edge-{b}.db'}"})
    if not settings.central:
        fail("an edge needs the central broker: --central mqtts://host:8883 (or central = … in edge.toml)")
    try:
        target = parse_broker_url(settings.central)
        secret = mqtt_password(settings.central_password_file, variable="SZ_CENTRAL_PASSWORD")
    except (BrokerUrlError, SecretSourceError) as err:
        fail(str(err))
    if secret is None:
        fail(f"no password for edge@{b} on the central broker: set SZ_CENTRAL_PASSWORD or --central-password-file")
    spec = BridgeSpec(b, target.host, target.port, secret.get_secret_value(),
                      tls_ca_file=settings.central_ca_file if target.tls else None, tls=target.tls)
    if print_bridge:
        click.echo(mosquitto_bridge(spec), nl=False)
        return
    store = AccountStore(var_dir / "trust")
    try:
        hub_secret = store.provision([Account.service("hub")])["hub"]
        broker = start_embedded(var_dir, store, extra_conf=mosquitto_bridge(spec), port=mqtt_port or None)
    except (AccountStoreError, BrokerMissingError) as err:
        fail(str(err))
    except RuntimeError as err:
        fail(f"the edge's broker: {err}")
    click.echo(f"edge {b}: broker {broker.url} (accounts in {store.dir}), bridged to {target.address}", err=True)
    try:
        run_hub(settings, dev=dev, broker_url=parse_broker_url(broker.url).with_credentials("hub", hub_secret),
                on_ready=lambda factory: _console(settings.db, host, port))
    finally:
        broker.stop()


def _console(db: str, host: str, port: int):
    """The branch's staff console (role edge: queue, teller and lobby pages, the link's state) with its jobs."""
    from server.app import create_app
    from server.runner import ServerThread
    from smartzone.cli.compose import fail
    from szconfig import ServerSettings

    app = create_app(ServerSettings(role="edge", db=db, host=host, port=port))
    try:
        web = ServerThread(app, host, port).start()
    except RuntimeError as err:
        fail(f"cannot serve the branch's console on {host}:{port}: {err}")
    click.echo(f"edge console: {web.url}/", err=True)
    return web.stop


@click.command("central")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="Central settings TOML (default: configs/central.toml when present).")
@click.option("--broker", help="The central broker, mqtt://host:port or mqtts://… (env SZ_BROKER).")
@click.option("--db", "db_url", help="PostgreSQL URL, e.g. postgresql://user@host/smartzone (env SZ_DB).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Hub processes sharing the subscription, about one core each (env SZ_WORKERS).")
@click.option("--username", help="Broker account (`hub`; env SZ_MQTT_USERNAME); password from SZ_MQTT_PASSWORD "
                                 "or --password-file.")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path),
              help="File whose first line is the broker password.")
@click.option("--client-id", help="MQTT client id (stable, so the broker keeps the queue).")
@click.option("--dev", is_flag=True, help="Development only: accept the repository's development keys.")
def central_command(config_file: Path | None, broker: str | None, db_url: str | None, workers: int | None,
                    username: str | None, password_file: Path | None, client_id: str | None, dev: bool) -> None:
    """Run the centre's hub: what every branch's edge sends up, stored once and confirmed back.

    N workers share the subscription to the edges' up topics (and devices' heartbeats); each event is
    stored once (its id), runs the centre's handlers (touchpoints, CRM, the fleet) and is confirmed to
    its edge, which only then lets it go. The staff console for head office is `smartzone server
    --role central` on the same database.
    """
    settings = load(config_file, "central.toml", role="central", broker=broker, db=db_url, workers=workers,
                    mqtt_username=username, mqtt_password_file=password_file, client_id=client_id)
    run_hub(settings, dev=dev)


def register(cli: click.Group) -> None:
    cli.add_command(edge_command)
    cli.add_command(central_command)
