"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "wallets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("account_address", sa.String(length=42), nullable=False),
        sa.Column("is_agent", sa.Boolean(), nullable=False),
        sa.Column("encrypted_key", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_wallets_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallets")),
        sa.UniqueConstraint("user_id", "address", name=op.f("uq_wallets_user_id_address")),
    )
    with op.batch_alter_table("wallets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wallets_account_address"), ["account_address"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_wallets_user_id"), ["user_id"], unique=False)

    op.create_table(
        "bots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("input_schema", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column(
            "capital",
            sa.Numeric(precision=38, scale=18).with_variant(sa.String(length=64), "sqlite"),
            nullable=False,
        ),
        sa.Column("restart_policy", sa.String(length=16), nullable=False),
        sa.Column("tick_seconds", sa.Numeric(precision=10, scale=3), nullable=False),
        sa.Column("desired_state", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bots_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"],
            ["wallets.id"],
            name=op.f("fk_bots_wallet_id_wallets"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bots")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_bots_user_id_name")),
    )
    with op.batch_alter_table("bots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bots_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bots_wallet_id"), ["wallet_id"], unique=False)

    op.create_table(
        "staking_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("validator", sa.String(length=42), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column(
            "amount",
            sa.Numeric(precision=38, scale=18).with_variant(sa.String(length=64), "sqlite"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_staking_actions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"],
            ["wallets.id"],
            name=op.f("fk_staking_actions_wallet_id_wallets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staking_actions")),
    )
    with op.batch_alter_table("staking_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staking_actions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_staking_actions_wallet_id"), ["wallet_id"], unique=False
        )

    op.create_table(
        "vault_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("vault_address", sa.String(length=42), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column(
            "amount",
            sa.Numeric(precision=38, scale=18).with_variant(sa.String(length=64), "sqlite"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_vault_actions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"],
            ["wallets.id"],
            name=op.f("fk_vault_actions_wallet_id_wallets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vault_actions")),
    )
    with op.batch_alter_table("vault_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vault_actions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vault_actions_wallet_id"), ["wallet_id"], unique=False)

    op.create_table(
        "bot_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("exit_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_bot_runs_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_runs")),
    )
    with op.batch_alter_table("bot_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_runs_bot_id"), ["bot_id"], unique=False)

    op.create_table(
        "bot_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("input_schema", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_bot_versions_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_versions")),
        sa.UniqueConstraint("bot_id", "version", name=op.f("uq_bot_versions_bot_id_version")),
    )
    with op.batch_alter_table("bot_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_versions_bot_id"), ["bot_id"], unique=False)

    op.create_table(
        "fills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("account_address", sa.String(length=42), nullable=False),
        sa.Column("tid", sa.BigInteger(), nullable=False),
        sa.Column("oid", sa.BigInteger(), nullable=False),
        sa.Column("cloid", sa.String(length=34), nullable=True),
        sa.Column("coin", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column(
            "price",
            sa.Numeric(precision=38, scale=18).with_variant(sa.String(length=64), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "size",
            sa.Numeric(precision=38, scale=18).with_variant(sa.String(length=64), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "fee",
            sa.Numeric(precision=38, scale=18).with_variant(sa.String(length=64), "sqlite"),
            nullable=False,
        ),
        sa.Column("fee_token", sa.String(length=16), nullable=False),
        sa.Column(
            "closed_pnl",
            sa.Numeric(precision=38, scale=18).with_variant(sa.String(length=64), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "start_position",
            sa.Numeric(precision=38, scale=18).with_variant(sa.String(length=64), "sqlite"),
            nullable=False,
        ),
        sa.Column("direction", sa.String(length=32), nullable=False),
        sa.Column("crossed", sa.Boolean(), nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_fills_bot_id_bots"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_fills_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"],
            ["wallets.id"],
            name=op.f("fk_fills_wallet_id_wallets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fills")),
        sa.UniqueConstraint("account_address", "tid", name=op.f("uq_fills_account_address_tid")),
    )
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fills_bot_id"), ["bot_id"], unique=False)
        batch_op.create_index("ix_fills_user_id_time_ms", ["user_id", "time_ms"], unique=False)
        batch_op.create_index(batch_op.f("ix_fills_wallet_id"), ["wallet_id"], unique=False)

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=True),
        sa.Column("account_address", sa.String(length=42), nullable=False),
        sa.Column("cloid", sa.String(length=34), nullable=False),
        sa.Column("oid", sa.BigInteger(), nullable=True),
        sa.Column("coin", sa.String(length=32), nullable=False),
        sa.Column("side", sa.String(length=4), nullable=False),
        sa.Column("order_type", sa.String(length=16), nullable=False),
        sa.Column("tif", sa.String(length=8), nullable=True),
        sa.Column(
            "price",
            sa.Numeric(precision=38, scale=18).with_variant(sa.String(length=64), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "size",
            sa.Numeric(precision=38, scale=18).with_variant(sa.String(length=64), "sqlite"),
            nullable=False,
        ),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column(
            "filled_size",
            sa.Numeric(precision=38, scale=18).with_variant(sa.String(length=64), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "avg_price",
            sa.Numeric(precision=38, scale=18).with_variant(sa.String(length=64), "sqlite"),
            nullable=True,
        ),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_orders_bot_id_bots"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_orders_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"],
            ["wallets.id"],
            name=op.f("fk_orders_wallet_id_wallets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("cloid", name=op.f("uq_orders_cloid")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orders_bot_id"), ["bot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_oid"), ["oid"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_wallet_id"), ["wallet_id"], unique=False)

    op.create_table(
        "bot_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_bot_events_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["bot_runs.id"],
            name=op.f("fk_bot_events_run_id_bot_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_events")),
    )
    with op.batch_alter_table("bot_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_events_bot_id"), ["bot_id"], unique=False)

    op.create_table(
        "bot_logs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_bot_logs_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["bot_runs.id"],
            name=op.f("fk_bot_logs_run_id_bot_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_logs")),
    )
    with op.batch_alter_table("bot_logs", schema=None) as batch_op:
        batch_op.create_index("ix_bot_logs_bot_id_id", ["bot_id", "id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("bot_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_bot_logs_bot_id_id")

    op.drop_table("bot_logs")
    with op.batch_alter_table("bot_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_events_bot_id"))

    op.drop_table("bot_events")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_wallet_id"))
        batch_op.drop_index(batch_op.f("ix_orders_user_id"))
        batch_op.drop_index(batch_op.f("ix_orders_oid"))
        batch_op.drop_index(batch_op.f("ix_orders_bot_id"))

    op.drop_table("orders")
    with op.batch_alter_table("fills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fills_wallet_id"))
        batch_op.drop_index("ix_fills_user_id_time_ms")
        batch_op.drop_index(batch_op.f("ix_fills_bot_id"))

    op.drop_table("fills")
    with op.batch_alter_table("bot_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_versions_bot_id"))

    op.drop_table("bot_versions")
    with op.batch_alter_table("bot_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_runs_bot_id"))

    op.drop_table("bot_runs")
    with op.batch_alter_table("vault_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vault_actions_wallet_id"))
        batch_op.drop_index(batch_op.f("ix_vault_actions_user_id"))

    op.drop_table("vault_actions")
    with op.batch_alter_table("staking_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staking_actions_wallet_id"))
        batch_op.drop_index(batch_op.f("ix_staking_actions_user_id"))

    op.drop_table("staking_actions")
    with op.batch_alter_table("bots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bots_wallet_id"))
        batch_op.drop_index(batch_op.f("ix_bots_user_id"))

    op.drop_table("bots")
    with op.batch_alter_table("wallets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallets_user_id"))
        batch_op.drop_index(batch_op.f("ix_wallets_account_address"))

    op.drop_table("wallets")
    op.drop_table("users")
