"""queueing: appointments booked for a slot and checked in at a kiosk

Revision ID: 0012_appt
Revises: 0006
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = "0012_appt"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

T = server.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("branch_id", sa.String(32), sa.ForeignKey("branches.id", name="fk_appointments_branch_id_branches"),
                  nullable=False),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("business", sa.String(32), nullable=False),
        sa.Column("slot_at", T(), nullable=False),
        sa.Column("customer_ref", sa.String(20), nullable=True),
        sa.Column("phone_last4", sa.String(4), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("updated_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_appointments"),
        sa.UniqueConstraint("branch_id", "code", name="uq_appointments_code"),
    )
    op.create_index("ix_appointments_slot", "appointments", ["branch_id", "business", "slot_at"])
    op.create_index("ix_appointments_status", "appointments", ["status", "slot_at"])
    op.create_index("ix_appointments_phone", "appointments", ["branch_id", "phone_last4"])


def downgrade() -> None:
    op.drop_table("appointments")
