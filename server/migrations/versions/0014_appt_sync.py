"""appointments travel between the centre and a branch's edge: a shared uid, and what the other site has

Revision ID: 0014_appt_sync
Revises: 0012_appt
Create Date: 2026-12-06 09:00:00
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_appt_sync"
down_revision: str | None = "0012_appt"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("appointments") as t:
        t.add_column(sa.Column("uid", sa.String(36), nullable=True))
        t.add_column(sa.Column("rev", sa.Integer(), nullable=False, server_default="1"))
        t.add_column(sa.Column("synced_rev", sa.Integer(), nullable=False, server_default="0"))
    conn = op.get_bind()
    for (i,) in conn.execute(sa.text("SELECT id FROM appointments")).all():
        conn.execute(sa.text("UPDATE appointments SET uid = :u WHERE id = :i"), {"u": str(uuid.uuid4()), "i": i})
    with op.batch_alter_table("appointments") as t:
        t.alter_column("uid", existing_type=sa.String(36), nullable=False)
        t.create_unique_constraint("uq_appointments_uid", ["uid"])
    op.create_index("ix_appointments_unsynced", "appointments", ["updated_at"],
                    postgresql_where=sa.text("rev > synced_rev"), sqlite_where=sa.text("rev > synced_rev"))


def downgrade() -> None:
    op.drop_index("ix_appointments_unsynced", "appointments")
    with op.batch_alter_table("appointments") as t:
        t.drop_constraint("uq_appointments_uid", type_="unique")
        t.drop_column("synced_rev")
        t.drop_column("rev")
        t.drop_column("uid")
