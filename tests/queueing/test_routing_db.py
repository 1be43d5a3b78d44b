"""Routing on a real database: a ticket never goes to a line whose open counters cannot serve it."""

from __future__ import annotations

from datetime import UTC, datetime

from server.queueing import issuing

MON = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 Monday in Shanghai


def test_vip_card_customer_goes_where_a_counter_has_the_skill(migrated) -> None:
    """GIVEN the VIP room's counter has no card skill WHEN a platinum customer takes a card ticket
    THEN the VIP rule is passed over and the ticket joins the counter line; a VIP business still goes there."""
    _engine, factory = migrated
    with factory() as s, s.begin():
        card = issuing.issue(s, branch_id="b001", business="card", tier="platinum", now=MON).ticket
        vip = issuing.issue(s, branch_id="b001", business="vip", tier="platinum", now=MON).ticket
    assert card.channel == "counter" and card.reasons[0]["rule"] != "vip_tier"
    assert vip.channel == "vip"
