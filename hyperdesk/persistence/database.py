"""Engine and session factory. One short transaction per operation, from an injected factory."""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.errors import ConfigurationError
from hyperdesk.secret_files import PRIVATE_FILE_MODE, make_private_dirs, restrict_mode

#: A pooled connection unused for longer than this is pinged before it is handed out again.
IDLE_PING_SECONDS = 10.0


def make_engine(
    url: str,
    *,
    idle_ping_seconds: float = IDLE_PING_SECONDS,
    background_checkpoints: bool = False,
) -> Engine:
    """The engine for ``url``. A connection is checked before use only if it sat idle for
    ``idle_ping_seconds``: a server restart or a dropped idle connection is still caught before a
    request uses it, while a busy server pays no extra round trip per session (SQLAlchemy's
    ``pool_pre_ping`` would ping on every checkout).

    ``background_checkpoints`` (SQLite): commits never copy the WAL back into the database file;
    a `WalCheckpointer` must then do it (the app's runtime starts one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if (
            parsed.database
            and parsed.database != ":memory:"
            and not parsed.database.startswith("file:")
        ):
            prepare_private_sqlite_file(Path(parsed.database))
        # A local file has no connection to lose: no ping at all.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        if background_checkpoints:
            event.listen(engine, "connect", _no_checkpoint_on_commit)
        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20)
    _ping_when_idle(engine, idle_ping_seconds)
    return engine


#: Engines made by `make_unflushed_engine` for PostgreSQL: their sessions never wait for the flush.
_UNFLUSHED: weakref.WeakSet[Engine] = weakref.WeakSet()


def make_unflushed_engine(
    engine: Engine, *, idle_ping_seconds: float = IDLE_PING_SECONDS
) -> Engine:
    """The engine for writes whose commit need not wait for the disk, because reconciliation
    rebuilds them from the exchange by cloid if a crash of the database server loses them: the
    order row unless `order_row_flush`, and the outbox's bookkeeping.

    PostgreSQL: a second, small pool of autocommit connections with `synchronous_commit` off for
    the whole session, so such a write is one round trip (the statement, committed as it runs)
    where a transaction on the main pool takes four (BEGIN, SET LOCAL, the statement, COMMIT).
    SQLite: the engine itself (its WAL commit never waits for the disk here).
    """
    if engine.dialect.name != "postgresql":
        return engine
    unflushed = create_engine(
        engine.url,
        isolation_level="AUTOCOMMIT",
        pool_size=4,
        max_overflow=8,
        connect_args={"options": "-c synchronous_commit=off"},
    )
    _ping_when_idle(unflushed, idle_ping_seconds)
    _UNFLUSHED.add(unflushed)
    return unflushed


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a connection at checkout only when it was idle long enough to have been dropped.

    A failed ping raises ``DisconnectionError``: the pool discards the connection and checks out
    another (SQLAlchemy retries a checkout three times), so the caller never sees the dead one.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except Exception as exc:
            raise DisconnectionError("idle connection is gone") from exc


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


def _no_checkpoint_on_commit(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception. On SQLite it takes
    its turn with the other writers (`sqlite_writer`)."""
    with sqlite_writer(factory.kw["bind"]), factory() as session, session.begin():
        yield session


def is_unflushed(engine: Engine) -> bool:
    """True for an engine from `make_unflushed_engine` on PostgreSQL (its commits never wait)."""
    return engine in _UNFLUSHED


_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_WRITER_LOCKS_GUARD = threading.Lock()


def sqlite_writer(engine: Engine) -> AbstractContextManager[object]:
    """SQLite has one writer at a time, and a writer that finds the file locked sleeps in
    SQLite's busy handler (1, 2, 5, 10 ms …) before it looks again. This process's writers — the
    order row, the outbox, recorded fills, every `transaction` — take turns on this lock instead,
    so the one waiting starts the moment the other commits (`bench/order_path_cpu.py`: the order
    row's wall time 0.69-0.74 → 0.46 ms; right after a market order, whose fills the stream is
    recording, 1.07 → 0.45 ms together with cheaper fill writes). Reentrant: a writer may open
    another transaction inside its own, as SQLite would let it (and fail)."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _WRITER_LOCKS_GUARD:
        lock = _WRITER_LOCKS.get(engine)
        if lock is None:
            lock = _WRITER_LOCKS[engine] = threading.RLock()
    return lock
