"""SQLite's WAL copied back into the database file on a thread of its own.

By default SQLite does that copy (a checkpoint) inside whichever commit finds the log past 1000
pages: every hundred orders or so, one order's row or bookkeeping commit also writes megabytes
back into the database file, and that order pays several milliseconds. That was most of the
order path's p99 (`bench/order_path_cpu.py` harness: p99 3.65-4.93 → 2.72-2.88 ms with commits
that never checkpoint). So the app's connections never checkpoint (`make_engine(...,
background_checkpoints=True)` sets ``wal_autocheckpoint=0`` on each) and this thread runs a
PASSIVE checkpoint every `interval` seconds: it copies what no reader still needs and never
blocks a writer, and SQLite releases the GIL while it works. When the app stops, closing the last
connection checkpoints whatever is left.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

log = logging.getLogger(__name__)

#: Seconds between checkpoints: at the order path's full rate the log grows by a few MiB a second.
CHECKPOINT_INTERVAL = 1.0


class WalCheckpointer:
    def __init__(self, engine: Engine, *, interval: float = CHECKPOINT_INTERVAL) -> None:
        self._engine = engine
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoints", daemon=True)
        #: SQLite's answer to the last checkpoint: (busy, frames in the log, frames checkpointed).
        self.last: tuple[int, int, int] | None = None

    def start(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self._interval + 5)

    def checkpoint(self) -> tuple[int, int, int]:
        with self._engine.connect() as connection:
            busy, frames, copied = connection.exec_driver_sql(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).one()
        self.last = (int(busy), int(frames), int(copied))
        return self.last

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.checkpoint()
            except Exception:  # a locked or vanished file: try again next time
                log.warning("WAL checkpoint failed; trying again shortly", exc_info=True)
