"""queueing: the centre's mirror of branches' tickets knows the last step it applied

At the centre, tickets of branches that run their own queue (an edge) are a mirror of the edge's, built
from the queue steps the edge sends up (`server.queueing.mirror`). Several hub workers may commit a
branch's steps out of order; `mirror_step` is the edge's id of the step whose ticket the row shows, so
an older step arriving late adds its journey row but does not roll the ticket back. Empty at an edge.

Revision ID: 0013_queue_mirror
Revises: 0006
Create Date: 2026-12-06 07:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_queue_mirror"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("queue_tickets", sa.Column("mirror_step", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queue_tickets") as batch:
        batch.drop_column("mirror_step")
