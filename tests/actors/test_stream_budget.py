"""MarketStreamActor against the paper exchange's per-IP limits: market topics stay inside a budget
that keeps room for user data, and a wallet's mode says how its data really arrives.

The paper exchange enforces Hyperliquid's limits (subscriptions, distinct users per IP); these
tests lower them so a handful of subscriptions reproduces what 1000 would on the real exchange.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pykka
import pytest

from hyperdesk.actors.market_stream import (
    MarketStreamActor,
    OpenOrdersSnapshot,
    SubscriptionBudgetFull,
)
from hyperdesk.exchange.ws_client import Backoff
from tests.actors.test_market_stream import FAST, FillCollector, http_info, server_tids, trade
from tests.fixtures.paper import paper_test_config
from tests.helpers import wait_until


@pytest.fixture(autouse=True)
def _stop_actors() -> Iterator[None]:
    yield
    pykka.ActorRegistry.stop_all()


def _ignore(_data: Any) -> None:
    """A market subscriber that only holds its subscription open."""


def _acked(stream: Any) -> set[str]:
    return set(stream.status().get(timeout=5)["acked"])


def test_market_topics_stop_at_the_budget_and_users_still_stream(
    paper_server_factory: Any,
) -> None:
    # 10 subscriptions per IP, 2 streamed users with 3 channels each kept: 4 for the market.
    paper = paper_server_factory(paper_test_config(ws_max_subscriptions=10, ws_max_users=2))
    sink = FillCollector()
    orders: list[Any] = []
    stream = MarketStreamActor.start(
        paper.base_url, http_info(paper.base_url), fills_sink=sink,
        order_updates_sink=orders.append, max_ws_users=2, max_subscriptions=10,
        clock_ms=paper.clock.now_ms, **FAST,
    ).proxy()  # fmt: skip
    stream.subscribe({"type": "allMids"}, _ignore).get(timeout=5)
    first = stream.subscribe({"type": "l2Book", "coin": "BTC"}, _ignore).get(timeout=5)
    for coin in ("ETH", "SOL"):
        stream.subscribe({"type": "l2Book", "coin": coin}, _ignore).get(timeout=5)
    with pytest.raises(SubscriptionBudgetFull):
        stream.subscribe({"type": "l2Book", "coin": "HYPE"}, _ignore).get(timeout=5)
    # A topic already open upstream is shared, so it costs nothing; a freed one is reusable.
    shared = stream.subscribe({"type": "l2Book", "coin": "ETH"}, _ignore).get(timeout=5)
    assert stream.status().get(timeout=5)["subscriptions"] == 4
    stream.unsubscribe(first).get(timeout=5)
    stream.subscribe({"type": "l2Book", "coin": "HYPE"}, _ignore).get(timeout=5)
    stream.unsubscribe(shared).get(timeout=5)
    assert stream.status().get(timeout=5)["subscriptions"] == 4

    wallets = [paper.new_wallet() for _ in range(2)]
    addresses = [w.address.lower() for w in wallets]
    for address in addresses:
        stream.track_user(address, priority=1).get(timeout=5)
    wait_until(lambda: {f"userFills:{a}" for a in addresses} <= _acked(stream), 10)
    for wallet in wallets:
        trade(paper, paper.sdk_exchange(wallet))
    for address in addresses:
        wait_until(
            lambda address=address: (
                sink.tids(address) and sink.tids(address) == server_tids(paper.base_url, address)
            ),
            10,
        )
    assert stream.user_modes().get(timeout=5) == dict.fromkeys(addresses, "websocket")


def test_a_user_subscription_the_exchange_refuses_is_reported_and_served_as_polling(
    paper_server_factory: Any,
) -> None:
    # The exchange admits one user from this IP (another process may hold the others), while
    # the stream believes it may stream two: the second user's subscriptions are refused.
    paper = paper_server_factory(paper_test_config(ws_max_users=1))
    sink = FillCollector()
    orders: list[Any] = []
    stream = MarketStreamActor.start(
        paper.base_url, http_info(paper.base_url), fills_sink=sink,
        order_updates_sink=orders.append, max_ws_users=2, poll_interval=0.1,
        poll_weight_per_minute=60_000, clock_ms=paper.clock.now_ms, **FAST,
    ).proxy()  # fmt: skip
    first, second = paper.new_wallet(), paper.new_wallet()
    a, b = first.address.lower(), second.address.lower()
    stream.track_user(a, priority=2).get(timeout=5)
    wait_until(lambda: f"userFills:{a}" in _acked(stream), 10)
    stream.track_user(b, priority=1).get(timeout=5)

    wait_until(lambda: stream.user_modes().get(timeout=5)[b] == "polling", 10, message="B polls")
    assert stream.user_modes().get(timeout=5)[a] == "websocket"
    assert f"userFills:{b}" not in _acked(stream)
    # ...and polling really happens: B's fill and open orders arrive without a websocket.
    trade(paper, paper.sdk_exchange(second))
    wait_until(
        lambda: sink.tids(b) and sink.tids(b) == server_tids(paper.base_url, b), 10, message="fill"
    )
    wait_until(
        lambda: any(isinstance(o, OpenOrdersSnapshot) and o.account == b for o in orders), 10
    )


def test_a_lost_connection_is_reported_as_polling_and_polled_until_it_is_back(
    paper_server: Any,
) -> None:
    sink = FillCollector()
    # A 30 s reconnect delay keeps the stream down for the rest of the test.
    options = {**FAST, "backoff": Backoff(base=30.0, cap=30.0, jitter=0.0)}
    stream = MarketStreamActor.start(
        paper_server.base_url, http_info(paper_server.base_url), fills_sink=sink,
        order_updates_sink=lambda _message: None, poll_interval=0.1,
        poll_weight_per_minute=60_000, clock_ms=paper_server.clock.now_ms, **options,
    ).proxy()  # fmt: skip
    wallet = paper_server.new_wallet()
    address = wallet.address.lower()
    stream.track_user(address, priority=1).get(timeout=5)
    wait_until(lambda: stream.user_modes().get(timeout=5)[address] == "websocket", 10)
    wait_until(lambda: f"userFills:{address}" in _acked(stream), 10)

    paper_server.post("/_paper/drop_connections", {}).raise_for_status()
    wait_until(lambda: stream.user_modes().get(timeout=5)[address] == "polling", 10)
    assert not stream.status().get(timeout=5)["connected"]
    trade(paper_server, paper_server.sdk_exchange(wallet))
    wait_until(
        lambda: sink.tids(address) and sink.tids(address) == server_tids(
            paper_server.base_url, address
        ),
        10,
        message="the fill made while disconnected, by polling",
    )  # fmt: skip
