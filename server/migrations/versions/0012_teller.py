"""queueing: tellers signed in at counters, counters paused with a reason

`queue_counters.teller_id` is the teller signed in at a counter; a unique constraint keeps one teller at
one counter at a time (NULLs do not clash). A paused counter is not open and carries its reason;
`queue_counter_pauses` keeps every pause (reason, who, from, until).

Revision ID: 0012_teller
Revises: 0006
Create Date: 2026-12-06 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from server.db import UTCDateTime

revision: str = "0012_teller"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("queue_counters") as b:
        b.add_column(sa.Column("teller_id", sa.Integer(), nullable=True))
        b.add_column(sa.Column("teller_name", sa.String(100), nullable=True))
        b.add_column(sa.Column("signed_in_at", UTCDateTime(), nullable=True))
        b.add_column(sa.Column("pause_reason", sa.String(16), nullable=True))
        b.add_column(sa.Column("pause_note", sa.String(100), nullable=True))
        b.add_column(sa.Column("paused_at", UTCDateTime(), nullable=True))
        b.create_unique_constraint("uq_queue_counters_teller", ["teller_id"])
    op.create_table(
        "queue_counter_pauses",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("branch_id", sa.String(32), nullable=False),
        sa.Column("counter", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("note", sa.String(100), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("paused_by", sa.String(64), nullable=False),
        sa.Column("resumed_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_queue_counter_pauses_branch", "queue_counter_pauses", ["branch_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_queue_counter_pauses_branch", table_name="queue_counter_pauses")
    op.drop_table("queue_counter_pauses")
    with op.batch_alter_table("queue_counters") as b:
        b.drop_constraint("uq_queue_counters_teller", type_="unique")
        for c in ("paused_at", "pause_note", "pause_reason", "signed_in_at", "teller_name", "teller_id"):
            b.drop_column(c)
