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


def load_branch_configs(directory: Path) -> dict:
    from smartzone.config import ConfigError, load_branches

    try:
        return load_branches(directory)
    except ConfigError as err:
        fail(f"branch configuration is invalid:\n{err}")


def open_database(url: str, branches: dict | None = None, *, migrate: bool = True):
    """Engine + session factory, migrated to head, branches mirrored from config."""
    from sqlalchemy.exc import SQLAlchemyError

    from server.branches.service import sync_branches
    from server.db import make_engine, session_factory
    from server.migrate import upgrade_engine

    try:
        engine = make_engine(url)
        if migrate:
            upgrade_engine(engine)
        factory = session_factory(engine)
        if branches:
            with factory() as s, s.begin():
                sync_branches(s, branches)
    except (SQLAlchemyError, ValueError) as err:
        fail(f"cannot open database {url!r}: {err}")
    return engine, factory


@contextmanager
def broker(url: str, var_dir: Path):
    """Yield a BrokerUrl; `embedded` starts a private broker for the duration."""
    from device_hub.broker import start_embedded
    from device_hub.link.mqtt import BrokerUrlError, parse_broker_url

    embedded = None
    if url == "embedded":
        embedded = start_embedded(var_dir)
        url = embedded.url
        click.echo(f"embedded broker: {url}", err=True)
    try:
        yield parse_broker_url(url)
    except BrokerUrlError as err:
        fail(str(err))
    finally:
        if embedded:
            embedded.stop()
