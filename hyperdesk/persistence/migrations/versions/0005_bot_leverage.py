"""bots.leverage and bots.keep_orders_on_stop: the capital rule's multiplier and the stop setting

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bots", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("leverage", sa.Numeric(6, 2), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "keep_orders_on_stop", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("bots", schema=None) as batch_op:
        batch_op.drop_column("keep_orders_on_stop")
        batch_op.drop_column("leverage")
