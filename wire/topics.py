"""MQTT topic names: `sz/v1/{branch}/…`, built and parsed in one place.

| topic                          | direction  | QoS, retain |
|--------------------------------|------------|-------------|
| sz/v1/{b}/dev/{d}/state        | device→hub | 1, retained (birth; last will) |
| sz/v1/{b}/dev/{d}/status       | device→hub | 1 |
| sz/v1/{b}/dev/{d}/hb           | device→hub | 0 |
| sz/v1/{b}/dev/{d}/evt/{type}   | device→hub | 1 |
| sz/v1/{b}/dev/{d}/ack          | hub→device | 0 (which of the device's events are committed) |
| sz/v1/{b}/dev/{d}/reply        | hub→device | 1 |
| sz/v1/{b}/dev/{d}/cmd          | hub→device | 1 |
| sz/v1/{b}/dev/{d}/cmd/res      | device→hub | 1 |
| sz/v1/{b}/queue/board          | hub→all    | 1, retained |
| sz/v1/{b}/queue/call           | hub→all    | 1 |
| sz/v1/{b}/staff/lead           | hub→staff  | 1 |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from wire.ids import ID_RE, is_id

__all__ = ["ROOT", "Topic", "TopicError", "TopicKind", "branch_topic", "device_topic", "hub_subscriptions", "is_id",
           "parse"]

ROOT = "sz/v1"


class TopicKind(StrEnum):
    STATE = "state"
    STATUS = "status"
    HEARTBEAT = "hb"
    EVENT = "evt"
    CONFIRM = "ack"
    REPLY = "reply"
    COMMAND = "cmd"
    COMMAND_RESULT = "cmd/res"
    QUEUE_BOARD = "queue/board"
    QUEUE_CALL = "queue/call"
    STAFF_LEAD = "staff/lead"


_DEVICE_KINDS = {TopicKind.STATE, TopicKind.STATUS, TopicKind.HEARTBEAT, TopicKind.CONFIRM, TopicKind.REPLY,
                 TopicKind.COMMAND, TopicKind.COMMAND_RESULT}
_BRANCH_KINDS = {TopicKind.QUEUE_BOARD, TopicKind.QUEUE_CALL, TopicKind.STAFF_LEAD}


class TopicError(ValueError):
    """The topic is not one of ours; the message says which part is wrong."""


@dataclass(frozen=True, slots=True)
class Topic:
    branch: str
    kind: TopicKind
    device: str | None = None
    event: str | None = None

    def __str__(self) -> str:
        if self.kind in _BRANCH_KINDS:
            return f"{ROOT}/{self.branch}/{self.kind.value}"
        if self.kind is TopicKind.EVENT:
            return f"{ROOT}/{self.branch}/dev/{self.device}/evt/{self.event}"
        return f"{ROOT}/{self.branch}/dev/{self.device}/{self.kind.value}"


def _check_id(what: str, value: str) -> str:
    if not ID_RE.match(value):
        raise TopicError(f"{what} {value!r} is not an id (lower-case a-z, 0-9, '_' or '-', ≤ 32)")
    return value


def device_topic(branch: str, device: str, kind: TopicKind, event: str | None = None) -> str:
    _check_id("branch", branch)
    _check_id("device", device)
    if kind is TopicKind.EVENT:
        _check_id("event type", event or "")
    elif kind not in _DEVICE_KINDS:
        raise TopicError(f"{kind} is not a device topic")
    return str(Topic(branch, kind, device, event))


def branch_topic(branch: str, kind: TopicKind) -> str:
    _check_id("branch", branch)
    if kind not in _BRANCH_KINDS:
        raise TopicError(f"{kind} is not a branch topic")
    return str(Topic(branch, kind))


def parse(topic: str) -> Topic:
    """Parse any smartzone topic; raise TopicError naming the bad part."""
    parts = topic.split("/")
    if len(parts) < 4 or f"{parts[0]}/{parts[1]}" != ROOT:
        raise TopicError(f"topic {topic!r} does not start with {ROOT}/<branch>/")
    branch = _check_id("branch", parts[2])
    rest = parts[3:]
    if rest[0] == "dev":
        if len(rest) < 3:
            raise TopicError(f"topic {topic!r} has no device kind")
        device = _check_id("device", rest[1])
        tail = rest[2:]
        if tail[0] == "evt" and len(tail) == 2:
            return Topic(branch, TopicKind.EVENT, device, _check_id("event type", tail[1]))
        try:
            kind = TopicKind("/".join(tail))
        except ValueError as err:
            raise TopicError(f"topic {topic!r}: unknown device topic {'/'.join(tail)!r}") from err
        if kind not in _DEVICE_KINDS:
            raise TopicError(f"topic {topic!r}: {kind} is not a device topic")
        return Topic(branch, kind, device)
    try:
        kind = TopicKind("/".join(rest))
    except ValueError as err:
        raise TopicError(f"topic {topic!r}: unknown branch topic {'/'.join(rest)!r}") from err
    if kind not in _BRANCH_KINDS:
        raise TopicError(f"topic {topic!r}: {kind} is not a branch topic")
    return Topic(branch, kind)


def hub_subscriptions(shared_group: str | None = None) -> list[tuple[str, int]]:
    """What the hub subscribes to: everything devices send (QoS 1; heartbeats arrive at 0)."""
    filters = [f"{ROOT}/+/dev/+/state", f"{ROOT}/+/dev/+/status", f"{ROOT}/+/dev/+/hb",
               f"{ROOT}/+/dev/+/evt/+", f"{ROOT}/+/dev/+/cmd/res"]
    if shared_group:
        filters = [f"$share/{shared_group}/{f}" for f in filters]
    return [(f, 1) for f in filters]
