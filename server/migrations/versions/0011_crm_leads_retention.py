"""crm: leads worth following (interest, score, routing, outcome, follow-up tasks), customer notes, webhook resends;
retention runs, and an audit log that lets go only of what a logged retention run has put past its cutoff

Revision ID: 0011_crm
Revises: 0004
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db

revision: str = "0011_crm"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

T = server.db.UTCDateTime

# PostgreSQL: updates and truncation stay refused; a delete only of a row older than a logged audit run's cutoff.
PG_GUARD = """
CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.at < (SELECT max(cutoff) FROM retention_runs WHERE target = 'audit') THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only (rows go only past a logged retention run''s cutoff)';
END $$;
"""
SQLITE_DELETE_GUARD = (
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "WHEN NOT EXISTS (SELECT 1 FROM retention_runs WHERE target = 'audit' AND cutoff > OLD.at) "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")


def upgrade() -> None:
    with op.batch_alter_table("referrals") as b:
        b.add_column(sa.Column("interest", sa.String(length=32), nullable=True))
        b.add_column(sa.Column("score", sa.Integer(), nullable=False, server_default="0"))
        b.add_column(sa.Column("routed", sa.String(length=16), nullable=True))
        b.add_column(sa.Column("assigned_at", T(), nullable=True))
        b.add_column(sa.Column("walk_in_reason", sa.String(length=200), nullable=True))
        b.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        b.add_column(sa.Column("outcome_note", sa.String(length=200), nullable=True))
    op.create_index("ix_referrals_assigned", "referrals", ["assigned_to", "status"])
    op.create_index("ix_referrals_customer_day", "referrals", ["customer_id", "created_at"])
    op.create_table(
        "lead_tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("due_at", T(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("assigned_to", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", T(), nullable=False),
        sa.Column("done_at", T(), nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["referrals.id"], name=op.f("fk_lead_tasks_lead_id_referrals"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_tasks")),
    )
    op.create_index("ix_lead_tasks_lead", "lead_tasks", ["lead_id", "due_at"])
    op.create_index("ix_lead_tasks_assigned_due", "lead_tasks", ["assigned_to", "done_at", "due_at"])
    op.create_table(
        "customer_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=1000), nullable=False),
        sa.Column("created_at", T(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_customer_notes_customer_id_customers"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_notes")),
    )
    op.create_index("ix_customer_notes_customer", "customer_notes", ["customer_id", "created_at"])
    with op.batch_alter_table("webhook_deliveries") as b:
        b.add_column(sa.Column("resends", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_webhook_deliveries_branch", "webhook_deliveries", ["branch_id", "id"])
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("target", sa.String(length=16), nullable=False),
        sa.Column("keep_days", sa.Integer(), nullable=False),
        sa.Column("cutoff", T(), nullable=False),
        sa.Column("started_at", T(), nullable=False),
        sa.Column("finished_at", T(), nullable=True),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
    )
    op.create_index("ix_retention_runs_target_cutoff", "retention_runs", ["target", "cutoff"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_GUARD)
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_guard()")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_guard()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute(SQLITE_DELETE_GUARD)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")
        op.execute("DROP FUNCTION IF EXISTS audit_log_guard()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
    op.drop_index("ix_retention_runs_target_cutoff", table_name="retention_runs")
    op.drop_table("retention_runs")
    op.drop_index("ix_webhook_deliveries_branch", table_name="webhook_deliveries")
    with op.batch_alter_table("webhook_deliveries") as b:
        b.drop_column("resends")
    op.drop_index("ix_customer_notes_customer", table_name="customer_notes")
    op.drop_table("customer_notes")
    op.drop_index("ix_lead_tasks_assigned_due", table_name="lead_tasks")
    op.drop_index("ix_lead_tasks_lead", table_name="lead_tasks")
    op.drop_table("lead_tasks")
    op.drop_index("ix_referrals_customer_day", table_name="referrals")
    op.drop_index("ix_referrals_assigned", table_name="referrals")
    with op.batch_alter_table("referrals") as b:
        for col in ("outcome_note", "outcome", "walk_in_reason", "assigned_at", "routed", "score", "interest"):
            b.drop_column(col)
