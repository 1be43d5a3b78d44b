"""ID reader command set on the framed link (see hardware.common.framing and docs/hardware/id-reader.md).

======  ====  ===============================  ===================================================
CM      PM    command                          positive reply data
======  ====  ===============================  ===================================================
``0``   0     reset                            ―
``1``   0     status                           ―  (ST1: ``0`` no card, ``2`` card on the reader)
``A``   0     find a card on the antenna       ―
``B``   0     read the identity                UTF-8 fields separated by US (0x1F): name, sex,
                                               ID number, valid from (YYYYMMDD), valid until
                                               (YYYYMMDD or ``long``), issuing authority
======  ====  ===============================  ===================================================

Negative codes: ``00`` unknown command, ``20`` no card, ``30`` read failed, ``60`` hardware failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hardware.common.framing import Command, Reply

CM_RESET, CM_STATUS, CM_FIND, CM_READ = ord("0"), ord("1"), ord("A"), ord("B")
US = b"\x1f"

E_UNKNOWN_COMMAND = b"00"
E_NO_CARD = b"20"
E_READ_FAILED = b"30"
E_HARDWARE = b"60"
ERROR_TEXT = {E_UNKNOWN_COMMAND: "unknown command", E_NO_CARD: "no card on the reader",
              E_READ_FAILED: "card could not be read", E_HARDWARE: "hardware failure"}


def reset() -> Command:
    return Command(CM_RESET, ord("0"))


def status() -> Command:
    return Command(CM_STATUS, ord("0"))


def find() -> Command:
    return Command(CM_FIND, ord("0"))


def read() -> Command:
    return Command(CM_READ, ord("0"))


@dataclass(frozen=True, slots=True)
class IdentityFields:
    name: str
    sex: str
    id_number: str
    valid_from: date
    valid_until: date | None  # None: valid for life ("long")
    issuer: str


def _date(text: str) -> date:
    return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))


def encode_identity(fields: IdentityFields) -> bytes:
    until = fields.valid_until.strftime("%Y%m%d") if fields.valid_until else "long"
    parts = [fields.name, fields.sex, fields.id_number, fields.valid_from.strftime("%Y%m%d"), until,
             fields.issuer]
    return US.join(part.encode("utf-8") for part in parts)


def parse_identity(reply: Reply) -> IdentityFields:
    """Decode a positive read reply; ValueError when the fields do not parse."""
    parts = reply.data.decode("utf-8").split("\x1f")
    if len(parts) != 6:
        raise ValueError(f"identity reply has {len(parts)} fields, expected 6")
    name, sex, number, valid_from, valid_until, issuer = parts
    if not id_number_ok(number):
        raise ValueError("ID number fails its check digit")
    until = None if valid_until == "long" else _date(valid_until)
    return IdentityFields(name, sex, number, _date(valid_from), until, issuer)


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_number_ok(number: str) -> bool:
    """The ISO 7064 MOD 11-2 check of an 18-character resident ID number."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return _CHECK[total % 11] == number[17].upper()
