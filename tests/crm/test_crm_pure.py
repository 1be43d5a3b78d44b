"""Pure CRM logic: masks, keyed hashes, template encryption, rules, matching decisions, lead states, signing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from server.customers.importer import RowError, id_checksum_ok, parse_row
from server.customers.privacy import Keyring, keyed_hash, mask_card, mask_id, mask_name, mask_phone, scrub
from server.customers.recognition import FrameMatch, RecognitionIndex, decide
from server.customers.rules import (
    RELATIONSHIP,
    Activity,
    CrmRules,
    LeadFacts,
    LeadReason,
    Profile,
    Tier,
    evaluate,
    lead_interest,
    lead_reason,
    lead_score,
    wait_points,
)
from server.errors import Conflict
from server.referrals.service import dedup_key, next_status
from server.webhooks.service import backoff, sign, verify

NOW = datetime(2026, 11, 28, 10, tzinfo=UTC)
RULES = CrmRules()


def test_masks_match_the_rules() -> None:
    """GIVEN clear values WHEN masked THEN 王*明, 138****1234, first 3 + last 4, first 6 + last 4."""
    assert mask_name("王小明") == "王*明" and mask_name("张伟") == "张*"
    assert mask_phone("13812341234") == "138****1234"
    assert mask_id("110101199003071234") == "110***********1234"
    assert mask_card("6228480000000018") == "622848******0018"
    assert scrub("call 13812341234 now") == "call 138****1234 now"


@given(st.text(alphabet="0123456789", min_size=16, max_size=19))
def test_card_masks_never_reveal_the_middle(number: str) -> None:
    """GIVEN any card number WHEN masked THEN only the first 6 and last 4 digits remain."""
    m = mask_card(number)
    assert len(m) == len(number) and m[:6] == number[:6] and m[-4:] == number[-4:]
    assert set(m[6:-4]) == {"*"}


def test_keyed_hash_matches_the_simulator_and_kiosk() -> None:
    """GIVEN the simulator's key WHEN a card is hashed with spaces THEN the same hash as the kiosk's HMAC."""
    import hashlib
    import hmac

    key = b"smartzone-simulator-branch-key"
    assert keyed_hash("6228 4800 0000 0018", key) == hmac.new(key, b"6228480000000018", hashlib.sha256).hexdigest()


def test_template_encryption_is_bound_and_rotatable() -> None:
    """GIVEN a keyring WHEN a template is encrypted THEN it decrypts only with the same AAD; an old key still reads."""
    old = Keyring.parse("k1:" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=")
    v = np.arange(128, dtype=np.float32) / 128
    kid, nonce, ct = old.encrypt(v, "face-template:b001:1")
    assert v.tobytes() not in ct
    new = Keyring.parse("k2:" + "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=,k1:"
                        + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=")
    assert new.current == "k2"
    assert np.array_equal(new.decrypt(kid, nonce, ct, "face-template:b001:1"), v)
    with pytest.raises(InvalidTag):
        new.decrypt(kid, nonce, ct, "face-template:b001:2")
    with pytest.raises(ValueError):
        Keyring.parse("short:YWJj")


def test_tiers_and_tags_from_aum_and_activity() -> None:
    """GIVEN AUM bands, visits and wealth asks WHEN evaluated THEN tier and tags follow the configured rules."""
    assert evaluate(Profile("500k-6m", None), NOW, RULES)[0] is Tier.VIP
    busy = Activity(visit_days=[NOW - timedelta(days=d) for d in range(6)])
    assert evaluate(Profile("0-50k", None, busy), NOW, RULES)[0] is Tier.GOLD
    asks = Activity(wealth_asks=[NOW - timedelta(days=3), NOW - timedelta(days=20)])
    _tier, tags, elderly = evaluate(Profile(None, date(1950, 1, 1), asks), NOW, RULES)
    assert "wealth_interest" in tags and "elderly" in tags and elderly
    stale = Activity(wealth_asks=[NOW - timedelta(days=3), NOW - timedelta(days=40)])
    assert "wealth_interest" not in evaluate(Profile(None, None, stale), NOW, RULES)[1]
    assert evaluate(Profile("0-50k", None, declared_tier="private"), NOW, RULES)[0] is Tier.PRIVATE


def test_lead_rules() -> None:
    """GIVEN events WHEN the lead rules look THEN VIP arrivals, wealth business and wealth interest make leads."""
    assert lead_reason(LeadFacts("ticket_request", "deposit", "vip"), RULES) is LeadReason.VIP_ARRIVAL
    assert lead_reason(LeadFacts("face_match", None, "private"), RULES) is LeadReason.VIP_ARRIVAL
    assert lead_reason(LeadFacts("ticket_request", "wealth", None), RULES) is LeadReason.WEALTH_BUSINESS
    assert lead_reason(LeadFacts("ticket_request", "deposit", "gold", ["wealth_interest"]), RULES) \
        is LeadReason.WEALTH_INTEREST
    assert lead_reason(LeadFacts("ticket_request", "deposit", "standard"), RULES) is None
    assert lead_reason(LeadFacts("card_read", None, "vip"), RULES) is None


def test_lead_state_machine() -> None:
    """GIVEN lead states WHEN actions apply THEN created→accepted→met→converted; anything else refused."""
    assert next_status("created", "accept") == "accepted"
    assert next_status("accepted", "meet") == "met"
    assert next_status("met", "convert") == "converted"
    for bad in (("converted", "accept"), ("created", "convert"), ("declined", "meet")):
        with pytest.raises(Conflict) as refused:
            next_status(*bad)
        assert refused.value.code == "invalid_state"
    assert dedup_key(7, "wealth", "2026-11-28") == "7:wealth:2026-11-28"


def test_lead_interest_and_score() -> None:
    """GIVEN lead facts WHEN interest and score are worked out THEN a wealth ask is the wealth interest (a VIP's
    arrival otherwise the relationship), and points grow with tier, AUM band, interest and waiting (capped)."""
    assert lead_interest("vip_arrival", "deposit", RULES) == RELATIONSHIP
    assert lead_interest("vip_arrival", "wealth", RULES) == "wealth"
    assert lead_interest("wealth_interest", "deposit", RULES) == "wealth"
    sc = RULES.lead_scoring
    standard = lead_score(tier="standard", aum_band="0-50k", reason="wealth_business", interest="wealth", tags=[],
                          scoring=sc)
    private = lead_score(tier="private", aum_band="6m+", reason="wealth_business", interest="wealth", tags=[],
                         scoring=sc)
    arrival = lead_score(tier="private", aum_band="6m+", reason="vip_arrival", interest=RELATIONSHIP,
                         tags=["wealth_interest"], scoring=sc)
    walk_in = lead_score(tier=None, aum_band=None, reason="staff_referral", interest=RELATIONSHIP, tags=[],
                         scoring=sc)
    assert (standard, private, arrival, walk_in) == (20, 80, 70, 10)
    assert [wait_points(m, sc) for m in (0, 4.9, 5, 14, 29, 30, 600)] == [0, 0, 5, 10, 25, 30, 30]


def test_multi_frame_agreement() -> None:
    """GIVEN frame results WHEN decided THEN a majority must accept one person and none another."""
    a, b = FrameMatch(1, 0.3, 0.6, True), FrameMatch(2, 0.3, 0.6, True)
    miss = FrameMatch(1, 0.5, 0.6, False)
    assert decide([a, a, miss]).customer_id == 1
    assert decide([a, miss, miss]).customer_id is None
    assert decide([a, b, a]).customer_id is None
    assert decide([a]).customer_id == 1 and decide([None]).customer_id is None


def test_index_threshold_and_margin() -> None:
    """GIVEN two enrolled people WHEN probes come near one, between both, far away THEN accept, reject, reject."""
    m = np.zeros((3, 128), np.float32)
    m[1, 0] = 0.05
    m[2, 0] = 1.0
    idx = RecognitionIndex(m, [1, 1, 2], [10, 11, 12])
    p = np.zeros(128, np.float32)
    p[0] = 0.1
    near = idx.search(p, 0.3, 0.05)
    assert near is not None and near.accepted and near.customer_id == 1
    assert near.runner_up_distance == pytest.approx(0.9, abs=1e-5)
    p[0] = 0.5
    assert not idx.search(p, 0.6, 0.05).accepted
    p[:] = 5
    assert not idx.search(p, 0.3, 0.05).accepted


def test_import_row_validation() -> None:
    """GIVEN CSV rows WHEN parsed THEN good rows become hashes and masks; bad ones say why, without the number."""
    row = {"customer_id": "C1", "name": "王小明", "phone": "13812341234", "id_number": "11010519491231002X",
           "card_number": "6228480000000018", "tier": "vip", "aum_band": "500k-6m", "language": "zh-CN",
           "birth_date": "1949-12-31"}
    assert id_checksum_ok("11010519491231002X")
    r = parse_row(row, ["k" * 8], "k" * 8)
    assert r.masked_name == "王*明" and r.phone_masked == "138****1234" and r.id_masked == "110***********002X"
    assert {i.kind for i in r.identities} == {"phone", "id", "card"}
    assert "6228480000000018" not in repr(r) and "13812341234" not in repr(r)
    for field, value in (("phone", "12345"), ("id_number", "110105194912310021"), ("tier", "gods"),
                         ("birth_date", "1949-13-01"), ("customer_id", "")):
        with pytest.raises(RowError) as err:
            parse_row({**row, field: value}, ["k" * 8], "k" * 8)
        assert field in str(err.value) and (not value or value not in str(err.value) or field == "tier")


def test_webhook_signature_and_backoff() -> None:
    """GIVEN a body WHEN signed THEN verify accepts it and rejects a changed body; back-off doubles, capped."""
    sig = sign("secret-123", "1700000000", b'{"a":1}')
    assert verify("secret-123", "1700000000", b'{"a":1}', sig)
    assert not verify("secret-123", "1700000000", b'{"a":2}', sig)
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120] and backoff(20).total_seconds() == 3600


def test_demo_cards_agree_with_the_simulator() -> None:
    """GIVEN the demo seed and the simulator WHEN compared THEN they share the same known card numbers."""
    from device_hub.sim.flows import DEMO_CARD_NUMBERS as SIM
    from server.customers.demo import DEMO_CARD_NUMBERS

    assert SIM == DEMO_CARD_NUMBERS


def test_template_keys_come_from_a_secret_file_when_one_is_given(tmp_path) -> None:
    """GIVEN template_keys_file naming a file with a key (as an edge or the centre is given it, outside the
    repository) THEN the keyring is that key, and the development key left in template_keys is not reported;
    a file that cannot be read is a ValueError (the hub's start-up turns it into one line)."""
    import base64

    from server.customers.config import CrmConfig
    from server.customers.rules import CrmRules
    from szconfig import ServerSettings
    from szconfig.secrets import server_dev_secrets

    key = base64.b64encode(bytes(range(32))).decode()
    (tmp_path / "keys").write_text(f"prod1:{key}\n")
    settings = ServerSettings(template_keys_file=tmp_path / "keys")
    assert CrmConfig(settings, CrmRules()).keyring.current == "prod1"
    assert "SZ_TEMPLATE_KEYS" not in server_dev_secrets(settings)
    assert "SZ_TEMPLATE_KEYS" in server_dev_secrets(ServerSettings())
    with pytest.raises(ValueError):
        _ = CrmConfig(ServerSettings(template_keys_file=tmp_path / "missing"), CrmRules()).keyring
