"""Shared wiring for commands: database, broker, branches, stop signals."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click


def fail(message: str) -> None:
    """Exit with a message that says what to do, not a traceback."""
    raise click.ClickException(message)


def stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def _handler(_sig: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    return stop


AROUND_THE_CLOCK_ENV = "SZ_AROUND_THE_CLOCK"


def load_branch_configs(directory: Path) -> dict:
    """The branch files; with SZ_AROUND_THE_CLOCK=1 open 00:00-24:00 every day (demos and benchmarks at any hour)."""
    import os

    from szconfig import ConfigError, load_branches
    from szconfig.calendar import around_the_clock

    try:
        branches = load_branches(directory)
    except ConfigError as err:
        fail(f"branch configuration is invalid:\n{err}")
    if os.environ.get(AROUND_THE_CLOCK_ENV) == "1":
        branches = {b: around_the_clock(cfg) for b, cfg in branches.items()}
    return branches


def open_database(url: str, branches: dict | None = None, *, migrate: bool = True):
    """Engine + session factory, migrated to head, branches mirrored from config."""
    from sqlalchemy.exc import SQLAlchemyError

    from server.branches.service import sync_branches
    from server.db import make_engine, session_factory
    from server.link.mirror import reapply_configs
    from server.migrate import upgrade_engine

    try:
        engine = make_engine(url)
        if migrate:
            upgrade_engine(engine)
        factory = session_factory(engine)
        if branches:
            with factory() as s, s.begin():
                sync_branches(s, branches)
                reapply_configs(s)  # an edge: the config the centre pushed wins over its files
    except (SQLAlchemyError, ValueError) as err:
        fail(f"cannot open database {url!r}: {err}")
    return engine, factory


def embedded_accounts(var_dir: Path):
    """The account store of the embedded broker: `<var>/trust` (hashes only; secrets are shown once)."""
    from device_hub.trust.store import AccountStore

    return AccountStore(Path(var_dir) / "trust")


@contextmanager
def broker(url: str, var_dir: Path, *, username: str | None = None, password=None):
    """Yield a BrokerUrl with credentials; `embedded` starts a private broker for the duration, which
    admits only provisioned accounts, and yields the hub account's (a new secret at every start).

    `username`/`password` (a SecretStr) apply unless the URL has its own `user:pass@`."""
    from device_hub.broker import BrokerMissingError, start_embedded
    from device_hub.link.mqtt import BrokerUrlError, parse_broker_url
    from device_hub.trust import Account
    from device_hub.trust.store import AccountStoreError

    embedded = None
    try:
        if url == "embedded":
            store = embedded_accounts(var_dir)
            secret = store.provision([Account.service("hub")])["hub"]
            embedded = start_embedded(var_dir, store)
            click.echo(f"embedded broker: {embedded.url} (provisioned accounts only, in {store.dir})", err=True)
            parsed = parse_broker_url(embedded.url).with_credentials("hub", secret)
        else:
            parsed = parse_broker_url(url).with_credentials(
                username, password.get_secret_value() if password is not None else None)
    except (BrokerUrlError, BrokerMissingError, AccountStoreError) as err:
        fail(str(err))
    except RuntimeError as err:  # mosquitto did not start: the message names its log
        fail(f"embedded broker: {err}")
    try:
        yield parsed
    finally:
        if embedded:
            embedded.stop()
