"""`/api/ws` under abuse: one user's sockets and topics cannot use up the exchange's websocket
budget that every user's fills and books depend on (review finding 5).

The app runs on its production Runtime against a real paper exchange, which enforces
Hyperliquid's per-IP limits (1000 subscriptions, 10 users); browsers are TestClient sockets.
"""

from __future__ import annotations

import contextlib
import json
import queue
import signal
import subprocess
import threading
from typing import Any

import pytest
import requests
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.helpers import wait_until
from tests.test_serve import _request, _start

ATTACK_SOCKETS = 21
TOPICS_PER_SOCKET = 50
# Real markets the attacker mixes in. Not ETH: the victim's book must need its own upstream
# subscription, which is what a full budget used to refuse silently.
REAL_COINS = ("BTC", "SOL", "HYPE", "DOGE", "PURR/USDC", "@1")


class SocketReader:
    """Reads a TestClient websocket on a thread, so a test can wait for a frame with a deadline
    (TestClient's own receive has no timeout)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(Exception):  # the socket closes at the end of the test
            while True:
                self.frames.put(self.ws.receive_json())

    def find(self, predicate: Any) -> dict[str, Any] | None:
        while True:
            try:
                self.seen.append(self.frames.get_nowait())
            except queue.Empty:
                break
        return next((f for f in self.seen if predicate(f)), None)


def _replies(ws: Any, count: int) -> list[dict[str, Any]]:
    """The next `count` answers to subscribe messages (book frames may come in between)."""
    replies: list[dict[str, Any]] = []
    for _ in range(count * 20):
        message = ws.receive_json()
        if message["channel"] in ("subscribed", "error"):
            replies.append(message)
            if len(replies) == count:
                return replies
    raise AssertionError(f"only {len(replies)} of {count} answers")


def _wallet_with_funds(client: Any, user: Any) -> dict[str, Any]:
    response = client.post("/api/wallets", json={"label": "main"}, headers=user.headers)
    assert response.status_code == 201, response.text
    wallet = response.json()
    response = client.post(
        f"/api/wallets/{wallet['id']}/faucet", json={"amount": "100000"}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    return wallet


def _stream_mode(client: Any, user: Any, wallet: dict[str, Any]) -> str | None:
    response = client.get(f"/api/wallets/{wallet['id']}/account", headers=user.headers)
    return response.json()["stream_mode"]


def test_21_sockets_of_one_user_cannot_degrade_another_users_stream(
    client, alice, bob, paper_server, services
):
    opened = refused = 0
    answers: list[dict[str, Any]] = []
    with contextlib.ExitStack() as attacker:
        for i in range(ATTACK_SOCKETS):
            ws = attacker.enter_context(client.websocket_connect(f"/api/ws?token={alice.token}"))
            first = ws.receive_json()
            if first["channel"] != "ready":
                assert first["data"]["code"] == "TOO_MANY_SOCKETS", first
                with pytest.raises(WebSocketDisconnect) as closed:
                    ws.receive_json()
                assert closed.value.code == 4429
                refused += 1
                continue
            opened += 1
            # 1050 distinct books in all, as in the review: more than the exchange's 1000.
            real = REAL_COINS if i == 0 else ()
            made_up = [f"X{i}Y{j}" for j in range(TOPICS_PER_SOCKET - len(real))]
            coins = [*made_up, *real]
            for coin in coins:
                ws.send_json({"op": "subscribe", "channel": "book", "coin": coin})
            answers += _replies(ws, len(coins))

        limit = services.settings.live_sockets_per_user
        assert (opened, refused) == (limit, ATTACK_SOCKETS - limit)
        subscribed = {a["data"]["topic"] for a in answers if a["channel"] == "subscribed"}
        assert subscribed == {f"book:{c}" for c in REAL_COINS}
        assert {a["data"]["code"] for a in answers if a["channel"] == "error"} == {"UNKNOWN_COIN"}
        # At the exchange, the attacker's books are one shared subscription per real market
        # (plus the desk's allMids): nothing for made-up coins, nothing per socket.
        health = requests.get(paper_server.base_url + "/_paper/health", timeout=10).json()
        assert health["subscriptions"] <= 1 + len(REAL_COINS)

        # Bob, meanwhile: his wallet streams, his book arrives, his fill is pushed.
        wallet = _wallet_with_funds(client, bob)
        account = wallet["account_address"]
        wait_until(
            lambda: f"userFills:{account}" in services.stream.status().get(timeout=5)["acked"],
            timeout=15,
            message="the exchange acknowledged bob's userFills",
        )
        assert _stream_mode(client, bob, wallet) == "websocket"
        with client.websocket_connect(f"/api/ws?token={bob.token}") as bob_ws:
            assert bob_ws.receive_json()["channel"] == "ready"
            bob_ws.send_json({"op": "subscribe", "channel": "book", "coin": "ETH"})
            reader = SocketReader(bob_ws)
            wait_until(lambda: reader.find(lambda f: f["channel"] == "subscribed"), timeout=10)
            paper_server.set_price("ETH", "3450")
            wait_until(
                lambda: reader.find(
                    lambda f: f["channel"] == "book" and f["data"]["coin"] == "ETH"
                ),
                timeout=15,
                message="a book:ETH frame for bob",
            )
            order = {
                "wallet_id": wallet["id"], "coin": "ETH", "side": "buy", "type": "market",
                "size": "0.1",
            }  # fmt: skip
            placed = client.post("/api/orders", json=order, headers=bob.headers)
            assert placed.json()["status"] == "filled", placed.text
            fills = wait_until(
                lambda: reader.find(lambda f: f["channel"] == "fills"),
                timeout=15,
                message="bob's fill pushed on his socket",
            )
            assert fills["data"][0]["wallet_id"] == wallet["id"]
            assert _stream_mode(client, bob, wallet) == "websocket"
            assert f"userFills:{account}" in services.stream.status().get(timeout=5)["acked"]


def test_a_book_for_a_coin_that_is_no_market_is_refused_and_subscribes_nothing(
    client, alice, services
):
    before = services.stream.status().get(timeout=5)["subscriptions"]
    with client.websocket_connect(f"/api/ws?token={alice.token}") as ws:
        assert ws.receive_json()["channel"] == "ready"
        ws.send_json({"op": "subscribe", "channel": "book", "coin": "NOPE"})
        assert ws.receive_json() == {
            "channel": "error",
            "data": {"code": "UNKNOWN_COIN", "message": "No market named 'NOPE'."},
        }
        assert services.stream.status().get(timeout=5)["subscriptions"] == before
        ws.send_json({"op": "unsubscribe", "channel": "book", "coin": "NOPE"})
        assert ws.receive_json()["channel"] == "unsubscribed"  # nothing to release


def test_a_full_stream_answers_stream_busy_instead_of_a_silent_ack(
    client, alice, services, monkeypatch
):
    from hyperdesk.actors.market_stream import SubscriptionBudgetFull

    class FullStream:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def subscribe(self, *_args: Any) -> Any:
            raise SubscriptionBudgetFull("all 0 market subscriptions are in use")

    real = services.market.stream
    monkeypatch.setattr(services.market, "stream", FullStream())
    with client.websocket_connect(f"/api/ws?token={alice.token}") as ws:
        assert ws.receive_json()["channel"] == "ready"
        ws.send_json({"op": "subscribe", "channel": "book", "coin": "ETH"})
        reply = ws.receive_json()
        assert (reply["channel"], reply["data"]["code"]) == ("error", "STREAM_BUSY")


def test_messages_over_4_kib_of_utf8_are_refused(client, alice):
    with client.websocket_connect(f"/api/ws?token={alice.token}") as ws:
        assert ws.receive_json()["channel"] == "ready"
        # 2,000 characters, 6,000 bytes: the server's frame limit counts bytes, so does the app.
        ws.send_text(json.dumps({"op": "ping", "pad": "€" * 2000}, ensure_ascii=False))
        assert ws.receive_json()["data"]["code"] == "TOO_LARGE"


def test_the_server_closes_websocket_frames_larger_than_the_app_accepts(tmp_path):
    process, base = _start(tmp_path, f"sqlite:///{tmp_path / 'hyperdesk.db'}")
    try:
        wait_until(lambda: _request(f"{base}/api/health")[0] == 200, timeout=60, message="health")
        url = base.replace("http", "ws", 1) + "/api/ws"
        with connect(url, open_timeout=10, close_timeout=2) as ws:
            ws.send("x" * 16 * 1024)
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)  # the old server answered TOO_LARGE after buffering it all
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009  # message too big: refused before the app
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
