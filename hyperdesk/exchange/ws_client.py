"""One reconnecting websocket connection to a Hyperliquid-compatible ``/ws`` endpoint.

The SDK's ``WebsocketManager`` never reconnects (protocol reference §7.6), so streaming uses this
client instead. One ``WsClient`` owns one connection and one thread of its own. It:

- connects to ``ws(s)://host:port/ws`` derived from the REST ``base_url`` exactly like the SDK;
- (re)sends every current subscription after each (re)connect;
- sends Hyperliquid's JSON ``{"method": "ping"}`` when nothing was sent for ``ping_interval``
  seconds (the server closes connections idle for 60 s) and treats a connection that received
  nothing for ``stale_after`` seconds as dead;
- reconnects with exponential backoff and jitter, and reports the gap it was down for.

Everything it learns goes to one ``on_event`` callback, **called on the client's thread**. The
callback must not block and must not ``ask`` an actor (an actor owner passes a function that
``tell``\\s). Events are frozen dataclasses; ``WsMessage.message`` is the parsed JSON frame, handed
over to the callback (the client keeps no reference to it).
"""

from __future__ import annotations

import json
import logging
import random
import select
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import websocket

logger = logging.getLogger(__name__)

GREETING = "Websocket connection established."


def ws_url_from_base_url(base_url: str) -> str:
    """``http://h:p`` → ``ws://h:p/ws`` and ``https://h`` → ``wss://h/ws`` (as the SDK does)."""
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base[len("https://") :] + "/ws"
    if base.startswith("http://"):
        return "ws://" + base[len("http://") :] + "/ws"
    raise ValueError(f"base_url must start with http:// or https://: {base_url!r}")


def subscription_key(subscription: Mapping[str, Any]) -> str:
    """A canonical string for a subscription object (field order does not matter)."""
    return json.dumps(dict(subscription), sort_keys=True, separators=(",", ":"))


# --- events (client thread → callback) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WsConnected:
    """The first connection is open and the current subscriptions were sent."""

    url: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class WsMessage:
    """One JSON frame from the server (``{"channel": ..., "data": ...}``); pongs are not reported."""

    message: dict[str, Any]
    received_ms: int


@dataclass(frozen=True, slots=True)
class WsDisconnected:
    """The connection was lost (not reported for a clean ``stop()``); a reconnect follows."""

    reason: str
    at_ms: int
    last_received_ms: int


@dataclass(frozen=True, slots=True)
class WsReconnected:
    """Open again after a gap; every subscription was re-sent.

    ``gap_start_ms`` is when the last frame arrived on the lost connection (data may have been
    missed from then on, even if the loss was noticed later); ``gap_end_ms`` is when the new
    connection opened. ``attempts`` counts the connection attempts it took.
    """

    gap_start_ms: int
    gap_end_ms: int
    attempts: int


WsEvent = WsConnected | WsMessage | WsDisconnected | WsReconnected


# --- backoff ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits ``min(cap, base·2ⁿ)·U(1-jitter, 1)``."""

    base: float = 0.5
    cap: float = 30.0
    jitter: float = 0.5

    def delay(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.cap, self.base * (2 ** min(attempt, 32)))
        return ceiling * (1.0 - self.jitter * rng.random())


def _now_ms() -> int:
    return int(time.time() * 1000)


class WsClient:
    """One websocket connection with reconnect, resubscribe and heartbeat, on its own thread.

    Thread-safety: ``start``, ``stop``, ``subscribe``, ``unsubscribe`` and ``send`` may be called
    from any thread. ``on_event`` is called only on the client thread, in order.
    """

    def __init__(
        self,
        base_url: str,
        on_event: Callable[[WsEvent], None],
        *,
        ping_interval: float = 50.0,
        stale_after: float | None = None,
        backoff: Backoff | None = None,
        reset_backoff_after: float = 60.0,
        connect_timeout: float = 10.0,
        rng: random.Random | None = None,
        clock_ms: Callable[[], int] = _now_ms,
        name: str = "ws-client",
        before_frame: Callable[[], None] | None = None,
    ) -> None:
        self.url = ws_url_from_base_url(base_url)
        self._on_event = on_event
        self._ping_interval = ping_interval
        # A live server answers our ping within ping_interval; give it as much again.
        self._stale_after = stale_after if stale_after is not None else 2 * ping_interval
        self._backoff = backoff or Backoff()
        self._reset_backoff_after = reset_backoff_after
        self._connect_timeout = connect_timeout
        self._rng = rng or random.Random()  # jitter, not security
        self._clock_ms = clock_ms
        self._name = name
        # Called when a frame has arrived, before it is read (`AnswerPriority.yield_to_answers`).
        self._before_frame = before_frame

        self._lock = threading.Lock()  # guards _subscriptions, _sock, sending
        self._subscriptions: dict[str, dict[str, Any]] = {}
        self._sock: websocket.WebSocket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connected = threading.Event()
        self._last_sent = time.monotonic()

    # --- public API (any thread) ----------------------------------------------------------

    def start(self) -> None:
        """Start the client thread; it connects (and keeps reconnecting) until ``stop()``."""
        if self._thread is not None:
            raise RuntimeError("WsClient already started")
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Close the connection and end the thread. Idempotent; no events are sent afterwards."""
        self._stop.set()
        with self._lock:
            sock = self._sock
        if sock is not None:
            try:
                sock.shutdown()  # unblocks the reader without a close handshake
            except Exception:  # best effort on an already broken socket
                logger.debug("shutdown failed", exc_info=True)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def connected(self) -> bool:
        """Whether a connection is open right now (racy by nature; for tests and status)."""
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def subscriptions(self) -> tuple[dict[str, Any], ...]:
        with self._lock:
            return tuple(dict(s) for s in self._subscriptions.values())

    def subscribe(self, subscription: Mapping[str, Any]) -> bool:
        """Add a subscription: sent now if connected, and again after every reconnect.

        Returns False if it was already present (nothing is sent twice).
        """
        sub = dict(subscription)
        key = subscription_key(sub)
        with self._lock:
            if key in self._subscriptions:
                return False
            self._subscriptions[key] = sub
            self._send_locked({"method": "subscribe", "subscription": sub})
        return True

    def unsubscribe(self, subscription: Mapping[str, Any]) -> bool:
        """Remove a subscription (sends ``unsubscribe`` if connected). False if it was absent."""
        key = subscription_key(subscription)
        with self._lock:
            sub = self._subscriptions.pop(key, None)
            if sub is None:
                return False
            self._send_locked({"method": "unsubscribe", "subscription": sub})
        return True

    def send(self, message: Mapping[str, Any]) -> bool:
        """Send a raw JSON message if connected; returns whether it was written."""
        with self._lock:
            return self._send_locked(dict(message))

    # --- client thread --------------------------------------------------------------------

    def _send_locked(self, message: dict[str, Any]) -> bool:
        if self._sock is None:
            return False
        try:
            self._sock.send(json.dumps(message))
        except Exception as exc:  # the reader notices and reconnects
            logger.info("%s: send failed (%s); will resend after reconnect", self._name, exc)
            return False
        self._last_sent = time.monotonic()
        return True

    def _emit(self, event: WsEvent) -> None:
        if self._stop.is_set():
            return
        try:
            self._on_event(event)
        except Exception:
            logger.exception("%s: on_event callback failed for %r", self._name, type(event))

    def _run(self) -> None:
        attempt = 0  # failed attempts since the last healthy connection
        attempts_this_gap = 0
        gap_start_ms: int | None = None  # None until the first connection was lost
        while not self._stop.is_set():
            attempts_this_gap += 1
            try:
                # websocket-client checks a text frame's UTF-8 in pure Python, byte by byte (about
                # a tenth of a millisecond of GIL per order update, taken just as the order's own
                # answer comes in); decoding the payload below checks it as strictly, in C.
                sock = websocket.create_connection(
                    self.url,
                    timeout=self._connect_timeout,
                    enable_multithread=True,
                    skip_utf8_validation=True,
                )
            except Exception as exc:  # any failure means "try again later"
                delay = self._backoff.delay(attempt, self._rng)
                attempt += 1
                logger.info("%s: connect failed (%s); retry in %.2fs", self._name, exc, delay)
                self._stop.wait(delay)
                continue
            opened_ms = self._clock_ms()
            opened_mono = time.monotonic()
            with self._lock:
                if self._stop.is_set():
                    sock.close()
                    break
                self._sock = sock
                self._last_sent = time.monotonic()
                for sub in self._subscriptions.values():
                    self._send_locked({"method": "subscribe", "subscription": sub})
            self._connected.set()
            if gap_start_ms is None:
                self._emit(WsConnected(self.url, opened_ms))
            else:
                self._emit(WsReconnected(gap_start_ms, opened_ms, attempts_this_gap))
            attempts_this_gap = 0

            last_received_ms, reason = self._read_until_closed(sock, opened_ms)

            self._connected.clear()
            with self._lock:
                self._sock = None
            try:
                sock.close(timeout=0.2)
            except Exception:
                logger.debug("close failed", exc_info=True)
            if self._stop.is_set():
                break
            if time.monotonic() - opened_mono >= self._reset_backoff_after:
                attempt = 0
            gap_start_ms = last_received_ms
            self._emit(WsDisconnected(reason, self._clock_ms(), last_received_ms))
            delay = self._backoff.delay(attempt, self._rng)
            attempt += 1
            logger.info("%s: disconnected (%s); reconnect in %.2fs", self._name, reason, delay)
            self._stop.wait(delay)
        self._connected.clear()

    def _read_until_closed(self, sock: websocket.WebSocket, opened_ms: int) -> tuple[int, str]:
        """Read frames until the connection ends; returns (last frame time, reason)."""
        last_received_ms = opened_ms
        last_received_mono = time.monotonic()
        poll = min(0.2, self._ping_interval / 4)
        while not self._stop.is_set():
            now = time.monotonic()
            if now - last_received_mono > self._stale_after:
                return last_received_ms, f"nothing received for {self._stale_after:.1f}s"
            if now - self._last_sent >= self._ping_interval:
                with self._lock:
                    self._send_locked({"method": "ping"})
            try:
                if not self._readable(sock, poll):
                    continue
                if self._before_frame is not None:
                    self._before_frame()
                opcode, payload = sock.recv_data(control_frame=True)
            except Exception as exc:  # a broken socket of any kind
                return last_received_ms, f"{type(exc).__name__}: {exc}"
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return last_received_ms, "closed by server"
            last_received_ms = self._clock_ms()
            last_received_mono = time.monotonic()
            if opcode not in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
                continue
            try:
                text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
            except UnicodeDecodeError:
                logger.warning("%s: dropped a frame that is not UTF-8", self._name)
                continue
            if text == GREETING or not text.startswith("{"):
                continue
            try:
                message = json.loads(text)
            except ValueError:
                logger.warning("%s: dropped a frame that is not JSON: %.200s", self._name, text)
                continue
            if not isinstance(message, dict) or message.get("channel") == "pong":
                continue
            self._emit(WsMessage(message, last_received_ms))
        return last_received_ms, "stopped"

    @staticmethod
    def _readable(sock: websocket.WebSocket, timeout: float) -> bool:
        raw = sock.sock
        if raw is None:
            raise ConnectionError("socket closed")
        pending = getattr(raw, "pending", None)  # TLS may hold decrypted bytes select can't see
        if pending is not None and pending() > 0:
            return True
        readable, _, _ = select.select([raw], [], [], timeout)
        return bool(readable)
