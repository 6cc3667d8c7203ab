"""Time sources: the real clock for the server, a manual one for deterministic tests."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time in Unix milliseconds."""

    def now_ms(self) -> int: ...


class SystemClock:
    """Wall-clock time (what the real exchange's block timestamps follow)."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that only moves when a test tells it to, so lock-ups and expiries need no sleep."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._now

    def set(self, now_ms: int) -> None:
        """Jump to ``now_ms`` (never backwards: the engine assumes time is monotonic)."""
        with self._lock:
            if now_ms < self._now:
                raise ValueError("ManualClock cannot go backwards")
            self._now = now_ms

    def advance(self, *, ms: int = 0, seconds: float = 0) -> int:
        """Move forward and return the new time."""
        with self._lock:
            self._now += ms + int(seconds * 1000)
            return self._now
