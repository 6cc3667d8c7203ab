"""wallets.verified_at, verification_checked_at, verification_error: agent approvals are re-checked

An approval can be revoked, replaced or expire at any time; the periodic re-check and the
exchange's refusals record when the approval was last confirmed and why it no longer is.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wallets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("verification_checked_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("verification_error", sa.Text(), nullable=True))
    # The account's own key is trusted from the moment it was added; agents get their time at
    # their next check.
    op.execute(
        sa.text("UPDATE wallets SET verified_at = created_at WHERE verified AND NOT is_agent")
    )


def downgrade() -> None:
    with op.batch_alter_table("wallets", schema=None) as batch_op:
        batch_op.drop_column("verification_error")
        batch_op.drop_column("verification_checked_at")
        batch_op.drop_column("verified_at")
