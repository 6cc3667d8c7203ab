"""Websocket ``/ws``: handshake text, ping/pong, acks, limits, idle close, drop hook, routing."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import pytest
import websocket

from tests.fixtures.paper import paper_test_config
from tests.helpers import wait_until

USER_A = "0x" + "a" * 40
USER_B = "0x" + "b" * 40
USER_C = "0x" + "c" * 40


class RawClient:
    """A blocking websocket client that returns parsed frames."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.ws = websocket.create_connection(url, timeout=timeout)

    def send(self, msg: Any) -> None:
        self.ws.send(json.dumps(msg))

    def recv_text(self) -> str:
        return self.ws.recv()

    def recv(self) -> dict:
        return json.loads(self.ws.recv())

    def recv_channel(self, channel: str, limit: int = 50) -> dict:
        for _ in range(limit):
            msg = self.recv()
            if msg["channel"] == channel:
                return msg
        raise AssertionError(f"no {channel} frame")

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def connect():
    clients: list[RawClient] = []

    def make(url: str) -> RawClient:
        client = RawClient(url)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _connected(connect, url: str) -> RawClient:
    client = connect(url)
    assert client.recv_text() == "Websocket connection established."
    return client


def test_handshake_text_then_ping_pong(paper_server, connect):
    client = _connected(connect, paper_server.ws_url)
    client.send({"method": "ping"})
    assert client.recv() == {"channel": "pong"}


def test_subscribe_and_unsubscribe_are_acknowledged(paper_server, connect):
    client = _connected(connect, paper_server.ws_url)
    subscription = {"type": "trades", "coin": "ETH"}

    client.send({"method": "subscribe", "subscription": subscription})
    assert client.recv() == {
        "channel": "subscriptionResponse",
        "data": {"method": "subscribe", "subscription": subscription},
    }
    client.send({"method": "subscribe", "subscription": subscription})
    assert client.recv() == {
        "channel": "error",
        "data": 'Already subscribed: {"type":"trades","coin":"ETH"}',
    }
    client.send({"method": "unsubscribe", "subscription": subscription})
    assert client.recv()["data"] == {"method": "unsubscribe", "subscription": subscription}
    client.send({"method": "unsubscribe", "subscription": subscription})
    assert client.recv()["data"].startswith("Already unsubscribed:")


@pytest.mark.parametrize(
    "subscription",
    [{"type": "nope"}, {"type": "l2Book"}, {"type": "userFills", "user": 3}, "allMids"],
    ids=repr,
)
def test_invalid_subscription_gets_an_error(paper_server, connect, subscription):
    client = _connected(connect, paper_server.ws_url)
    client.send({"method": "subscribe", "subscription": subscription})
    msg = client.recv()
    assert msg["channel"] == "error"
    assert msg["data"].startswith("Invalid subscription")


def test_unique_user_limit(paper_server_factory, connect):
    paper = paper_server_factory(paper_test_config(ws_max_users=2))
    first = _connected(connect, paper.ws_url)
    second = _connected(connect, paper.ws_url)  # the limit is per IP, across connections
    first.send({"method": "subscribe", "subscription": {"type": "orderUpdates", "user": USER_A}})
    assert first.recv()["channel"] == "subscriptionResponse"
    second.send({"method": "subscribe", "subscription": {"type": "userEvents", "user": USER_B}})
    assert second.recv()["channel"] == "subscriptionResponse"
    # A known user again is fine; a third one is not.
    second.send({"method": "subscribe", "subscription": {"type": "userEvents", "user": USER_A}})
    assert second.recv()["channel"] == "subscriptionResponse"
    second.send({"method": "subscribe", "subscription": {"type": "orderUpdates", "user": USER_C}})
    assert second.recv() == {"channel": "error", "data": "Cannot track more than 2 total users."}


def test_subscription_limit(paper_server_factory, connect):
    paper = paper_server_factory(paper_test_config(ws_max_subscriptions=2))
    client = _connected(connect, paper.ws_url)
    for coin in ("BTC", "ETH"):
        client.send({"method": "subscribe", "subscription": {"type": "trades", "coin": coin}})
        assert client.recv()["channel"] == "subscriptionResponse"
    client.send({"method": "subscribe", "subscription": {"type": "trades", "coin": "SOL"}})
    assert client.recv() == {
        "channel": "error",
        "data": "Cannot track more than 2 total subscriptions.",
    }


def test_connection_limit(paper_server_factory, connect):
    paper = paper_server_factory(paper_test_config(ws_max_connections=2))
    _connected(connect, paper.ws_url)
    _connected(connect, paper.ws_url)
    with pytest.raises(websocket.WebSocketBadStatusException):
        connect(paper.ws_url)


def test_idle_connection_is_closed(paper_server_factory, connect):
    paper = paper_server_factory(paper_test_config(ws_idle_timeout_s=1))
    client = _connected(connect, paper.ws_url)
    started = time.monotonic()
    _wait_closed(client)
    assert time.monotonic() - started >= 0.9


def _wait_closed(client: RawClient) -> None:
    """Block until the server closes the socket (a receive timeout fails the test)."""
    client.ws.settimeout(5)
    try:
        while client.ws.recv() != "":  # "" = close frame
            pass
    except websocket.WebSocketConnectionClosedException:
        pass


def test_quiet_client_that_pings_stays_connected(paper_server_factory, connect):
    paper = paper_server_factory(paper_test_config(ws_idle_timeout_s=1))
    client = _connected(connect, paper.ws_url)
    deadline = time.monotonic() + 1.6
    while time.monotonic() < deadline:
        client.send({"method": "ping"})
        assert client.recv() == {"channel": "pong"}
        client.ws.settimeout(0.4)
        with pytest.raises(websocket.WebSocketTimeoutException):
            client.ws.recv()  # nothing else arrives; also paces the pings


def test_drop_hook_disconnects_sdk_websocket(paper_server):
    info = paper_server.info(skip_ws=False)
    wait_until(lambda: info.ws_manager.ws_ready, message="SDK websocket never opened")

    dropped = paper_server.post("/_paper/drop_connections", {}).json()

    assert dropped["status"] == "ok"
    assert dropped["dropped"] >= 1
    wait_until(lambda: not info.ws_manager.is_alive(), message="SDK websocket survived the drop")


def test_sdk_routes_market_data_to_the_right_callbacks(paper_server):
    info = paper_server.info(skip_ws=False)
    got: dict[str, list] = {"mids": [], "book": [], "bbo": []}
    info.subscribe({"type": "allMids"}, got["mids"].append)
    info.subscribe({"type": "l2Book", "coin": "ETH"}, got["book"].append)
    info.subscribe({"type": "bbo", "coin": "ETH"}, got["bbo"].append)

    wait_until(lambda: all(got.values()), message=f"missing market data: {got}")
    assert "ETH" in got["mids"][0]["data"]["mids"]
    assert got["book"][0]["data"]["coin"] == "ETH"
    assert len(got["book"][0]["data"]["levels"]) == 2
    assert got["bbo"][0]["data"]["coin"] == "ETH"


def test_sdk_routes_user_channels(paper_server, funded_wallet):
    info = paper_server.info(skip_ws=False)
    events: list = []
    updates: list = []
    trades: list = []
    info.subscribe({"type": "userEvents", "user": funded_wallet.address}, events.append)
    info.subscribe({"type": "orderUpdates", "user": funded_wallet.address}, updates.append)
    info.subscribe({"type": "trades", "coin": "ETH"}, trades.append)
    wait_until(lambda: _server_subscriptions(paper_server) >= 3, message="not subscribed")

    paper_server.sdk_exchange(funded_wallet).market_open("ETH", True, 0.1)

    wait_until(lambda: events and updates and trades, message="user channels silent")
    assert events[0]["channel"] == "user"
    assert "fills" in events[0]["data"]
    assert updates[0]["data"][0]["order"]["coin"] == "ETH"
    assert trades[0]["data"][0]["coin"] == "ETH"


def _server_subscriptions(paper) -> int:
    return paper.server.app.state.hub.subscription_count()


def test_post_request_over_websocket(paper_server, connect):
    client = _connected(connect, paper_server.ws_url)
    client.send(
        {"method": "post", "id": 7, "request": {"type": "info", "payload": {"type": "allMids"}}}
    )
    msg = client.recv_channel("post")
    assert msg["data"]["id"] == 7
    assert msg["data"]["response"]["type"] == "info"
    assert "ETH" in msg["data"]["response"]["payload"]["data"]


def test_slow_client_is_disconnected_instead_of_buffering_forever():
    import asyncio
    from types import SimpleNamespace

    from starlette.websockets import WebSocketState

    from hyperdesk.paper.events import Event
    from hyperdesk.paper.ws import SEND_QUEUE_SIZE, Connection, WebsocketHub, topic_of

    class NeverReadingSocket:
        application_state = WebSocketState.CONNECTED
        close_code: int | None = None

        async def close(self, code: int, reason: str = "") -> None:
            self.close_code = code

    async def scenario() -> int | None:
        engine = SimpleNamespace(config=paper_test_config(), add_listener=lambda fn: None)
        hub = WebsocketHub(engine, core=None)  # type: ignore[arg-type]
        socket = NeverReadingSocket()
        conn = Connection(socket, "127.0.0.1")  # type: ignore[arg-type]
        topic = topic_of({"type": "trades", "coin": "ETH"})
        conn.topics[topic] = {}
        hub._subscribers[(topic.channel, topic.key)].add(conn)
        trade = [{"coin": "ETH", "px": "1", "sz": "1"}]
        for _ in range(SEND_QUEUE_SIZE + 1):  # nobody drains the queue
            hub._dispatch(Event("trades", "ETH", trade))
        await asyncio.sleep(0)  # let the scheduled close run
        await asyncio.sleep(0)
        return socket.close_code

    assert asyncio.run(scenario()) == 1008


def test_an_actions_answer_is_sent_before_its_websocket_pushes():
    """Hyperliquid does not hold an action's answer while it pushes the action's events; here the
    pushes ran first on the answer's own event loop, so a client that follows its own orders got
    every answer later than one that does not."""
    import eth_account
    from starlette.testclient import TestClient

    from hyperdesk.paper.clock import ManualClock
    from hyperdesk.paper.exchange import PaperExchange
    from hyperdesk.paper.server import create_paper_app
    from tests.paper.rawsign import l1_envelope, now_ms

    exchange = PaperExchange(paper_test_config(), ManualClock(start_ms=now_ms()))
    wallet = eth_account.Account.create()
    exchange.faucet(wallet.address.lower(), Decimal(100_000))
    app = create_paper_app(exchange)
    sent: list[str] = []  # what the server sent, in the order it sent it

    async def recording(scope, receive, send):
        async def record(message):
            if message["type"] == "http.response.body" and scope["path"] == "/exchange":
                sent.append("answer")
            elif message["type"] == "websocket.send" and message["text"].startswith(
                '{"channel":"orderUpdates"'
            ):
                sent.append("push")
            await send(message)

        await app(scope, receive, record)

    asset = next(
        i for i, m in enumerate(exchange.info({"type": "meta"})["universe"]) if m["name"] == "ETH"
    )
    order = {
        "type": "order",
        "orders": [
            {
                "a": asset,
                "b": True,
                "p": "1000",
                "s": "0.01",
                "r": False,
                "t": {"limit": {"tif": "Gtc"}},
            }
        ],
        "grouping": "na",
    }
    with TestClient(recording) as client, client.websocket_connect("/ws") as ws:
        assert ws.receive_text() == "Websocket connection established."
        ws.send_json(
            {
                "method": "subscribe",
                "subscription": {"type": "orderUpdates", "user": wallet.address},
            }
        )
        assert ws.receive_json()["channel"] == "subscriptionResponse"
        for _ in range(3):
            answer = client.post("/exchange", json=l1_envelope(wallet, order))
            assert answer.json()["response"]["data"]["statuses"][0]["resting"]
            assert ws.receive_json()["channel"] == "orderUpdates"
    assert sent == ["answer", "push"] * 3


def test_events_made_while_an_action_is_held_follow_its_events():
    """Holding one action's events must not reorder the stream: a tick's event made meanwhile
    waits behind them, and an action that fails lets its events go."""
    import asyncio
    from types import SimpleNamespace

    from starlette.websockets import WebSocketState

    from hyperdesk.paper.events import Event
    from hyperdesk.paper.ws import Connection, WebsocketHub, topic_of

    class Socket:
        application_state = WebSocketState.CONNECTED

    def trade(px: str) -> Event:
        return Event("trades", "ETH", [{"coin": "ETH", "px": px, "sz": "1"}])

    def queued(conn: Connection) -> list[str]:
        frames = []
        while not conn.queue.empty():
            frames.append(json.loads(conn.queue.get_nowait())["data"][0]["px"])
        return frames

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        engine = SimpleNamespace(config=paper_test_config(), add_listener=lambda fn: None)
        hub = WebsocketHub(engine, core=None)  # type: ignore[arg-type]
        hub.attach_to_running_loop()
        conn = Connection(Socket(), "127.0.0.1")  # type: ignore[arg-type]
        topic = topic_of({"type": "trades", "coin": "ETH"})
        conn.topics[topic] = {}
        hub._subscribers[(topic.channel, topic.key)].add(conn)

        with hub.answer_first() as release:
            await asyncio.to_thread(hub._on_engine_event, trade("1"))  # the action's own
        hub._on_engine_event(trade("2"))  # a tick, after it, not held
        await asyncio.sleep(0.01)
        while_held = queued(conn)
        release()
        after = queued(conn)

        def failing_action() -> None:
            with hub.answer_first():
                hub._on_engine_event(trade("3"))
                raise RuntimeError("the action failed")

        with pytest.raises(RuntimeError):
            failing_action()
        await asyncio.sleep(0.01)
        return while_held, after, queued(conn)

    while_held, after_release, after_failure = asyncio.run(scenario())
    assert while_held == []
    assert after_release == ["1", "2"]
    assert after_failure == ["3"]
