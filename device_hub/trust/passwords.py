"""Mosquitto 2.0's password hashes: `$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512>`.

The salt is 12 printable ASCII bytes (`token_urlsafe(9)`), so the same salt and a hex digest can be
imported into EMQX's built-in database (pbkdf2, sha512) as well: one secret, two brokers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 101  # mosquitto_passwd's default; the secrets are 256-bit random, stretching adds nothing
HASH_BYTES = 64


class PasswordHashError(ValueError):
    """Not a `$7$` hash as Mosquitto 2.0 writes it."""


def new_secret() -> str:
    """A random device secret (256 bits, URL-safe, no `:` so it fits mqtt://user:pass@ URLs)."""
    return secrets.token_urlsafe(32)


def new_salt() -> bytes:
    return secrets.token_urlsafe(9).encode("ascii")  # 12 bytes, 72 bits


def _derive(password: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, HASH_BYTES)


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The `$7$…` string Mosquitto 2.0 expects after `username:` in its password_file."""
    salt = new_salt() if salt is None else salt
    digest = _derive(password, salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def parse_hash(encoded: str) -> tuple[int, bytes, bytes]:
    """(iterations, salt, digest) of a `$7$` hash."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0] or parts[1] != "7":
        raise PasswordHashError("expected $7$<iterations>$<salt>$<hash>")
    try:
        return int(parts[2]), base64.b64decode(parts[3], validate=True), base64.b64decode(parts[4], validate=True)
    except ValueError as err:
        raise PasswordHashError(f"bad $7$ hash: {err}") from err


def verify_password(password: str, encoded: str) -> bool:
    iterations, salt, digest = parse_hash(encoded)
    return hmac.compare_digest(_derive(password, salt, iterations), digest)
