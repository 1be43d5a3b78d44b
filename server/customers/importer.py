"""Validate one CSV row of a customer import (pure): clear numbers in, hashes and masks out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from server.customers.privacy import keyed_hash, mask_card, mask_id, mask_name, mask_phone, normalise_number
from server.customers.rules import AUM_BANDS, Tier
from server.errors import Invalid

COLUMNS = ("customer_id", "name", "phone", "id_number", "card_number", "tier", "aum_band", "language",
           "birth_date")
LANGUAGES = {"zh-CN", "en", "zh", "zh-cn"}
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_ID = re.compile(r"^\d{17}[\dX]$")
_CARD = re.compile(r"^\d{16,19}$")
_CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_checksum_ok(number: str) -> bool:
    """GB 11643 check digit of an 18-character resident ID number."""
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17]


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in reversed(number)]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d * 2 > 9 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


@dataclass(frozen=True)
class Hashed:
    kind: str      # card | id | phone
    hashes: tuple[str, ...]  # one per configured identity key
    masked: str


@dataclass(frozen=True)
class CustomerRow:
    ref: str
    masked_name: str
    phone_masked: str | None
    phone_last4: str | None
    id_masked: str | None
    tier: str | None
    aum_band: str | None
    language: str
    birth_date: date | None
    identities: tuple[Hashed, ...]


class RowError(Invalid):
    """Why a row was rejected (said without repeating the clear number)."""

    def __init__(self, message: str):
        super().__init__("invalid_row", message)


def parse_row(row: dict[str, str], keys: list[str], ref_key: str, *, check_luhn: bool = False) -> CustomerRow:
    """A validated row; raises RowError with the reason."""
    get = lambda k: (row.get(k) or "").strip()  # noqa: E731
    cid = get("customer_id")
    if not _CUSTOMER_ID.match(cid):
        raise RowError("customer_id: missing or not 1-40 letters, digits, _ or -")
    name = get("name")
    if not name or len(name) > 40:
        raise RowError("name: missing or longer than 40 characters")
    identities: list[Hashed] = []
    phone_masked = phone_last4 = id_masked = None
    if phone := get("phone"):
        p = normalise_number(phone).removeprefix("+86")
        if not _PHONE.match(p):
            raise RowError("phone: not an 11-digit mobile number")
        phone_masked, phone_last4 = mask_phone(p), p[-4:]
        identities.append(Hashed("phone", tuple(keyed_hash(p, k) for k in keys), phone_masked))
    if idn := get("id_number"):
        n = normalise_number(idn)
        if not _ID.match(n) or not id_checksum_ok(n):
            raise RowError("id_number: not an 18-character resident ID with a valid check digit")
        id_masked = mask_id(n)
        identities.append(Hashed("id", tuple(keyed_hash(n, k) for k in keys), id_masked))
    if card := get("card_number"):
        c = normalise_number(card)
        if not _CARD.match(c) or (check_luhn and not luhn_ok(c)):
            raise RowError("card_number: not 16-19 digits")
        identities.append(Hashed("card", tuple(keyed_hash(c, k) for k in keys), mask_card(c)))
    tier = get("tier").lower() or None
    if tier is not None and tier not in {t.value for t in Tier}:
        raise RowError(f"tier: one of {', '.join(t.value for t in Tier)}")
    band = get("aum_band") or None
    if band is not None and band not in AUM_BANDS:
        raise RowError(f"aum_band: one of {', '.join(AUM_BANDS)}")
    lang = get("language") or "zh-CN"
    if lang not in LANGUAGES:
        raise RowError("language: zh-CN or en")
    lang = "en" if lang == "en" else "zh-CN"
    birth = None
    if b := get("birth_date"):
        try:
            birth = date.fromisoformat(b)
        except ValueError as err:
            raise RowError("birth_date: not YYYY-MM-DD") from err
        if not date(1900, 1, 1) <= birth <= date.today():
            raise RowError("birth_date: out of range")
    return CustomerRow(ref="c-" + keyed_hash(cid, ref_key)[:16], masked_name=mask_name(name),
                       phone_masked=phone_masked, phone_last4=phone_last4, id_masked=id_masked, tier=tier,
                       aum_band=band, language=lang, birth_date=birth, identities=tuple(identities))
