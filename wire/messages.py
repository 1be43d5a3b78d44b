"""The envelope and every message type on the wire, as pydantic models.

Every message, either way, is an envelope:
`{"v":1,"id":"<uuid>","ts":"<RFC 3339>","branch":…,"device":…,"seq":n,"type":…,"data":{…}}`.
`id` makes consumers idempotent; `seq` (per sender, per session) exposes gaps. Unknown fields are refused
when a message is built and when the hub reads a device's message, so a clear card number can never ride
along unnoticed; devices reading the hub's messages ignore fields they do not know (`decode_hub_message`).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

from wire.enums import (
    Component,
    DeviceState,
    ErrorAction,
    MediaState,
    OfflineReason,
    Outcome,
    PaperState,
    RetainBinState,
)
from wire.ids import Ident

PROTOCOL_VERSION = 1

# HMAC-SHA256 of a card or ID number with the branch key, lower-case hex.
KeyedHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
RequestId = Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
# Control characters (C0, C1, line/paragraph separators) and bidirectional overrides and isolates: a device
# has no use for them, and in a log line, a console or a CSV export they hide or reorder what staff read.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _printable(value: str) -> str:
    bad = _UNSAFE.search(value)
    if bad:
        raise ValueError(f"contains the control or bidirectional character U+{ord(bad.group()):04X} at {bad.start()}")
    return value


def Text(max_length: int) -> Any:
    """A free-text field of at most max_length characters, without control or bidi-override characters."""
    return Annotated[str, StringConstraints(max_length=max_length), AfterValidator(_printable)]


ShortText = Text(200)
Tag = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")]
# A ticket number as customers hold it: the hub's (A012) or a kiosk's provisional one (K1-007).
TicketNumber = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9-]{2,16}$")]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- device presence and status ----------------------------------------------------------

class StateData(_Data):
    """Birth (`online: true`, with what the device is), clean goodbye or last will (`online: false`)."""

    online: bool
    session: int = Field(ge=0, description="birth/death session counter (Sparkplug bdSeq)")
    reason: OfflineReason | None = Field(
        default=None, description="offline only: `shutdown` (a clean goodbye) or `lost` (the last will, set at "
                                  "connect time, published by the broker); none is read as `lost`")
    model: ShortText | None = None
    serial: ShortText | None = None
    sw: ShortText | None = Field(default=None, description="software version")
    components: list[Component] = Field(default_factory=list, max_length=16)


class StatusData(_Data):
    """A component's status changed (XFS4IoT-style)."""

    component: Component
    device: DeviceState
    paper: PaperState | None = None
    media: MediaState | None = None
    retain_bin: RetainBinState | None = None
    retain_count: int | None = Field(default=None, ge=0)
    cover_open: bool | None = None
    action: ErrorAction | None = Field(
        default=None, description="XFS4IoT error action when faulty: `clear` (branch staff) or `maintenance` "
                                  "(an engineer), `reset`, `softwareError`, `configuration`")
    detail: ShortText | None = None


class HeartbeatData(_Data):
    uptime_s: int = Field(ge=0)
    counters: dict[Ident, int] = Field(default_factory=dict, max_length=32)


# --- business events ---------------------------------------------------------------------

class VisitData(_Data):
    """A customer's stay at the device begins or ends; touchpoints carry the same visit_id."""

    visit_id: RequestId
    phase: Literal["start", "end"]
    customer_ref: KeyedHash | None = None


class TicketRequestData(_Data):
    request_id: RequestId = Field(description="the hub answers on …/reply with this id; retries reuse it")
    business: Ident
    visit_id: RequestId | None = None
    customer_ref: KeyedHash | None = None
    elderly: bool = False
    appointment_code: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{4,12}$")] | None = Field(
        default=None, description="check-in by the code the booking gave")
    phone_last4: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")] | None = Field(
        default=None, description="check-in by the booking phone's last four digits, with the card (customer_ref)")
    provisional_number: TicketNumber | None = None


class CardReadData(_Data):
    """A bank or ID card was read. Only the keyed hash and the masked form travel."""

    card_kind: Literal["bank", "id"]
    card_hash: KeyedHash
    masked: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{3,6}\*{4,12}[0-9Xx]{4}$")]
    visit_id: RequestId | None = None


class FaceProbeData(_Data):
    """Embeddings of a consenting customer's face; never an image."""

    request_id: RequestId
    embeddings: list[Annotated[list[float], Field(min_length=128, max_length=128)]] = Field(
        min_length=1, max_length=5
    )
    consent_version: ShortText
    visit_id: RequestId | None = None


FaceEmbedding = Annotated[list[float], Field(min_length=128, max_length=128)]
ConsentVersion = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.:-]+$")]


class FaceEnrolData(_Data):
    """A customer opts in at the kiosk: embeddings of a few good frames (never an image), tied to the card or ID
    they identified with in the same session, with the consent text's version and the age confirmation. The
    hub answers with a `face_enrol_reply` (enrolled, or refused with a reason and nothing stored)."""

    request_id: RequestId
    card_hash: KeyedHash = Field(description="keyed hash of the bank card or ID card read in this session")
    card_kind: Literal["bank", "id"]
    embeddings: list[FaceEmbedding] = Field(min_length=1, max_length=10,
                                            description="one per good frame; the hub wants at least 3 that agree")
    consent_version: ConsentVersion = Field(description="version of the consent text the customer read")
    age_confirmed: bool = Field(description="the customer confirmed being 14 or older (PIPL art. 31)")
    visit_id: RequestId | None = Field(default=None, description="the session (visit) the card was read in")


class FaceConsentData(_Data):
    """Grant or withdraw face-recognition consent for the customer identified in this session (by card or by a
    face match the customer confirmed). A withdrawal deletes the templates at once; the hub answers with a
    `face_consent_reply`."""

    request_id: RequestId
    action: Literal["grant", "withdraw"]
    consent_version: ConsentVersion
    card_hash: KeyedHash | None = Field(default=None, description="identified by card or ID card")
    customer_ref: Annotated[str, StringConstraints(pattern=r"^c-[0-9a-f]{16}$")] | None = Field(
        default=None, description="identified by a confirmed face match (the pseudonymous ref of the reply)")
    visit_id: RequestId | None = None

    @model_validator(mode="after")
    def _identified(self) -> FaceConsentData:
        if (self.card_hash is None) == (self.customer_ref is None):
            raise ValueError("a face_consent names the customer by exactly one of card_hash or customer_ref")
        return self


class FaceConfirmData(_Data):
    """The customer's answer to "possibly 王*明 — is this you?": only a confirmed match is shown to staff as one."""

    request_id: RequestId = Field(description="the face probe's request_id")
    confirmed: bool
    visit_id: RequestId | None = None


class UsageSessionData(_Data):
    """One use of the device, for utilisation: what, how long, how it ended."""

    session_id: RequestId
    function: Ident
    started_at: AwareDatetime
    ended_at: AwareDatetime
    outcome: Outcome
    visit_id: RequestId | None = None


class SurveyData(_Data):
    score: int = Field(ge=1, le=5, description="the stars, 1-5")
    nps: int | None = Field(default=None, ge=0, le=10, description="how likely to recommend, 0-10 (optional)")
    tags: list[Tag] = Field(default_factory=list, max_length=10)
    ticket: ShortText | None = None
    ticket_id: int | None = Field(default=None, ge=1, description="the ticket that was served")
    counter: int | None = Field(default=None, ge=1, le=999, description="the counter that served it")
    visit_id: RequestId | None = None
    customer_ref: KeyedHash | None = None


class ErrorData(_Data):
    component: Component
    code: Text(64)
    message: Text(500)


# --- a branch's queue, as its edge sends it up --------------------------------------------

class QueueTicket(_Data):
    """A ticket as the branch's edge holds it after a step (never its status page's secret token)."""

    id: int = Field(ge=1, description="the edge's ticket id; with `issued_at` it names the ticket at the centre")
    service_day: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    number: TicketNumber | None = None
    display: TicketNumber
    provisional_number: TicketNumber | None = None
    request_id: RequestId | None = None
    device_id: Ident | None = None
    source: Ident
    business: Ident
    channel: Ident
    priority: Ident
    tier: Ident
    elderly: bool = False
    reasons: list[dict[str, ShortText]] = Field(default_factory=list, max_length=16,
                                                description="why it was routed so: [{rule, zh, en}]")
    customer_ref: Annotated[str, StringConstraints(max_length=64)] | None = None
    visit_id: RequestId | None = None
    appointment_code: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{4,12}$")] | None = None
    appointment_at: AwareDatetime | None = None
    status: Ident
    counter: int | None = Field(default=None, ge=0)
    target_counter: int | None = Field(default=None, ge=0)
    issued_at: AwareDatetime
    queued_at: AwareDatetime
    called_at: AwareDatetime | None = None
    first_called_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    parked_at: AwareDatetime | None = None
    calls: int = Field(default=0, ge=0)
    call_reason: dict[str, ShortText] | None = None
    est_p50_min: float | None = None
    est_p90_min: float | None = None


class QueueStepData(_Data):
    """A step of a ticket's journey at a branch (issued, called, recalled, transferred, finished, …), sent up by
    the branch's edge (`sz/v1/{b}/up/hub/evt/queue_step`; never by a device) with the ticket as the edge held
    it when the step went up (within a quarter second of it, or on its return after a crash), so the centre's
    queue KPIs cover branches that run their own queue."""

    step: int = Field(ge=1, description="the edge's step id: a ticket's steps apply in this order")
    action: Ident
    at: AwareDatetime
    counter: int | None = Field(default=None, ge=0)
    actor: ShortText
    detail: dict[str, Any] = Field(default_factory=dict)
    ticket: QueueTicket


class AppointmentData(_Data):
    """An appointment as one site holds it after a change there. Up, from a branch's edge
    (`sz/v1/{b}/up/hub/evt/appointment`; never by a device): booked at its lobby console, checked in at its
    kiosk, cancelled, a no-show. Down, as a `push` of kind `appointment` (key: `uid`): booked or cancelled at
    the centre. Either side keeps the furthest status (booked < cancelled < no_show < checked_in), so the
    two sites agree whatever arrives twice or late."""

    uid: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
    code: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{4,12}$")]
    business: Ident
    slot_at: AwareDatetime
    status: Literal["booked", "checked_in", "no_show", "cancelled"]
    customer_ref: Annotated[str, StringConstraints(max_length=20)] | None = None
    phone_last4: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")] | None = None
    ticket_token: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        default=None, description="the checked-in ticket, as the centre's mirror of the branch's queue names it")
    created_at: AwareDatetime
    created_by: ShortText
    updated_at: AwareDatetime
    rev: int = Field(ge=1, description="the sending site's revision of it: grows with every change there")


class CommandResultData(_Data):
    command_id: RequestId
    status: Literal["ok", "refused", "failed", "expired"]
    detail: ShortText | None = None


# --- hub → device and hub → branch (docs/protocol.md, docs/queueing.md) -----------------------------
#
# Every field the hub sends is declared here and producers build these models (unknown fields are refused
# when the hub builds one). Devices decode with `decode_hub_message`, which ignores fields they do not know,
# so a newer hub may add fields without breaking older kiosks and displays.

class Rejected(_Data):
    id: uuid.UUID
    reason: Ident = Field(description="why the hub dead-lettered it (clock_skew, id_conflict, invalid_message, …)")


class ConfirmData(_Data):
    """End-to-end acknowledgement: the hub has committed these events of the device (stored now, or before,
    or dead-lettered with a reason); the device deletes them from its outbox and never sends them again."""

    ids: list[uuid.UUID] = Field(default_factory=list, max_length=10_000, description="stored")
    rejected: list[Rejected] = Field(default_factory=list, max_length=10_000,
                                     description="kept in the hub's dead letters; sending again cannot help")


class BilingualText(_Data):
    zh: Text(500)
    en: Text(500)


@lru_cache(maxsize=4096)
def bilingual(zh: str, en: str) -> BilingualText:
    """A BilingualText, made once per pair: boards and replies repeat the same names and reasons, and a frozen
    model can be shared (the hub renders hundreds of boards a second under load)."""
    return BilingualText(zh=zh, en=en)


class RefusalCode(StrEnum):
    """Why a ticket request was refused; the kiosk chooses its screen and words by the code."""

    CLOSED = "closed"  # outside the branch's issuing window (hours, holidays, last ticket time)
    ISSUING_STOPPED = "issuing_stopped"  # staff stopped issuing for today
    UNKNOWN_BUSINESS = "unknown_business"
    NOT_FOUND = "not_found"  # no such branch
    APPOINTMENT_UNKNOWN = "appointment_unknown"  # no booking with this code (or phone and card) here
    APPOINTMENT_EARLY = "appointment_early"  # before the check-in window opens
    APPOINTMENT_EXPIRED = "appointment_expired"  # after the check-in window closed, or cancelled
    APPOINTMENT_USED = "appointment_used"  # already checked in
    REFUSED = "refused"  # any other reason: the message says it


class Refusal(_Data):
    """Why the hub refused a request: `code` for the device's logic, `message` for people."""

    code: RefusalCode
    message: ShortText
    opens_at: AwareDatetime | None = Field(default=None, description="with `closed`: when issuing starts again")


class IssuedTicket(_Data):
    """A ticket as the customer holds it: one number (the hub's, or the provisional one the kiosk printed)."""

    number: TicketNumber = Field(description="what the customer holds: A012, or a provisional K1-007")
    ticket_id: int = Field(ge=1)
    token: ShortText = Field(description="for the public status page /t/<token>")
    business: Ident
    people_ahead: int = Field(ge=0)
    wait_p50_min: float | None = Field(default=None, ge=0, description="estimated wait, median, minutes")
    wait_p90_min: float | None = Field(default=None, ge=0, description="estimated wait, 90th percentile, minutes")
    status_url: Annotated[str, StringConstraints(pattern=r"^/t/[A-Za-z0-9_-]{1,64}$")] = Field(
        description="path of the public status page, /t/<token>")
    routed_to: Literal["self_service", "counter", "wealth", "vip"]
    reason: BilingualText | None = Field(default=None, description="why it was routed there")
    priority: bool = Field(default=False, description="called ahead in the branch's priority ratio")
    status: Ident = Field(description="waiting, called, … (a retried request may find it called)")
    provisional_number: TicketNumber | None = Field(default=None,
                                                    description="the kiosk's own number, if it printed one")


class TicketReplyData(_Data):
    """The answer to a ticket request, echoing its request_id: the ticket, or why there is none."""

    request_id: RequestId
    ticket: IssuedTicket | None = None
    refused: Refusal | None = None

    @model_validator(mode="after")
    def _one_of(self) -> TicketReplyData:
        if (self.ticket is None) == (self.refused is None):
            raise ValueError("a ticket reply holds either a ticket or a refusal")
        return self


class RecognisedCustomer(_Data):
    """The greeting facts of a face match: a pseudonymous ref and the masked name, never more."""

    customer_ref: ShortText = Field(description="pseudonymous (c-…), not the card's keyed hash")
    masked_name: ShortText
    tier: Ident | None = None
    usual_business: Ident | None = None


class FaceReplyData(_Data):
    """The answer to a face probe, echoing its request_id. A match is a hint for a greeting, never an
    authentication."""

    request_id: RequestId
    result: Literal["matched", "unknown"]
    customer: RecognisedCustomer | None = Field(default=None, description="only when matched")

    @model_validator(mode="after")
    def _customer_iff_matched(self) -> FaceReplyData:
        if (self.result == "matched") != (self.customer is not None):
            raise ValueError("a matched face reply names the customer; an unknown one does not")
        return self


class FaceRefusalCode(StrEnum):
    """Why the hub refused an enrolment or a consent change; nothing was stored."""

    NO_CUSTOMER = "no_customer"  # the card or ID (or ref) belongs to no customer of the bank
    TOO_FEW_EMBEDDINGS = "too_few_embeddings"  # fewer good frames than the hub needs
    MISMATCHED_EMBEDDINGS = "mismatched_embeddings"  # the frames are not of one person
    UNKNOWN_CONSENT_VERSION = "unknown_consent_version"  # not a consent text the branch shows
    WRONG_BRANCH = "wrong_branch"  # the device is not one of the branch's kiosks
    AGE_NOT_CONFIRMED = "age_not_confirmed"  # under 14: a guardian consents at the counter
    RECOGNITION_OFF = "recognition_off"  # the branch has no recognition (no privacy impact assessment)
    NOT_ENROLLED = "not_enrolled"  # a grant without a template, or nothing to withdraw


class FaceRefusal(_Data):
    code: FaceRefusalCode
    message: BilingualText


class FaceEnrolReplyData(_Data):
    """The answer to a `face_enrol`, echoing its request_id: enrolled (with how to withdraw), or refused."""

    request_id: RequestId
    result: Literal["enrolled", "refused"]
    templates: int = Field(default=0, ge=0, description="templates stored")
    masked_name: ShortText | None = Field(default=None, description="only when enrolled")
    refused: FaceRefusal | None = None

    @model_validator(mode="after")
    def _refusal_iff_refused(self) -> FaceEnrolReplyData:
        if (self.result == "refused") != (self.refused is not None):
            raise ValueError("a refused enrolment says why; an enrolled one does not")
        return self


class FaceConsentReplyData(_Data):
    """The answer to a `face_consent`, echoing its request_id."""

    request_id: RequestId
    action: Literal["grant", "withdraw"]
    result: Literal["granted", "withdrawn", "refused"]
    deleted_templates: int = Field(default=0, ge=0, description="templates deleted by this withdrawal")
    refused: FaceRefusal | None = None

    @model_validator(mode="after")
    def _refusal_iff_refused(self) -> FaceConsentReplyData:
        if (self.result == "refused") != (self.refused is not None):
            raise ValueError("a refused consent change says why; an accepted one does not")
        return self


CommandArgs = dict[Ident, ShortText | int | bool]


class CommandData(_Data):
    command_id: RequestId
    name: Ident
    args: CommandArgs = Field(default_factory=dict, max_length=16)
    expires_at: AwareDatetime = Field(description="the hub never sends it later; a device that gets it later "
                                                  "answers `expired`")


class PushData(_Data):
    """Centre → a branch's edge (`sz/v1/{b}/push`): something the edge caches and goes on with while the link is
    down. A newer `version` of the same (kind, key) replaces an older one; an older one arriving late is ignored."""

    kind: Literal["config", "staff", "hint", "template", "appointment"] = Field(
        description="branch config, a staff account of the branch, a routing hint (e.g. a customer's tier), "
                    "an enrolled face template of a consenting customer, an appointment booked or cancelled "
                    "at the centre (data: AppointmentData)")
    key: Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:@-]+$")]
    version: int = Field(ge=0, description="increases with every change of this item at the centre")
    data: dict[str, Any] = Field(default_factory=dict)


class QueueCallData(_Data):
    """`queue/call`: a ticket called (or recalled) to a counter."""

    ticket: TicketNumber
    counter: int = Field(ge=1)
    business: Ident
    recall: bool = False
    at: AwareDatetime
    text: BilingualText | None = Field(default=None, description="what the display shows and says")
    ticket_id: int | None = Field(default=None, ge=1, description="the ticket's id (a kiosk's survey names it)")


class BoardCall(_Data):
    ticket: TicketNumber
    counter: int | None = None
    business: Ident
    at: AwareDatetime


class BoardBusiness(_Data):
    business: Ident
    name: BilingualText
    prefix: ShortText
    waiting: int = Field(ge=0)
    wait_p50_min: float | None = Field(default=None, ge=0)
    wait_p90_min: float | None = Field(default=None, ge=0)


class BoardPaused(_Data):
    """A counter paused for a while (not serving): the display says so, with the reason."""

    counter: int = Field(ge=1)
    reason: Ident = Field(description="lunch, meeting, system_fault or other")
    text: BilingualText


class QueueBoardData(_Data):
    """`queue/board` (retained): the whole board of one branch."""

    branch: Ident
    updated_at: AwareDatetime
    issuing: bool = True
    current: list[BoardCall] = Field(default_factory=list, description="tickets called and not yet finished")
    calls: list[BoardCall] = Field(default_factory=list, description="the last N calls, newest first")
    waiting: dict[Ident, int] = Field(default_factory=dict, description="waiting tickets per business")
    businesses: list[BoardBusiness] = Field(default_factory=list)
    version: int = Field(default=0, ge=0, description="the branch's queue version this board shows")
    paused: list[BoardPaused] = Field(default_factory=list, description="counters paused now, with the reason")


class StaffLeadData(_Data):
    """`staff/lead`: a referral lead for the branch's staff (masked and pseudonymous only)."""

    lead_id: int = Field(ge=1)
    status: Ident
    reason: Ident = Field(description="vip_arrival, wealth_interest, wealth_business, staff_referral")
    business: Ident | None = None
    customer_ref: ShortText | None = Field(default=None, description="pseudonymous (c-…); none for an anonymous "
                                                                      "customer")
    masked_name: ShortText | None = None
    tier: Ident | None = None
    assigned_to: int | None = Field(default=None, description="the customer manager's staff id")
    visit_id: ShortText | None = None
    device_id: Ident | None = None
    created_at: AwareDatetime
    sla_due_at: AwareDatetime
    escalated: bool = Field(default=False, description="past its SLA: sent to the branch manager")
    escalated_to: int | None = None


# --- the envelope ------------------------------------------------------------------------

class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = PROTOCOL_VERSION
    id: uuid.UUID
    ts: AwareDatetime
    branch: Ident
    device: Ident
    seq: int = Field(ge=0, lt=2**63)


class StateMessage(_Envelope):
    type: Literal["state"] = "state"
    data: StateData


class StatusMessage(_Envelope):
    type: Literal["status"] = "status"
    data: StatusData


class HeartbeatMessage(_Envelope):
    type: Literal["heartbeat"] = "heartbeat"
    data: HeartbeatData


class VisitMessage(_Envelope):
    type: Literal["visit"] = "visit"
    data: VisitData


class TicketRequestMessage(_Envelope):
    type: Literal["ticket_request"] = "ticket_request"
    data: TicketRequestData


class CardReadMessage(_Envelope):
    type: Literal["card_read"] = "card_read"
    data: CardReadData


class FaceProbeMessage(_Envelope):
    type: Literal["face_probe"] = "face_probe"
    data: FaceProbeData


class FaceEnrolMessage(_Envelope):
    type: Literal["face_enrol"] = "face_enrol"
    data: FaceEnrolData


class FaceConsentMessage(_Envelope):
    type: Literal["face_consent"] = "face_consent"
    data: FaceConsentData


class FaceConfirmMessage(_Envelope):
    type: Literal["face_confirm"] = "face_confirm"
    data: FaceConfirmData


class UsageSessionMessage(_Envelope):
    type: Literal["usage_session"] = "usage_session"
    data: UsageSessionData


class SurveyMessage(_Envelope):
    type: Literal["survey"] = "survey"
    data: SurveyData


class ErrorMessage(_Envelope):
    type: Literal["error"] = "error"
    data: ErrorData


class QueueStepMessage(_Envelope):
    type: Literal["queue_step"] = "queue_step"
    data: QueueStepData


class AppointmentMessage(_Envelope):
    type: Literal["appointment"] = "appointment"
    data: AppointmentData


class CommandResultMessage(_Envelope):
    type: Literal["command_result"] = "command_result"
    data: CommandResultData


class CommandMessage(_Envelope):
    type: Literal["command"] = "command"
    data: CommandData


class ConfirmMessage(_Envelope):
    type: Literal["confirm"] = "confirm"
    data: ConfirmData


class PushMessage(_Envelope):
    type: Literal["push"] = "push"
    data: PushData


class TicketReplyMessage(_Envelope):
    type: Literal["ticket_reply"] = "ticket_reply"
    data: TicketReplyData


class FaceReplyMessage(_Envelope):
    type: Literal["face_reply"] = "face_reply"
    data: FaceReplyData


class FaceEnrolReplyMessage(_Envelope):
    type: Literal["face_enrol_reply"] = "face_enrol_reply"
    data: FaceEnrolReplyData


class FaceConsentReplyMessage(_Envelope):
    type: Literal["face_consent_reply"] = "face_consent_reply"
    data: FaceConsentReplyData


class QueueBoardMessage(_Envelope):
    type: Literal["queue_board"] = "queue_board"
    data: QueueBoardData


class QueueCallMessage(_Envelope):
    type: Literal["queue_call"] = "queue_call"
    data: QueueCallData


class StaffLeadMessage(_Envelope):
    type: Literal["staff_lead"] = "staff_lead"
    data: StaffLeadData


DeviceMessage = Annotated[
    StateMessage | StatusMessage | HeartbeatMessage | VisitMessage | TicketRequestMessage
    | CardReadMessage | FaceProbeMessage | FaceEnrolMessage | FaceConsentMessage | FaceConfirmMessage
    | UsageSessionMessage | SurveyMessage | ErrorMessage | CommandResultMessage | QueueStepMessage
    | AppointmentMessage,
    Field(discriminator="type"),
]
HubMessage = Annotated[
    ConfirmMessage | TicketReplyMessage | FaceReplyMessage | FaceEnrolReplyMessage | FaceConsentReplyMessage
    | CommandMessage | QueueBoardMessage | QueueCallMessage | StaffLeadMessage | PushMessage,
    Field(discriminator="type"),
]

# Business event types, sent on …/evt/{type}.
EVENT_TYPES: dict[str, type[_Envelope]] = {
    m.model_fields["type"].default: m
    for m in (VisitMessage, TicketRequestMessage, CardReadMessage, FaceProbeMessage, FaceEnrolMessage,
              FaceConsentMessage, FaceConfirmMessage, UsageSessionMessage, SurveyMessage, ErrorMessage)
}
ALL_DEVICE_TYPES: dict[str, type[_Envelope]] = {
    **EVENT_TYPES,
    "state": StateMessage,
    "status": StatusMessage,
    "heartbeat": HeartbeatMessage,
    "command_result": CommandResultMessage,
    "queue_step": QueueStepMessage,  # sent only by a branch's edge, up (wire.topics.EDGE_DEVICE)
    "appointment": AppointmentMessage,  # likewise
}
# What the hub sends, by message type; the topic each goes on is wire.topics.HUB_TOPICS[type].
HUB_TYPES: dict[str, type[_Envelope]] = {
    m.model_fields["type"].default: m
    for m in (ConfirmMessage, TicketReplyMessage, FaceReplyMessage, FaceEnrolReplyMessage, FaceConsentReplyMessage,
              CommandMessage, QueueBoardMessage, QueueCallMessage, StaffLeadMessage, PushMessage)
}
DeviceData = (StateData | StatusData | HeartbeatData | VisitData | TicketRequestData | CardReadData | FaceProbeData
              | FaceEnrolData | FaceConsentData | FaceConfirmData | UsageSessionData | SurveyData | ErrorData
              | CommandResultData | QueueStepData | AppointmentData)
HubData = (ConfirmData | TicketReplyData | FaceReplyData | FaceEnrolReplyData | FaceConsentReplyData | CommandData
           | QueueBoardData | QueueCallData | StaffLeadData | PushData)
# The `data` model of each message type, and the message type of each hub `data` model.
DATA_MODELS: dict[str, type[_Data]] = {t: m.model_fields["data"].annotation
                                       for t, m in (*ALL_DEVICE_TYPES.items(), *HUB_TYPES.items())}
HUB_TYPE_OF: dict[type[_Data], str] = {DATA_MODELS[t]: t for t in HUB_TYPES}

device_message_adapter: TypeAdapter[DeviceMessage] = TypeAdapter(DeviceMessage)
hub_message_adapter: TypeAdapter[HubMessage] = TypeAdapter(HubMessage)


def envelope(message_type: type[_Envelope], *, branch: str, device: str, seq: int, data: Any,
             ts: datetime | None = None, id: uuid.UUID | str | None = None) -> Any:
    """Build a message (validated), with a fresh id and the current time unless given: the one way a
    message is made; `encode` puts it on the wire."""
    return message_type(id=id or uuid.uuid4(), ts=ts or datetime.now(UTC), branch=branch,
                        device=device, seq=seq, data=data)


def encode(message: _Envelope) -> bytes:
    return message.model_dump_json(exclude_none=True).encode()


def decode_device_message(payload: bytes | str) -> Any:
    """Validate a device's message strictly (unknown fields refused); raises pydantic.ValidationError."""
    return device_message_adapter.validate_json(payload)


def decode_hub_message(payload: bytes | str) -> Any:
    """Validate a message from the hub, ignoring fields this version does not know (a newer hub may add
    some); raises pydantic.ValidationError."""
    return hub_message_adapter.validate_json(payload, extra="ignore")


def json_schema() -> dict[str, Any]:
    """JSON Schema of everything devices send and everything the hub sends (to devices, displays and staff)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "smartzone wire protocol v1",
        "oneOf": [
            {"$ref": "#/$defs/DeviceMessage"},
            {"$ref": "#/$defs/HubMessage"},
        ],
        "$defs": {
            "DeviceMessage": device_message_adapter.json_schema(ref_template="#/$defs/{model}"),
            "HubMessage": hub_message_adapter.json_schema(ref_template="#/$defs/{model}"),
        },
    }
