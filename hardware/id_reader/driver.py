"""IdReaderDriver: reads a resident ID card; the ID number stays with the caller unless asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from hardware.common.errors import HardwareError
from hardware.common.framing import Command, Reply
from hardware.common.identity import keyed_hash, mask_id
from hardware.common.link import FramedDriver
from hardware.common.status import CardReaderStatus, DeviceState, MediaState
from hardware.id_reader import protocol as p
from hardware.id_reader.errors import CommandRejectedError, NoCardError, UnreadableCardError

_ERRORS = {p.E_NO_CARD: NoCardError, p.E_READ_FAILED: UnreadableCardError}


@dataclass(frozen=True, slots=True)
class IdentityRead:
    """A resident ID card's fields; repr hides the name and number."""

    name: str = field(repr=False)
    id_number: str = field(repr=False)
    sex: str = ""
    valid_from: date | None = None
    valid_until: date | None = None  # None: valid for life
    issuer: str = field(default="", repr=False)

    @property
    def masked(self) -> str:
        """First 3 and last 4 characters of the ID number."""
        return mask_id(self.id_number)

    @property
    def masked_name(self) -> str:
        """The family name and `*` for the rest, as staff screens show it."""
        return self.name[:1] + "*" * max(1, len(self.name) - 1) if self.name else ""

    def is_valid_on(self, day: date) -> bool:
        start_ok = self.valid_from is None or self.valid_from <= day
        return start_ok and (self.valid_until is None or day <= self.valid_until)

    def keyed_hash(self, key: bytes | str) -> str:
        return keyed_hash(self.id_number, key)

    def public(self, key: bytes | str, today: date | None = None) -> dict[str, object]:
        """What may leave the kiosk: masked number and name, keyed hash, validity. Never the clear number."""
        return {
            "masked": self.masked,
            "hash": self.keyed_hash(key),
            "name": self.masked_name,
            "validFrom": self.valid_from.isoformat() if self.valid_from else None,
            "validUntil": self.valid_until.isoformat() if self.valid_until else "long",
            "valid": self.is_valid_on(today or date.today()),
        }


class IdReaderDriver(FramedDriver):
    """Drives a resident ID reader over any transport; status() never raises."""

    def _command(self, command: Command) -> Reply:
        reply = self._exchange(command)
        if reply.positive:
            return reply
        error_type = _ERRORS.get(reply.code, CommandRejectedError)
        err = error_type(f"{self.transport.name}: {p.ERROR_TEXT.get(reply.code, 'refused')} "
                         f"(code {reply.error})", code=reply.error,
                         state=DeviceState.HARDWARE_ERROR if reply.code == p.E_HARDWARE else None)
        self._failed(err)
        raise err

    def status(self) -> CardReaderStatus:
        """Device and media state (ID readers have no retain bin)."""
        try:
            reply = self._command(p.status())
        except HardwareError as err:
            return CardReaderStatus(device=err.state, detail=str(err))
        media = MediaState.PRESENT if reply.code[0:1] == b"2" else MediaState.NOT_PRESENT
        return CardReaderStatus(device=DeviceState.ONLINE, media=media)

    def reset(self) -> None:
        self._command(p.reset())

    def card_present(self) -> bool:
        """True when a card lies on the antenna."""
        try:
            self._command(p.find())
        except NoCardError:
            return False
        return True

    def read_identity(self) -> IdentityRead:
        """Read the card on the reader; NoCardError / UnreadableCardError when that fails."""
        reply = self._command(p.read())
        try:
            fields = p.parse_identity(reply)
        except (ValueError, UnicodeDecodeError) as err:
            raise UnreadableCardError(f"{self.transport.name}: {err}", code="30") from err
        return IdentityRead(name=fields.name, id_number=fields.id_number, sex=fields.sex,
                            valid_from=fields.valid_from, valid_until=fields.valid_until,
                            issuer=fields.issuer)
