"""A weighted token bucket for Hyperliquid's per-IP REST budget (hyperliquid-protocol.md §11).

Hyperliquid limits a server's IP, not a user: 1200 weight per minute shared by every REST call the
platform makes. One ``WeightedRateLimiter`` is shared by every thread that calls the exchange, so
the platform slows itself down before the exchange answers 429.

Writes go first. Reads (market data, account views, polling) are what anyone can trigger in
bulk, so they are the ones that must give way: a read may not take the bucket below the part
kept for writes (``write_reserve``), yields to any write that is waiting, and waits only as long
as its caller allows before it is shed with ``RateLimited`` — never in an unbounded queue that
keeps spending after the crowd has gone. Orders, cancels, modifies and the lookups that settle
an order's unknown outcome are writes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import StrEnum

from hyperdesk.exchange.errors import RateLimited

#: Info request types that weigh 2 (§11); ``userRole`` weighs 60; every other info type 20.
LIGHT_INFO_TYPES = frozenset(
    {
        "l2Book",
        "allMids",
        "clearinghouseState",
        "orderStatus",
        "spotClearinghouseState",
        "exchangeStatus",
    }
)
HEAVY_INFO_TYPES = {"userRole": 60}
DEFAULT_CAPACITY = 1200
DEFAULT_WINDOW_SECONDS = 60.0
#: Part of the bucket reads may never take: what is left for orders when reads have spent the rest.
DEFAULT_WRITE_RESERVE = 0.25


class Priority(StrEnum):
    """Who is asking for weight: a signed action (or its outcome lookup) or a mere read."""

    WRITE = "write"
    READ = "read"


def exchange_weight(batch_length: int = 1) -> int:
    """Weight of one ``/exchange`` action carrying ``batch_length`` orders or cancels."""
    return 1 + max(0, batch_length) // 40


def info_weight(request_type: str) -> int:
    """Base weight of one ``/info`` request (list endpoints add weight per returned item)."""
    if request_type in LIGHT_INFO_TYPES:
        return 2
    return HEAVY_INFO_TYPES.get(request_type, 20)


def info_items_weight(request_type: str, items: int) -> int:
    """Extra weight a list answer costs: 1 per 20 items (per 60 for ``candleSnapshot``)."""
    per = 60 if request_type == "candleSnapshot" else 20
    return max(0, items) // per


class WeightedRateLimiter:
    """Thread-safe token bucket: ``capacity`` tokens, refilled evenly over ``window_seconds``.

    ``clock`` returns monotonic seconds and ``sleep`` waits; both are injectable so tests run
    without real waiting. Waiters are woken by a condition variable whenever tokens are charged
    or refunded, and otherwise re-check when enough tokens should have refilled.
    """

    def __init__(
        self,
        capacity: int = DEFAULT_CAPACITY,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        *,
        write_reserve: float = DEFAULT_WRITE_RESERVE,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[threading.Condition, float], None] | None = None,
    ) -> None:
        if capacity <= 0 or window_seconds <= 0:
            raise ValueError("capacity and window must be positive")
        if not 0 <= write_reserve < 1:
            raise ValueError("write_reserve is a fraction of the bucket, from 0 up to (not) 1")
        self.capacity = capacity
        self.rate = capacity / window_seconds  # tokens per second
        #: Tokens a read must leave in the bucket (whole tokens, at most what one read could need).
        self.write_reserve = int(capacity * write_reserve)
        self._writers_waiting = 0
        self._clock = clock
        self._wait = wait or (lambda cond, seconds: cond.wait(seconds))
        self._cond = threading.Condition()
        self._tokens = float(capacity)
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._tokens = min(float(self.capacity), self._tokens + elapsed * self.rate)

    @property
    def available(self) -> float:
        """Tokens available now (for monitoring)."""
        with self._cond:
            self._refill()
            return self._tokens

    @property
    def writers_waiting(self) -> int:
        """Writes waiting for weight now (reads give way to them)."""
        with self._cond:
            return self._writers_waiting

    def try_acquire(self, weight: int) -> bool:
        """Take ``weight`` tokens if they are available now; never blocks."""
        self._check(weight)
        with self._cond:
            self._refill()
            if self._tokens >= weight:
                self._tokens -= weight
                return True
            return False

    def acquire(
        self, weight: int = 1, timeout: float | None = None, *, priority: Priority = Priority.WRITE
    ) -> None:
        """Block until ``weight`` tokens are available and take them.

        Raises ``RateLimited`` if they would not be available within ``timeout`` seconds (``None``
        waits as long as needed; ``0`` does not wait). Fails fast rather than sleeping when the
        deficit cannot be refilled before the deadline. A ``READ`` leaves ``write_reserve`` tokens
        in the bucket and waits while any write is waiting, so writes never queue behind reads.
        """
        self._check(weight)
        is_read = priority is Priority.READ
        floor = min(self.write_reserve, self.capacity - weight) if is_read else 0
        with self._cond:
            deadline = None if timeout is None else self._clock() + timeout
            waiting_as_writer = False
            try:
                while True:
                    self._refill()
                    writers_ahead = is_read and self._writers_waiting > 0
                    if not writers_ahead and self._tokens - weight >= floor:
                        self._tokens -= weight
                        return
                    # A read behind a waiting write cannot know when its turn comes; it looks again
                    # when notified or after a token's worth of refill.
                    needed = (
                        max(1.0, weight + floor - self._tokens) / self.rate
                        if writers_ahead
                        else (weight + floor - self._tokens) / self.rate
                    )
                    now = self._clock()
                    if deadline is not None and now + needed > deadline:
                        raise RateLimited(
                            f"request weight budget exhausted: {weight} needed, "
                            f"{self._tokens:.0f} available, next in {needed:.2f}s",
                            detail={"retry_after_seconds": round(needed, 3)},
                        )
                    if not is_read and not waiting_as_writer:
                        waiting_as_writer = True
                        self._writers_waiting += 1
                    self._wait(self._cond, needed)
            finally:
                if waiting_as_writer:
                    self._writers_waiting -= 1
                    self._cond.notify_all()

    def charge(self, weight: int) -> None:
        """Take ``weight`` tokens now without waiting (the bucket may go negative).

        For weight known only after the answer (list endpoints cost more per returned item).
        """
        if weight <= 0:
            return
        with self._cond:
            self._refill()
            self._tokens -= weight

    def penalize(self, seconds: float | None = None) -> None:
        """Drain the bucket after the exchange answered 429, so every caller backs off.

        ``seconds`` is how long until tokens reappear (default: one token's worth).
        """
        with self._cond:
            self._refill()
            self._tokens = -(seconds or 0.0) * self.rate
            self._cond.notify_all()

    def _check(self, weight: int) -> None:
        if weight <= 0:
            raise ValueError("weight must be positive")
        if weight > self.capacity:
            raise ValueError(f"weight {weight} exceeds the bucket capacity {self.capacity}")
