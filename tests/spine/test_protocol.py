"""The wire contract: topics and envelopes round-trip, and nothing hostile gets through."""

import contextlib
import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from wire import HUB_TOPICS, TopicError, TopicKind, decode_device_message, decode_hub_message, encode, envelope, parse
from wire.messages import (
    ALL_DEVICE_TYPES,
    HUB_TYPE_OF,
    HUB_TYPES,
    BilingualText,
    BoardBusiness,
    BoardCall,
    CardReadData,
    CardReadMessage,
    CommandData,
    ConfirmData,
    FaceConfirmData,
    FaceConfirmMessage,
    FaceConsentData,
    FaceConsentMessage,
    FaceConsentReplyData,
    FaceEnrolData,
    FaceEnrolMessage,
    FaceEnrolReplyData,
    FaceRefusal,
    FaceReplyData,
    IssuedTicket,
    PushData,
    QueueBoardData,
    QueueCallData,
    RecognisedCustomer,
    Refusal,
    Rejected,
    StaffLeadData,
    StateData,
    StateMessage,
    SurveyData,
    SurveyMessage,
    TicketReplyData,
    TicketReplyMessage,
    hub_message_adapter,
    json_schema,
)
from wire.topics import branch_topic, device_topic

ids = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,31}", fullmatch=True)
HASH = "ab" * 32


@given(branch=ids, device=ids, event=ids)
def test_device_topics_round_trip(branch: str, device: str, event: str) -> None:
    """GIVEN any valid ids WHEN a topic is built and parsed THEN the same parts come back."""
    for kind in (TopicKind.STATE, TopicKind.STATUS, TopicKind.HEARTBEAT, TopicKind.REPLY,
                 TopicKind.COMMAND, TopicKind.COMMAND_RESULT):
        t = parse(device_topic(branch, device, kind))
        assert (t.branch, t.device, t.kind) == (branch, device, kind)
    t = parse(device_topic(branch, device, TopicKind.EVENT, event))
    assert (t.branch, t.device, t.kind, t.event) == (branch, device, TopicKind.EVENT, event)
    assert parse(branch_topic(branch, TopicKind.QUEUE_BOARD)).kind is TopicKind.QUEUE_BOARD


@given(st.text(max_size=80))
def test_any_string_parses_or_raises_topic_error(topic: str) -> None:
    """GIVEN arbitrary text WHEN parsed as a topic THEN it is a Topic or a TopicError, never a crash."""
    try:
        t = parse(topic)
    except TopicError:
        return
    assert str(t) == topic


@pytest.mark.parametrize("bad", ["sz/v1/B001/dev/k1/state", "sz/v1/b001/dev/k1", "sz/v2/b001/queue/board",
                                 "sz/v1/b001/dev/k1/evt/", "sz/v1/b001/dev/k1/evt/a/b", "sz/v1/../dev/x/hb",
                                 "sz/v1/b001/dev/+/state", "sz/v1/b001/queue/nope"])
def test_bad_topics_are_named(bad: str) -> None:
    """GIVEN malformed topics THEN the error says which part is wrong."""
    with pytest.raises(TopicError):
        parse(bad)


def test_every_message_type_round_trips() -> None:
    """GIVEN a message of each kind WHEN encoded and decoded THEN it is equal to the original."""
    samples = [
        envelope(StateMessage, branch="b001", device="k1", seq=0,
                 data=StateData(online=True, session=7, model="SZ-K1", sw="1.2", components=["printer"])),
        envelope(CardReadMessage, branch="b001", device="k1", seq=1,
                 data=CardReadData(card_kind="bank", card_hash=HASH, masked="622848******1234")),
        envelope(SurveyMessage, branch="b001", device="k1", seq=2, data=SurveyData(score=5, tags=["fast"])),
        envelope(FaceEnrolMessage, branch="b001", device="k1", seq=3, data=FaceEnrolData(
            request_id="r-0e1f2a3b", card_hash=HASH, card_kind="bank", embeddings=[[0.25] * 128] * 3,
            consent_version="face-2026-11", age_confirmed=True, visit_id="v-7c2e9b1d")),
        envelope(FaceConsentMessage, branch="b001", device="k1", seq=4, data=FaceConsentData(
            request_id="r-1f2a3b4c", action="withdraw", consent_version="face-2026-11",
            customer_ref="c-c89b697062ddf063")),
        envelope(FaceConfirmMessage, branch="b001", device="k1", seq=5, data=FaceConfirmData(
            request_id="r-9d1e2f3a", confirmed=False)),
    ]
    for msg in samples:
        assert decode_device_message(encode(msg)) == msg


@pytest.mark.parametrize("data", [
    {"request_id": "r-1f2a3b4c", "action": "withdraw", "consent_version": "face-2026-11"},  # who?
    {"request_id": "r-1f2a3b4c", "action": "withdraw", "consent_version": "face-2026-11", "card_hash": "0" * 64,
     "customer_ref": "c-c89b697062ddf063"},  # two customers?
    {"request_id": "r-1f2a3b4c", "action": "pause", "consent_version": "v1", "card_hash": "0" * 64},
    {"request_id": "r-1f2a3b4c", "action": "withdraw", "consent_version": "v 1\n", "card_hash": "0" * 64},
])
def test_a_consent_change_names_exactly_one_customer_and_a_known_action(data: dict) -> None:
    with pytest.raises(ValidationError):
        decode_device_message(_raw("face_consent", data))


def test_an_enrolment_carries_embeddings_only_never_an_image() -> None:
    """GIVEN a face_enrol with an image field, or a clear card number instead of the keyed hash THEN refused."""
    base = {"request_id": "r-0e1f2a3b", "card_hash": "0" * 64, "card_kind": "bank",
            "embeddings": [[0.25] * 128] * 3, "consent_version": "face-2026-11", "age_confirmed": True}
    decode_device_message(_raw("face_enrol", base))
    for bad in ({**base, "image": "iVBORw0KGgo="}, {**base, "card_hash": "6222020000000000128"},
                {**base, "embeddings": [[0.25] * 127]}, {**base, "embeddings": []}):
        with pytest.raises(ValidationError):
            decode_device_message(_raw("face_enrol", bad))


def _raw(type_: str, data: dict, **over) -> bytes:
    body = {"v": 1, "id": str(uuid.uuid4()), "ts": datetime.now(UTC).isoformat(), "branch": "b001",
            "device": "k1", "seq": 1, "type": type_, "data": data}
    body.update(over)
    return json.dumps(body).encode()


def test_clear_card_number_is_rejected() -> None:
    """GIVEN a card read that carries the clear number THEN validation refuses it."""
    with pytest.raises(ValidationError):
        decode_device_message(_raw("card_read", {"card_kind": "bank", "card_hash": HASH,
                                                 "masked": "6228481234561234"}))
    with pytest.raises(ValidationError):
        decode_device_message(_raw("card_read", {"card_kind": "bank", "card_hash": HASH,
                                                 "masked": "622848******1234", "pan": "6228481234561234"}))


@pytest.mark.parametrize("override", [{"v": 2}, {"seq": -1}, {"ts": "yesterday"}, {"ts": "2026-11-28T10:00:00"},
                                      {"branch": "B 1"}, {"id": "not-a-uuid"}, {"extra": 1}])
def test_envelope_rules(override: dict) -> None:
    """GIVEN an envelope that breaks one rule (version, seq, aware time, ids, extras) THEN it is refused."""
    with pytest.raises(ValidationError):
        decode_device_message(_raw("survey", {"score": 3}, **override))


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                    max_leaves=20))
def test_random_json_never_crashes_validation(value) -> None:
    """GIVEN arbitrary JSON THEN decoding either validates or raises ValidationError, nothing else."""
    with contextlib.suppress(ValidationError):
        decode_device_message(json.dumps(value))


def test_json_schema_covers_every_type() -> None:
    """GIVEN the published schema THEN every message type of both directions is in it, under its own name."""
    defs = json_schema()["$defs"]
    assert set(defs["DeviceMessage"]["discriminator"]["mapping"]) == set(ALL_DEVICE_TYPES)
    assert set(defs["HubMessage"]["discriminator"]["mapping"]) == set(HUB_TYPES) == set(HUB_TOPICS)


AT = datetime(2026, 11, 30, 1, 20, tzinfo=UTC)
ISSUED = IssuedTicket(number="C012", ticket_id=812, token="q3V9xY", business="card", people_ahead=3,
                      wait_p50_min=14.5, wait_p90_min=21.2, status_url="/t/q3V9xY", routed_to="counter",
                      reason=BilingualText(zh="按业务类型：柜台", en="by business type: counter"), status="waiting")
HUB_SAMPLES = {
    "confirm": ConfirmData(ids=[uuid.uuid4()], rejected=[Rejected(id=uuid.uuid4(), reason="clock_skew")]),
    "ticket_reply": TicketReplyData(request_id="r-51f0c3a2", ticket=ISSUED),
    "face_reply": FaceReplyData(request_id="r-9d1e2f3a", result="matched", customer=RecognisedCustomer(
        customer_ref="c-c89b697062ddf063", masked_name="王*明", tier="vip", usual_business="deposit")),
    "face_enrol_reply": FaceEnrolReplyData(request_id="r-0e1f2a3b", result="enrolled", templates=3,
                                           masked_name="王*明"),
    "face_consent_reply": FaceConsentReplyData(request_id="r-1f2a3b4c", action="withdraw", result="refused",
                                               refused=FaceRefusal(code="no_customer", message=BilingualText(
                                                   zh="未找到客户", en="no customer holds this card"))),
    "command": CommandData(command_id="c-4e5f6a7b", name="out_of_service", args={"alternative_en": "Use k2"},
                           expires_at=AT),
    "queue_board": QueueBoardData(branch="b001", updated_at=AT, version=57, waiting={"card": 4},
                                  current=[BoardCall(ticket="C012", counter=3, business="card", at=AT)],
                                  businesses=[BoardBusiness(business="card", name=BilingualText(zh="开卡", en="Cards"),
                                                            prefix="C", waiting=4, wait_p50_min=18.0)]),
    "queue_call": QueueCallData(ticket="C012", counter=3, business="card", at=AT, text=BilingualText(
        zh="请 C012 号到 3 号窗口", en="Ticket C012, please go to counter 3")),
    "staff_lead": StaffLeadData(lead_id=42, status="created", reason="vip_arrival", customer_ref="c-c89b697062ddf063",
                                masked_name="王*明", tier="vip", created_at=AT, sla_due_at=AT),
    "push": PushData(kind="staff", key="lobby1", version=1, data={"username": "lobby1", "active": True}),
}


@pytest.mark.parametrize("type_", sorted(HUB_TYPES))
def test_every_hub_message_round_trips(type_: str) -> None:
    """GIVEN a message of each type the hub sends WHEN encoded and decoded as a device does THEN it is equal to
    the original, and its type is the one its data model names."""
    msg = envelope(HUB_TYPES[type_], branch="b001", device="k1", seq=1, data=HUB_SAMPLES[type_])
    assert HUB_TYPE_OF[type(HUB_SAMPLES[type_])] == type_ == msg.type
    assert decode_hub_message(encode(msg)) == msg


def test_devices_ignore_what_a_newer_hub_adds_but_the_hub_declares_all_it_sends() -> None:
    """GIVEN a ticket reply with fields this version does not know (in the envelope, the data and the ticket)
    WHEN a device decodes it THEN it reads what it knows; building a message with an undeclared field fails."""
    body = json.loads(encode(envelope(TicketReplyMessage, branch="b001", device="k1", seq=1,
                                      data=HUB_SAMPLES["ticket_reply"])))
    body["trace"] = "x"
    body["data"]["eta_at"] = "2026-11-30T01:35:00Z"
    body["data"]["ticket"]["colour"] = "blue"
    decoded = decode_hub_message(json.dumps(body))
    assert decoded.data.ticket == ISSUED
    with pytest.raises(ValidationError):
        hub_message_adapter.validate_json(json.dumps(body))  # what the hub itself would accept: no extras
    with pytest.raises(ValidationError):
        IssuedTicket(**ISSUED.model_dump(), colour="blue")


def test_replies_say_one_thing() -> None:
    """GIVEN a ticket reply THEN it holds a ticket or a refusal, never both or neither; a matched face reply
    names the customer and an unknown one does not."""
    refusal = Refusal(code="issuing_stopped", message="issuing is paused")
    assert TicketReplyData(request_id="r-51f0c3a2", refused=refusal).ticket is None
    for bad in ({}, {"ticket": ISSUED, "refused": refusal}):
        with pytest.raises(ValidationError):
            TicketReplyData(request_id="r-51f0c3a2", **bad)
    with pytest.raises(ValidationError):
        FaceReplyData(request_id="r-9d1e2f3a", result="matched")
    with pytest.raises(ValidationError):
        FaceReplyData(request_id="r-9d1e2f3a", result="unknown",
                      customer=HUB_SAMPLES["face_reply"].customer)
