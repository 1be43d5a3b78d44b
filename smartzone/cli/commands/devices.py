"""`smartzone devices …`: broker accounts of kiosks, displays and services (device identity at the broker)."""

from __future__ import annotations

import json
from pathlib import Path

import click

DIR_OPTION = click.option(
    "--dir", "store_dir", type=click.Path(file_okay=False, path_type=Path), envvar="SZ_TRUST_DIR",
    default=Path("var/trust"), show_default=True,
    help="Account store (accounts.json) and the broker files written from it: passwords and acl (Mosquitto), "
         "emqx-acl.conf and emqx-users.json (EMQX). The default is the embedded broker's (env SZ_TRUST_DIR).")
SECRET_DIR_OPTION = click.option(
    "--secret-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Write each new secret to DIR/<username> (0600) instead of printing it; outside the repository.")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print the accounts as JSON on stdout.")


@click.group("devices")
def devices_group() -> None:
    """Broker accounts: who may connect, and which topics each may publish and read.

    Every kiosk and display gets its own account, `<branch>.<device>`, that may publish only its own
    device topics and read only its replies, commands, confirmations and its branch's queue; only the
    `hub` account writes replies, commands, queue and staff topics. Secrets are shown once; the store
    keeps only their hashes.
    """


@devices_group.command("provision")
@click.option("--branch", help="Branch id, e.g. b001 (with --device).")
@click.option("--device", "devices", multiple=True, help="Device id, e.g. k1; repeat for several.")
@click.option("--display", is_flag=True, help="The --device ids are lobby displays, not kiosks.")
@click.option("--from-config", "configs", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A branch TOML (configs/branches/b001.toml): provision every device it lists, its display "
                   "included. Repeatable.")
@DIR_OPTION
@SECRET_DIR_OPTION
@JSON_OPTION
def provision(branch: str | None, devices: tuple[str, ...], display: bool, configs: tuple[Path, ...], store_dir: Path,
              secret_dir: Path | None, as_json: bool) -> None:
    """Create device accounts, or give existing ones a new secret (the old one stops working).

    \b
    Examples:
      smartzone devices provision --branch b001 --device k1
      smartzone devices provision --from-config configs/branches/b001.toml --secret-dir /etc/smartzone/secrets
    The embedded broker reloads at once; a production broker needs the new `passwords` and `acl` (or the
    EMQX files) copied to it and a reload (Mosquitto: SIGHUP). See docs/brokers.md.
    """
    from device_hub.trust import Account, AccountError
    from smartzone.cli.compose import fail

    accounts: list[Account] = []
    try:
        if devices and not branch:
            fail("--device needs --branch")
        if branch and not devices:
            fail("--branch needs at least one --device (or use --from-config)")
        accounts += [Account.for_device(branch, d, display=display) for d in devices]  # type: ignore[arg-type]
        for path in configs:
            accounts += _from_config(path)
    except AccountError as err:
        fail(str(err))
    if not accounts:
        fail("nothing to provision: give --branch and --device, or --from-config")
    _provision(accounts, store_dir, secret_dir, as_json)


@devices_group.command("provision-service")
@click.argument("role", type=click.Choice(["hub", "server"]))
@DIR_OPTION
@SECRET_DIR_OPTION
@JSON_OPTION
def provision_service(role: str, store_dir: Path, secret_dir: Path | None, as_json: bool) -> None:
    """Create the `hub` or `server` account, or rotate its secret.

    The hub reads and writes all of sz/v1 (shared subscriptions included); the server only reads
    staff and queue topics. Run the hub with `--username hub` and SZ_MQTT_PASSWORD (or --password-file).
    """
    from device_hub.trust import Account

    _provision([Account.service(role)], store_dir, secret_dir, as_json)


@devices_group.command("provision-edge")
@click.option("--branch", "branches", multiple=True, required=True, help="Branch id (repeatable).")
@DIR_OPTION
@SECRET_DIR_OPTION
@JSON_OPTION
def provision_edge(branches: tuple[str, ...], store_dir: Path, secret_dir: Path | None, as_json: bool) -> None:
    """Create the central broker's account of each branch's edge (`edge@<branch>`), or rotate its secret.

    The edge's broker bridges to the central one with this account: it may send up only its branch's
    events and heartbeats and take down only its branch's confirmations, push-downs, leads, commands and
    replies. Give the secret to `smartzone edge` (SZ_CENTRAL_PASSWORD or --central-password-file).
    """
    from device_hub.trust import Account, AccountError
    from smartzone.cli.compose import fail

    try:
        accounts = [Account.edge(b) for b in branches]
    except AccountError as err:
        fail(str(err))
    _provision(accounts, store_dir, secret_dir, as_json)


@devices_group.command("list")
@DIR_OPTION
@JSON_OPTION
def list_accounts(store_dir: Path, as_json: bool) -> None:
    """The provisioned accounts (never a secret)."""
    store = _store(store_dir)
    rows = [_row(a) for a, _h in store.load().values()]
    if as_json:
        click.echo(json.dumps(rows))
        return
    _table(rows, f"accounts in {store.dir}")


@devices_group.command("revoke")
@click.argument("usernames", nargs=-1, required=True)
@DIR_OPTION
def revoke(usernames: tuple[str, ...], store_dir: Path) -> None:
    """Remove accounts (e.g. `b001.k3` of a kiosk taken out of service); the broker refuses them after a reload."""
    from device_hub.trust.store import AccountStoreError
    from smartzone.cli.compose import fail

    store = _store(store_dir)
    try:
        gone = store.revoke(usernames)
    except AccountStoreError as err:
        fail(str(err))
    missing = sorted(set(usernames) - set(gone))
    unknown = f"; unknown: {', '.join(missing)}" if missing else ""
    click.echo(f"revoked {len(gone)}: {', '.join(gone) or '-'}{unknown}", err=True)
    _reloaded(store)


def _from_config(path: Path):
    from device_hub.trust import Account
    from smartzone.cli.compose import fail
    from szconfig import ConfigError
    from szconfig.branch import DeviceKind
    from szconfig.loader import load_branch

    try:
        cfg = load_branch(path)
    except ConfigError as err:
        fail(f"branch configuration is invalid:\n{err}")
    if not cfg.devices:
        fail(f"{path} lists no [[devices]]")
    return [Account.for_device(cfg.id, d.id, display=d.kind is DeviceKind.DISPLAY) for d in cfg.devices]


def _store(store_dir: Path):
    from device_hub.trust.store import AccountStore

    return AccountStore(store_dir)


def _provision(accounts, store_dir: Path, secret_dir: Path | None, as_json: bool) -> None:
    from device_hub.trust.store import AccountStoreError
    from smartzone.cli.compose import fail
    from szconfig.mqtt_auth import inside_checkout

    if secret_dir is not None and (checkout := inside_checkout(secret_dir / "x")):
        fail(f"--secret-dir {secret_dir} is inside the repository {checkout}: keep secrets outside it")
    store = _store(store_dir)
    try:
        secrets = store.provision(accounts)
    except AccountStoreError as err:
        fail(str(err))
    rows = []
    for a in accounts:
        row = _row(a)
        if secret_dir is not None:
            row["secret_file"] = str(_write_secret(secret_dir, a.username, secrets[a.username]))
        else:
            row["secret"] = secrets[a.username]
        rows.append(row)
    if as_json:
        click.echo(json.dumps(rows))
    else:
        _table(rows, f"{len(rows)} account{'s' if len(rows) != 1 else ''} provisioned in {store.dir}"
               + ("" if secret_dir else " — secrets are shown once, copy them now"))
    click.echo(f"broker files: {store.password_file}, {store.acl_file}, {store.dir / 'emqx-acl.conf'}, "
               f"{store.dir / 'emqx-users.json'}", err=True)
    _reloaded(store)


def _write_secret(directory: Path, username: str, secret: str) -> Path:
    import os

    from smartzone.cli.compose import fail

    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = directory / username
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
        os.chmod(path, 0o600)
    except OSError as err:
        fail(f"cannot write the secret of {username} to {directory}: {err.strerror}")
    return path


def _row(account) -> dict:
    return {"username": account.username, "role": account.role.value, "branch": account.branch,
            "device": account.device}


def _table(rows: list[dict], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    names = ("username", "role", "branch", "device", "secret", "secret_file")
    columns = [c for c in names if any(c in r for r in rows)]
    for c in columns:
        t.add_column(c.replace("_", " "), no_wrap=c == "secret")
    for r in rows:
        t.add_row(*[str(r.get(c) or "") for c in columns])
    Console(width=200).print(t)


def _reloaded(store) -> None:
    pid = store.reload_broker()
    if pid:
        click.echo(f"the embedded broker (pid {pid}) reloaded its accounts", err=True)


def register(cli: click.Group) -> None:
    cli.add_command(devices_group)
