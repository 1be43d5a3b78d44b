"""fleet: device timeline, usage sessions and hourly roll-ups, commands, alarms, work orders; device columns

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-29 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import server.db

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
T = server.db.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as b:
        b.add_column(sa.Column("zone", sa.String(length=32), nullable=True))
        b.add_column(sa.Column("kind", sa.String(length=16), nullable=True))
        b.add_column(sa.Column("in_service", sa.Boolean(), server_default=sa.true(), nullable=False))
        b.add_column(sa.Column("available", sa.Boolean(), server_default=sa.false(), nullable=False))
        b.add_column(sa.Column("presence_changed_at", T(), nullable=True))
        b.add_column(sa.Column("maintenance_until", T(), nullable=True))
        b.add_column(sa.Column("maintenance_reason", sa.String(length=200), nullable=True))
        b.add_column(sa.Column("receipts_since_refill", sa.Integer(), server_default="0", nullable=False))
        b.add_column(sa.Column("paper_refilled_at", T(), nullable=True))
        b.add_column(sa.Column("changed_at", T(), nullable=True))

    op.create_table(
        "device_timeline",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("at", T(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("what", sa.String(length=64), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_timeline")),
    )
    op.create_index("ix_device_timeline_device_at", "device_timeline", ["branch_id", "device_id", "at"])

    op.create_table(
        "usage_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("function", sa.String(length=32), nullable=False),
        sa.Column("started_at", T(), nullable=False),
        sa.Column("ended_at", T(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_sessions")),
        sa.UniqueConstraint("session_id", name=op.f("uq_usage_sessions_session_id")),
    )
    op.create_index("ix_usage_sessions_device_start", "usage_sessions", ["branch_id", "device_id", "started_at"])

    op.create_table(
        "device_usage_hourly",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("zone", sa.String(length=32), nullable=True),
        sa.Column("hour", T(), nullable=False),
        sa.Column("open_s", sa.Float(), nullable=False),
        sa.Column("available_s", sa.Float(), nullable=False),
        sa.Column("busy_s", sa.Float(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_usage_hourly")),
        sa.UniqueConstraint("branch_id", "device_id", "hour", name="uq_device_usage_hourly_key"),
    )

    op.create_table(
        "device_commands",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("command_id", sa.String(length=64), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("args", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("expires_at", T(), nullable=False),
        sa.Column("sent_at", T(), nullable=True),
        sa.Column("result_at", T(), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("updated_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_commands")),
        sa.UniqueConstraint("command_id", name=op.f("uq_device_commands_command_id")),
    )
    op.create_index("ix_device_commands_device", "device_commands", ["branch_id", "device_id", "status"])

    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("active_key", sa.String(length=100), nullable=True),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("onset_at", T(), nullable=False),
        sa.Column("started_at", T(), nullable=False),
        sa.Column("last_at", T(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("acked_at", T(), nullable=True),
        sa.Column("acked_by", sa.String(length=64), nullable=True),
        sa.Column("cleared_at", T(), nullable=True),
        sa.Column("cleared_by", sa.String(length=64), nullable=True),
        sa.Column("escalated_at", T(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("comments", JSON, nullable=False),
        sa.Column("updated_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
        sa.UniqueConstraint("active_key", name=op.f("uq_alarms_active_key")),
    )
    op.create_index("ix_alarms_branch_status", "alarms", ["branch_id", "status"])
    op.create_index("ix_alarms_device", "alarms", ["branch_id", "device_id", "started_at"])

    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("team", sa.String(length=16), nullable=False),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", T(), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("assigned_at", T(), nullable=True),
        sa.Column("arrived_at", T(), nullable=True),
        sa.Column("resolved_at", T(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", T(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("updated_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
    )
    op.create_index("ix_work_orders_branch_status", "work_orders", ["branch_id", "status"])
    op.create_index("ix_work_orders_device", "work_orders", ["branch_id", "device_id", "task"])


def downgrade() -> None:
    for table in ("work_orders", "alarms", "device_commands", "device_usage_hourly", "usage_sessions",
                  "device_timeline"):
        op.drop_table(table)
    with op.batch_alter_table("devices", schema=None) as b:
        for col in ("changed_at", "paper_refilled_at", "receipts_since_refill", "maintenance_reason",
                    "maintenance_until", "presence_changed_at", "available", "in_service", "kind", "zone"):
            b.drop_column(col)
