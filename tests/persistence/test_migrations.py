from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from hyperdesk.persistence.database import make_engine
from hyperdesk.persistence.migrate import downgrade_to_base, upgrade_to_head
from hyperdesk.persistence.models import Base
from tests.fixtures.database import POSTGRES_ENV, _backends


@pytest.fixture(params=_backends())
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    base = make_url(os.environ[POSTGRES_ENV].replace("postgresql://", "postgresql+psycopg2://", 1))
    name = f"hyperdesk_empty_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
