"""Customers (pseudonymous, masked), their identities (keyed hashes), consent ledger and face templates."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, JSONType, UTCDateTime


class ConsentKind(StrEnum):
    FACE = "face"            # face recognition (separate, explicit)
    MARKETING = "marketing"  # product offers and referrals
    DATA = "data"            # processing for service (the account relationship)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_branch_tier", "branch_id", "tier"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(20), unique=True)  # pseudonymous: c-<16 hex of a keyed hash>
    branch_id: Mapped[str] = mapped_column(String(32), ForeignKey("branches.id"))  # home branch (scope)
    masked_name: Mapped[str] = mapped_column(String(40))
    phone_masked: Mapped[str | None] = mapped_column(String(20))
    phone_last4: Mapped[str | None] = mapped_column(String(4), index=True)
    id_masked: Mapped[str | None] = mapped_column(String(24))
    tier: Mapped[str] = mapped_column(String(16), default="standard")
    declared_tier: Mapped[str | None] = mapped_column(String(16))  # from the import; a floor for rules
    aum_band: Mapped[str | None] = mapped_column(String(16))
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    birth_date: Mapped[date | None] = mapped_column(Date)
    elderly: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_face: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_marketing: Mapped[bool] = mapped_column(Boolean, default=False)
    manager_id: Mapped[int | None] = mapped_column(Integer)  # the customer's own customer manager (staff id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Identity(Base):
    """A keyed hash of a card, ID or phone number that belongs to a customer; never the number itself."""

    __tablename__ = "customer_identities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(Integer, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # card | id | phone
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    masked: Mapped[str] = mapped_column(String(24))


class Consent(Base):
    """The consent ledger: every grant and withdrawal, never overwritten."""

    __tablename__ = "customer_consents"
    __table_args__ = (Index("ix_customer_consents_customer", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(Integer, ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(80))  # staff:7 | device:b001/k1 | import
    text_version: Mapped[str] = mapped_column(String(40))
    device_id: Mapped[str | None] = mapped_column(String(32))


class FaceTemplate(Base):
    """One enrolled embedding, AES-256-GCM encrypted; the associated data binds it to customer and branch."""

    __tablename__ = "face_templates"
    __table_args__ = (Index("ix_face_templates_branch", "branch_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(Integer, ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(20))
    nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary(600))
    consent_id: Mapped[int] = mapped_column(Integer, ForeignKey("customer_consents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TemplateGeneration(Base):
    """Bumped whenever a branch's templates change, so every process reloads its in-memory index."""

    __tablename__ = "face_template_generations"

    branch_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)


def template_aad(customer_id: int, branch_id: str) -> str:
    return f"face-template:{branch_id}:{customer_id}"


class FaceIdentification(Base):
    """The identification log: one row per face probe, never an image or an embedding. A match is a suggestion
    until the customer confirms it on the kiosk (`answer`); a declined one is not shown to staff as a match."""

    __tablename__ = "face_identifications"
    __table_args__ = (UniqueConstraint("branch_id", "device_id", "request_id", name="uq_face_identifications_request"),
                      Index("ix_face_identifications_branch_at", "branch_id", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    branch_id: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str] = mapped_column(String(64))
    visit_id: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("customers.id", ondelete="SET NULL"),
                                                    index=True)
    result: Mapped[str] = mapped_column(String(16))  # matched | unknown | off (the branch has no recognition)
    frames: Mapped[int] = mapped_column(Integer)
    agreeing: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(String(16))  # confirmed | declined (by the customer, on the kiosk)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)




class CustomerNote(Base):
    """A manager's note about a customer: customer data (read only by the branch's staff, every read audited);
    numbers are masked before the note is stored."""

    __tablename__ = "customer_notes"
    __table_args__ = (Index("ix_customer_notes_customer", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(Integer, ForeignKey("customers.id", ondelete="CASCADE"))
    branch_id: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[int] = mapped_column(Integer)  # staff id
    body: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
