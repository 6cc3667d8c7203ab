"""Real database failures on chosen statements, for tests of what survives them.

A `before_cursor_execute` listener raises the driver's own `OperationalError` (what a lost
connection or a locked SQLite file raises) for matching statements; SQLAlchemy wraps it exactly
as it wraps a real one and the transaction is rolled back. Nothing of ours is mocked.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event


class DatabaseFault:
    """Fail `verb` statements on `table` (optionally only rows matching `when`) until healed or
    `times` failures have happened; `failures` counts them."""

    def __init__(
        self,
        engine: Engine,
        verb: str,
        table: str,
        *,
        times: int | None = None,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        prefix = "INSERT INTO" if verb.upper() == "INSERT" else verb.upper()
        self._pattern = re.compile(rf'^\s*{prefix}\s+"?{re.escape(table)}"?[\s(]', re.IGNORECASE)
        self._engine = engine
        self._times = times
        self._when = when
        self._lock = threading.Lock()
        self.failures = 0
        self._installed = False

    def __enter__(self) -> DatabaseFault:
        event.listen(self._engine, "before_cursor_execute", self._hook)
        self._installed = True
        return self

    def __exit__(self, *_exc: object) -> None:
        self.heal()

    def heal(self) -> None:
        if self._installed:
            event.remove(self._engine, "before_cursor_execute", self._hook)
            self._installed = False

    def _hook(
        self,
        conn: Any,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        context: Any,
        _executemany: bool,
    ) -> None:
        if not self._pattern.match(statement):
            return
        rows = list(getattr(context, "compiled_parameters", None) or [{}])
        if self._when is not None and not any(self._when(row) for row in rows):
            return
        with self._lock:
            if self._times is not None and self.failures >= self._times:
                return
            self.failures += 1
        raise conn.dialect.loaded_dbapi.OperationalError("injected fault: database is locked")
