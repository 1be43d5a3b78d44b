"""Decide, for one MQTT message, whether it is an event to store or a dead letter, and why.

Pure: no broker, no database. Reasons: `oversized`, `bad_topic`, `invalid_json`,
`unknown_type`, `invalid_message`, `topic_mismatch`, `unknown_branch`, `clock_skew`. A dead letter
keeps the envelope id and the device of its topic where they can be read, so the hub can tell that
device to stop sending it.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError

from server.ingest.records import KEEP_BYTES, DeadLetterRecord, EventRecord, digest
from wire import TopicError, TopicKind, decode_device_message, parse
from wire.topics import EDGE_DEVICE, EDGE_ONLY_TYPES, UP, is_id

_TYPE_FOR_KIND = {TopicKind.STATE: "state", TopicKind.STATUS: "status",
                  TopicKind.HEARTBEAT: "heartbeat", TopicKind.COMMAND_RESULT: "command_result"}


_ENVELOPE_ID = re.compile(rb'"id"\s*:\s*"([0-9a-fA-F-]{36})"')


@dataclass(frozen=True, slots=True)
class Limits:
    """What the hub accepts: payload size, and how far an event's `ts` may be from the time it arrives."""

    max_bytes: int = 64 * 1024
    max_ahead: timedelta = timedelta(minutes=10)  # a kiosk clock running fast
    max_age: timedelta = timedelta(days=30)  # a device (or a branch) offline this long still delivers


def dead(topic: str, payload: bytes, reason: str, detail: str, event_id: str | None = None) -> DeadLetterRecord:
    parts = topic.split("/")
    branch, device = (parts[2], parts[4]) if len(parts) > 4 and parts[3] in ("dev", UP) else (None, None)
    if not (branch and device and is_id(branch) and is_id(device)):
        branch = device = None
    if event_id is None:
        found = _ENVELOPE_ID.search(payload, 0, 400)
        event_id = found.group(1).decode().lower() if found else None
    return DeadLetterRecord(topic=topic, reason=reason, detail=detail[:2000],
                            payload=payload[:KEEP_BYTES], size=len(payload),
                            digest=digest(topic, payload), event_id=event_id, branch=branch, device=device)


def _validation_reason(err: ValidationError) -> tuple[str, str]:
    errors = err.errors(include_url=False, include_input=False)
    kinds = {e["type"] for e in errors}
    if "json_invalid" in kinds or "json_type" in kinds:
        return "invalid_json", errors[0]["msg"]
    if "union_tag_invalid" in kinds or "union_tag_not_found" in kinds:
        return "unknown_type", errors[0]["msg"]
    detail = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or '-'}: {e['msg']}" for e in errors[:5])
    return "invalid_message", detail


def classify(topic: str, payload: bytes, *, branches: Container[str], now: datetime,
             limits: Limits = Limits()) -> EventRecord | DeadLetterRecord:
    """`now` is the (aware) time the message arrived."""
    if len(payload) > limits.max_bytes:
        return dead(topic, payload, "oversized", f"{len(payload)} bytes > limit {limits.max_bytes}")
    try:
        where = parse(topic)
    except TopicError as err:
        return dead(topic, payload, "bad_topic", str(err))
    if where.device is None or where.kind not in (*_TYPE_FOR_KIND, TopicKind.EVENT):
        return dead(topic, payload, "bad_topic", f"devices do not publish on {where.kind}")
    if b"\\u0000" in payload:
        # PostgreSQL cannot store NUL in text or jsonb; no field of ours needs it
        return dead(topic, payload, "invalid_message", "contains a NUL character (\\u0000) in a text field")
    try:
        msg = decode_device_message(payload)
    except ValidationError as err:
        reason, detail = _validation_reason(err)
        return dead(topic, payload, reason, detail)
    expected_type = where.event if where.kind is TopicKind.EVENT else _TYPE_FOR_KIND[where.kind]
    if msg.branch != where.branch or msg.device != where.device:
        return dead(topic, payload, "topic_mismatch",
                    f"payload says {msg.branch}/{msg.device}, topic says {where.branch}/{where.device}")
    if msg.type != expected_type:
        return dead(topic, payload, "topic_mismatch",
                    f"payload type {msg.type!r} on a topic for {expected_type!r}")
    if msg.type in EDGE_ONLY_TYPES and not (where.up and msg.device == EDGE_DEVICE):
        return dead(topic, payload, "bad_topic", f"only a branch's edge sends {msg.type}, up as {EDGE_DEVICE!r}")
    if msg.branch not in branches:
        return dead(topic, payload, "unknown_branch", f"branch {msg.branch!r} is not configured")
    skew = _clock_skew(msg, now, limits)
    if skew:
        return dead(topic, payload, "clock_skew", skew, str(msg.id))
    return EventRecord(id=str(msg.id), branch=msg.branch, device=msg.device, seq=msg.seq,
                       type=msg.type, ts=msg.ts, data=msg.data, topic=topic, payload=payload)


def _clock_skew(msg, now: datetime, limits: Limits) -> str | None:
    """Why `ts` cannot be right, or None. A last will is exempt from the age limit: its `ts` is when the
    device connected, which may be long before the broker publishes it."""
    if msg.ts > now + limits.max_ahead:
        return f"ts {msg.ts.isoformat()} is {msg.ts - now} ahead of the hub's clock (limit {limits.max_ahead})"
    if msg.ts < now - limits.max_age and not (msg.type == "state" and not msg.data.online):
        return f"ts {msg.ts.isoformat()} is {now - msg.ts} old (limit {limits.max_age})"
    return None
