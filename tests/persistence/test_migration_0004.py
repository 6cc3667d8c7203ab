"""Migration 0004: agent approvals get the time they were last confirmed and why they failed."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from hyperdesk.persistence.database import make_engine
from hyperdesk.persistence.migrate import alembic_config, upgrade_to_head


def test_upgrading_to_0004_dates_the_account_keys_and_leaves_agents_to_their_next_check(
    empty_database_url,
):
    engine = make_engine(empty_database_url)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, username, password_hash, token_version, created_at) "
                "VALUES (1, 'alice', 'x', 0, CURRENT_TIMESTAMP)"
            )
        )
        for wallet_id, is_agent, verified in ((1, False, True), (2, True, True), (3, True, False)):
            connection.execute(
                text(
                    "INSERT INTO wallets (id, user_id, label, address, account_address, is_agent, "
                    "verified, encrypted_key, key_id, created_at) VALUES (:id, 1, 'w', :address, "
                    "'0xaccount', :is_agent, :verified, 'blob', 'k', CURRENT_TIMESTAMP)"
                ),
                {
                    "id": wallet_id,
                    "address": f"0x{wallet_id}",
                    "is_agent": is_agent,
                    "verified": verified,
                },
            )
    upgrade_to_head(engine)
    with engine.connect() as connection:
        rows = {
            row.id: row
            for row in connection.execute(
                text(
                    "SELECT id, verified, verified_at, verification_checked_at, "
                    "verification_error FROM wallets"
                )
            )
        }
    engine.dispose()
    assert rows[1].verified_at is not None
    assert rows[2].verified_at is None
    assert rows[3].verified_at is None
    assert all(r.verification_checked_at is None for r in rows.values())
    assert all(r.verification_error is None for r in rows.values())
    assert {k: bool(r.verified) for k, r in rows.items()} == {1: True, 2: True, 3: False}
