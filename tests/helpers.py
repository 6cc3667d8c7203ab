"""Small helpers for tests: waiting on conditions (never sleeping as synchronisation), ports."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], timeout: float = 10.0, *, interval: float = 0.01, message: str = ""
) -> T:
    """Poll `condition` until it returns something truthy (returned); fail at the deadline.

    The way tests wait for asynchronous effects (websocket frames, background ticks, actors): a
    condition with a deadline, never a fixed sleep. An exception from `condition` counts as "not
    yet" and is reported if the deadline passes.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = condition()
            if result:
                return result
        except Exception as exc:  # the thing waited for may not exist yet
            last_error = exc
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {message or condition}"
                + (f" (last error: {last_error!r})" if last_error else "")
            )
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
