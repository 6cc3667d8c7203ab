"""A small thread-safe cache of facts read from the database, with exact invalidation.

The order path checks who the caller is and that the wallet is theirs on every request; reading
the database for that each time costs two round trips per order. What those reads return only
changes when this process changes it (a password change bumps the token version, a wallet is
deleted), so the writer invalidates the entry and the next request reads it afresh. Entries also
expire after ``max_age`` seconds, which bounds how long a change made by another process (a
second app instance sharing the database, an operator's SQL) can go unseen.

A read that started before an invalidation must not store what it read afterwards (it may be the
old value): ``generation()`` is taken before the read and ``put`` drops the value if any
invalidation happened since.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class FactCache(Generic[K, V]):
    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        max_age: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._max_entries = max(1, max_entries)
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._generation = 0

    def generation(self) -> int:
        """Take before reading the database for a value to ``put``."""
        with self._lock:
            return self._generation

    def get(self, key: K) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, value = entry
            if self._clock() - stored_at > self._max_age:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V, generation: int) -> None:
        """Keep ``value`` unless something was invalidated since ``generation`` was taken."""
        with self._lock:
            if generation != self._generation:
                return
            self._entries[key] = (self._clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def invalidate(self, match: Callable[[K], bool]) -> None:
        """Forget every entry whose key matches, and every read already under way."""
        with self._lock:
            self._generation += 1
            for key in [k for k in self._entries if match(k)]:
                del self._entries[key]
