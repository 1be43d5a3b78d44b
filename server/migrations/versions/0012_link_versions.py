"""link: push-down versions are 64-bit

A push's version is a timestamp in microseconds (an account's or customer's `updated_at`) or a template
generation; microseconds since 1970 do not fit PostgreSQL's 32-bit INTEGER (SQLite's INTEGER is 64-bit, so it
needs nothing).

Revision ID: 0012_link_versions
Revises: 0010_link
Create Date: 2026-12-06 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_link_versions"
down_revision: str | None = "0010_link"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("link_cache", "version", type_=sa.BigInteger(), existing_type=sa.Integer(),
                        existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("link_cache", "version", type_=sa.Integer(), existing_type=sa.BigInteger(),
                        existing_nullable=False)
