"""link: the edge's uplink queue, its link state and the centre's push-downs

A branch's edge keeps each stored event in `uplink` until the centre confirms it; `link_state` says
whether its bridge to the centre is up; `link_cache` holds what the centre pushed down (leads, branch
config, staff, routing hints). Unused by `central` and `all`.

Revision ID: 0010_link
Revises: 0001
Create Date: 2026-12-06 04:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = "0010_link"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

T = server.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "uplink",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("queued_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uplink")),
        sa.UniqueConstraint("event_id", name=op.f("uq_uplink_event_id")),
        sqlite_autoincrement=True,  # never reuse a deleted row's id: the publisher's cursor has passed it
    )
    op.create_table(
        "link_state",
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("up", sa.Boolean(), nullable=False),
        sa.Column("changed_at", T(), nullable=False),
        sa.Column("confirmed_at", T(), nullable=True),
        sa.PrimaryKeyConstraint("branch_id", name=op.f("pk_link_state")),
    )
    op.create_table(
        "link_cache",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("data", server.db.JSONType, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", T(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_link_cache")),
    )
    op.create_index(op.f("ix_link_cache_branch_id"), "link_cache", ["branch_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_link_cache_branch_id"), table_name="link_cache")
    op.drop_table("link_cache")
    op.drop_table("link_state")
    op.drop_table("uplink")
