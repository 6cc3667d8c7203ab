from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from hyperdesk.persistence.database import make_engine
from hyperdesk.persistence.migrate import downgrade_to_base, upgrade_to_head
from hyperdesk.persistence.models import Base


def test_migrations_upgrade_an_empty_database_to_head_and_back_to_base(empty_database_url):
    engine = make_engine(empty_database_url)
    upgrade_to_head(engine)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables

    downgrade_to_base(engine)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    upgrade_to_head(engine)  # and the way back up still works after a full downgrade
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_migrated_schema_matches_the_models(empty_database_url):
    engine = make_engine(empty_database_url)
    upgrade_to_head(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_upgrading_to_0002_marks_existing_agent_wallets_for_re_verification(empty_database_url):
    from alembic import command
    from sqlalchemy import text

    from hyperdesk.persistence.migrate import alembic_config

    engine = make_engine(empty_database_url)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, username, password_hash, token_version, created_at) "
                "VALUES (1, 'alice', 'x', 0, CURRENT_TIMESTAMP)"
            )
        )
        for wallet_id, is_agent in ((1, False), (2, True)):
            connection.execute(
                text(
                    "INSERT INTO wallets (id, user_id, label, address, account_address, is_agent, "
                    "encrypted_key, key_id, created_at) VALUES (:id, 1, 'w', :address, "
                    "'0xaccount', :is_agent, 'blob', 'k', CURRENT_TIMESTAMP)"
                ),
                {"id": wallet_id, "address": f"0x{wallet_id}", "is_agent": is_agent},
            )
    upgrade_to_head(engine)
    with engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT id, verified FROM wallets")).all())
    engine.dispose()
    assert {k: bool(v) for k, v in rows.items()} == {1: True, 2: False}
