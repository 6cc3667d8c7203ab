"""MarketStreamActor: shared subscriptions, fills via stream/poll/backfill, the user budget.

Unit tests use a loopback double of the websocket protocol and an in-memory info fetcher; the
end-to-end tests run the real paper exchange with the unmodified SDK placing orders.
"""

from __future__ import annotations

import importlib.util
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pykka
import pytest
import requests

from hyperdesk.actors.market_stream import (
    MarketStreamActor,
    OpenOrdersSnapshot,
    OrderUpdates,
    StreamData,
    fetch_fills_since,
    freeze,
)
from hyperdesk.exchange.models import Fill
from hyperdesk.exchange.ws_client import Backoff
from tests.exchange.test_ws_client import FakeHyperliquidWs
from tests.helpers import wait_until

PAPER_READY = importlib.util.find_spec("hyperdesk.paper.exchange") is not None
needs_paper = pytest.mark.skipif(not PAPER_READY, reason="paper exchange engine not available")

FAST = {"backoff": Backoff(base=0.02, cap=0.2), "ping_interval": 5.0, "ack_grace": 0.5}


class FillCollector:
    """A fills sink that keeps one row per (account, tid) — like the database — and counts raw
    deliveries, so a test can show that replays are harmless."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[tuple[str, int], Fill] = {}
        self.deliveries = 0

    def __call__(self, account: str, fills: tuple[Fill, ...]) -> None:
        assert isinstance(fills, tuple)
        with self.lock:
            for fill in fills:
                assert fill.account == account
                self.deliveries += 1
                self.rows.setdefault((fill.account, fill.tid), fill)

    def tids(self, account: str) -> set[int]:
        with self.lock:
            return {tid for (acct, tid) in self.rows if acct == account.lower()}


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


def raw_fill(tid: int, time_ms: int, coin: str = "BTC") -> dict[str, Any]:
    return {
        "coin": coin, "px": "100.0", "sz": "0.1", "side": "B", "time": time_ms,
        "startPosition": "0.0", "dir": "Open Long", "closedPnl": "0.0", "hash": "0x00",
        "oid": tid * 10, "crossed": True, "fee": "0.01", "feeToken": "USDC", "tid": tid,
    }  # fmt: skip


class FakeInfo:
    """An in-memory ``info_fetcher``: fills per user, records every request body."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fills: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[dict[str, Any]] = []

    def __call__(self, body: dict[str, Any]) -> Any:
        with self.lock:
            self.requests.append(dict(body))
            if body["type"] == "userFillsByTime":
                rows = self.fills.get(body["user"].lower(), [])
                return [f for f in rows if f["time"] >= body["startTime"]]
            if body["type"] == "frontendOpenOrders":
                return []
        raise AssertionError(body)

    def of(self, kind: str, user: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                r
                for r in self.requests
                if r["type"] == kind and (user is None or r["user"] == user)
            ]


@pytest.fixture
def fake_ws() -> Iterator[FakeHyperliquidWs]:
    server = FakeHyperliquidWs()
    yield server
    pykka.ActorRegistry.stop_all()  # before the server goes, so nobody reconnects to nothing
    server.close()


# --- unit tests against the protocol double ----------------------------------------------------


def test_subscribers_of_one_subscription_share_one_upstream_subscription(
    fake_ws: FakeHyperliquidWs,
) -> None:
    stream = MarketStreamActor.start(fake_ws.base_url, FakeInfo(), **FAST).proxy()
    got_a: list[StreamData] = []
    got_b: list[StreamData] = []
    id_a = stream.subscribe({"type": "allMids"}, got_a.append).get(timeout=5)
    id_b = stream.subscribe({"type": "allMids"}, got_b.append).get(timeout=5)
    wait_until(lambda: "allMids" in stream.status().get(timeout=5)["acked"])
    assert len(fake_ws.sent("subscribe")) == 1

    fake_ws.broadcast({"channel": "allMids", "data": {"mids": {"BTC": "1.5"}}})
    wait_until(lambda: got_a and got_b)
    assert got_a[0].subscription_id == id_a
    assert got_b[0].subscription_id == id_b
    assert got_a[0].data["mids"]["BTC"] == "1.5"
    with pytest.raises(TypeError):
        got_a[0].data["mids"]["BTC"] = "2"  # frozen: one subscriber cannot change another's

    assert stream.unsubscribe(id_a).get(timeout=5)
    assert fake_ws.sent("unsubscribe") == []  # id_b still listens
    assert stream.unsubscribe(id_b).get(timeout=5)
    wait_until(lambda: len(fake_ws.sent("unsubscribe")) == 1)


def test_actor_subscriber_is_told_stream_data(fake_ws: FakeHyperliquidWs) -> None:
    received = threading.Event()
    seen: list[StreamData] = []

    class Listener(pykka.ThreadingActor):
        def on_receive(self, message: Any) -> None:
            seen.append(message)
            received.set()

    listener = Listener.start()
    stream = MarketStreamActor.start(fake_ws.base_url, FakeInfo(), **FAST).proxy()
    stream.subscribe({"type": "l2Book", "coin": "ETH"}, listener).get(timeout=5)
    wait_until(lambda: stream.status().get(timeout=5)["acked"])
    fake_ws.broadcast({"channel": "l2Book", "data": {"coin": "ETH", "time": 1, "levels": [[], []]}})
    fake_ws.broadcast({"channel": "l2Book", "data": {"coin": "BTC", "time": 1, "levels": [[], []]}})
    assert received.wait(5)
    wait_until(lambda: seen)
    assert all(m.data["coin"] == "ETH" for m in seen)


def test_user_channels_go_through_track_user(fake_ws: FakeHyperliquidWs) -> None:
    stream = MarketStreamActor.start(fake_ws.base_url, FakeInfo(), **FAST).proxy()
    with pytest.raises(ValueError, match="track_user"):
        stream.subscribe({"type": "userFills", "user": "0xabc"}, print).get(timeout=5)


def test_budget_puts_top_priorities_on_the_websocket_and_polls_the_rest(
    fake_ws: FakeHyperliquidWs,
) -> None:
    info = FakeInfo()
    sink = FillCollector()
    info.fills["0xc"] = [raw_fill(1, 1_000), raw_fill(2, 2_000)]
    stream = MarketStreamActor.start(
        fake_ws.base_url, info, fills_sink=sink, max_ws_users=2, poll_interval=0.05,
        poll_weight_per_minute=60_000,
        clock_ms=lambda: 10_000, backfill_margin_ms=9_500, **FAST,
    ).proxy()  # fmt: skip
    stream.track_user("0xA", priority=5).get(timeout=5)
    stream.track_user("0xB", priority=1).get(timeout=5)
    stream.track_user("0xC", priority=0).get(timeout=5)
    assert stream.user_modes().get(timeout=5) == {
        "0xa": "websocket", "0xb": "websocket", "0xc": "polling",
    }  # fmt: skip
    wait_until(lambda: sink.tids("0xc") == {1, 2})
    # Polling goes on from the last seen fill; a new fill arrives once.
    info.fills["0xc"].append(raw_fill(3, 3_000))
    wait_until(lambda: sink.tids("0xc") == {1, 2, 3})
    wait_until(lambda: len(info.of("userFillsByTime", "0xc")) >= 4)
    assert info.of("userFillsByTime", "0xc")[-1]["startTime"] >= 3_000 - 2_000
    assert sink.deliveries == 3

    # Raising C's priority moves it to the websocket and demotes the lowest (B).
    stream.track_user("0xc", priority=9).get(timeout=5)
    assert stream.user_modes().get(timeout=5) == {
        "0xa": "websocket", "0xb": "polling", "0xc": "websocket",
    }  # fmt: skip
    wait_until(lambda: {"type": "userFills", "user": "0xb"} in [
        m["subscription"] for m in fake_ws.sent("unsubscribe")
    ])  # fmt: skip
    wait_until(lambda: {"type": "userFills", "user": "0xc"} in [
        m["subscription"] for m in fake_ws.sent("subscribe")
    ])  # fmt: skip
    unsub_at = fake_ws.received.index(
        {"method": "unsubscribe", "subscription": {"type": "userFills", "user": "0xb"}}
    )
    sub_c_at = fake_ws.received.index(
        {"method": "subscribe", "subscription": {"type": "userFills", "user": "0xc"}}
    )
    assert unsub_at < sub_c_at  # never more than the limit on the server
    # Untracking A lets B back onto the websocket.
    stream.untrack_user("0xa").get(timeout=5)
    assert stream.user_modes().get(timeout=5) == {"0xb": "websocket", "0xc": "websocket"}


def test_stream_fills_are_filtered_and_a_reconnect_backfills_from_the_gap_start(
    fake_ws: FakeHyperliquidWs,
) -> None:
    info = FakeInfo()
    sink = FillCollector()
    now = [50_000]
    stream = MarketStreamActor.start(
        fake_ws.base_url, info, fills_sink=sink, clock_ms=lambda: now[0],
        backfill_margin_ms=1_000, poll_interval=60, **FAST,
    ).proxy()  # fmt: skip
    stream.track_user("0xA", priority=1).get(timeout=5)
    wait_until(lambda: "userFills:0xa" in stream.status().get(timeout=5)["acked"])
    snapshot = {"user": "0xa", "isSnapshot": True, "fills": [raw_fill(1, 40_000)]}
    fake_ws.broadcast({"channel": "userFills", "data": snapshot})
    fake_ws.broadcast({"channel": "userFills", "data": snapshot})  # a replay: filtered
    fake_ws.broadcast(
        {"channel": "userFills", "data": {"user": "0xa", "fills": [raw_fill(2, 49_000)]}}
    )
    wait_until(lambda: sink.tids("0xa") == {1, 2})
    assert sink.deliveries == 2

    now[0] = 60_000
    info.fills["0xa"] = [raw_fill(2, 49_000), raw_fill(3, 55_000)]  # 3 happened while down
    fake_ws.drop_all()
    wait_until(lambda: stream.status().get(timeout=5)["reconnects"] == 1)
    wait_until(lambda: sink.tids("0xa") == {1, 2, 3})
    backfill = info.of("userFillsByTime", "0xa")[-1]
    assert backfill["startTime"] <= 50_000 - 1_000  # gap start (last frame) minus margin
    assert sink.deliveries == 3


def test_order_updates_use_a_connection_per_websocket_user(fake_ws: FakeHyperliquidWs) -> None:
    updates: list[Any] = []
    stream = MarketStreamActor.start(
        fake_ws.base_url, FakeInfo(), order_updates_sink=updates.append, **FAST
    ).proxy()
    stream.track_user("0xA", priority=1).get(timeout=5)
    wait_until(lambda: any(isinstance(u, OpenOrdersSnapshot) for u in updates))
    wait_until(lambda: len(fake_ws.connections) == 2)
    wait_until(lambda: {"type": "orderUpdates", "user": "0xa"} in [
        m["subscription"] for m in fake_ws.sent("subscribe")
    ])  # fmt: skip


def test_fetch_fills_since_pages_forward_by_time() -> None:
    calls: list[int] = []
    rows = [raw_fill(i, 1_000 + i) for i in range(7)]

    def fetch(body: dict[str, Any]) -> list[dict[str, Any]]:
        calls.append(body["startTime"])
        return [r for r in rows if r["time"] >= body["startTime"]][:3]

    got = fetch_fills_since(fetch, "0xa", 0, page_size=3)
    assert {f["tid"] for f in got} == set(range(7))
    assert calls == [0, 1_002, 1_004, 1_006]


def test_freeze_makes_json_immutable() -> None:
    frozen = freeze({"a": [1, {"b": 2}]})
    assert frozen["a"][1]["b"] == 2
    assert isinstance(frozen["a"], tuple)
    assert OrderUpdates("0xa", frozen["a"]).updates[0] == 1


# --- end to end on the paper exchange with the unmodified SDK ---------------------------------


def http_info(base_url: str):
    def fetch(body: dict[str, Any]) -> Any:
        response = requests.post(base_url + "/info", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    return fetch


def trade(paper: Any, exchange: Any, *, is_buy: bool = True) -> None:
    result = exchange.market_open("BTC", is_buy, 0.01)
    assert result["status"] == "ok", result
    statuses = result["response"]["data"]["statuses"]
    assert "filled" in statuses[0], statuses
    paper.advance(ms=250)


def server_tids(base_url: str, address: str) -> set[int]:
    fills = http_info(base_url)({"type": "userFills", "user": address})
    return {int(f["tid"]) for f in fills}


@needs_paper
def test_acks_and_mids_arrive_from_the_paper_exchange(paper_server: Any) -> None:
    mids: list[StreamData] = []
    stream = MarketStreamActor.start(
        paper_server.base_url, http_info(paper_server.base_url), **FAST
    ).proxy()
    stream.subscribe({"type": "allMids"}, mids.append).get(timeout=5)
    wait_until(lambda: "allMids" in stream.status().get(timeout=5)["acked"], timeout=10)
    paper_server.advance(ms=1_000)
    wait_until(lambda: mids, timeout=10)
    assert "BTC" in mids[-1].data["mids"]


@needs_paper
def test_fills_stream_and_a_dropped_websocket_is_backfilled_exactly_once(
    paper_server: Any,
) -> None:
    wallet = paper_server.new_wallet()
    address = wallet.address.lower()
    exchange = paper_server.sdk_exchange(wallet)
    sink = FillCollector()
    # A fixed 1 s reconnect delay leaves a window to trade in while the websocket is down.
    options = {**FAST, "backoff": Backoff(base=1.0, cap=1.0, jitter=0.0)}
    stream = MarketStreamActor.start(
        paper_server.base_url, http_info(paper_server.base_url), fills_sink=sink,
        clock_ms=paper_server.clock.now_ms, poll_interval=60, **options,
    ).proxy()  # fmt: skip
    assert stream.track_user(address, priority=1).get(timeout=5) == "websocket"
    wait_until(lambda: f"userFills:{address}" in stream.status().get(timeout=5)["acked"], 10)

    trade(paper_server, exchange)
    wait_until(lambda: sink.tids(address) == server_tids(paper_server.base_url, address), 10)
    assert sink.tids(address)

    # Drop every websocket and keep trading while the client is reconnecting. The
    # ticker-less paper server pushes fills only to live connections, so those fills
    # reach us only through the snapshot on resubscribe or the userFillsByTime backfill.
    before_drop = sink.tids(address)
    paper_server.post("/_paper/drop_connections", {}).raise_for_status()
    wait_until(lambda: not stream.status().get(timeout=5)["connected"], 5)
    for _ in range(3):
        trade(paper_server, exchange, is_buy=False)
        trade(paper_server, exchange, is_buy=True)
    assert not stream.status().get(timeout=5)["connected"]  # all six traded during the gap
    gap_fills = server_tids(paper_server.base_url, address) - before_drop
    assert len(gap_fills) == 6
    wait_until(lambda: stream.status().get(timeout=5)["reconnects"] >= 1, 10)
    wait_until(lambda: f"userFills:{address}" in stream.status().get(timeout=5)["acked"], 10)
    wait_until(lambda: gap_fills <= sink.tids(address), 10)  # backfilled
    trade(paper_server, exchange)

    expected = server_tids(paper_server.base_url, address)
    assert len(expected) >= 8
    wait_until(lambda: sink.tids(address) == expected, 10)
    counts = Counter(acct for acct, _tid in sink.rows)
    assert counts[address] == len(expected)  # each fill exactly once after dedupe
    assert sink.deliveries >= len(expected)  # replays, if any, were harmless


@needs_paper
def test_budget_of_two_polls_the_third_user_and_priority_moves_it_to_the_websocket(
    paper_server_factory: Any,
) -> None:
    from hyperdesk.paper.config import PaperConfig

    paper = paper_server_factory(PaperConfig(seed=1, ws_max_users=2))
    wallets = [paper.new_wallet() for _ in range(3)]
    a, b, c = (w.address.lower() for w in wallets)
    sink = FillCollector()
    stream = MarketStreamActor.start(
        paper.base_url, http_info(paper.base_url), fills_sink=sink, max_ws_users=2,
        poll_interval=0.1, poll_weight_per_minute=60_000, clock_ms=paper.clock.now_ms, **FAST,
    ).proxy()  # fmt: skip
    stream.track_user(a, priority=3).get(timeout=5)
    stream.track_user(b, priority=2).get(timeout=5)
    stream.track_user(c, priority=1).get(timeout=5)
    assert stream.user_modes().get(timeout=5) == {a: "websocket", b: "websocket", c: "polling"}
    wait_until(lambda: {f"userFills:{a}", f"userFills:{b}"} <= set(
        stream.status().get(timeout=5)["acked"]
    ), 10)  # fmt: skip

    for wallet in wallets:
        trade(paper, paper.sdk_exchange(wallet))
    for address in (a, b, c):
        wait_until(lambda address=address: sink.tids(address) == server_tids(
            paper.base_url, address
        ) and sink.tids(address), 10)  # fmt: skip

    # C's wallet starts a bot: it takes B's websocket slot within the server's limit of 2.
    stream.track_user(c, priority=10).get(timeout=5)
    assert stream.user_modes().get(timeout=5) == {a: "websocket", b: "polling", c: "websocket"}
    wait_until(lambda: f"userFills:{c}" in stream.status().get(timeout=5)["acked"], 10)
    for wallet in wallets:
        trade(paper, paper.sdk_exchange(wallet), is_buy=False)
    for address in (a, b, c):
        wait_until(lambda address=address: sink.tids(address) == server_tids(
            paper.base_url, address
        ), 10)  # fmt: skip
        assert len(sink.tids(address)) >= 2
