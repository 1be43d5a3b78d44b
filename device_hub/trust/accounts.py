"""Broker accounts and what each may do: the one model every broker file is rendered from.

| role    | username  | publishes                                  | reads                                      |
|---------|-----------|--------------------------------------------|--------------------------------------------|
| hub     | `hub`     | `sz/v1/#` (replies, cmds, acks, queue, staff) | `sz/v1/#` (also through `$share/…`)     |
| server  | `server`  | nothing                                    | `sz/v1/+/staff/#`, `sz/v1/+/queue/#`       |
| device  | `{b}.{d}` | its own state, status, hb, evt/+, cmd/res  | its reply, cmd, ack; b's queue/board, call |
| display | `{b}.{d}` | as a device (the lobby display of b)       | as a device                                |
| edge    | `edge@{b}`| (central) b's up/#, its devices' hb       | b's link/ack, push, staff/lead, cmd, reply |

The edge account is the bridge of branch b's own broker to the central one (`bridge.py` renders the
bridge's topics from these same grants: what it may publish goes out, what it may read comes in).

Ids are lower-case a-z0-9_- (the wire contract's rule), so the dot in `{b}.{d}` is unambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from wire.topics import ROOT, UP, Topic, TopicKind, branch_topic, device_topic, is_id


class AccountError(ValueError):
    """An account that cannot exist; the message says which part is wrong."""


class Role(StrEnum):
    HUB = "hub"
    SERVER = "server"
    DEVICE = "device"
    DISPLAY = "display"
    EDGE = "edge"


class Access(StrEnum):
    READ = "read"
    WRITE = "write"
    READWRITE = "readwrite"


@dataclass(frozen=True, slots=True)
class Grant:
    access: Access
    topic: str  # an MQTT topic filter


SERVICE_ROLES = (Role.HUB, Role.SERVER)
DEVICE_PUBLISHES = (TopicKind.STATE, TopicKind.STATUS, TopicKind.HEARTBEAT, TopicKind.EVENT,
                    TopicKind.COMMAND_RESULT)
DEVICE_READS = (TopicKind.REPLY, TopicKind.COMMAND, TopicKind.CONFIRM)
BRANCH_READS = (TopicKind.QUEUE_BOARD, TopicKind.QUEUE_CALL)


@dataclass(frozen=True, slots=True)
class Account:
    role: Role
    branch: str | None = None
    device: str | None = None

    def __post_init__(self) -> None:
        if self.role in SERVICE_ROLES:
            if self.branch or self.device:
                raise AccountError(f"a {self.role} account belongs to no branch or device")
            return
        if self.role is Role.EDGE:
            if not self.branch or not is_id(self.branch) or self.device:
                raise AccountError(f"an edge account needs a branch id and no device (got {self.branch!r})")
            return
        if not self.branch or not self.device:
            raise AccountError(f"a {self.role} account needs a branch and a device id")
        for what, value in (("branch", self.branch), ("device", self.device)):
            if not is_id(value):
                raise AccountError(f"{what} {value!r} is not an id (lower-case a-z, 0-9, '_' or '-', ≤ 32)")

    @property
    def username(self) -> str:
        if self.role is Role.EDGE:
            return f"edge@{self.branch}"  # '@' is in no id, so no device account can have this name
        return self.role.value if self.role in SERVICE_ROLES else f"{self.branch}.{self.device}"

    @classmethod
    def service(cls, role: Role | str) -> Account:
        role = Role(role)
        if role not in SERVICE_ROLES:
            raise AccountError(f"{role} is not a service account (hub or server)")
        return cls(role)

    @classmethod
    def edge(cls, branch: str) -> Account:
        return cls(Role.EDGE, branch)

    @classmethod
    def for_device(cls, branch: str, device: str, *, display: bool = False) -> Account:
        return cls(Role.DISPLAY if display else Role.DEVICE, branch, device)


def grants(account: Account) -> list[Grant]:
    """What the account may publish (WRITE) and subscribe to / receive (READ); everything else is denied."""
    if account.role is Role.HUB:
        return [Grant(Access.READWRITE, f"{ROOT}/#")]
    if account.role is Role.SERVER:
        return [Grant(Access.READ, f"{ROOT}/+/staff/#"), Grant(Access.READ, f"{ROOT}/+/queue/#")]
    if account.role is Role.EDGE:
        return edge_grants(account.branch or "")
    b, d = account.branch, account.device
    assert b and d  # checked in __post_init__
    out = [Grant(Access.WRITE, str(Topic(b, TopicKind.EVENT, d, "+")) if kind is TopicKind.EVENT
                 else device_topic(b, d, kind)) for kind in DEVICE_PUBLISHES]
    out += [Grant(Access.READ, device_topic(b, d, kind)) for kind in DEVICE_READS]
    out += [Grant(Access.READ, branch_topic(b, kind)) for kind in BRANCH_READS]
    return out


EDGE_SENDS_UP = (f"{UP}/#", "dev/+/hb")  # under sz/v1/{b}/: stored events; heartbeats live, for presence
EDGE_TAKES_DOWN = (TopicKind.LINK_ACK.value, TopicKind.PUSH.value, TopicKind.STAFF_LEAD.value, "dev/+/cmd",
                   "dev/+/reply")


def edge_grants(branch: str) -> list[Grant]:
    """Branch b's bridge on the central broker: sends up b's events and heartbeats, takes down b's
    confirmations, push-downs, leads, commands and replies. Nothing of another branch."""
    return ([Grant(Access.WRITE, f"{ROOT}/{branch}/{t}") for t in EDGE_SENDS_UP]
            + [Grant(Access.READ, f"{ROOT}/{branch}/{t}") for t in EDGE_TAKES_DOWN])
