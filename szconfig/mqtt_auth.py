"""A process's MQTT password: from SZ_MQTT_PASSWORD or a file outside the repository, never from a config file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

PASSWORD_ENV = "SZ_MQTT_PASSWORD"


class SecretSourceError(ValueError):
    """The password file cannot be used; the message says what to do."""


def inside_checkout(path: Path) -> Path | None:
    """The git checkout that contains `path`, if any: secrets kept there end up in commits and backups."""
    for parent in Path(path).resolve().parents:
        if (parent / ".git").exists():
            return parent
    return None


def read_secret_file(path: Path) -> SecretStr:
    """The first line of a secret file that lives outside any git checkout."""
    path = Path(path)
    if checkout := inside_checkout(path):
        raise SecretSourceError(f"{path} is inside the repository {checkout}: keep secrets outside it "
                                "(e.g. /etc/smartzone/ or ~/.config/smartzone/), or give it through the environment")
    try:
        lines = path.read_text().splitlines()
    except OSError as err:
        raise SecretSourceError(f"cannot read the secret file {path}: {err.strerror}") from err
    if not lines or not lines[0].strip():
        raise SecretSourceError(f"the secret file {path} is empty")
    return SecretStr(lines[0].strip())


def mqtt_password(password_file: Path | None = None, *, env: Mapping[str, str] | None = None,
                  variable: str = PASSWORD_ENV) -> SecretStr | None:
    """SZ_MQTT_PASSWORD (or `variable`) if set, else the password file's first line, else None (no password)."""
    env = os.environ if env is None else env
    if value := env.get(variable):
        return SecretStr(value)
    return read_secret_file(password_file) if password_file else None
