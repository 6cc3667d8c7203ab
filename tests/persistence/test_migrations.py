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
