"""A short-lived answer cache where one upstream read serves everyone who asks meanwhile.

Public market data costs exchange weight out of one budget shared by the whole desk, and anyone
can ask for it. So every answer is kept for a few seconds (``ttl``), concurrent askers of a
missing key wait for the one read already under way instead of starting their own, and an
expired answer is still served (for up to ``stale_for`` seconds) while one caller refreshes it,
or when the refresh is shed for lack of budget. Refusals that will not change soon (an unknown
vault, say) are kept like answers, so asking again for nonsense costs nothing either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from hyperdesk.errors import DomainError
from hyperdesk.exchange.errors import ExchangeRejected, RateLimited, TransientExchangeError

T = TypeVar("T")

DEFAULT_MAX_ENTRIES = 1024
#: Refusals worth remembering: the exchange understood and said no, or the desk itself did.
_LASTING_REFUSALS = (ExchangeRejected, DomainError)


@dataclass
class _Entry:
    value: Any
    error: BaseException | None
    fresh_until: float
    stale_until: float

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


class SingleFlightCache(Generic[T]):
    """Thread-safe; holds at most ``max_entries`` keys (the oldest go first)."""

    def __init__(
        self,
        *,
        follower_wait: float,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._follower_wait = follower_wait
        self._max_entries = max(1, max_entries)
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, _Entry] = {}
        self._flights: dict[Hashable, _Flight] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(
        self, key: Hashable, fetch: Callable[[], T], *, ttl: float, stale_for: float = 0.0
    ) -> T:
        """The answer for ``key``: cached, awaited from the read under way, or fetched now."""
        with self._lock:
            now = self._clock()
            entry = self._entries.get(key)
            if entry is not None and now < entry.fresh_until:
                return entry.result()
            flight = self._flights.get(key)
            leading = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
            elif entry is not None and entry.error is None and now < entry.stale_until:
                return entry.value  # someone is refreshing it; the last answer will do
        if leading:
            return self._lead(key, flight, entry, fetch, ttl, stale_for)
        return self._follow(flight)

    def _lead(
        self,
        key: Hashable,
        flight: _Flight,
        entry: _Entry | None,
        fetch: Callable[[], T],
        ttl: float,
        stale_for: float,
    ) -> T:
        """Fetch for everyone waiting on ``flight``; whatever happens, they are released."""
        try:
            value = fetch()
        except _LASTING_REFUSALS as exc:
            self._finish(key, flight, _Entry(None, exc, *self._times(ttl, 0.0)))
            raise
        except TransientExchangeError as exc:  # shed for budget, slow or unreachable exchange
            if entry is not None and entry.error is None and self._clock() < entry.stale_until:
                self._finish(key, flight, None, value=entry.value)
                return entry.value  # the last answer is more use than an error
            self._finish(key, flight, None, error=exc)
            raise
        except BaseException as exc:
            self._finish(key, flight, None, error=exc)
            raise
        self._finish(key, flight, _Entry(value, None, *self._times(ttl, stale_for)))
        return value

    def _times(self, ttl: float, stale_for: float) -> tuple[float, float]:
        now = self._clock()
        return now + ttl, now + ttl + stale_for

    def _finish(
        self,
        key: Hashable,
        flight: _Flight,
        entry: _Entry | None,
        *,
        value: Any = None,
        error: BaseException | None = None,
    ) -> None:
        with self._lock:
            if entry is not None:
                self._entries.pop(key, None)  # re-insert: newest last, for eviction order
                self._entries[key] = entry
                self._evict()
                value, error = entry.value, entry.error
            self._flights.pop(key, None)
        flight.value, flight.error = value, error
        flight.done.set()

    def _evict(self) -> None:
        if len(self._entries) <= self._max_entries:
            return
        now = self._clock()
        for key in [k for k, e in self._entries.items() if e.stale_until <= now]:
            del self._entries[key]
        while len(self._entries) > self._max_entries:
            del self._entries[next(iter(self._entries))]

    def _follow(self, flight: _Flight) -> T:
        if not flight.done.wait(self._follower_wait):
            raise RateLimited(
                "the exchange is slow to answer this; try again shortly",
                detail={"retry_after_seconds": 1},
            )
        if flight.error is not None:
            raise flight.error
        return flight.value
