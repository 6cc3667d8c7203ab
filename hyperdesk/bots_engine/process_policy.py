"""Small pure rules the bot process actor applies: message budget, log line size, state size."""

from __future__ import annotations

import json
from typing import Any

LOG_LINE_LIMIT = 4096
CUT_MARK = " …[cut]"


class MessageBudget:
    """A token bucket: `rate` messages a second on average, bursts up to `rate`.

    A bot that sends more is flooding (security.md §1) and is killed; the bucket is refilled by
    the time that passed, so a steady bot never notices it."""

    def __init__(self, rate: int, now: float) -> None:
        self._rate = float(rate)
        self._tokens = float(rate)
        self._last = now

    def allow(self, now: float) -> bool:
        self._tokens = min(self._rate, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


def cut_log_line(message: str) -> str:
    """One stored log line is at most 4 KB of text."""
    if len(message) <= LOG_LINE_LIMIT:
        return message
    return message[: LOG_LINE_LIMIT - len(CUT_MARK)] + CUT_MARK


def state_size(state: dict[str, Any]) -> int:
    """Bytes the bot's key-value state takes as stored JSON."""
    return len(json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode())
