"""A weighted token bucket for Hyperliquid's per-IP REST budget (hyperliquid-protocol.md §11).

Hyperliquid limits a server's IP, not a user: 1200 weight per minute shared by every REST call the
platform makes. One ``WeightedRateLimiter`` is shared by every thread that calls the exchange, so
the platform slows itself down before the exchange answers 429.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

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
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[threading.Condition, float], None] | None = None,
    ) -> None:
        if capacity <= 0 or window_seconds <= 0:
            raise ValueError("capacity and window must be positive")
        self.capacity = capacity
        self.rate = capacity / window_seconds  # tokens per second
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

    def try_acquire(self, weight: int) -> bool:
        """Take ``weight`` tokens if they are available now; never blocks."""
        self._check(weight)
        with self._cond:
            self._refill()
            if self._tokens >= weight:
                self._tokens -= weight
                return True
            return False

    def acquire(self, weight: int = 1, timeout: float | None = None) -> None:
        """Block until ``weight`` tokens are available and take them.

        Raises ``RateLimited`` if they would not be available within ``timeout`` seconds (``None``
        waits as long as needed; ``0`` does not wait). Fails fast rather than sleeping when the
        deficit cannot be refilled before the deadline.
        """
        self._check(weight)
        with self._cond:
            deadline = None if timeout is None else self._clock() + timeout
            while True:
                self._refill()
                if self._tokens >= weight:
                    self._tokens -= weight
                    return
                needed = (weight - self._tokens) / self.rate
                now = self._clock()
                if deadline is not None and now + needed > deadline:
                    raise RateLimited(
                        f"request weight budget exhausted: {weight} needed, "
                        f"{self._tokens:.0f} available, next in {needed:.2f}s",
                        detail={"retry_after_seconds": round(needed, 3)},
                    )
                self._wait(self._cond, needed)

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
