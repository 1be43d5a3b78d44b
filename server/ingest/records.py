"""What the hub hands to the domain: validated events (with their typed data) and dead letters."""

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from wire.messages import DATA_MODELS, DeviceData

KEEP_BYTES = 4096  # how much of a dead letter's payload is kept for someone to look at


def _types_with(field_name: str) -> frozenset[str]:
    """The message types whose data has this field (looked up once: getattr of a field a pydantic model
    lacks goes through its slow __getattr__, and the hub asks for every event)."""
    return frozenset(t for t, model in DATA_MODELS.items() if field_name in model.model_fields)


_HAS_VISIT, _HAS_REF, _HAS_CARD = _types_with("visit_id"), _types_with("customer_ref"), _types_with("card_hash")
FACE_TYPES = _types_with("embeddings")  # their embeddings leave the event log once handled (forgotten())


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A device message that passed validation: `data` is its wire model (`TicketRequestData`, …), so
    handlers read attributes, never keys; the event log stores it as JSON (`data_json`)."""

    id: str
    branch: str
    device: str
    seq: int
    type: str
    ts: datetime
    data: DeviceData
    topic: str = ""  # where it came from, and its raw bytes: to dead-letter it whole if it must be
    payload: bytes = b""

    @classmethod
    def of(cls, *, type: str, data: dict[str, Any], **fields: Any) -> "EventRecord":
        """An event whose data is given as JSON-like values (read back from the event log; tests), validated
        into the type's model; raises pydantic.ValidationError."""
        return cls(type=type, data=DATA_MODELS[type].model_validate(data), **fields)

    def data_json(self) -> str:
        """The data as the event log keeps it (and as it came, less nulls)."""
        return self.data.model_dump_json(exclude_none=True)

    @property
    def visit_id(self) -> str | None:
        """The visit the event belongs to, for the types that carry one."""
        return self.data.visit_id if self.type in _HAS_VISIT else None  # type: ignore[union-attr]

    @property
    def customer_ref(self) -> str | None:
        """The customer's keyed hash: the one the event names, or the card's."""
        if self.type in _HAS_REF and self.data.customer_ref:  # type: ignore[union-attr]
            return self.data.customer_ref  # type: ignore[union-attr]
        return self.data.card_hash if self.type in _HAS_CARD else None  # type: ignore[union-attr]

    def same_event(self, other: "EventRecord") -> bool:
        """Two messages with one id describe one event (a repeat), or the id was reused for another. The event
        log keeps no embeddings (`forgotten`): a face event is compared by everything else and its frame count."""
        return (self.branch, self.device, self.seq, self.type, self.ts, self.forgotten().data) == (
            other.branch, other.device, other.seq, other.type, other.ts, other.forgotten().data)

    def forgotten(self) -> "EventRecord":
        """The event as the log keeps it once handled: a face event's embeddings replaced by zeros (the number of
        frames stays), so no biometric data outlives the request that carried it."""
        if self.type not in FACE_TYPES:
            return self
        n = len(self.data.embeddings)  # type: ignore[union-attr]
        return replace(self, data=self.data.model_copy(update={"embeddings": [[0.0] * 128] * n}))


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    topic: str
    reason: str
    detail: str
    payload: bytes
    size: int
    digest: str
    event_id: str | None = None  # the envelope id, where it could be read
    branch: str | None = None  # the topic's branch and device: who is told it was rejected
    device: str | None = None


@dataclass(slots=True)
class BatchResult:
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    heartbeats: int = 0
    outbound: int = 0
    stored_ids: list[str] = field(default_factory=list)
    # (branch, device, event id) → dead-letter reason, for events found unfit while storing
    rejected: dict[tuple[str | None, str | None, str | None], str] = field(default_factory=dict)

    def add(self, other: "BatchResult") -> None:
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.dead_lettered += other.dead_lettered
        self.heartbeats += other.heartbeats
        self.outbound += other.outbound
        self.rejected.update(other.rejected)


def digest(topic: str, payload: bytes) -> str:
    """A dead letter's identity: the same bytes on the same topic are kept once."""
    return hashlib.sha256(topic.encode("utf-8", "replace") + b"\0" + payload).hexdigest()


def id_conflict(event: EventRecord, stored: EventRecord) -> DeadLetterRecord:
    """A message whose id is already taken by a different event: kept whole, with what the id stands for."""
    return DeadLetterRecord(
        topic=event.topic, reason="id_conflict", payload=event.payload[:KEEP_BYTES], size=len(event.payload),
        digest=digest(event.topic, event.payload), event_id=event.id, branch=event.branch, device=event.device,
        detail=f"id {event.id} is already {stored.type} #{stored.seq} of {stored.branch}/{stored.device} at "
               f"{stored.ts.isoformat()}; this {event.type} #{event.seq} of {event.branch}/{event.device} differs")
