"""Byte-exact tests of the framed link codec and the card/ID reader command sets (pure, no I/O)."""

from __future__ import annotations

from datetime import date

import pytest

from hardware.card_reader import protocol as cr
from hardware.common.framing import (
    ACK,
    NAK,
    Command,
    EventKind,
    FrameDecoder,
    Reply,
    bcc,
    encode_frame,
)
from hardware.common.identity import keyed_hash, mask_card, mask_id
from hardware.common.status import MediaState, RetainBinState
from hardware.id_reader import protocol as idp


def test_status_command_frame_is_byte_exact() -> None:
    """GIVEN the status command WHEN framed THEN STX, length 3, 'C10', ETX and the XOR checksum."""
    frame = cr.status().frame()
    assert frame == bytes([0x02, 0x00, 0x03, 0x43, 0x31, 0x30, 0x03, 0x00 ^ 0x03 ^ 0x43 ^ 0x31 ^ 0x30 ^ 0x03])
    assert frame.hex() == "0200034331300342"


@pytest.mark.parametrize(
    ("command", "text"),
    [
        (cr.reset(0), b"C00"), (cr.reset(1), b"C01"), (cr.reset(2), b"C02"), (cr.status(), b"C10"),
        (cr.entry(True), b"C20"), (cr.entry(False), b"C21"), (cr.read_track(2), b"C32"),
        (cr.read_track(3), b"C33"), (cr.chip_on(), b"C40"), (cr.chip_off(), b"C41"), (cr.eject(), b"C50"),
        (cr.retain(), b"C60"), (idp.find(), b"CA0"), (idp.read(), b"CB0"),
    ],
)
def test_every_command_text(command: Command, text: bytes) -> None:
    """GIVEN each command WHEN encoded THEN its TEXT and the frame around it are exact."""
    assert command.text() == text
    assert command.frame() == b"\x02" + len(text).to_bytes(2, "big") + text + b"\x03" + bytes(
        [bcc(len(text).to_bytes(2, "big") + text + b"\x03")])


def test_status_reply_round_trip() -> None:
    """GIVEN a status reply with a card inside and 41 retained cards WHEN decoded THEN media present,
    bin high."""
    reply = cr.encode_status(b"2", b"1", True, 41, 50)
    assert reply.text() == b"P10" + b"21" + b"1" + b"0041" + b"0050"
    decoded = cr.parse_status(Reply.parse(reply.text()))
    assert decoded.media is MediaState.PRESENT
    assert decoded.retain_bin is RetainBinState.HIGH
    assert (decoded.entry_enabled, decoded.retained_count, decoded.bin_capacity) == (True, 41, 50)


def test_decoder_finds_ack_nak_and_frames() -> None:
    """GIVEN ACK, a frame and NAK in one read WHEN decoded THEN three events in order."""
    events = FrameDecoder().feed(bytes([ACK]) + encode_frame(b"P1000") + bytes([NAK]))
    assert [e.kind for e in events] == [EventKind.ACK, EventKind.FRAME, EventKind.NAK]
    assert events[1].data == b"P1000"


def test_decoder_resynchronises_after_garbage() -> None:
    """GIVEN line noise before a frame WHEN decoded THEN the noise is reported and the frame still found."""
    events = FrameDecoder().feed(b"\xff\x41\x99" + encode_frame(b"P1000"))
    assert [e.kind for e in events] == [EventKind.GARBAGE, EventKind.FRAME]
    assert events[0].data == b"\xff\x41\x99"


def test_decoder_skips_a_stray_stx_that_announces_a_long_frame() -> None:
    """GIVEN noise holding STX and a large length WHEN a real frame follows THEN the real frame is found."""
    events = FrameDecoder().feed(b"\x02\x03\x00\x10" + encode_frame(b"P1000"))
    assert events[-1].kind is EventKind.FRAME and events[-1].data == b"P1000"


def test_decoder_reports_bad_checksum() -> None:
    """GIVEN a frame whose BCC is flipped WHEN decoded THEN BAD_CHECKSUM, not a frame."""
    frame = encode_frame(b"P1000")
    events = FrameDecoder().feed(frame[:-1] + bytes([frame[-1] ^ 0xFF]))
    assert [e.kind for e in events] == [EventKind.BAD_CHECKSUM]


def test_decoder_waits_for_split_frame_and_drops_truncated() -> None:
    """GIVEN a frame in two pieces WHEN fed THEN it appears only after the second; reset drops a stub."""
    frame = encode_frame(b"P1000")
    decoder = FrameDecoder()
    assert decoder.feed(frame[:4]) == []
    assert decoder.feed(frame[4:])[0].data == b"P1000"
    decoder.feed(frame[:5])
    assert decoder.reset() == frame[:5]
    assert decoder.pending == b""


def test_decoder_rejects_wrong_etx() -> None:
    """GIVEN STX with a plausible length but no ETX where it should be WHEN decoded THEN garbage, then
    resync."""
    events = FrameDecoder().feed(b"\x02\x00\x02AB\x04\x00" + encode_frame(b"P1000"))
    assert events[-1].kind is EventKind.FRAME
    assert all(e.kind is EventKind.GARBAGE for e in events[:-1])


def test_track2_parsing_and_luhn() -> None:
    """GIVEN track 2 data WHEN parsed THEN PAN and expiry; a bad check digit is rejected."""
    assert cr.parse_track2(";6222021234567890128=2812101000?") == ("6222021234567890128", "2812")
    with pytest.raises(ValueError):
        cr.parse_track2("6222021234567890127=2812101")
    with pytest.raises(ValueError):
        cr.parse_track2("garbage")


def test_identity_fields_round_trip() -> None:
    """GIVEN identity fields WHEN encoded and parsed THEN the same fields; long validity is None."""
    fields = idp.IdentityFields("张三", "男", "11010519491231002X", date(2020, 1, 1), None, "公安局")
    reply = Reply(idp.CM_READ, ord("0"), True, b"20", idp.encode_identity(fields))
    assert idp.parse_identity(Reply.parse(reply.text())) == fields
    assert idp.id_number_ok("11010519491231002X") and not idp.id_number_ok("110105194912310021")


def test_masks_and_keyed_hash() -> None:
    """GIVEN card and ID numbers WHEN masked/hashed THEN 6+4 and 3+4 masks, stable keyed HMAC."""
    assert mask_card("6222021234567890128") == "622202*********0128"
    assert mask_id("11010519491231002X") == "110***********002X"
    h = keyed_hash("6222 0212 3456 7890 128", b"branch-key")
    assert h == keyed_hash("6222021234567890128", "branch-key") and len(h) == 64
    assert h != keyed_hash("6222021234567890128", "other-key")
    with pytest.raises(ValueError):
        keyed_hash("123", b"")
