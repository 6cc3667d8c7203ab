"""Login throttling per source, with a growing delay after repeated failures.

A "source" is the client's address as `source_key` spells it. Failures count per (account,
source) and per source; never per account alone, because then anyone could lock a chosen user out
by failing on purpose, and behind a proxy one client's typos would lock out everybody.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from collections.abc import Callable

from hyperdesk.errors import TooManyRequests

MAX_TRACKED_KEYS = 100_000

# One IPv6 subscriber usually holds a whole /64: counting its addresses one by one would give an
# attacker 2^64 fresh sources.
IPV6_SOURCE_PREFIX = 64


def source_key(client_ip: str) -> str:
    """What per-source limits count by: an IPv4 address, or the /64 an IPv6 address is in."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/{IPV6_SOURCE_PREFIX}", strict=False))
    return str(address)


class LoginThrottle:
    """Counts failed logins in a sliding window; past a limit, refuses that key until it clears.

    Two keys per attempt:
    - (username, source): one source guessing one account, `max_failures` per window. A success
      from that source clears it; other sources are never affected, so a lock-out from one address
      never keeps the right password out from another.
    - source: one address guessing many accounts, `max_failures_per_source` per window.

    The lock-out grows with the number of failures, so a patient attacker gets fewer guesses per
    hour the longer they keep trying. Callers pass `source_key(ip)`.
    """

    def __init__(
        self,
        *,
        max_failures: int,
        max_failures_per_source: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = {"pair": max_failures, "source": max_failures_per_source}
        self._window = window_seconds
        self._clock = clock
        self._failures: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(source: str, username: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return ("pair", username.lower(), source), ("source", source)

    def check(self, source: str, username: str) -> None:
        with self._lock:
            now = self._clock()
            for key in self._keys(source, username):
                retry_after = self._retry_after(key, now)
                if retry_after > 0:
                    raise TooManyRequests(
                        "Too many failed logins. Try again later.",
                        retry_after=retry_after,
                        code="LOGIN_THROTTLED",
                    )

    def record_failure(self, source: str, username: str) -> None:
        with self._lock:
            now = self._clock()
            for key in self._keys(source, username):
                self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > MAX_TRACKED_KEYS:
                self._forget_expired(now)

    def record_success(self, source: str, username: str) -> None:
        """The right password from this source: forget this source's failures for the account.

        The per-source count stays: logging into one's own account must not reset the budget for
        guessing other people's.
        """
        pair, _ = self._keys(source, username)
        with self._lock:
            self._failures.pop(pair, None)

    def _forget_expired(self, now: float) -> None:
        """Guessing random usernames must not grow memory without bound: drop settled keys."""
        for key in list(self._failures):
            self._retry_after(key, now)  # prunes a key whose failures all aged out

    def _retry_after(self, key: tuple[str, ...], now: float) -> int:
        failures = self._failures.get(key)
        if not failures:
            return 0
        limit = self._limits[key[0]]
        # Each full multiple of the limit doubles how long old failures keep counting.
        excess = len(failures) // limit
        horizon = self._window * (2 ** max(excess - 1, 0))
        while failures and now - failures[0] > horizon:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return 0
        if len(failures) < limit:
            return 0
        return max(1, int(failures[0] + horizon - now) + 1)


class EventRateLimit:
    """At most `max_events` per key in any sliding `window_seconds` (e.g. registrations per IP).

    Registration hashes a password with argon2 and adds a row, and every login attempt hashes
    one: unthrottled, one address could burn the server's CPU and fill its database.
    """

    def __init__(
        self,
        *,
        max_events: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
        message: str = "Too many attempts from this address. Try again later.",
    ) -> None:
        self._max = max_events
        self._window = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._message = message
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
                raise TooManyRequests(self._message, retry_after=retry_after)
            events.append(now)
            if len(self._events) > self._max_keys:  # forget the stalest keys, bounded memory
                for stale in [
                    k for k, v in self._events.items() if not v or now - v[-1] > self._window
                ]:
                    del self._events[stale]
