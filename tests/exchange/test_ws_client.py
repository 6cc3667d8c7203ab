"""WsClient against a small loopback double of Hyperliquid's websocket protocol (§7)."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.server import ServerConnection, serve

from hyperdesk.exchange.ws_client import (
    Backoff,
    WsClient,
    WsConnected,
    WsDisconnected,
    WsEvent,
    WsMessage,
    WsReconnected,
    ws_url_from_base_url,
)
from tests.helpers import wait_until


class FakeHyperliquidWs:
    """Greets, acks (un)subscriptions, answers pings, records what clients sent, can drop all."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.connections: list[ServerConnection] = []
        self.errors: list[Exception] = []
        self.lock = threading.Lock()
        self.server = serve(self._handler, "127.0.0.1", 0, ping_interval=None, close_timeout=0.5)
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _handler(self, ws: ServerConnection) -> None:
        with self.lock:
            self.connections.append(ws)
        ws.send("Websocket connection established.")
        try:
            for text in ws:
                msg = json.loads(text)
                with self.lock:
                    self.received.append(msg)
                if msg["method"] == "ping":
                    ws.send(json.dumps({"channel": "pong"}))
                elif msg["method"] in ("subscribe", "unsubscribe"):
                    ack = {"method": msg["method"], "subscription": msg["subscription"]}
                    ws.send(json.dumps({"channel": "subscriptionResponse", "data": ack}))
        except Exception as exc:  # dropped by the test or the client
            self.errors.append(exc)
        finally:
            with self.lock:
                self.connections.remove(ws)

    def wait_for_a_connection(self) -> None:
        """Until the server side has the client's connection: a client may see its handshake
        complete before the server's handler has registered it, and a broadcast in between
        reaches nobody."""
        wait_until(lambda: self.connections, message="no connection on the server side")

    def broadcast(self, message: dict[str, Any]) -> None:
        with self.lock:
            conns = list(self.connections)
        for ws in conns:
            ws.send(json.dumps(message))

    def broadcast_text_bytes(self, payload: bytes) -> None:
        """A text frame carrying exactly these bytes, valid UTF-8 or not."""
        with self.lock:
            conns = list(self.connections)
        for ws in conns:
            ws.send(payload, text=True)

    def drop_all(self) -> None:
        with self.lock:
            conns = list(self.connections)
        for ws in conns:
            ws.close(1001, "dropped by server")

    def sent(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.received if m["method"] == method]

    def close(self) -> None:
        self.drop_all()
        self.server.shutdown()
        self.thread.join(5)


class Recorder:
    def __init__(self) -> None:
        self.events: list[WsEvent] = []
        self.lock = threading.Lock()

    def __call__(self, event: WsEvent) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        with self.lock:
            return [e for e in self.events if isinstance(e, kind)]

    def channel(self, channel: str) -> list[dict[str, Any]]:
        return [e.message for e in self.of(WsMessage) if e.message.get("channel") == channel]


def _started(make_client: Any, fake_ws: FakeHyperliquidWs, **kwargs: Any) -> tuple[Any, Any]:
    """A client started and connected, its connection registered on the server side too."""
    client, events = make_client(fake_ws.base_url, **kwargs)
    client.start()
    wait_until(lambda: events.of(WsConnected))
    fake_ws.wait_for_a_connection()
    return client, events


@pytest.fixture
def fake_ws() -> Iterator[FakeHyperliquidWs]:
    server = FakeHyperliquidWs()
    yield server
    server.close()


@pytest.fixture
def make_client() -> Iterator[Any]:
    clients: list[WsClient] = []

    def make(base_url: str, **kwargs: Any) -> tuple[WsClient, Recorder]:
        recorder = Recorder()
        kwargs.setdefault("backoff", Backoff(base=0.02, cap=0.1))
        kwargs.setdefault("rng", random.Random(7))
        client = WsClient(base_url, recorder, **kwargs)
        clients.append(client)
        return client, recorder

    yield make
    for client in clients:
        client.stop()


def test_ws_url_is_derived_from_the_rest_url_like_the_sdk() -> None:
    assert ws_url_from_base_url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/ws"
    assert ws_url_from_base_url("https://api.hyperliquid.xyz/") == "wss://api.hyperliquid.xyz/ws"
    with pytest.raises(ValueError, match="http"):
        ws_url_from_base_url("ftp://x")


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=8.0, jitter=0.5)
    rng = random.Random(1)
    delays = [backoff.delay(n, rng) for n in range(6)]
    for n, delay in enumerate(delays):
        ceiling = min(8.0, 2.0**n)
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 8.0


def test_subscriptions_made_before_start_are_sent_on_connect_and_frames_delivered(
    fake_ws: FakeHyperliquidWs, make_client: Any
) -> None:
    client, events = make_client(fake_ws.base_url)
    client.subscribe({"type": "allMids"})
    assert not client.subscribe({"type": "allMids"})  # already present: not sent twice
    client.start()

    wait_until(lambda: events.of(WsConnected))
    wait_until(lambda: events.channel("subscriptionResponse"))
    fake_ws.broadcast({"channel": "allMids", "data": {"mids": {"BTC": "100.0"}}})
    mids = wait_until(lambda: events.channel("allMids"))
    assert mids[0]["data"]["mids"] == {"BTC": "100.0"}
    assert len(fake_ws.sent("subscribe")) == 1
    # The greeting is not JSON and never reaches the callback.
    assert all(isinstance(e.message, dict) for e in events.of(WsMessage))


def test_a_text_frame_that_is_not_utf8_is_dropped_and_the_connection_kept(
    fake_ws: FakeHyperliquidWs, make_client: Any
) -> None:
    client, events = _started(make_client, fake_ws)
    fake_ws.broadcast_text_bytes(b'{"channel": "allMids", "data": {"mids": {"BTC": "\xff"}}}')
    fake_ws.broadcast({"channel": "allMids", "data": {"mids": {"BTC": "100.0"}}})
    mids = wait_until(lambda: events.channel("allMids"))
    assert [m["data"]["mids"] for m in mids] == [{"BTC": "100.0"}]
    assert not events.of(WsDisconnected)
    assert client.connected


def test_client_pings_when_it_has_sent_nothing_for_the_interval(
    fake_ws: FakeHyperliquidWs, make_client: Any
) -> None:
    client, _events = make_client(fake_ws.base_url, ping_interval=0.1)
    client.start()
    wait_until(lambda: len(fake_ws.sent("ping")) >= 3, timeout=5)


def test_stale_connection_without_any_frame_is_replaced(
    fake_ws: FakeHyperliquidWs, make_client: Any
) -> None:
    # Pings every 10 s, but nothing may be silent for more than 0.3 s: the greeting arrives,
    # then silence, so the client gives up on the connection and reconnects.
    client, events = make_client(fake_ws.base_url, ping_interval=10, stale_after=0.3)
    client.start()
    disconnected = wait_until(lambda: events.of(WsDisconnected), timeout=5)
    assert "nothing received" in disconnected[0].reason
    wait_until(lambda: events.of(WsReconnected), timeout=5)


def test_server_drop_reconnects_resubscribes_and_reports_the_gap(
    fake_ws: FakeHyperliquidWs, make_client: Any
) -> None:
    client, events = make_client(fake_ws.base_url)
    client.subscribe({"type": "l2Book", "coin": "BTC"})
    client.subscribe({"type": "trades", "coin": "ETH"})
    client.start()
    wait_until(lambda: len(events.channel("subscriptionResponse")) == 2)
    client.unsubscribe({"type": "trades", "coin": "ETH"})
    wait_until(lambda: fake_ws.sent("unsubscribe"))

    fake_ws.drop_all()

    reconnected = wait_until(lambda: events.of(WsReconnected), timeout=5)[0]
    disconnected = events.of(WsDisconnected)[0]
    assert reconnected.gap_start_ms <= disconnected.at_ms <= reconnected.gap_end_ms
    assert reconnected.attempts >= 1
    # Only the remaining subscription is sent again.
    wait_until(lambda: len(fake_ws.sent("subscribe")) == 3)
    assert fake_ws.sent("subscribe")[-1]["subscription"] == {"type": "l2Book", "coin": "BTC"}
    assert client.connected


def test_client_retries_until_the_server_comes_up_then_stops_cleanly(make_client: Any) -> None:
    client, events = make_client("http://127.0.0.1:9")  # discard port: connection refused
    client.start()
    wait_until(lambda: client._thread is not None and client._thread.is_alive())
    client.stop()
    assert client._thread is not None
    assert not client._thread.is_alive()
    assert events.of(WsConnected) == []


def test_stop_closes_the_connection_and_silences_the_callback(
    fake_ws: FakeHyperliquidWs, make_client: Any
) -> None:
    client, events = _started(make_client, fake_ws)
    client.stop()
    assert not client.connected
    wait_until(lambda: not fake_ws.connections)
    count = len(events.events)
    fake_ws.broadcast({"channel": "allMids", "data": {"mids": {}}})
    assert len(events.events) == count
    assert events.of(WsDisconnected) == []


def test_each_frame_waits_its_turn_before_it_is_read(
    fake_ws: FakeHyperliquidWs, make_client: Any
) -> None:
    """`before_frame` (the stream gives `AnswerPriority.yield_to_answers`) runs once per frame,
    before the frame is read: while it blocks, nothing of that frame is delivered."""
    gate = threading.Event()
    turns: list[int] = []

    def before_frame() -> None:
        turns.append(1)
        gate.wait(10)

    _client, events = _started(make_client, fake_ws, before_frame=before_frame)
    fake_ws.broadcast({"channel": "allMids", "data": {"mids": {"BTC": "100.0"}}})
    wait_until(lambda: turns, message="before_frame was not called")
    assert not events.channel("allMids")  # held back by before_frame
    gate.set()
    wait_until(lambda: events.channel("allMids"), message="the frame never came")
