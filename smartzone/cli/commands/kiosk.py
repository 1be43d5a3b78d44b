"""`smartzone kiosk` and `smartzone display`: the self-service kiosk and the lobby calling screen."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("kiosk")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Kiosk TOML, e.g. configs/kiosk/b001-k1.toml (device, branch, ports, camera, broker).")
@click.option("--windowed", is_flag=True, help="A normal window instead of full screen (development).")
@click.option("--broker", envvar="SZ_BROKER", default=None,
              help="mqtt://host:port, overriding the config's broker (env SZ_BROKER), e.g. the demo's.")
@click.option("--var", "var_dir", envvar="SZ_KIOSK_VAR", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where the outbox and local state live, overriding the config's var_dir (env SZ_KIOSK_VAR).")
@click.option("--ticket-page-base", envvar="SZ_TICKET_PAGE_BASE", default=None,
              help="Base URL of the console's public ticket page for the QR codes, overriding the config's "
                   "ticket_page_base (env SZ_TICKET_PAGE_BASE), e.g. the demo's console.")
@click.option("--screenshot", "screenshot_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Render every screen (zh/en, normal/elder) to DIR/<screen>-<lang>[-elder].png and exit.")
@click.option("--dev", is_flag=True, help="Development only: use the config's dev_branch_key when the branch "
                                          "key variable (SZ_BRANCH_KEY) is unset.")
@click.option("--around-the-clock", is_flag=True,
              help="Treat the branch as open 00:00-24:00 (no closed screen), as `smartzone demo` runs its hub "
                   "unless --real-hours.")
def kiosk(config_path: Path, windowed: bool, broker: str | None, var_dir: Path | None, ticket_page_base: str | None,
          screenshot_dir: Path | None, dev: bool, around_the_clock: bool) -> None:
    """Run the self-service kiosk: tickets, identification, appointments, recognition, surveys.

    Ports set to `sim` start hardware simulators on pseudo-terminals, so the kiosk runs on a
    laptop. The branch key for card hashes comes from SZ_BRANCH_KEY; the config's
    dev_branch_key is used only with --dev. Without a display, set QT_QPA_PLATFORM=offscreen.

    The broker account is the config's mqtt_username (`<branch>.<device>`); its secret comes from
    SZ_MQTT_PASSWORD or the config's mqtt_password_file (see `smartzone devices provision`).
    """
    import os

    from smartzone.cli.compose import fail
    from szconfig import ConfigError
    from szconfig.kiosk import load_kiosk_config

    for name, value in (("SZ_BROKER", broker), ("SZ_KIOSK_VAR", var_dir), ("SZ_TICKET_PAGE_BASE", ticket_page_base)):
        if value:
            os.environ[name] = str(value)  # also seen when the kiosk reloads its config
    if around_the_clock:
        os.environ["SZ_AROUND_THE_CLOCK"] = "1"  # kiosk_client.ui.kiosk.load_branch_for
    try:
        config = load_kiosk_config(config_path)
    except ConfigError as err:
        fail(f"kiosk configuration is invalid:\n{err}")
    if screenshot_dir is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from kiosk_client.ui.screenshots import render_screenshots

        paths = render_screenshots(config, screenshot_dir)
        click.echo(f"{len(paths)} screenshots written to {screenshot_dir}")
        return
    from szconfig.secrets import DevSecretError, check_kiosk_secrets

    try:
        check_kiosk_secrets(config, os.environ, dev=dev)
    except DevSecretError as err:
        fail(str(err))
    from kiosk_client.ui.kiosk import run_kiosk

    try:
        code = run_kiosk(config_path, windowed=windowed)
    except (ConfigError, ValueError) as err:
        fail(str(err))
    raise SystemExit(code)


@click.command("display")
@click.option("--branch", required=True, help="Branch id, e.g. b001.")
@click.option("--broker", envvar="SZ_BROKER", default="mqtt://127.0.0.1:1883", show_default=True,
              help="mqtt://host:port of the branch broker (env SZ_BROKER).")
@click.option("--username", envvar="SZ_MQTT_USERNAME", default=None,
              help="The display's broker account, e.g. b001.lobby1 (env SZ_MQTT_USERNAME); password from "
                   "SZ_MQTT_PASSWORD or --password-file.")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File whose first line is the broker password (outside the repository).")
@click.option("--windowed", is_flag=True, help="A normal window instead of full screen.")
@click.option("--no-speech", is_flag=True, help="Do not speak calls (espeak-ng).")
@click.option("--screenshot", "screenshot_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Wait briefly for the retained board, save the screen as PNG to FILE and exit.")
def display(branch: str, broker: str, username: str | None, password_file: Path | None, windowed: bool,
            no_speech: bool, screenshot_file: Path | None) -> None:
    """The lobby calling screen: current calls large, recent calls, waiting counts, spoken calls.

    It follows the retained queue board topic, so a restarted display is right at once.
    """
    from device_hub.link.mqtt import BrokerUrlError, parse_broker_url
    from smartzone.cli.compose import fail, load_branch_configs
    from szconfig import default_config_dir
    from szconfig.mqtt_auth import SecretSourceError, mqtt_password

    try:
        password = mqtt_password(password_file)
        url = parse_broker_url(broker).with_credentials(username, password.get_secret_value() if password else None)
    except (BrokerUrlError, SecretSourceError) as err:
        fail(str(err))
    branches = load_branch_configs(default_config_dir() / "branches")
    if branch not in branches:
        fail(f"no branch {branch!r}; known: {', '.join(sorted(branches))}")
    if screenshot_file is not None:
        import os

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from kiosk_client.ui.display import run_display

    raise SystemExit(run_display(url, branches[branch], windowed=windowed, speech=not no_speech,
                                 screenshot=screenshot_file))


def register(cli: click.Group) -> None:
    cli.add_command(kiosk)
    cli.add_command(display)
