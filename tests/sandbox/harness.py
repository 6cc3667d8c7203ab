"""A fake trusted side for tests: the test thread plays the server over a real bot's channel."""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hyperdesk.sandbox.launcher import BotProcess, SandboxKind, bwrap_problem

REQUIRE_BWRAP_ENV = "HYPERDESK_REQUIRE_BWRAP"
REPORT = "REPORT "

Answer = Callable[[str, dict[str, Any]], Any]


@functools.cache
def _bwrap_problem() -> str | None:
    return bwrap_problem()


def require_bwrap() -> None:
    """Skip when bwrap cannot run here, unless HYPERDESK_REQUIRE_BWRAP=1 makes that a failure."""
    problem = _bwrap_problem()
    if problem is None:
        return
    if os.environ.get(REQUIRE_BWRAP_ENV) == "1":
        pytest.fail(f"bwrap sandbox required ({REQUIRE_BWRAP_ENV}=1) but unusable: {problem}")
    pytest.skip(f"bwrap sandbox unusable here: {problem}")


SANDBOX_KINDS: list[SandboxKind] = ["process", "bwrap"]


class ServerError(Exception):
    """Raised by an `answer` function to send an error response."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class FakeServer:
    """Reads the bot's messages, answers its requests with `answer`, records everything."""

    def __init__(self, bot: BotProcess, answer: Answer | None = None) -> None:
        self.bot = bot
        self.answer = answer or (lambda method, params: None)
        self.received: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []

    def start(self, config: dict[str, Any] | None = None, tick_seconds: float = 0) -> None:
        hello = self.until(lambda message: message["type"] == "hello")
        assert hello == {"type": "hello", "protocol": 1}
        self.send({"type": "start", "config": config or {}, "tick_seconds": tick_seconds})

    def send(self, message: dict[str, Any]) -> None:
        self.bot.channel.send(message)

    def until(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20.0
    ) -> dict[str, Any]:
        """Serve the bot until a message matches `predicate`; fail at the deadline."""
        for message in self.messages(timeout):
            if predicate(message):
                return message
        raise AssertionError(
            f"no matching message within {timeout}s; got {self.received[-10:]}; "
            f"exit={self.bot.exit_reason}; stderr={self.bot.stderr_tail()!r}"
        )

    def messages(self, timeout: float) -> Iterator[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            message = self.bot.channel.recv(timeout=remaining)
            if message is None:
                return
            self.received.append(message)
            if message.get("type") == "request":
                self.requests.append(message)
                self._respond(message)
            yield message

    def report(self, timeout: float = 20.0) -> dict[str, Any]:
        """The JSON a hostile bot printed after `REPORT ` (its findings)."""
        message = self.until(
            lambda m: m["type"] == "log" and m["message"].startswith(REPORT), timeout
        )
        return json.loads(message["message"][len(REPORT) :])

    def logs(self) -> list[str]:
        return [m["message"] for m in self.received if m["type"] == "log"]

    def _respond(self, request: dict[str, Any]) -> None:
        try:
            result = self.answer(request["method"], request["params"])
        except ServerError as exc:
            error = {"code": exc.code, "message": exc.message}
            self.send({"type": "response", "id": request["id"], "ok": False, "error": error})
        else:
            self.send({"type": "response", "id": request["id"], "ok": True, "result": result})


def descendants(root: int) -> set[int]:
    """Pids of every live process below `root` (from /proc; zombies count as gone)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: set[int] = set()
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kind_param(kind: SandboxKind) -> SandboxKind:
    if kind == "bwrap":
        require_bwrap()
    return kind
