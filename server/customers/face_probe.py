"""Face probes: one matching core, and the two uses of its result, declared by role in `server.ingest.handlers`.

Where the kiosk sits behind an edge, the edge answers (`answer`, roles edge and all): it matches against its own
cached templates (pushed down by the centre, decrypted with the same keyring), so a returning customer is greeted
with the link down. The centre only records (`record_only`, role central) once the probe arrives up the link:
the touchpoint's outcome, the identification log and the audit line, matched against the centre's templates;
it never answers, the edge has. In role `all` one process does both, matching once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidTag
from sqlalchemy import update
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.customers import optin, service
from server.customers.config import crm
from server.customers.models import Customer, FaceIdentification
from server.db import insert_for
from server.ingest.kept import Kept
from server.ingest.records import EventRecord
from server.outbox.service import OutboxRow, outbox_row
from server.touchpoints.models import Touchpoint
from wire.messages import FaceProbeData, FaceReplyData, RecognisedCustomer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProbeFacts:
    """What a probe came to: the result and, for a match, the greeting facts (never the embeddings)."""

    result: str  # matched | unknown | off (recognition not switched on at the branch)
    frames: int
    agreeing: int
    customer: Customer | None = None
    usual_business: str | None = None

    @property
    def answered(self) -> str:
        """What the kiosk is told: a branch without recognition knows nobody."""
        return "matched" if self.customer is not None else "unknown"


class _KeyWarning:
    """Logs a missing or wrong template key once per process and reason, not once per probe."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, reason: str) -> None:
        if reason not in self.seen:
            self.seen.add(reason)
            log.error("face recognition cannot match: %s; every face probe is answered `unknown` until the "
                      "template key (SZ_TEMPLATE_KEYS or template_keys_file) is set", reason)


warn_key = _KeyWarning()


def match(session: Session, e: EventRecord, probe: FaceProbeData, now: datetime) -> ProbeFacts:
    """Match the probe in this site's templates of the branch. A branch without recognition (no privacy impact
    assessment) matches nobody; a site without the template key (or with another key) matches nobody either."""
    if not optin.recognition_on(session, e.branch):
        return ProbeFacts("off", len(probe.embeddings), 0)
    try:
        cfg = crm()
        cfg.keyring  # noqa: B018 - parsed here so that a missing key is one clear line, not a failed batch
        decision = service.match_probe(session, e.branch, probe.embeddings, now=now, cfg=cfg)
    except ValueError as err:  # no key configured, or a malformed one
        warn_key(str(err))
        return ProbeFacts("unknown", len(probe.embeddings), 0)
    except (KeyError, InvalidTag) as err:  # templates under a key this site does not hold
        warn_key(f"the templates do not decrypt with this site's keys ({err or 'authentication failed'})")
        return ProbeFacts("unknown", len(probe.embeddings), 0)
    c = session.get(Customer, decision.customer_id) if decision.customer_id is not None else None
    if c is None:
        return ProbeFacts("unknown", decision.frames, decision.agreeing)
    return ProbeFacts("matched", decision.frames, decision.agreeing, c, service.usual_business(session, c.id))


def record(session: Session, e: EventRecord, probe: FaceProbeData, facts: ProbeFacts, now: datetime) -> None:
    """The touchpoint's outcome (where touchpoints are kept), the identification log, the audit line."""
    c, result = facts.customer, facts.answered
    session.execute(update(Touchpoint).where(Touchpoint.event_id == e.id).values(
        customer_id=c.id if c else None, outcome=result, detail={"result": result, "frames": facts.frames}))
    session.execute(insert_for(session, FaceIdentification).on_conflict_do_nothing(
        index_elements=["branch_id", "device_id", "request_id"]).values(
        branch_id=e.branch, device_id=e.device, request_id=probe.request_id, visit_id=probe.visit_id,
        customer_id=c.id if c else None, result=facts.result, frames=facts.frames, agreeing=facts.agreeing, at=now))
    audit.record(session, actor=audit.device_actor(e.branch, e.device), action="face.match",
                 object_type="customer" if c else None, object_id=c.ref if c else None, branch_id=e.branch,
                 outcome="ok" if c else "not_found",
                 detail={"frames": facts.frames, "agreeing": facts.agreeing, "request_id": probe.request_id})
    log.info("face probe %s at %s/%s: %s", probe.request_id, e.branch, e.device, facts.result)


def reply(e: EventRecord, probe: FaceProbeData, facts: ProbeFacts, now: datetime) -> OutboxRow:
    """The kiosk's answer: the greeting facts only (masked name, tier, usual business)."""
    c = facts.customer
    recognised = None if c is None else RecognisedCustomer(
        customer_ref=c.ref, masked_name=c.masked_name, tier=c.tier, usual_business=facts.usual_business)
    return outbox_row(branch_id=e.branch, device_id=e.device, now=now,
                      data=FaceReplyData(request_id=probe.request_id, result=facts.answered, customer=recognised))


def _probes(events: Sequence[EventRecord]) -> list[tuple[EventRecord, FaceProbeData]]:
    return [(e, e.data) for e in events if isinstance(e.data, FaceProbeData)]


def answer(session: Session, events: Sequence[EventRecord], now: datetime, _kept: Kept) -> list[OutboxRow]:
    """Ingest handler (where the kiosks' replies come from: edge, all): match, record, answer the kiosk."""
    out = []
    for e, probe in _probes(events):
        facts = match(session, e, probe, now)
        record(session, e, probe, facts, now)
        out.append(reply(e, probe, facts, now))
    return out


def record_only(session: Session, events: Sequence[EventRecord], now: datetime, _kept: Kept) -> list[OutboxRow]:
    """Ingest handler (the centre behind edges): match and record a probe that came up the link; the edge has
    answered the kiosk already, so no reply."""
    for e, probe in _probes(events):
        record(session, e, probe, match(session, e, probe, now), now)
    return []
