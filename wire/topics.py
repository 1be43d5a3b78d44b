"""MQTT topic names: `sz/v1/{branch}/…`, built and parsed in one place.

| topic                          | direction  | QoS, retain |
|--------------------------------|------------|-------------|
| sz/v1/{b}/dev/{d}/state        | device→hub | 1, retained (birth; last will) |
| sz/v1/{b}/dev/{d}/status       | device→hub | 1 |
| sz/v1/{b}/dev/{d}/hb           | device→hub | 0 |
| sz/v1/{b}/dev/{d}/evt/{type}   | device→hub | 1 |
| sz/v1/{b}/dev/{d}/ack          | hub→device | 0 (which of the device's events are committed) |
| sz/v1/{b}/dev/{d}/reply        | hub→device | 1 (ticket_reply, face_reply, face_enrol_reply, face_consent_reply) |
| sz/v1/{b}/dev/{d}/cmd          | hub→device | 1 |
| sz/v1/{b}/dev/{d}/cmd/res      | device→hub | 1 |
| sz/v1/{b}/queue/board          | hub→all    | 1, retained |
| sz/v1/{b}/queue/call           | hub→all    | 1 |
| sz/v1/{b}/staff/lead           | hub→staff  | 1 |
| sz/v1/{b}/up/{d}/…             | edge→centre | 1 (a device topic's tail: the edge's stored events, sent up) |
| sz/v1/{b}/up/hub/evt/queue_step | edge→centre | 1 (the branch's queue: a ticket's step, from the edge itself) |
| sz/v1/{b}/up/hub/evt/appointment | edge→centre | 1 (an appointment booked, checked in, cancelled or missed there) |
| sz/v1/{b}/link/ack             | centre→edge | 0 (which of the branch's events the centre has committed) |
| sz/v1/{b}/link/state           | bridge→edge | 1, retained, local only (the bridge's notification: 1 up, 0 down) |
| sz/v1/{b}/push                 | centre→edge | 1 (what the edge caches: config, staff, hints, leads, appointments) |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from wire.ids import ID_RE, is_id

__all__ = ["EDGE_DEVICE", "EDGE_ONLY_TYPES", "HUB_TOPICS", "RETAINED", "ROOT", "UP", "Topic", "TopicError", "TopicKind",
           "branch_topic", "device_topic", "hub_subscriptions", "hub_topic", "is_id", "is_uplink", "parse",
           "uplink_topic"]

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
    LINK_ACK = "link/ack"
    LINK_STATE = "link/state"
    PUSH = "push"


_DEVICE_KINDS = {TopicKind.STATE, TopicKind.STATUS, TopicKind.HEARTBEAT, TopicKind.CONFIRM, TopicKind.REPLY,
                 TopicKind.COMMAND, TopicKind.COMMAND_RESULT}
_BRANCH_KINDS = {TopicKind.QUEUE_BOARD, TopicKind.QUEUE_CALL, TopicKind.STAFF_LEAD, TopicKind.LINK_ACK,
                 TopicKind.LINK_STATE, TopicKind.PUSH}
UP = "up"  # `sz/v1/{b}/up/{d}/…`: a device's event as its branch's edge sends it up to the centre
EDGE_DEVICE = "hub"  # the `device` a branch's edge speaks as: its queue steps going up, the centre's confirmations
EDGE_ONLY_TYPES = frozenset({"queue_step", "appointment"})  # event types only an edge sends (up), never a device
_UP_KINDS = (TopicKind.STATE, TopicKind.STATUS, TopicKind.EVENT, TopicKind.COMMAND_RESULT)
# Where each message type the hub sends goes (wire.messages.HUB_TYPES); every reply shares `reply`.
HUB_TOPICS: dict[str, TopicKind] = {
    "confirm": TopicKind.CONFIRM, "ticket_reply": TopicKind.REPLY, "face_reply": TopicKind.REPLY,
    "face_enrol_reply": TopicKind.REPLY, "face_consent_reply": TopicKind.REPLY,
    "command": TopicKind.COMMAND, "queue_board": TopicKind.QUEUE_BOARD, "queue_call": TopicKind.QUEUE_CALL,
    "staff_lead": TopicKind.STAFF_LEAD, "push": TopicKind.PUSH,
}  # a centre's confirmations to a branch's edge are `confirm`s too, on `link/ack`
RETAINED = frozenset({TopicKind.STATE, TopicKind.QUEUE_BOARD})  # the broker keeps the last one for newcomers


class TopicError(ValueError):
    """The topic is not one of ours; the message says which part is wrong."""


@dataclass(frozen=True, slots=True)
class Topic:
    branch: str
    kind: TopicKind
    device: str | None = None
    event: str | None = None
    up: bool = False  # sent up by the branch's edge (`…/up/{d}/…`) rather than by the device itself

    def __str__(self) -> str:
        if self.kind in _BRANCH_KINDS:
            return f"{ROOT}/{self.branch}/{self.kind.value}"
        via = UP if self.up else "dev"
        if self.kind is TopicKind.EVENT:
            return f"{ROOT}/{self.branch}/{via}/{self.device}/evt/{self.event}"
        return f"{ROOT}/{self.branch}/{via}/{self.device}/{self.kind.value}"


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


def uplink_topic(device_topic_: str) -> str:
    """The topic an edge sends a device's stored event up on: `…/dev/{d}/…` becomes `…/up/{d}/…`."""
    where = parse(device_topic_)
    if where.device is None or where.kind not in _UP_KINDS:
        raise TopicError(f"{device_topic_!r} is not a device event that goes up")
    return str(Topic(where.branch, where.kind, where.device, where.event, up=True))


def is_uplink(topic: str) -> bool:
    parts = topic.split("/", 4)
    return len(parts) > 3 and parts[3] == UP


def branch_topic(branch: str, kind: TopicKind) -> str:
    _check_id("branch", branch)
    if kind not in _BRANCH_KINDS:
        raise TopicError(f"{kind} is not a branch topic")
    return str(Topic(branch, kind))


def hub_topic(message_type: str, branch: str, device: str | None) -> str:
    """The topic of a message the hub sends: the device's own for replies, commands and confirmations,
    the branch's for boards, calls and leads."""
    kind = HUB_TOPICS[message_type]
    if kind in _BRANCH_KINDS:
        return branch_topic(branch, kind)
    if device is None:
        raise TopicError(f"a {message_type} goes to one device; none given")
    return device_topic(branch, device, kind)


def parse(topic: str) -> Topic:
    """Parse any smartzone topic; raise TopicError naming the bad part."""
    parts = topic.split("/")
    if len(parts) < 4 or f"{parts[0]}/{parts[1]}" != ROOT:
        raise TopicError(f"topic {topic!r} does not start with {ROOT}/<branch>/")
    branch = _check_id("branch", parts[2])
    rest = parts[3:]
    if rest[0] in ("dev", UP):
        up = rest[0] == UP
        if len(rest) < 3:
            raise TopicError(f"topic {topic!r} has no device kind")
        device = _check_id("device", rest[1])
        tail = rest[2:]
        if tail[0] == "evt" and len(tail) == 2:
            return Topic(branch, TopicKind.EVENT, device, _check_id("event type", tail[1]), up=up)
        try:
            kind = TopicKind("/".join(tail))
        except ValueError as err:
            raise TopicError(f"topic {topic!r}: unknown device topic {'/'.join(tail)!r}") from err
        if kind not in (_UP_KINDS if up else _DEVICE_KINDS):
            raise TopicError(f"topic {topic!r}: {kind} is not a device topic")
        return Topic(branch, kind, device, up=up)
    try:
        kind = TopicKind("/".join(rest))
    except ValueError as err:
        raise TopicError(f"topic {topic!r}: unknown branch topic {'/'.join(rest)!r}") from err
    if kind not in _BRANCH_KINDS:
        raise TopicError(f"topic {topic!r}: {kind} is not a branch topic")
    return Topic(branch, kind)


def hub_subscriptions(shared_group: str | None = None, *, uplink: bool = False) -> list[tuple[str, int]]:
    """What the hub subscribes to: everything devices send (QoS 1; heartbeats arrive at 0), and with
    `uplink` (the centre) what the branches' edges send up."""
    filters = [f"{ROOT}/+/dev/+/state", f"{ROOT}/+/dev/+/status", f"{ROOT}/+/dev/+/hb",
               f"{ROOT}/+/dev/+/evt/+", f"{ROOT}/+/dev/+/cmd/res"]
    if uplink:
        filters += [f"{ROOT}/+/{UP}/+/state", f"{ROOT}/+/{UP}/+/status", f"{ROOT}/+/{UP}/+/evt/+",
                    f"{ROOT}/+/{UP}/+/cmd/res"]
    if shared_group:
        filters = [f"$share/{shared_group}/{f}" for f in filters]
    return [(f, 1) for f in filters]
