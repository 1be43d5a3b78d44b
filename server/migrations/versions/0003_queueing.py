"""queueing: queue state, number counters, counters, tickets and their journey steps

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import server.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
T = server.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "queue_state",
        sa.Column("branch_id", sa.String(32), sa.ForeignKey("branches.id", name="fk_queue_state_branch_id_branches"),
                  nullable=False),
        sa.Column("issuing", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("branch_id", name="pk_queue_state"),
    )
    op.create_table(
        "queue_numbers",
        sa.Column("branch_id", sa.String(32), nullable=False),
        sa.Column("prefix", sa.String(4), nullable=False),
        sa.Column("service_day", sa.String(10), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("branch_id", "prefix", name="pk_queue_numbers"),
    )
    op.create_table(
        "queue_counters",
        sa.Column("branch_id", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("staff_name", sa.String(100), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("regular_streak", sa.Integer(), nullable=False),
        sa.Column("updated_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("branch_id", "number", name="pk_queue_counters"),
    )
    op.create_table(
        "queue_tickets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("branch_id", sa.String(32),
                  sa.ForeignKey("branches.id", name="fk_queue_tickets_branch_id_branches"), nullable=False),
        sa.Column("service_day", sa.String(10), nullable=False),
        sa.Column("number", sa.String(16), nullable=True),
        sa.Column("display", sa.String(16), nullable=False),
        sa.Column("provisional_number", sa.String(16), nullable=True),
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("device_id", sa.String(32), nullable=True),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("business", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("elderly", sa.Boolean(), nullable=False),
        sa.Column("customer_ref", sa.String(64), nullable=True),
        sa.Column("visit_id", sa.String(64), nullable=True),
        sa.Column("appointment_code", sa.String(12), nullable=True),
        sa.Column("appointment_at", T(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=True),
        sa.Column("target_counter", sa.Integer(), nullable=True),
        sa.Column("issued_at", T(), nullable=False),
        sa.Column("queued_at", T(), nullable=False),
        sa.Column("called_at", T(), nullable=True),
        sa.Column("first_called_at", T(), nullable=True),
        sa.Column("finished_at", T(), nullable=True),
        sa.Column("parked_at", T(), nullable=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("call_reason", JSON, nullable=True),
        sa.Column("est_p50_min", sa.Float(), nullable=True),
        sa.Column("est_p90_min", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_queue_tickets"),
        sa.UniqueConstraint("token", name="uq_queue_tickets_token"),
        sa.UniqueConstraint("branch_id", "request_id", name="uq_queue_tickets_request"),
        sa.UniqueConstraint("branch_id", "service_day", "number", name="uq_queue_tickets_number"),
    )
    op.create_index("ix_queue_tickets_branch_status", "queue_tickets", ["branch_id", "status"])
    op.create_index("ix_queue_tickets_branch_issued", "queue_tickets", ["branch_id", "issued_at"])
    op.create_table(
        "queue_ticket_steps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(),
                  sa.ForeignKey("queue_tickets.id", name="fk_queue_ticket_steps_ticket_id_queue_tickets"),
                  nullable=False),
        sa.Column("branch_id", sa.String(32), nullable=False),
        sa.Column("at", T(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=True),
        sa.Column("business", sa.String(32), nullable=True),
        sa.Column("counter", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_queue_ticket_steps"),
    )
    op.create_index("ix_queue_ticket_steps_ticket", "queue_ticket_steps", ["ticket_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_queue_ticket_steps_ticket", table_name="queue_ticket_steps")
    op.drop_table("queue_ticket_steps")
    op.drop_index("ix_queue_tickets_branch_issued", table_name="queue_tickets")
    op.drop_index("ix_queue_tickets_branch_status", table_name="queue_tickets")
    op.drop_table("queue_tickets")
    op.drop_table("queue_counters")
    op.drop_table("queue_numbers")
    op.drop_table("queue_state")
