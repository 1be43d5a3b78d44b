"""Accounts on disk (`accounts.json`: usernames, roles and hashes, never a secret) and the broker files
rewritten from them: `passwords` and `acl` for Mosquitto, `emqx-acl.conf` and `emqx-users.json` for EMQX.

Every file is written 0600 to a temporary name and renamed, so a broker reloading (SIGHUP) never reads
half a file; a lock file serialises two provisioning commands.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
from collections.abc import Iterable, Iterator
from pathlib import Path

from device_hub.trust.accounts import Account, AccountError, Role
from device_hub.trust.passwords import hash_password, new_secret
from device_hub.trust.render import emqx_acl, emqx_users, mosquitto_acl, mosquitto_passwords

FORMAT = 1
PID_FILE = "broker.pid"  # written by the embedded broker, so provisioning can make it reload


class AccountStoreError(RuntimeError):
    """The store cannot be read or written; the message names the file."""


class AccountStore:
    def __init__(self, directory: Path):
        self.dir = Path(directory)

    @property
    def accounts_file(self) -> Path:
        return self.dir / "accounts.json"

    @property
    def password_file(self) -> Path:
        return self.dir / "passwords"

    @property
    def acl_file(self) -> Path:
        return self.dir / "acl"

    def load(self) -> dict[str, tuple[Account, str]]:
        """username → (account, `$7$` hash)."""
        if not self.accounts_file.exists():
            return {}
        try:
            data = json.loads(self.accounts_file.read_text())
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError(f"not a format-{FORMAT} account file")
            out = {}
            for row in data["accounts"]:
                account = Account(Role(row["role"]), row.get("branch"), row.get("device"))
                out[account.username] = (account, row["hash"])
            return out
        except (OSError, ValueError, KeyError, TypeError, AccountError) as err:
            raise AccountStoreError(f"{self.accounts_file}: {err}") from err

    def provision(self, accounts: Iterable[Account]) -> dict[str, str]:
        """Create the accounts, or give existing ones a new secret; username → the secret (shown once)."""
        with self._locked():
            current = self.load()
            secrets: dict[str, str] = {}
            for account in accounts:
                secret = new_secret()
                old = current.get(account.username)
                if old and old[0] != account:
                    raise AccountStoreError(f"{account.username} exists as a {old[0].role}, not a {account.role}")
                current[account.username] = (account, hash_password(secret))
                secrets[account.username] = secret
            self._write(current)
        return secrets

    def revoke(self, usernames: Iterable[str]) -> list[str]:
        """Remove accounts; returns the usernames that existed."""
        with self._locked():
            current = self.load()
            gone = [u for u in usernames if current.pop(u, None)]
            self._write(current)
        return gone

    def write_files(self) -> None:
        """(Re)write the broker files from accounts.json, e.g. after an upgrade changed the rules."""
        with self._locked():
            self._write(self.load())

    def reload_broker(self) -> int | None:
        """SIGHUP the embedded broker using this store, if one runs: Mosquitto rereads both files."""
        try:
            pid = int((self.dir / PID_FILE).read_text().strip())
            if b"mosquitto" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                return None
            os.kill(pid, signal.SIGHUP)
        except (OSError, ValueError):
            return None
        return pid

    # --- internals ---------------------------------------------------------------------------

    def _write(self, current: dict[str, tuple[Account, str]]) -> None:
        entries = sorted(current.values(), key=lambda e: (e[0].role not in (Role.HUB, Role.SERVER), e[0].username))
        rows = [{"username": a.username, "role": a.role.value, "branch": a.branch, "device": a.device, "hash": h}
                for a, h in entries]
        accounts = [a for a, _h in entries]
        _atomic_write(self.accounts_file, json.dumps({"format": FORMAT, "accounts": rows}, indent=1) + "\n")
        _atomic_write(self.password_file, mosquitto_passwords(entries))
        _atomic_write(self.acl_file, mosquitto_acl(accounts))
        _atomic_write(self.dir / "emqx-acl.conf", emqx_acl(accounts))
        _atomic_write(self.dir / "emqx-users.json", emqx_users(entries))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as err:
            raise AccountStoreError(f"cannot use {self.dir}: {err}") from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise AccountStoreError(f"cannot write {path}: {err}") from err
