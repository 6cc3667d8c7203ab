"""fill_cursors: a per-account high-water mark that only moves past fills that are stored

Start-up backfill begins here instead of at "the newest recorded fill", so a batch that failed to
record is fetched again even after later fills were stored.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fill_cursors",
        sa.Column("account_address", sa.String(length=42), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_address", name=op.f("pk_fill_cursors")),
    )


def downgrade() -> None:
    op.drop_table("fill_cursors")
