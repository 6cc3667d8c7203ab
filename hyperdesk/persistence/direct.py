"""Prebuilt statements run straight on the DB-API connection: the order path's writes.

An order's row is written on the signer's thread between the request and the send, and the
outbox's bookkeeping competes with the next order for the GIL. SQLAlchemy's Core execution
spends about 0.1 ms of CPU per statement here on top of the driver's own (execution context,
result objects, events), which `bench/order_path_cpu.py` shows as 0.26 → 0.14 ms of the
row's wall time. So SQLAlchemy still writes the SQL — each `DirectStatement` is compiled by it,
once per dialect, with each parameter's type conversion taken from the compiled statement — and
only the execution is done here: parameters in the driver's form, straight to its cursor.

What is not supported is refused when the statement is first compiled, not guessed at: expanding
(``IN``) parameters, and column defaults other than a value or a Python function.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from hyperdesk.persistence.database import is_unflushed, sqlite_writer


@dataclass(frozen=True)
class _Compiled:
    sql: str
    #: parameter names in the driver's order (positional paramstyles), else None
    order: tuple[str, ...] | None
    #: bind name → the value's conversion for this dialect
    processors: dict[str, Callable[[Any], Any]]
    #: bind name → the value a statement carries itself (``.values(status="canceled")``)
    fixed: dict[str, Any]
    #: bind name → a column's Python-side default or on-update value, made per execution
    generated: dict[str, Callable[[], Any]]


class DirectStatement:
    """A Core statement, compiled once per dialect, executed with `DirectConnection.run`.

    ``column_keys``: for an INSERT, the columns its parameters give (as for ``compile``)."""

    def __init__(
        self, statement: ClauseElement, *, column_keys: Sequence[str] | None = None
    ) -> None:
        self.statement = statement
        self._column_keys = list(column_keys) if column_keys is not None else None
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            with self._lock:
                found = self._compiled.get(dialect.name) or self._compile(dialect)
                self._compiled[dialect.name] = found
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect, column_keys=self._column_keys)
        assert isinstance(compiled, SQLCompiler)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("expanding parameters are not supported by DirectStatement")
        processors: dict[str, Callable[[Any], Any]] = {}
        fixed: dict[str, Any] = {}
        for bind, name in compiled.bind_names.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
            if bind.value is not None or not bind.required:
                fixed[name] = bind.effective_value
        generated = {
            column.key: _maker(column.default)
            for column in compiled.insert_prefetch
            if column.default is not None
        }
        generated.update(
            (column.key, _maker(column.onupdate))
            for column in compiled.update_prefetch
            if column.onupdate is not None
        )
        order = (
            tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        )
        return _Compiled(compiled.string, order, processors, fixed, generated)

    def parameters(self, dialect: Dialect, values: Mapping[str, Any]) -> Any:
        """`values` as the driver takes them for this statement (a sequence or a mapping)."""
        compiled = self.compiled(dialect)
        merged = dict(compiled.fixed)
        merged.update((name, make()) for name, make in compiled.generated.items())
        merged.update(values)
        for name, process in compiled.processors.items():
            merged[name] = process(merged[name])
        if compiled.order is not None:
            return [merged[name] for name in compiled.order]
        return merged


def _maker(default: Any) -> Callable[[], Any]:
    """A column default's value, made anew for each execution as SQLAlchemy would."""
    if default.is_callable:
        return lambda: default.arg(None)
    if default.is_scalar:
        return lambda: default.arg
    raise ValueError(f"unsupported column default {default!r} for DirectStatement")


class DirectConnection:
    """A connection inside `direct_transaction`: statements go straight to the driver's cursor,
    but the engine's cursor-execute events still fire (tracing, logging and tests see these
    statements like any other), and a driver error is raised as SQLAlchemy would raise it
    (``sqlalchemy.exc.OperationalError`` …, a lost connection invalidated)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._dialect = connection.dialect

    def run(self, statement: DirectStatement, values: Mapping[str, Any]) -> Any:
        """Execute; the first column of the first row it returns (RETURNING), else None."""
        sql = statement.compiled(self._dialect).sql
        parameters = statement.parameters(self._dialect, values)
        with self._cursor(sql, parameters, many=False) as cursor:
            cursor.execute(sql, parameters)
            if cursor.description is None:
                return None
            row = cursor.fetchone()
            return None if row is None else row[0]

    def run_many(self, statement: DirectStatement, rows: Sequence[Mapping[str, Any]]) -> None:
        sql = statement.compiled(self._dialect).sql
        parameters = [statement.parameters(self._dialect, values) for values in rows]
        with self._cursor(sql, parameters, many=True) as cursor:
            cursor.executemany(sql, parameters)

    @contextmanager
    def _cursor(self, sql: str, parameters: Any, *, many: bool) -> Iterator[Any]:
        connection = self._connection
        dbapi_connection = connection.connection.driver_connection
        assert dbapi_connection is not None  # checked out for this transaction
        cursor = dbapi_connection.cursor()
        before, after = (
            connection.dispatch.before_cursor_execute,
            connection.dispatch.after_cursor_execute,
        )
        try:
            if before:
                before(connection, cursor, sql, parameters, None, many)
            yield cursor
            if after:
                after(connection, cursor, sql, parameters, None, many)
        except self._dialect.loaded_dbapi.Error as exc:
            if self._dialect.is_disconnect(exc, dbapi_connection, cursor):
                connection.invalidate(exc)
            raise DBAPIError.instance(
                sql, parameters, exc, self._dialect.loaded_dbapi.Error, dialect=self._dialect
            ) from exc
        finally:
            cursor.close()


@contextmanager
def direct_transaction(engine: Engine, *, wait_for_flush: bool) -> Iterator[DirectConnection]:
    """One transaction for `DirectStatement`s: committed on success, rolled back on any
    exception.

    ``wait_for_flush=False``: on PostgreSQL the commit returns before the WAL reaches the disk
    (still atomic; only a crash of the database server within a fraction of a second can lose
    it); SQLite commits as usual. On an engine from `make_unflushed_engine` every statement
    commits as it runs, without waiting for the disk.

    SQLite: the transaction runs on one connection kept for these writes (see `_WriterConnection`).
    """
    with sqlite_writer(engine):
        held = _WriterConnection.of(engine)
        if held is not None:
            with held.begin():
                yield DirectConnection(held)
            return
        with engine.begin() as connection:
            if (
                not wait_for_flush
                and engine.dialect.name == "postgresql"
                and not is_unflushed(engine)
            ):
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            yield DirectConnection(connection)


class _WriterConnection:
    """SQLite: the connection this process writes its direct statements on, kept checked out.

    Checking a connection out of the pool and back in (with its events and reset) cost as much
    CPU as the order row's insert itself (`bench/order_path_cpu.py`; alone, 109 → 64 µs per row).
    Every SQLite writer of this process takes its turn on `sqlite_writer`, which is held around
    every use, so the one connection is never used by two threads at once. It is replaced when
    it was invalidated or closed, closed when the engine is disposed, and passed over when it is
    already in a transaction (a direct transaction opened inside another).
    """

    _ATTRIBUTE = "_hyperdesk_direct_writer"

    @classmethod
    def of(cls, engine: Engine) -> Connection | None:
        """The kept connection, ready for a new transaction; call with the writer lock held."""
        if engine.dialect.name != "sqlite":
            return None
        held: Connection | None = getattr(engine, cls._ATTRIBUTE, None)
        if held is not None and (held.closed or held.invalidated):
            held.close()
            held = None
        if held is None:
            held = engine.connect()
            if not hasattr(engine, cls._ATTRIBUTE):
                event.listen(engine, "engine_disposed", cls._close)
            setattr(engine, cls._ATTRIBUTE, held)
        return None if held.in_transaction() else held

    @classmethod
    def _close(cls, engine: Engine) -> None:
        with sqlite_writer(engine):
            held: Connection | None = getattr(engine, cls._ATTRIBUTE, None)
            setattr(engine, cls._ATTRIBUTE, None)
            if held is not None:
                held.close()
