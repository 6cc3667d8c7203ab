"""The bot runtime: runs inside the sandbox, loads the user's `Bot` and drives its callbacks.

Started by the trusted launcher (hyperdesk.sandbox.launcher) as
`python -I -S -B -c <boot> '<json config>'`; the config names the channel's file descriptor,
the user's module file and the resource limits, which are applied before any user code runs.

Sequence: send `hello` → wait for `start {config, tick_seconds}` → import the module, build
`Bot(api, config)` (a failure here is fatal and reported as `error`) → `on_start` → `ready` →
then, on the main thread, one event at a time: `tick` → `on_tick`, `fill` → `on_fill`,
`order_update` → `on_order_update` (each acknowledged by `callback_done`), `ping` → `pong`,
`stop` → `on_stop` and a clean exit. With `tick_seconds > 0` the runtime also ticks on its own
clock. `pong` is sent from the main loop, so it proves the bot is not stuck in a callback.

An exception in a callback is logged with its traceback and the bot goes on. `print` and
anything written to stdout/stderr become `log` messages, one per line, each cut at 4 KB.

This module runs inside the sandbox, so it imports only the standard library.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hyperdesk.bots import limits
from hyperdesk.bots.api import LOG_MESSAGE_LIMIT, BotAPIError, BotTradingAPI, with_decimals
from hyperdesk.bots.wire import BotChannel, FrameTooLarge

PROTOCOL_VERSION = 1
REQUEST_TIMEOUT_SECONDS = 30.0
TRACEBACK_LIMIT = 8000
_CLOSED = {"type": "_closed"}


class LogStream(io.TextIOBase):
    """A text stream that turns each written line into a `log` message."""

    def __init__(self, send: Callable[[dict[str, Any]], None], level: str) -> None:
        self._send = send
        self._level = level
        self._line = ""
        self._cut = False
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            for piece in text.splitlines(keepends=True):
                if not self._cut:
                    self._line += piece.rstrip("\n")
                    if len(self._line) > LOG_MESSAGE_LIMIT:
                        self._emit(self._line[:LOG_MESSAGE_LIMIT] + " …[cut]")
                        self._line, self._cut = "", True
                if piece.endswith("\n"):
                    if not self._cut:
                        self._emit(self._line)
                    self._line, self._cut = "", False
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._line:
                self._emit(self._line)
                self._line = ""

    def _emit(self, line: str) -> None:
        with contextlib.suppress(OSError):  # the server is gone; nobody is left to read the log
            self._send({"type": "log", "level": self._level, "message": line})


class _Pending:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.answer: dict[str, Any] | None = None


class BotRuntime:
    """Owns the channel: a reader thread routes responses to callers and events to the loop."""

    def __init__(self, channel: BotChannel, bot_file: Path) -> None:
        self._channel = channel
        self._bot_file = bot_file
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._pending: dict[int, _Pending] = {}
        self._lock = threading.Lock()
        self._next_id = 0
        self._closed = False
        self.api = BotTradingAPI(self.request, self.send)

    def send(self, message: dict[str, Any]) -> None:
        self._channel.send(message)

    def request(self, method: str, params: dict[str, Any]) -> Any:
        """One request/response round trip; BotAPIError on an error answer or a dead channel."""
        with self._lock:
            if self._closed:
                raise BotAPIError("CHANNEL_CLOSED", "the server closed the channel")
            self._next_id += 1
            request_id = self._next_id
            pending = self._pending[request_id] = _Pending()
        try:
            message = {"type": "request", "id": request_id, "method": method, "params": params}
            try:
                self.send(message)
            except (TypeError, ValueError, FrameTooLarge) as exc:
                raise BotAPIError("INVALID_VALUE", str(exc)) from None
            if not pending.done.wait(REQUEST_TIMEOUT_SECONDS):
                raise BotAPIError("TIMEOUT", f"no answer to {method} within the timeout")
        finally:
            with self._lock:
                self._pending.pop(request_id, None)
        answer = pending.answer
        if answer is None:
            raise BotAPIError("CHANNEL_CLOSED", "the server closed the channel")
        if not answer.get("ok"):
            error = answer.get("error") or {}
            raise BotAPIError(str(error.get("code", "ERROR")), str(error.get("message", "")))
        return answer.get("result")

    def run(self) -> int:
        sys.stdout = LogStream(self.send, "info")
        sys.stderr = LogStream(self.send, "error")
        threading.Thread(target=self._read, name="bot-channel-reader", daemon=True).start()
        self.send({"type": "hello", "protocol": PROTOCOL_VERSION})
        start = self._wait_for_start()
        if start is None:
            return 0
        bot = self._build_bot(start.get("config") or {})
        if bot is None:
            return 2
        self._call(bot, "on_start")
        self.send({"type": "ready"})
        return self._loop(bot, float(start.get("tick_seconds") or 0))

    def _wait_for_start(self) -> dict[str, Any] | None:
        while True:
            event = self._events.get()
            if event["type"] == "start":
                return event
            if event["type"] == "ping":
                self.send({"type": "pong", "nonce": event.get("nonce", 0)})
            elif event["type"] in ("stop", "_closed"):
                return None

    def _build_bot(self, config: dict[str, Any]) -> Any:
        stage, code = "loading the bot module", "LOAD_FAILED"
        try:
            spec = importlib.util.spec_from_file_location("user_bot", self._bot_file)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {self._bot_file}")
            module = importlib.util.module_from_spec(spec)
            sys.modules["user_bot"] = module
            spec.loader.exec_module(module)
            bot_class = getattr(module, "Bot", None)
            if not callable(bot_class):
                raise TypeError("the module defines no class named Bot")
            stage, code = "constructing Bot(api, config)", "INIT_FAILED"
            return bot_class(self.api, config)
        except Exception:
            message = f"{stage} failed:\n{traceback.format_exc()}"[-TRACEBACK_LIMIT:]
            self.send({"type": "error", "code": code, "message": message})
            return None

    def _loop(self, bot: Any, tick_seconds: float) -> int:
        next_tick = time.monotonic() + tick_seconds if tick_seconds > 0 else None
        while True:
            timeout = None if next_tick is None else max(0.0, next_tick - time.monotonic())
            try:
                event = self._events.get(timeout=timeout)
            except queue.Empty:
                self._call(bot, "on_tick")
                next_tick = time.monotonic() + tick_seconds
                continue
            kind = event["type"]
            if kind == "tick":
                self._acknowledge("tick", event, self._call(bot, "on_tick"))
            elif kind == "fill":
                ok = self._call(bot, "on_fill", with_decimals(event.get("fill")))
                self._acknowledge("fill", event, ok)
            elif kind == "order_update":
                ok = self._call(bot, "on_order_update", with_decimals(event.get("update")))
                self._acknowledge("order_update", event, ok)
            elif kind == "ping":
                self.send({"type": "pong", "nonce": event.get("nonce", 0)})
            elif kind == "stop":
                self._call(bot, "on_stop")
                sys.stdout.flush()
                sys.stderr.flush()
                return 0
            elif kind == "_closed":
                return 0

    def _acknowledge(self, event_name: str, event: dict[str, Any], ok: bool) -> None:
        self.send({"type": "callback_done", "event": event_name, "seq": event["seq"], "ok": ok})

    def _call(self, bot: Any, name: str, *args: Any) -> bool:
        """Run one optional callback; log its exception with the traceback and carry on."""
        callback = getattr(bot, name, None)
        if callback is None:
            return True
        try:
            callback(*args)
            return True
        except Exception:
            text = f"{name} raised:\n{traceback.format_exc()}"[-TRACEBACK_LIMIT:]
            self.send({"type": "log", "level": "error", "message": text})
            return False

    def _read(self) -> None:
        try:
            while True:
                message = self._channel.recv()
                if message.get("type") == "response":
                    with self._lock:
                        pending = self._pending.get(message.get("id"))  # type: ignore[arg-type]
                    if pending is not None:
                        pending.answer = message
                        pending.done.set()
                else:
                    self._events.put(message)
        except (EOFError, OSError, ValueError):
            with self._lock:
                self._closed = True
                waiting = list(self._pending.values())
            for pending in waiting:
                pending.done.set()
            self._events.put(_CLOSED)


def main(argv: list[str]) -> int:
    """Entry point: `argv[0]` is the launcher's JSON config (no secrets, it is visible in /proc)."""
    config = json.loads(argv[0])
    limits.apply_limits(config.get("limits", {}))
    if config.get("parent_pid"):
        limits.die_with_parent(int(config["parent_pid"]))
    sys.path.extend(config.get("extra_paths", []))
    channel = BotChannel.from_fd(int(config["fd"]), int(config["max_message_bytes"]))
    return BotRuntime(channel, Path(config["bot_file"])).run()
