"""Keyed hashes, masks and template encryption: the only forms in which customer identifiers are kept.

Clear card, ID and phone numbers come in (CSV import, staff input) and leave this module only as
an HMAC-SHA256 (the kiosks' branch key, so a hash from a kiosk meets the stored one) and a mask.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass

import numpy as np
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

EMBEDDING_DIM = 128


def normalise_number(number: str) -> str:
    """The same normalisation as the kiosk (hardware.common.identity): no spaces or dashes, upper case."""
    cleaned = "".join(ch for ch in number if not ch.isspace() and ch != "-").upper()
    if not cleaned:
        raise ValueError("empty number")
    return cleaned


def keyed_hash(number: str, key: str | bytes) -> str:
    """HMAC-SHA256 of the normalised number, lower-case hex (what kiosks send as card_hash)."""
    k = key.encode() if isinstance(key, str) else key
    return hmac.new(k, normalise_number(number).encode(), hashlib.sha256).hexdigest()


def _mask(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_card(number: str) -> str:
    """First 6 + last 4 (PCI DSS)."""
    return _mask(normalise_number(number), 6, 4)


def mask_id(number: str) -> str:
    """First 3 + last 4 of a resident ID number."""
    return _mask(normalise_number(number), 3, 4)


def mask_phone(number: str) -> str:
    """138****1234: first 3 + last 4."""
    return _mask(normalise_number(number), 3, 4)


def mask_name(name: str) -> str:
    """王*明 / 王* / J*n: the first and (for 3+ characters) the last character, one star between."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" + name[-1]


_LONG_DIGITS = re.compile(r"\d{7,}")


def scrub(text: str) -> str:
    """For logs and free text: any run of 7+ digits (a phone, card or ID number) is masked."""
    return _LONG_DIGITS.sub(lambda m: _mask(m.group(0), 3, 4), text)


# --- face templates at rest ------------------------------------------------------------------

@dataclass(frozen=True)
class Keyring:
    """AES-256-GCM keys by id; the first encrypts, every key decrypts (so keys can be rotated)."""

    current: str
    keys: dict[str, bytes]

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        """`id:base64key[,id:base64key…]`, each key 32 bytes."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for part in (p.strip() for p in spec.split(",") if p.strip()):
            kid, sep, b64 = part.partition(":")
            if not sep or not kid:
                raise ValueError("template key must look like id:base64key")
            raw = base64.b64decode(b64)
            if len(raw) != 32:
                raise ValueError(f"template key {kid!r} must be 32 bytes (AES-256), got {len(raw)}")
            keys[kid] = raw
            order.append(kid)
        if not order:
            raise ValueError("no template key configured")
        return cls(order[0], keys)

    def encrypt(self, embedding: np.ndarray, aad: str) -> tuple[str, bytes, bytes]:
        """(key id, nonce, ciphertext) of a float32 embedding, bound to `aad` (customer and branch)."""
        vec = np.asarray(embedding, dtype="<f4").reshape(-1)
        if vec.shape != (EMBEDDING_DIM,) or not np.all(np.isfinite(vec)):
            raise ValueError(f"an embedding has {EMBEDDING_DIM} finite numbers")
        nonce = os.urandom(12)
        ct = AESGCM(self.keys[self.current]).encrypt(nonce, vec.tobytes(), aad.encode())
        return self.current, nonce, ct

    def decrypt(self, key_id: str, nonce: bytes, ciphertext: bytes, aad: str) -> np.ndarray:
        key = self.keys.get(key_id)
        if key is None:
            raise KeyError(f"template key {key_id!r} is not configured")
        raw = AESGCM(key).decrypt(nonce, ciphertext, aad.encode())
        return np.frombuffer(raw, dtype="<f4").astype(np.float32)
