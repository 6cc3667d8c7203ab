"""Login throttling per client IP and per account, with a growing delay after repeated failures."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from hyperdesk.errors import TooManyRequests

MAX_TRACKED_KEYS = 100_000


class LoginThrottle:
    """Counts failed logins in a sliding window; past the limit, refuses until the window clears.

    Failures are keyed both by IP (one address guessing many accounts) and by username (many
    addresses guessing one account). The lock-out grows with the number of failures, so a patient
    attacker gets fewer guesses per hour the longer they keep trying.
    """

    def __init__(
        self,
        *,
        max_failures: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, ip: str, username: str) -> None:
        with self._lock:
            now = self._clock()
            for key in (f"ip:{ip}", f"user:{username.lower()}"):
                retry_after = self._retry_after(key, now)
                if retry_after > 0:
                    raise TooManyRequests(
                        "Too many failed logins. Try again later.",
                        retry_after=retry_after,
                        code="LOGIN_THROTTLED",
                    )

    def record_failure(self, ip: str, username: str) -> None:
        with self._lock:
            now = self._clock()
            for key in (f"ip:{ip}", f"user:{username.lower()}"):
                self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > MAX_TRACKED_KEYS:
                self._forget_expired(now)

    def _forget_expired(self, now: float) -> None:
        """Guessing random usernames must not grow memory without bound: drop settled keys."""
        for key in list(self._failures):
            self._retry_after(key, now)  # prunes a key whose failures all aged out

    def record_success(self, ip: str, username: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{username.lower()}", None)

    def _retry_after(self, key: str, now: float) -> int:
        failures = self._failures.get(key)
        if not failures:
            return 0
        # Each full multiple of the limit doubles how long old failures keep counting.
        excess = len(failures) // self._max
        horizon = self._window * (2 ** max(excess - 1, 0))
        while failures and now - failures[0] > horizon:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return 0
        if len(failures) < self._max:
            return 0
        return max(1, int(failures[0] + horizon - now) + 1)


class EventRateLimit:
    """At most `max_events` per key in any sliding `window_seconds` (e.g. registrations per IP).

    Registration hashes a password with argon2 and adds a row: unthrottled, one address could burn
    the server's CPU and fill its database.
    """

    def __init__(
        self,
        *,
        max_events: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._max = max_events
        self._window = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Count one event for `key`, or refuse it (counting nothing) when the window is full."""
        with self._lock:
            now = self._clock()
            events = self._events.setdefault(key, deque())
            while events and now - events[0] > self._window:
                events.popleft()
            if len(events) >= self._max:
                retry_after = max(1, int(events[0] + self._window - now) + 1)
                raise TooManyRequests(
                    "Too many attempts from this address. Try again later.",
                    retry_after=retry_after,
                )
            events.append(now)
            if len(self._events) > self._max_keys:  # forget the stalest keys, bounded memory
                for stale in [
                    k for k, v in self._events.items() if not v or now - v[-1] > self._window
                ]:
                    del self._events[stale]
