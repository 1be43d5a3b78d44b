"""What the hub hands to the domain: validated events and dead letters, as plain data."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

KEEP_BYTES = 4096  # how much of a dead letter's payload is kept for someone to look at


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A device message that passed validation (the hub checked it against the wire contract)."""

    id: str
    branch: str
    device: str
    seq: int
    type: str
    ts: datetime
    data: dict[str, Any]
    topic: str = ""  # where it came from, and its raw bytes: to dead-letter it whole if it must be
    payload: bytes = b""

    def same_event(self, other: "EventRecord") -> bool:
        """Two messages with one id describe one event (a repeat), or the id was reused for another."""
        return (self.branch, self.device, self.seq, self.type, self.ts, self.data) == (
            other.branch, other.device, other.seq, other.type, other.ts, other.data)


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
