"""queueing: boards published on their own clock; journey steps indexed by branch

`queue_state.board_version` is the queue version the branch's last published board showed: the hub
renders the boards of branches whose version moved past it, at most a few times a second, instead of
one board per branch per batch. The board shows a branch's last calls (`ORDER BY id DESC LIMIT n` over
its steps): without an index on (branch_id, id) each board read scanned the steps of every branch.

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-28 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("queue_state") as b:
        b.add_column(sa.Column("board_version", sa.Integer(), server_default="0", nullable=False))
    op.create_index("ix_queue_ticket_steps_branch", "queue_ticket_steps", ["branch_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_queue_ticket_steps_branch", table_name="queue_ticket_steps")
    with op.batch_alter_table("queue_state") as b:
        b.drop_column("board_version")
