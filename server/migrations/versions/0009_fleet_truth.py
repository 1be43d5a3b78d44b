"""fleet: why a device is offline, paper rolls and the learned paper forecast, alarm error actions, work-order
service levels

Revision ID: 0009_fleet
Revises: 0005
Create Date: 2026-12-06 10:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import server.db

revision: str = "0009_fleet"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
T = server.db.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("devices") as b:
        b.add_column(sa.Column("offline_reason", sa.String(length=16), nullable=True))
        b.add_column(sa.Column("paper_low_receipts", sa.Integer(), nullable=True))
        b.add_column(sa.Column("paper_out_receipts", sa.Integer(), nullable=True))
        b.add_column(sa.Column("paper_model", JSON, nullable=True))
        b.add_column(sa.Column("paper_low_at", T(), nullable=True))
        b.add_column(sa.Column("paper_out_at", T(), nullable=True))
    with op.batch_alter_table("alarms") as b:
        b.add_column(sa.Column("action", sa.String(length=16), nullable=True))
    with op.batch_alter_table("work_orders") as b:
        b.add_column(sa.Column("severity", sa.String(length=16), nullable=True))
        b.add_column(sa.Column("due_at", T(), nullable=True))
        b.add_column(sa.Column("breached_at", T(), nullable=True))
    op.create_index("ix_work_orders_due", "work_orders", ["status", "due_at"])
    op.create_table(
        "paper_rolls",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("started_at", T(), nullable=True),
        sa.Column("ended_at", T(), nullable=False),
        sa.Column("printed", sa.Integer(), nullable=False),
        sa.Column("printed_at_low", sa.Integer(), nullable=True),
        sa.Column("printed_at_out", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_rolls")),
    )
    op.create_index("ix_paper_rolls_device", "paper_rolls", ["branch_id", "device_id", "ended_at"])


def downgrade() -> None:
    op.drop_index("ix_paper_rolls_device", table_name="paper_rolls")
    op.drop_table("paper_rolls")
    op.drop_index("ix_work_orders_due", table_name="work_orders")
    with op.batch_alter_table("work_orders") as b:
        b.drop_column("breached_at")
        b.drop_column("due_at")
        b.drop_column("severity")
    with op.batch_alter_table("alarms") as b:
        b.drop_column("action")
    with op.batch_alter_table("devices") as b:
        for c in ("paper_out_at", "paper_low_at", "paper_model", "paper_out_receipts", "paper_low_receipts",
                  "offline_reason"):
            b.drop_column(c)
