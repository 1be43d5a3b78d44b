"""What the centre pushes down besides staff: the branch config, customers' routing hints and face templates.

Centre side (`*_pushes`, called by `server.link.push.push_down`): what changed since the last push becomes
`push` outbox rows for the branch's edge. Edge side (`apply_*`): the edge writes them into the same tables the
centre has (`branches`, `customers` with `customer_identities`, `customer_consents` and `face_templates`), so
routing, check-in and recognition read the edge's own database whether the link is up or not.

- `config` (key: the branch): the branch's configuration and its hash; pushed when the hash moves. The edge
  validates it before writing it over the one from its files, and puts it back after a restart
  (`reapply_configs`), since the processes mirror their files into `branches` when they start.
- `hint` (key: the customer's ref): tier, masked name, language, the elderly flag, face consent and the keyed
  hashes of the customer's cards and IDs, for the customers whose home branch it is; versioned by the
  customer's `updated_at` (a watermark as for staff).
- `appointment` (key: the booking's uid): an appointment booked or cancelled at the centre, versioned by its
  revision there; merged into the edge's `appointments` (`server.appointments.sync`: the furthest status wins),
  where the edge's kiosks check in with or without the link.
- `template` (key: the customer's ref): the encrypted templates the customer has at this branch, all of them,
  with the consent each rests on; versioned by the branch's template generation (bumped by every enrolment,
  withdrawal and purge). An empty list deletes them at the edge, so a withdrawn template disappears there too.

The edge keeps the centre's ids for customers, consents and templates: a template's ciphertext is bound to its
customer's id and branch (`template_aad`), so it decrypts at the edge with the same keyring without ever being
decrypted on the way. This assumes the edge creates no customers, consents or templates of its own (CRM runs at
the centre: `server.ingest.handlers`); the edge's copies are a mirror the centre owns.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from server.appointments import sync
from server.branches.models import Branch
from server.branches.service import sync_branches
from server.customers.models import Consent, Customer, FaceTemplate, Identity, TemplateGeneration
from server.db import insert_for
from server.events.models import Event
from server.link.models import CachedItem
from server.link.service import store_cached
from server.outbox.service import OutboxRow, outbox_row
from szconfig.branch import BranchConfig
from wire.messages import AppointmentData, PushData

PUSHED = "pushed"  # the centre's record of what it pushed (kind of link_cache rows at the centre)
_HINT_FIELDS = ("ref", "branch_id", "masked_name", "tier", "declared_tier", "language", "elderly", "consent_face",
                "phone_last4")


def version_of(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def config_hash(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def _mark(session: Session, key: str, branch: str, data: dict[str, Any], now: datetime) -> None:
    store_cached(session, kind=PUSHED, key=key, branch=branch, data=data, version=version_of(now), now=now)


# --- centre: what to push -------------------------------------------------------------------------------


def config_pushes(session: Session, now: datetime) -> list[OutboxRow]:
    """A branch's configuration, when its hash differs from the one last pushed to that branch."""
    marks = {m.key: m.data.get("hash") for m in session.scalars(
        select(CachedItem).where(CachedItem.kind == PUSHED, CachedItem.key.like("config:%")))}
    rows = []
    for branch, config in session.execute(select(Branch.id, Branch.config).order_by(Branch.id)):
        h = config_hash(config)
        if marks.get(f"config:{branch}") == h:
            continue
        rows.append(outbox_row(branch_id=branch, now=now, data=PushData(
            kind="config", key=branch, version=version_of(now), data={"hash": h, "config": config})))
        _mark(session, f"config:{branch}", branch, {"hash": h}, now)
    return rows


def _hint(c: Customer, identities: list[dict[str, str]]) -> dict[str, Any]:
    return {"id": c.id, **{f: getattr(c, f) for f in _HINT_FIELDS}, "identities": identities}


def _identities(session: Session, ids: list[int]) -> dict[int, list[dict[str, str]]]:
    out: dict[int, list[dict[str, str]]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        for i in session.scalars(select(Identity).where(Identity.customer_id.in_(ids[start:start + 500]))
                                 .order_by(Identity.id)):
            out[i.customer_id].append({"kind": i.kind, "hash": i.hash, "masked": i.masked})
    return out


HINTS_PER_RUN = 5000  # a first run (or a mass import) goes in slices, each a short transaction


def hint_pushes(session: Session, since: tuple[datetime, int] | None, now: datetime,
                limit: int = HINTS_PER_RUN) -> tuple[list[OutboxRow], tuple[datetime, int] | None]:
    """Routing hints of customers changed after `since` (their `updated_at` and id: an import stamps many
    customers with one time), to their home branch, at most `limit`; and where the next run goes on from."""
    q = select(Customer)
    if since is not None:
        at, last_id = since
        q = q.where(or_(Customer.updated_at > at, and_(Customer.updated_at == at, Customer.id > last_id)))
    customers = list(session.scalars(q.order_by(Customer.updated_at, Customer.id).limit(limit)))
    idents = _identities(session, [c.id for c in customers])
    rows = [outbox_row(branch_id=c.branch_id, now=now, data=PushData(
        kind="hint", key=c.ref, version=version_of(c.updated_at), data=_hint(c, idents[c.id]))) for c in customers]
    return rows, ((customers[-1].updated_at, customers[-1].id) if customers else None)


def _template(t: FaceTemplate, consent: Consent) -> dict[str, Any]:
    return {"id": t.id, "key_id": t.key_id, "nonce": base64.b64encode(t.nonce).decode(),
            "ciphertext": base64.b64encode(t.ciphertext).decode(), "created_at": t.created_at.isoformat(),
            "last_used_at": t.last_used_at.isoformat(),
            "consent": {"id": consent.id, "kind": consent.kind, "granted": consent.granted,
                        "at": consent.at.isoformat(), "source": consent.source,
                        "text_version": consent.text_version, "device_id": consent.device_id}}


def template_pushes(session: Session, now: datetime) -> list[OutboxRow]:
    """For each branch whose template generation moved since the last push: every customer whose set of
    templates at that branch changed (new ones, deleted ones, or none left) gets the whole set again."""
    rows = []
    marks = {m.key: m.data.get("generation", 0) for m in session.scalars(
        select(CachedItem).where(CachedItem.kind == PUSHED, CachedItem.key.like("tplgen:%")))}
    for branch, generation in session.execute(select(TemplateGeneration.branch_id, TemplateGeneration.generation)
                                              .order_by(TemplateGeneration.branch_id)).all():
        if marks.get(f"tplgen:{branch}", -1) >= generation:
            continue
        current: dict[str, list[tuple[FaceTemplate, Consent]]] = defaultdict(list)
        people: dict[str, Customer] = {}
        for t, consent, c in session.execute(
                select(FaceTemplate, Consent, Customer).join(Consent, Consent.id == FaceTemplate.consent_id)
                .join(Customer, Customer.id == FaceTemplate.customer_id)
                .where(FaceTemplate.branch_id == branch).order_by(FaceTemplate.id)):
            current[c.ref].append((t, consent))
            people[c.ref] = c
        prefix = f"tpl:{branch}:"
        pushed = {m.key.removeprefix(prefix): m for m in session.scalars(
            select(CachedItem).where(CachedItem.kind == PUSHED, CachedItem.branch_id == branch,
                                     CachedItem.key.like(f"{prefix}%")))}
        changed = [ref for ref in sorted(current.keys() | pushed.keys())
                   if ref not in pushed or ref not in current
                   or pushed[ref].data.get("ids") != [t.id for t, _c in current[ref]]]
        idents = _identities(session, [people[r].id for r in changed if r in people])
        for ref in changed:
            templates = current.get(ref, [])
            c = people.get(ref)
            data = {"customer": _hint(c, idents[c.id]) if c else {"ref": ref},
                    "templates": [_template(t, consent) for t, consent in templates]}
            rows.append(outbox_row(branch_id=branch, now=now, data=PushData(
                kind="template", key=ref, version=generation, data=data)))
            if templates:
                _mark(session, prefix + ref, branch, {"ids": [t.id for t, _c in templates]}, now)
            else:
                session.execute(delete(CachedItem).where(CachedItem.kind == PUSHED, CachedItem.key == prefix + ref))
        _mark(session, f"tplgen:{branch}", branch, {"generation": generation}, now)
    return rows


def appointment_pushes(session: Session, now: datetime) -> list[OutboxRow]:
    """Appointments booked or cancelled at the centre since the branch's edge last had them (the edge's own
    changes came up from it and are not sent back: `server.appointments.sync`)."""
    changed = sync.unsynced(session, limit=HINTS_PER_RUN)
    rows = [outbox_row(branch_id=a.branch_id, now=now, data=PushData(
        kind="appointment", key=a.uid, version=a.rev, data=sync.state(session, a).model_dump(mode="json")))
        for a in changed]
    sync.mark_synced(session, [(a.id, a.rev) for a in changed])
    return rows


# --- edge: what to do with it --------------------------------------------------------------------------


def apply_config(session: Session, branch: str, key: str, data: dict[str, Any]) -> None:
    """Write the pushed configuration over the branch's own (if it differs); an invalid one is refused."""
    if key != branch:
        raise ValueError(f"a config for {key} pushed to {branch}")
    config = BranchConfig.model_validate(data["config"]).model_dump(mode="json")  # ValueError: kept as it was
    current = session.scalar(select(Branch.config).where(Branch.id == branch))
    if current is None or config_hash(current) != config_hash(config):
        sync_branches(session, {branch: config})


def reapply_configs(session: Session) -> int:
    """After the configured files were mirrored into `branches` at start: the centre's pushed config wins."""
    n = 0
    for item in session.scalars(select(CachedItem).where(CachedItem.kind == "config")):
        if "config" in item.data and session.get(Branch, item.branch_id) is not None:
            apply_config(session, item.branch_id, item.key, item.data)
            n += 1
    return n


def _upsert_customer(session: Session, branch: str, data: dict[str, Any], now: datetime, *,
                     overwrite: bool = True) -> Customer:
    c = session.get(Customer, data["id"])
    home = data.get("branch_id")
    if home is None or session.get(Branch, home) is None:
        home = branch  # a customer of another branch enrolled here: kept under the branch that greets them
    values = {f: data[f] for f in _HINT_FIELDS if f in data and f != "branch_id"}
    if c is None:
        stale = session.scalar(select(Customer).where(Customer.ref == data["ref"]))
        if stale is not None:  # the same person under another id (cannot happen with one centre): replace
            session.delete(stale)
            session.flush()
        c = Customer(id=data["id"], branch_id=home, created_at=now, updated_at=now, **values)
        session.add(c)
        session.flush()
    elif overwrite:
        for f, v in values.items():
            setattr(c, f, v)
        c.branch_id, c.updated_at = home, now
    if overwrite or "identities" in data:
        _replace_identities(session, c.id, data.get("identities", []))
    return c


def _replace_identities(session: Session, customer_id: int, identities: list[dict[str, str]]) -> None:
    wanted = {i["hash"]: i for i in identities}
    have = {i.hash: i for i in session.scalars(select(Identity).where(Identity.customer_id == customer_id))}
    for h in have.keys() - wanted.keys():
        session.delete(have[h])
    session.flush()
    for h in wanted.keys() - have.keys():
        other = session.scalar(select(Identity).where(Identity.hash == h))
        if other is not None:  # moved from another customer at the centre
            session.delete(other)
            session.flush()
        session.add(Identity(customer_id=customer_id, kind=wanted[h]["kind"], hash=h, masked=wanted[h]["masked"]))
    session.flush()


def apply_hint(session: Session, branch: str, key: str, data: dict[str, Any], now: datetime) -> None:
    if data.get("ref") != key:
        raise ValueError(f"a hint for {data.get('ref')} under the key {key}")
    _upsert_customer(session, branch, data, now)


def apply_template(session: Session, branch: str, key: str, data: dict[str, Any], now: datetime) -> int:
    """Make the customer's templates at this branch exactly the pushed set; returns how many changed."""
    person = data.get("customer") or {}
    if person.get("ref") != key:
        raise ValueError(f"templates for {person.get('ref')} under the key {key}")
    templates = data.get("templates", [])
    if "id" not in person:  # none left, and the centre no longer knows the person: delete by ref
        c = session.scalar(select(Customer).where(Customer.ref == key))
        if c is None:
            return 0
    else:
        c = _upsert_customer(session, branch, person, now, overwrite=session.get(Customer, person["id"]) is None)
        c.consent_face = bool(person.get("consent_face", c.consent_face))
    wanted = {int(t["id"]): t for t in templates}
    have = set(session.scalars(select(FaceTemplate.id).where(FaceTemplate.customer_id == c.id,
                                                             FaceTemplate.branch_id == branch)))
    gone = have - wanted.keys()
    if gone:
        session.execute(delete(FaceTemplate).where(FaceTemplate.id.in_(gone)))
    consented = {tid: datetime.fromisoformat(wanted[tid]["consent"]["at"]) for tid in wanted.keys() - have}
    withdrawn = _withdrawals_here(session, branch, c, min(consented.values(), default=None))
    new = sorted(tid for tid, at in consented.items() if not any(w > at for w in withdrawn))
    if len(new) < len(consented):
        c.consent_face = False  # a push that crossed a withdrawal made here must not bring the face back
    for tid in new:
        t = wanted[tid]
        consent = t["consent"]
        if session.get(Consent, consent["id"]) is None:
            session.add(Consent(id=consent["id"], customer_id=c.id, kind=consent["kind"], granted=consent["granted"],
                                at=datetime.fromisoformat(consent["at"]), source=consent["source"],
                                text_version=consent["text_version"], device_id=consent.get("device_id")))
            session.flush()
        session.add(FaceTemplate(id=tid, customer_id=c.id, branch_id=branch, key_id=t["key_id"],
                                 nonce=base64.b64decode(t["nonce"]), ciphertext=base64.b64decode(t["ciphertext"]),
                                 consent_id=consent["id"], created_at=datetime.fromisoformat(t["created_at"]),
                                 last_used_at=datetime.fromisoformat(t["last_used_at"])))
    changed = len(gone) + len(new)
    if changed:
        session.flush()
        stmt = insert_for(session, TemplateGeneration).on_conflict_do_update(
            index_elements=["branch_id"], set_={"generation": TemplateGeneration.__table__.c.generation + 1})
        session.connection().execute(stmt, [{"branch_id": branch, "generation": 1}])  # the index reloads
    return changed


def _withdrawals_here(session: Session, branch: str, c: Customer, since: datetime | None) -> list[datetime]:
    """When the customer withdrew face consent at this branch's kiosks after `since` (the oldest pushed consent): the
    edge's own event log knows before the centre's empty push arrives."""
    if since is None:
        return []
    rows = session.execute(select(Event.ts, Event.data).where(Event.branch_id == branch, Event.type == "face_consent",
                                                              Event.ts > since)).all()
    withdrawals = [(ts, d) for ts, d in rows if d.get("action") == "withdraw"]
    if not withdrawals:
        return []
    hashes = set(session.scalars(select(Identity.hash).where(Identity.customer_id == c.id)))
    return [ts for ts, d in withdrawals if d.get("customer_ref") == c.ref or d.get("card_hash") in hashes]


def apply_appointment(session: Session, branch: str, key: str, data: dict[str, Any], now: datetime) -> None:
    """A booking or cancellation made at the centre, into the edge's appointments (where its kiosks check in)."""
    d = AppointmentData.model_validate(data)  # ValidationError is a ValueError: nothing written
    if d.uid != key:
        raise ValueError(f"appointment {d.uid} under the key {key}")
    sync.merge(session, branch, d, now)


def cache_summary(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """What the edge's push cache keeps of a push: the config whole (it is put back after a restart); of
    customers only what names the item (the tables hold the rest, and a deletion leaves nothing behind)."""
    if kind == "config":
        return data
    if kind == "template":
        return {"templates": len(data.get("templates", []))}
    if kind == "hint":
        return {"tier": data.get("tier")}
    if kind == "appointment":
        return {"status": data.get("status")}
    return data
