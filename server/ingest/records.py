"""What the hub hands to the domain: validated events and dead letters, as plain data."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    topic: str
    reason: str
    detail: str
    payload: bytes
    size: int
    digest: str


@dataclass(slots=True)
class BatchResult:
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    heartbeats: int = 0
    outbound: int = 0
    stored_ids: list[str] = field(default_factory=list)

    def add(self, other: "BatchResult") -> None:
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.dead_lettered += other.dead_lettered
        self.heartbeats += other.heartbeats
        self.outbound += other.outbound
