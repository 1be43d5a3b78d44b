"""crm: the face identification log (no images, no embeddings): suggestion, the customer's confirmation or decline

Revision ID: 0012_face
Revises: 0011_crm
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = "0012_face"
down_revision: str | None = "0011_crm"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

T = server.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "face_identifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("visit_id", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("agreeing", sa.Integer(), nullable=False),
        sa.Column("at", T(), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=True),
        sa.Column("answered_at", T(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="SET NULL",
                                name=op.f("fk_face_identifications_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_identifications")),
        sa.UniqueConstraint("branch_id", "device_id", "request_id", name="uq_face_identifications_request"),
    )
    op.create_index("ix_face_identifications_branch_at", "face_identifications", ["branch_id", "at"])
    op.create_index(op.f("ix_face_identifications_customer_id"), "face_identifications", ["customer_id"])


def downgrade() -> None:
    op.drop_table("face_identifications")
