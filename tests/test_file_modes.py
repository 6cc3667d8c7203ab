"""The data directory and the SQLite files are for the server's own user only (0700 / 0600)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hyperdesk.persistence.database import make_engine
from hyperdesk.services import Services


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The common 022 umask, under which files default to world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _companions(database: Path) -> list[Path]:
    return [database.with_name(database.name + suffix) for suffix in ("-wal", "-shm")]


@pytest.mark.usefixtures("usual_umask")
def test_a_fresh_sqlite_database_its_wal_and_shm_and_new_directories_are_private(tmp_path):
    database = tmp_path / "fresh" / "data" / "hyperdesk.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE secrets (value TEXT)"))
            connection.execute(text("INSERT INTO secrets VALUES ('a password hash')"))
        with engine.connect() as connection:  # WAL and shared memory exist while connected
            connection.execute(text("SELECT * FROM secrets")).all()
            companions = _companions(database)
            assert all(path.exists() for path in companions)
            assert {path.name: _mode(path) for path in companions} == {
                path.name: 0o600 for path in companions
            }
    finally:
        engine.dispose()
    assert _mode(database) == 0o600
    assert _mode(database.parent) == 0o700
    assert _mode(database.parent.parent) == 0o700


@pytest.mark.usefixtures("usual_umask")
def test_database_files_left_readable_by_an_older_version_are_tightened(tmp_path):
    database = tmp_path / "hyperdesk.db"
    for path in (database, *_companions(database)):
        path.touch(mode=0o644)
        path.chmod(0o644)
    make_engine(f"sqlite:///{database}").dispose()
    for path in (database, *_companions(database)):
        assert _mode(path) == 0o600, path


@pytest.mark.usefixtures("usual_umask")
def test_the_running_server_keeps_its_data_directory_and_files_private(services: Services):
    data_dir = services.settings.data_dir
    assert _mode(data_dir) == 0o700
    assert _mode(services.settings.resolved_jwt_secret_file) == 0o600
    assert _mode(services.settings.resolved_master_key_file) == 0o600
    url = make_url(services.settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        database = Path(str(url.database))
        for path in (database, *_companions(database)):
            if path.exists():
                assert _mode(path) == 0o600, path


@pytest.mark.usefixtures("usual_umask")
def test_an_existing_data_directory_is_tightened_on_start(tmp_path):
    from hyperdesk.secret_files import ensure_private_dir

    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    ensure_private_dir(data_dir)
    assert _mode(data_dir) == 0o700
