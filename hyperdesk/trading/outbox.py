"""Database writes owed after the exchange answered: tried now, then retried until they are stored.

Once the exchange has accepted, filled, cancelled or refused something, that answer is what the
caller must hear. Recording it is bookkeeping: if the database fails at that moment, the answer is
still returned and the write waits here, retried with backoff on one background thread until it
sticks. If the process dies first, start-up reconciliation settles the order by its cloid, so a
write lost from this in-memory queue costs a delay, never a wrong record.

Writes that need not delay the caller at all (an order's result: its row, written before the
order was sent, already makes the order findable by cloid) are handed over with ``defer``: the
outbox thread stores them in the order they were handed over, so the caller's answer does not
wait for a database round trip. A clean stop still tries every deferred write once.

A deferred statement lingers a few milliseconds (``linger``) before it is stored, with every
statement deferred meanwhile, in one transaction: its order's answer is then on its way to the
caller instead of sharing the GIL and SQLite's lock with this write, and a busy desk commits its
bookkeeping in batches (`bench/api_orders.py`: the app's CPU per request 1.35 → 1.15 ms).

Writes must be idempotent (setting a row to the exchange's answer), since a write that failed
might have failed after committing.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import Engine

from hyperdesk.persistence.direct import DirectStatement, direct_transaction

log = logging.getLogger(__name__)


#: Deferred statements stored together in one transaction, at most this many.
MAX_BATCH = 256


@dataclass(frozen=True)
class _Statement:
    """A deferred write that is one prebuilt statement: those waiting share a transaction."""

    engine: Engine
    statement: DirectStatement
    params: dict[str, Any]

    def run(self) -> None:
        _execute(self.engine, [self])


def _execute(engine: Engine, statements: list[_Statement]) -> None:
    """One transaction for all of them (committed without waiting for the disk); a run of the
    same statement is one `executemany`."""
    with direct_transaction(engine, wait_for_flush=False) as connection:
        for statement, run in groupby(statements, key=lambda item: item.statement):
            connection.run_many(statement, [item.params for item in run])


@dataclass
class _Owed:
    what: str
    write: Callable[[], object]
    attempts: int = 0
    due: float = 0.0
    statement: _Statement | None = None


class Outbox:
    def __init__(
        self,
        *,
        attempts_now: int = 3,
        pause_now: float = 0.05,
        retry_base: float = 0.5,
        retry_cap: float = 30.0,
        linger: float = 0.005,
    ) -> None:
        self._attempts_now = max(1, attempts_now)
        self._pause_now = pause_now
        self._retry_base = retry_base
        self._retry_cap = retry_cap
        self._linger = linger
        self._owed: list[_Owed] = []
        self._changed = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        #: When the outbox thread's wait ends (inf: until notified); None while it works.
        self._wakes_at: float | None = None

    def deliver(self, what: str, write: Callable[[], object]) -> bool:
        """Run `write`, retrying briefly; if it still fails, queue it. True if stored now.

        Never raises: the caller has an exchange answer to report whatever happens here.
        """
        for attempt in range(self._attempts_now):
            try:
                write()
                return True
            except Exception:
                log.warning("could not store %s (attempt %d)", what, attempt + 1, exc_info=True)
            if attempt + 1 < self._attempts_now:
                time.sleep(self._pause_now * 2**attempt)
        self._queue(_Owed(what, write, self._attempts_now, time.monotonic() + self._retry_base))
        return False

    def defer(self, what: str, write: Callable[[], object]) -> None:
        """Store `write` on the outbox thread as soon as it can, retried like a queued write.

        Never raises and never waits for the database. Deferred writes are tried in the order
        they were handed over; one that fails is retried later, so writes must not depend on
        their order (a late order result never undoes its cancel: `_STORE_RESULT` in `orders`).
        """
        self._queue(_Owed(what, write, 0, time.monotonic()))

    def defer_statement(
        self, what: str, engine: Engine, statement: DirectStatement, params: dict[str, Any]
    ) -> None:
        """`defer` for a write that is one statement (committed without waiting for the disk:
        `direct_transaction`). It lingers, then is stored in one transaction with every
        statement deferred meanwhile: under load, one commit for many orders' bookkeeping."""
        owed = _Statement(engine, statement, params)
        self._queue(_Owed(what, owed.run, 0, time.monotonic() + self._linger, owed))

    def pending(self) -> int:
        """How many writes are still owed (for status pages and tests)."""
        with self._changed:
            return len(self._owed)

    def stop(self, timeout: float = 5.0) -> None:
        """Try every write not tried yet once more, then stop retrying; what is still owed is
        left to start-up reconciliation."""
        with self._changed:
            self._stopping = True
            left = len(self._owed)
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        if left:
            log.warning(
                "%d bookkeeping writes still owed at stop; reconciliation settles them", left
            )

    def _queue(self, owed: _Owed) -> None:
        with self._changed:
            if self._stopping:
                log.warning("not retrying %s: stopping", owed.what)
                return
            self._owed.append(owed)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="bookkeeping-outbox", daemon=True
                )
                self._thread.start()
            # Woken only if it would otherwise sleep past this write's time: a write handed over
            # while the thread already waits for an earlier one (or is busy, and looks again
            # before it sleeps) costs the signer's thread no wake-up of the outbox's.
            if self._wakes_at is not None and owed.due < self._wakes_at:
                self._changed.notify_all()

    def _run(self) -> None:  # the outbox thread: only it takes items out of the queue
        while True:
            with self._changed:
                owed = self._next_due()
                while not self._stopping and (owed is None or owed.due > time.monotonic()):
                    self._wakes_at = math.inf if owed is None else owed.due
                    self._changed.wait(None if owed is None else owed.due - time.monotonic())
                    owed = self._next_due()
                self._wakes_at = None
                if self._stopping:  # deferred writes never tried yet still get their one try
                    owed = next((o for o in self._owed if o.attempts == 0), None)
                if owed is None:
                    return
                batch = self._batch_with(owed)
            if len(batch) > 1 and self._store_together(batch):
                continue
            try:
                owed.write()
            except Exception:
                owed.attempts += 1
                delay = min(self._retry_cap, self._retry_base * 2 ** (owed.attempts - 1))
                log.warning(
                    "still could not store %s (attempt %d); retrying in %.1fs",
                    owed.what,
                    owed.attempts,
                    delay,
                    exc_info=True,
                )
                with self._changed:
                    owed.due = time.monotonic() + delay
                continue
            if owed.attempts:
                log.info("stored %s after %d failed attempts", owed.what, owed.attempts)
            with self._changed:
                self._owed.remove(owed)

    def _next_due(self) -> _Owed | None:
        return min(self._owed, key=lambda o: o.due, default=None)

    def _batch_with(self, first: _Owed) -> list[_Owed]:
        """`first` and the statements for its database that were never tried, lingering or not,
        in the order they were handed over (the caller holds the lock)."""
        if first.statement is None or first.attempts:
            return [first]
        engine = first.statement.engine
        batch = [first]
        for owed in self._owed:
            if len(batch) >= MAX_BATCH:
                break
            if (
                owed is not first
                and owed.statement is not None
                and owed.statement.engine is engine
                and not owed.attempts
            ):
                batch.append(owed)
        return batch

    def _store_together(self, batch: list[_Owed]) -> bool:
        """One transaction for the whole batch; False (nothing stored) if it failed, and each
        is then tried on its own, so one write that cannot be stored holds up no other."""
        statements = [owed.statement for owed in batch if owed.statement is not None]
        try:
            _execute(statements[0].engine, statements)
        except Exception:
            log.info("a batch of %d bookkeeping writes failed; storing them one by one", len(batch))
            return False
        with self._changed:
            stored = {id(owed) for owed in batch}
            self._owed = [owed for owed in self._owed if id(owed) not in stored]
        return True
