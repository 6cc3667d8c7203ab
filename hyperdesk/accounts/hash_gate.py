"""A bound on password hashes computed at once, so logins cannot exhaust memory or threads.

Each argon2 hash or verify holds `passwords.MEMORY_COST_KIB` of memory and a worker thread for
its whole run. Without a bound, a burst of logins multiplies both by the number of requests;
with one, peak hashing memory is `slots × memory cost` and at most `slots + queue` request
threads are ever tied up in hashing. A request that cannot get a slot soon is refused with a
Retry-After instead of piling up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from hyperdesk.errors import TooManyRequests


class HashingBusy(TooManyRequests):
    """Every hashing slot is taken and the queue is full or did not move in time.

    A 503, not a 429: the server is at capacity, the caller did nothing wrong. It is a
    `TooManyRequests` so that it carries a Retry-After like every other "come back later".
    """

    status = 503

    def __init__(self) -> None:
        super().__init__(
            "The server is busy checking passwords; try again shortly.",
            retry_after=1,
            code="SERVER_BUSY",
        )


class HashGate:
    def __init__(self, *, slots: int, queue: int, wait_seconds: float) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._queue = queue
        self._wait_seconds = wait_seconds
        self._waiting = 0
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot right now."""
        return self._waiting

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one hashing slot for the block; `HashingBusy` if none comes free in time."""
        if not self._slots.acquire(blocking=False):
            self._wait_for_slot()
        try:
            yield
        finally:
            self._slots.release()

    def _wait_for_slot(self) -> None:
        with self._lock:
            if self._waiting >= self._queue:
                raise HashingBusy()
            self._waiting += 1
        try:
            acquired = self._slots.acquire(timeout=self._wait_seconds)
        finally:
            with self._lock:
                self._waiting -= 1
        if not acquired:
            raise HashingBusy()
