"""Realistic kiosk traffic as pure data: what a customer's stay at a kiosk sends.

A stay is: visit start, maybe a card read, a ticket request, a usage session, maybe a
survey, visit end. Now and then the printer's paper runs low and is refilled.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from wire import Component, DeviceState, ErrorAction, MediaState, Outcome, PaperState, RetainBinState, TopicKind
from wire.messages import (
    CardReadData,
    CardReadMessage,
    StatusData,
    StatusMessage,
    SurveyData,
    SurveyMessage,
    TicketRequestData,
    TicketRequestMessage,
    UsageSessionData,
    UsageSessionMessage,
    VisitData,
    VisitMessage,
)

SIM_KEY = b"smartzone-simulator-branch-key"  # the simulator's stand-in for a branch's HMAC key
# Cards of the demo's known customers (server/customers/demo.py seeds the same numbers): about one card
# read in ten uses one of them, so the demo shows recognised customers, leads and identification KPIs.
DEMO_CARD_NUMBERS = ("6228480000000018", "6228480000000026", "6228480000000034", "6228480000000042",
                     "6228480000000059", "6228480000000067")
DEMO_CARD_SHARE = 0.1

Step = tuple[type, Any, TopicKind]
_NEXT_PAPER = {PaperState.FULL: PaperState.LOW, PaperState.LOW: PaperState.OUT}  # then refilled


def _rid(rng: random.Random) -> str:
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex


def _card(rng: random.Random) -> tuple[str, str]:
    number = "622848" + "".join(str(rng.randrange(10)) for _ in range(10))
    if rng.random() < DEMO_CARD_SHARE:
        number = DEMO_CARD_NUMBERS[rng.randrange(len(DEMO_CARD_NUMBERS))]
    digest = hmac.new(SIM_KEY, number.encode(), hashlib.sha256).hexdigest()
    return digest, number[:6] + "*" * (len(number) - 10) + number[-4:]


def customer_stay(rng: random.Random, businesses: Sequence[str]) -> list[Step]:
    visit = _rid(rng)
    steps: list[Step] = [(VisitMessage, VisitData(visit_id=visit, phase="start"), TopicKind.EVENT)]
    ref = None
    if rng.random() < 0.5:
        ref, masked = _card(rng)
        steps.append((CardReadMessage, CardReadData(card_kind="bank", card_hash=ref, masked=masked,
                                                    visit_id=visit), TopicKind.EVENT))
    steps.append((TicketRequestMessage, TicketRequestData(
        request_id=_rid(rng), business=rng.choice(list(businesses)), visit_id=visit, customer_ref=ref,
        elderly=rng.random() < 0.2), TopicKind.EVENT))
    start = datetime.now(UTC)
    steps.append((UsageSessionMessage, UsageSessionData(
        session_id=_rid(rng), function="ticket", started_at=start - timedelta(seconds=rng.randint(20, 90)),
        ended_at=start, outcome=Outcome.OK if rng.random() < 0.95 else Outcome.ABANDONED,
        visit_id=visit), TopicKind.EVENT))
    if rng.random() < 0.3:
        steps.append((SurveyMessage, SurveyData(score=rng.choice([5, 5, 4, 4, 3, 2]), visit_id=visit,
                                                customer_ref=ref), TopicKind.EVENT))
    steps.append((VisitMessage, VisitData(visit_id=visit, phase="end", customer_ref=ref), TopicKind.EVENT))
    return steps


def paper_status(paper: PaperState) -> Step:
    device = DeviceState.ONLINE if paper != PaperState.OUT else DeviceState.USER_ERROR
    action = ErrorAction.CLEAR if paper in (PaperState.LOW, PaperState.OUT, PaperState.JAMMED) else None
    return (StatusMessage, StatusData(component=Component.PRINTER, device=device, paper=paper, action=action),
            TopicKind.STATUS)


def component_status(component: Component) -> Step:
    """A healthy component's status, as a kiosk reports it after its birth."""
    if component is Component.PRINTER:
        return paper_status(PaperState.FULL)
    if component is Component.CARD_READER:
        data = StatusData(component=component, device=DeviceState.ONLINE, media=MediaState.NOT_PRESENT,
                          retain_bin=RetainBinState.OK, retain_count=0)
    else:
        data = StatusData(component=component, device=DeviceState.ONLINE)
    return StatusMessage, data, TopicKind.STATUS


def kiosk_traffic(rng: random.Random, businesses: Sequence[str]) -> Iterator[Step]:
    """An endless stream of steps: customers, and the printer's paper running low now and then."""
    paper = PaperState.FULL
    while True:
        yield from customer_stay(rng, businesses)
        if rng.random() < 0.02:
            paper = _NEXT_PAPER.get(paper, PaperState.FULL)
            yield paper_status(paper)
