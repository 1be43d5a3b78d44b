"""Keyed hashes and masks for card and ID numbers, so the clear number stays with the caller."""

from __future__ import annotations

import hashlib
import hmac


def _digits(number: str) -> str:
    cleaned = "".join(ch for ch in number if not ch.isspace() and ch != "-")
    if not cleaned:
        raise ValueError("empty number")
    return cleaned


def keyed_hash(number: str, key: bytes | str) -> str:
    """HMAC-SHA256 of the normalised number with the branch key, hex; the same card gives the same hash."""
    key_bytes = key.encode() if isinstance(key, str) else key
    if not key_bytes:
        raise ValueError("the branch key must not be empty")
    return hmac.new(key_bytes, _digits(number).upper().encode(), hashlib.sha256).hexdigest()


def _mask(number: str, head: int, tail: int) -> str:
    value = _digits(number)
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_card(number: str) -> str:
    """First 6 and last 4 digits of a card number (PCI DSS), the rest as `*`."""
    return _mask(number, 6, 4)


def mask_id(number: str) -> str:
    """First 3 and last 4 characters of a resident ID number, the rest as `*`."""
    return _mask(number, 3, 4)
