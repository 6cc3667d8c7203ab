"""Engine and session factory. One short transaction per operation, from an injected factory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.errors import ConfigurationError
from hyperdesk.secret_files import PRIVATE_FILE_MODE, make_private_dirs, restrict_mode


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if (
            parsed.database
            and parsed.database != ":memory:"
            and not parsed.database.startswith("file:")
        ):
            prepare_private_sqlite_file(Path(parsed.database))
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def prepare_private_sqlite_file(path: Path) -> None:
    """Make sure the SQLite database — password hashes, trades, wrapped wallet keys — can be read
    by its owner only, before SQLite opens it.

    SQLite would create the file with the umask's mode (0644 usually). Created here with 0600
    first, SQLite gives its `-wal` and `-shm` companions the same mode as the database file;
    files left readable by an older version are tightened (when this user owns them).
    """
    make_private_dirs(path.parent)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    for companion in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        restrict_mode(companion, PRIVATE_FILE_MODE)


def url_with_password(url: str, password: str) -> str:
    """`url` with `password` set, escaped as a URL needs; for the password read from a file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        raise ConfigurationError(
            "a database password file is set but the database is SQLite; set "
            "HYPERDESK_DATABASE_URL to the PostgreSQL server (without the password)"
        )
    if parsed.password is not None:
        raise ConfigurationError(
            "the database URL already holds a password and a database password file is set; "
            "remove the password from HYPERDESK_DATABASE_URL"
        )
    return parsed.set(password=password).render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the actor threads read while one writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception."""
    with factory() as session, session.begin():
        yield session
