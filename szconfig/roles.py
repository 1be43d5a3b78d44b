"""Which part of the topology a process plays: a branch's `edge`, the `central` site, or `all` in one.

Each ingest handler, deferred step, scheduled job and console router declares the roles it runs in
(next to its entry); the composition roots select by the role in the settings. `all` is today's single
process tree (the demo's default): everything except the link between an edge and the centre.
"""

from enum import StrEnum


class Role(StrEnum):
    EDGE = "edge"  # one small PC per branch: its broker, hub and server on SQLite for that branch's queue
    CENTRAL = "central"  # CRM, touchpoints, referrals, the fleet, KPIs across branches, head-office users
    ALL = "all"  # both in one process tree (no link between them)


Roles = frozenset[Role]

BRANCH = frozenset({Role.EDGE, Role.ALL})  # the branch's own queue: tickets, calling, boards, consoles
CENTRE = frozenset({Role.CENTRAL, Role.ALL})  # CRM, touchpoints, referrals, the fleet
EVERYWHERE = frozenset(Role)
EDGE_LINK = frozenset({Role.EDGE})  # the edge's side of the link (uplink, cached push-downs)
CENTRE_LINK = frozenset({Role.CENTRAL})  # the centre's side of the link


def runs_in(roles: Roles, role: Role | str) -> bool:
    return Role(role) in roles
