"""The framed serial link shared by the card reader and the ID reader (pure code, no I/O).

Frame::

    STX | LEN (2 bytes, big-endian) | TEXT (LEN bytes) | ETX | BCC

    STX = 0x02, ETX = 0x03, BCC = XOR of every byte from LEN_H through ETX.
    Control bytes outside frames: ACK = 0x06 (frame received intact), NAK = 0x15 (bad frame, resend).

TEXT of a command: ``'C' CM PM DATA``; of a positive reply: ``'P' CM PM ST1 ST0 DATA``;
of a negative reply: ``'N' CM PM E1 E0 DATA`` (CM/PM echo the command; ST/E are ASCII digits).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

STX, ETX, ACK, NAK = 0x02, 0x03, 0x06, 0x15
MAX_TEXT = 1024


def bcc(data: bytes) -> int:
    """XOR of all bytes."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def encode_frame(text: bytes) -> bytes:
    """STX LEN TEXT ETX BCC for one TEXT."""
    if not 0 < len(text) <= MAX_TEXT:
        raise ValueError(f"frame text must be 1..{MAX_TEXT} bytes, got {len(text)}")
    body = len(text).to_bytes(2, "big") + text + bytes([ETX])
    return bytes([STX]) + body + bytes([bcc(body)])


def _complete_frame_at(buf: bytearray) -> int | None:
    """Offset (> 0) of the first later STX that starts a complete, intact frame, if any."""
    start = 1
    while (j := buf.find(STX, start)) != -1:
        if len(buf) - j >= 6:
            length = int.from_bytes(buf[j + 1 : j + 3], "big")
            end = j + 3 + length + 2
            if 0 < length <= MAX_TEXT and end <= len(buf) and buf[end - 2] == ETX \
                    and bcc(buf[j + 1 : end - 1]) == buf[end - 1]:
                return j
        start = j + 1
    return None


class EventKind(Enum):
    ACK = "ack"
    NAK = "nak"
    FRAME = "frame"
    BAD_CHECKSUM = "bad_checksum"
    GARBAGE = "garbage"


@dataclass(frozen=True, slots=True)
class Event:
    """What the decoder found in the byte stream."""

    kind: EventKind
    data: bytes = b""


class FrameDecoder:
    """Finds frames, ACK and NAK in a byte stream and resynchronises on the next STX after garbage."""

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> bytes:
        """Bytes of an incomplete frame waiting for more input."""
        return bytes(self._buf)

    def reset(self) -> bytes:
        """Drop a partial frame (after an inter-byte timeout); returns what was dropped."""
        dropped, self._buf = bytes(self._buf), bytearray()
        return dropped

    def feed(self, data: bytes) -> list[Event]:
        """Add bytes; return every complete event in order."""
        self._buf += data
        events: list[Event] = []
        buf = self._buf
        while buf:
            first = buf[0]
            if first in (ACK, NAK):
                events.append(Event(EventKind.ACK if first == ACK else EventKind.NAK))
                del buf[0]
                continue
            if first != STX:
                end = next((i for i, b in enumerate(buf) if b in (STX, ACK, NAK)), len(buf))
                events.append(Event(EventKind.GARBAGE, bytes(buf[:end])))
                del buf[:end]
                continue
            if len(buf) < 3:
                break
            length = int.from_bytes(buf[1:3], "big")
            if not 0 < length <= MAX_TEXT:
                events.append(Event(EventKind.GARBAGE, bytes(buf[:1])))
                del buf[0]
                continue
            total = 3 + length + 2
            if len(buf) < total:
                # A stray STX in line noise may announce a long frame; prefer a complete one further on.
                later = _complete_frame_at(buf)
                if later is None:
                    break
                events.append(Event(EventKind.GARBAGE, bytes(buf[:later])))
                del buf[:later]
                continue
            if buf[total - 2] != ETX:
                events.append(Event(EventKind.GARBAGE, bytes(buf[:1])))
                del buf[0]
                continue
            raw = bytes(buf[:total])
            del buf[:total]
            if bcc(raw[1:-1]) != raw[-1]:
                events.append(Event(EventKind.BAD_CHECKSUM, raw))
            else:
                events.append(Event(EventKind.FRAME, raw[3:-2]))
        return events


@dataclass(frozen=True, slots=True)
class Command:
    """A host command: CM and PM are single ASCII bytes."""

    cm: int
    pm: int
    data: bytes = b""

    def text(self) -> bytes:
        return b"C" + bytes([self.cm, self.pm]) + self.data

    def frame(self) -> bytes:
        return encode_frame(self.text())

    @classmethod
    def parse(cls, text: bytes) -> Command:
        if len(text) < 3 or text[0:1] != b"C":
            raise ValueError(f"not a command: {text!r}")
        return cls(text[1], text[2], bytes(text[3:]))


@dataclass(frozen=True, slots=True)
class Reply:
    """A device reply: positive with two status digits, or negative with a two-digit error code."""

    cm: int
    pm: int
    positive: bool
    code: bytes
    data: bytes = b""

    def text(self) -> bytes:
        return (b"P" if self.positive else b"N") + bytes([self.cm, self.pm]) + self.code + self.data

    def frame(self) -> bytes:
        return encode_frame(self.text())

    @property
    def error(self) -> str:
        """The two-digit error code of a negative reply ('' when positive)."""
        return "" if self.positive else self.code.decode("ascii", "replace")

    @classmethod
    def parse(cls, text: bytes) -> Reply:
        if len(text) < 5 or text[0:1] not in (b"P", b"N"):
            raise ValueError(f"not a reply: {text!r}")
        return cls(text[1], text[2], text[0:1] == b"P", bytes(text[3:5]), bytes(text[5:]))
