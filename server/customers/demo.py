"""Demo customers whose card numbers the simulated kiosks also use, and synthetic face templates for them.

The simulator (device_hub/sim/flows.py DEMO_CARD_NUMBERS) draws some of its cards from the same pool, so
the demo shows known customers arriving. The face vectors are synthetic (no real faces): a fixed random
direction per customer, scaled like dlib embeddings; a probe near it is "the same person".
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy.orm import Session

from server.customers.config import crm
from server.customers.importer import parse_row
from server.customers.service import enrol_face, upsert_customer
from server.referrals.routing import managers_of
from server.staff.models import Role

# Kept equal to device_hub/sim/flows.py DEMO_CARD_NUMBERS (a test checks): the server imports no device code.
DEMO_CARD_NUMBERS = ("6228480000000018", "6228480000000026", "6228480000000034", "6228480000000042",
                     "6228480000000059", "6228480000000067")
_NAMES = ("王小明", "李秀英", "张伟", "刘芳芳", "陈建国", "Mary Smith")
_TIERS = ("vip", "private", "gold", "standard", "vip", "gold")
_BANDS = ("500k-6m", "6m+", "50k-500k", "0-50k", "500k-6m", "50k-500k")
_BIRTH = ("1975-03-02", "1958-07-21", "1990-11-05", "1949-01-30", "1982-06-14", "1988-09-09")


def demo_rows() -> list[dict[str, str]]:
    """CSV-shaped rows (clear numbers are synthetic and only exist here and in the simulator)."""
    return [{"customer_id": f"DEMO{i + 1:03d}", "name": _NAMES[i], "phone": f"1380013{i:04d}",
             "id_number": "", "card_number": card, "tier": _TIERS[i], "aum_band": _BANDS[i],
             "language": "en" if i == 5 else "zh-CN", "birth_date": _BIRTH[i]}
            for i, card in enumerate(DEMO_CARD_NUMBERS)]


def demo_face(index: int) -> np.ndarray:
    """The synthetic 'face' of demo customer `index` (unit-ish vector, like a dlib embedding's scale)."""
    v = np.random.default_rng(1000 + index).normal(size=128).astype(np.float32)
    return v / np.linalg.norm(v) * 0.9


def seed_demo_customers(session: Session, now: datetime, branch_id: str = "b001") -> list[str]:
    """Create (or refresh) the demo customers; the first two get face templates with recorded consent; the VIP and
    private ones are looked after by the branch's first customer manager (their leads go to them)."""
    cfg = crm()
    refs = []
    managers = managers_of(session, [branch_id], (Role.CUSTOMER_MANAGER,))[branch_id]
    for i, row in enumerate(demo_rows()):
        parsed = parse_row(row, sorted(cfg.identity_keys()), cfg.identity_key(None))
        c, created = upsert_customer(session, parsed, branch_id=branch_id, now=now)
        if managers and c.manager_id is None and _TIERS[i] in ("vip", "private"):
            c.manager_id = managers[0]
        refs.append(c.ref)
        if created and i < 2:
            enrol_face(session, c, [demo_face(i)], source="system:demo", text_version="demo-2026-11", now=now,
                       device_id="k1")
    return refs


def seed_card_holder(session: Session, now: datetime, branch_id: str, *, card: str) -> str:
    """A customer (赵*红, gold, no face yet) holding the kiosk card reader simulator's test card, so a demo visitor
    who inserts it can opt in to recognition at the kiosk and be greeted on the next visit."""
    cfg = crm()
    row = {**demo_rows()[2], "customer_id": "DEMO-KIOSK", "name": "赵小红", "phone": "", "card_number": card,
           "tier": "gold"}
    c, _ = upsert_customer(session, parse_row(row, sorted(cfg.identity_keys()), cfg.identity_key(None)),
                           branch_id=branch_id, now=now)
    return c.ref
