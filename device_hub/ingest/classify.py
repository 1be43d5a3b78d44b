"""Decide, for one MQTT message, whether it is an event to store or a dead letter, and why.

Pure: no broker, no database. Reasons: `oversized`, `bad_topic`, `invalid_json`,
`unknown_type`, `invalid_message`, `topic_mismatch`, `unknown_branch`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Container

from pydantic import ValidationError

from device_hub.protocol import TopicError, TopicKind, decode_device_message, parse
from server.ingest.records import DeadLetterRecord, EventRecord

KEEP_BYTES = 4096  # how much of a dead letter's payload is kept for someone to look at

_TYPE_FOR_KIND = {TopicKind.STATE: "state", TopicKind.STATUS: "status",
                  TopicKind.HEARTBEAT: "heartbeat", TopicKind.COMMAND_RESULT: "command_result"}


def digest(topic: str, payload: bytes) -> str:
    return hashlib.sha256(topic.encode("utf-8", "replace") + b"\0" + payload).hexdigest()


def dead(topic: str, payload: bytes, reason: str, detail: str) -> DeadLetterRecord:
    return DeadLetterRecord(topic=topic, reason=reason, detail=detail[:2000],
                            payload=payload[:KEEP_BYTES], size=len(payload),
                            digest=digest(topic, payload))


def _validation_reason(err: ValidationError) -> tuple[str, str]:
    errors = err.errors(include_url=False, include_input=False)
    kinds = {e["type"] for e in errors}
    if "json_invalid" in kinds or "json_type" in kinds:
        return "invalid_json", errors[0]["msg"]
    if "union_tag_invalid" in kinds or "union_tag_not_found" in kinds:
        return "unknown_type", errors[0]["msg"]
    detail = "; ".join(f"{'.'.join(map(str, e['loc'][1:])) or '-'}: {e['msg']}" for e in errors[:5])
    return "invalid_message", detail


def classify(topic: str, payload: bytes, *, branches: Container[str],
             max_bytes: int) -> EventRecord | DeadLetterRecord:
    if len(payload) > max_bytes:
        return dead(topic, payload, "oversized", f"{len(payload)} bytes > limit {max_bytes}")
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
    if msg.branch not in branches:
        return dead(topic, payload, "unknown_branch", f"branch {msg.branch!r} is not configured")
    return EventRecord(id=str(msg.id), branch=msg.branch, device=msg.device, seq=msg.seq,
                       type=msg.type, ts=msg.ts, data=msg.data.model_dump(mode="json", exclude_none=True))
