"""CRM: customers, identities, consent ledger, face templates, referrals, webhook deliveries;
customer and staff ids on touchpoints and visits

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-29 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import server.db

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
T = server.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(20), nullable=False),
        sa.Column("branch_id", sa.String(32), nullable=False),
        sa.Column("masked_name", sa.String(40), nullable=False),
        sa.Column("phone_masked", sa.String(20), nullable=True),
        sa.Column("phone_last4", sa.String(4), nullable=True),
        sa.Column("id_masked", sa.String(24), nullable=True),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("declared_tier", sa.String(16), nullable=True),
        sa.Column("aum_band", sa.String(16), nullable=True),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("elderly", sa.Boolean(), nullable=False),
        sa.Column("consent_face", sa.Boolean(), nullable=False),
        sa.Column("consent_marketing", sa.Boolean(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("updated_at", T(), nullable=False),
        sa.Column("last_seen_at", T(), nullable=True),
        sa.Column("evaluated_at", T(), nullable=True),
        sa.ForeignKeyConstraint(["branch_id"], ["branches.id"], name=op.f("fk_customers_branch_id_branches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("ref", name=op.f("uq_customers_ref")),
    )
    op.create_index("ix_customers_branch_tier", "customers", ["branch_id", "tier"])
    op.create_index(op.f("ix_customers_phone_last4"), "customers", ["phone_last4"])
    op.create_table(
        "customer_identities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("masked", sa.String(24), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE",
                                name=op.f("fk_customer_identities_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_identities")),
        sa.UniqueConstraint("hash", name=op.f("uq_customer_identities_hash")),
    )
    op.create_index(op.f("ix_customer_identities_customer_id"), "customer_identities", ["customer_id"])
    op.create_table(
        "customer_consents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("at", T(), nullable=False),
        sa.Column("source", sa.String(80), nullable=False),
        sa.Column("text_version", sa.String(40), nullable=False),
        sa.Column("device_id", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE",
                                name=op.f("fk_customer_consents_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_consents")),
    )
    op.create_index("ix_customer_consents_customer", "customer_consents", ["customer_id", "at"])
    op.create_table(
        "face_templates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(20), nullable=False),
        sa.Column("nonce", sa.LargeBinary(12), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(600), nullable=False),
        sa.Column("consent_id", sa.Integer(), nullable=False),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("last_used_at", T(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE",
                                name=op.f("fk_face_templates_customer_id_customers")),
        sa.ForeignKeyConstraint(["consent_id"], ["customer_consents.id"],
                                name=op.f("fk_face_templates_consent_id_customer_consents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_templates")),
    )
    op.create_index("ix_face_templates_branch", "face_templates", ["branch_id", "id"])
    op.create_index(op.f("ix_face_templates_customer_id"), "face_templates", ["customer_id"])
    op.create_table(
        "face_template_generations",
        sa.Column("branch_id", sa.String(32), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("branch_id", name=op.f("pk_face_template_generations")),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.String(120), nullable=False),
        sa.Column("branch_id", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("visit_id", sa.String(64), nullable=True),
        sa.Column("device_id", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("business", sa.String(32), nullable=True),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("referrer", sa.String(80), nullable=False),
        sa.Column("referrer_staff_id", sa.Integer(), nullable=True),
        sa.Column("assigned_to", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("updated_at", T(), nullable=False),
        sa.Column("sla_due_at", T(), nullable=False),
        sa.Column("accepted_at", T(), nullable=True),
        sa.Column("met_at", T(), nullable=True),
        sa.Column("closed_at", T(), nullable=True),
        sa.Column("escalated_at", T(), nullable=True),
        sa.Column("escalated_to", sa.Integer(), nullable=True),
        sa.Column("product", sa.String(64), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_referrals_dedup_key")),
    )
    op.create_index("ix_referrals_branch_status", "referrals", ["branch_id", "status", "created_at"])
    op.create_index("ix_referrals_updated", "referrals", ["updated_at"])
    op.create_index(op.f("ix_referrals_customer_id"), "referrals", ["customer_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(80), nullable=False),
        sa.Column("branch_id", sa.String(32), nullable=True),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", T(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("delivered_at", T(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_webhook_deliveries_idempotency_key")),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"])
    # the spine's tables learn which known customer (and staff member) a contact belongs to
    op.add_column("touchpoints", sa.Column("customer_id", sa.Integer(), nullable=True))
    op.add_column("touchpoints", sa.Column("staff_id", sa.Integer(), nullable=True))
    op.create_index("ix_touchpoints_customer_id", "touchpoints", ["customer_id", "occurred_at"])
    op.add_column("visits", sa.Column("customer_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_visits_customer_id"), "visits", ["customer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_visits_customer_id"), table_name="visits")
    op.drop_index("ix_touchpoints_customer_id", table_name="touchpoints")
    with op.batch_alter_table("visits") as batch:
        batch.drop_column("customer_id")
    with op.batch_alter_table("touchpoints") as batch:
        batch.drop_column("staff_id")
        batch.drop_column("customer_id")
    for table in ("webhook_deliveries", "referrals", "face_template_generations", "face_templates",
                  "customer_consents", "customer_identities", "customers"):
        op.drop_table(table)
