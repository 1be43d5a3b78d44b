"""`smartzone sim …`: simulators that behave like real devices."""

import json
from pathlib import Path

import click


@click.group("sim")
def sim_group() -> None:
    """Simulated devices: kiosks on MQTT, and serial peripherals on pseudo-terminals."""


@sim_group.command("devices")
@click.option("--broker", envvar="SZ_BROKER", required=True, help="mqtt://host:port (env SZ_BROKER).")
@click.option("--branch", required=True, help="Branch id, e.g. b001.")
@click.option("--count", type=click.IntRange(1, 2000), default=3, show_default=True,
              help="How many kiosks.")
@click.option("--events", type=click.IntRange(0), default=None,
              help="Business events per kiosk, then stop (default: until --seconds or Ctrl-C).")
@click.option("--rate", type=click.FloatRange(0), default=0.0, show_default=True,
              help="Events per second per kiosk; 0 = as fast as the broker takes them.")
@click.option("--seconds", type=click.FloatRange(0), default=None, help="Stop after this long.")
@click.option("--heartbeat", type=click.FloatRange(0.5), default=30.0, show_default=True,
              help="Seconds between heartbeats.")
@click.option("--prefix", default="sim", show_default=True, help="Device ids are <prefix>1, <prefix>2, …")
@click.option("--seed", type=int, default=None, help="Random seed for repeatable traffic.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              envvar="SZ_TLS_CA_FILE", help="CA bundle for an mqtts:// broker (env SZ_TLS_CA_FILE).")
@click.option("--username", envvar="SZ_MQTT_USERNAME", default=None,
              help="One broker account for every kiosk (env SZ_MQTT_USERNAME); password from SZ_MQTT_PASSWORD "
                   "or --password-file. A broker with per-device ACLs needs --secret-dir instead.")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File whose first line is the password for --username.")
@click.option("--secret-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Per-device accounts: DIR/<branch>.<device> holds each kiosk's secret, as written by "
                   "`smartzone devices provision --secret-dir DIR`.")
@click.option("--json", "as_json", is_flag=True, help='Print {"published": n} and nothing else on stdout.')
def devices(broker: str, branch: str, count: int, events: int | None, rate: float, seconds: float | None,
            heartbeat: float, prefix: str, seed: int | None, ca_file: Path | None, username: str | None,
            password_file: Path | None, secret_dir: Path | None, as_json: bool) -> None:
    """Run COUNT simulated kiosks: birth, last will, heartbeats and realistic customer traffic.

    Each kiosk has its own MQTT client and an outbox, so a broker outage loses nothing:
    the command waits for every PUBACK before it prints how many events it published.
    """
    import threading

    from device_hub.link.mqtt import BrokerUrlError, parse_broker_url
    from device_hub.sim.devices import SimPlan, run_devices
    from smartzone.cli.compose import fail, stop_on_signals
    from szconfig import ConfigError, default_config_dir, load_branches
    from szconfig.mqtt_auth import SecretSourceError, mqtt_password, read_secret_file

    try:
        password = mqtt_password(password_file)
        url = parse_broker_url(broker).with_credentials(username, password.get_secret_value() if password else None)
        secrets = {}
        if secret_dir is not None:
            for i in range(count):
                user = f"{branch}.{prefix}{i + 1}"
                secrets[f"{prefix}{i + 1}"] = (user, read_secret_file(secret_dir / user).get_secret_value())
    except (BrokerUrlError, SecretSourceError) as err:
        fail(str(err))
    businesses = _businesses(branch, default_config_dir() / "branches", load_branches, ConfigError)
    stop = stop_on_signals()
    if seconds is not None:
        threading.Timer(seconds, stop.set).start()
    plan = SimPlan(branch=branch, count=count, events=events, rate=rate, heartbeat_s=heartbeat,
                   businesses=businesses, device_prefix=prefix, seed=seed, ca_file=ca_file,
                   credentials=secrets.__getitem__ if secrets else None)
    result = run_devices(url, plan, stop)
    if as_json:
        click.echo(json.dumps({"published": result.published}))
    else:
        click.echo(f"{result.devices} kiosks published {result.published} events"
                   + (f"; {result.unconfirmed} not confirmed by the broker" if result.unconfirmed else ""))
    if result.unconfirmed:
        raise SystemExit(1)


def _businesses(branch: str, directory: Path, load_branches, config_error) -> list[str]:
    try:
        cfg = load_branches(directory).get(branch)
    except config_error:
        cfg = None
    return [b.code for b in cfg.business_types] if cfg else ["deposit"]


def register(cli: click.Group) -> None:
    cli.add_command(sim_group)
