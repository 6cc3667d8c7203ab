"""wallets.verified: an agent wallet is trusted with its account's data once the exchange confirms it

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wallets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("verified", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    # Agent wallets made before this revision were never checked: start-up re-verifies them.
    op.execute(sa.text("UPDATE wallets SET verified = :no WHERE is_agent").bindparams(no=False))


def downgrade() -> None:
    with op.batch_alter_table("wallets", schema=None) as batch_op:
        batch_op.drop_column("verified")
