"""Password hashing (argon2id, memory-hard), one-time passwords and opaque session tokens."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2id with the library's RFC 9106 "low memory" profile: 64 MiB, 3 passes.
_hasher = PasswordHasher()
_DUMMY_HASH: str | None = None

OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed on a tablet
MIN_PASSWORD_LENGTH = 10


def use_hasher(hasher: PasswordHasher) -> None:
    """Swap the hasher (tests use cheaper parameters; hashes stay verifiable by their own parameters)."""
    global _hasher, _DUMMY_HASH
    _hasher, _DUMMY_HASH = hasher, None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def burn_verify(password: str) -> None:
    """Spend the same time as a real check, so unknown usernames cannot be told apart by timing."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash(secrets.token_hex(8))
    verify_password(_DUMMY_HASH, password)


def one_time_password() -> str:
    groups = ("".join(secrets.choice(OTP_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def password_problem(password: str) -> str | None:
    """Why a new password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 256:
        return "the password must have at most 256 characters"
    if "\x00" in password:
        return "the password must not contain NUL characters"
    return None
