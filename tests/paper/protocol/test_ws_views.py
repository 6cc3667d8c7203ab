"""Websocket views recomputed from the engine: ``activeAssetCtx``, ``activeAssetData``,
``clearinghouseState`` and aggregated ``l2Book`` (``nSigFigs``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.helpers import wait_until
from tests.paper.protocol.test_ws import RawClient


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


def _subscribed(connect, url: str, subscription: dict[str, Any]) -> RawClient:
    client = connect(url)
    assert client.recv_text() == "Websocket connection established."
    client.send({"method": "subscribe", "subscription": subscription})
    ack = client.recv()
    assert ack == {
        "channel": "subscriptionResponse",
        "data": {"method": "subscribe", "subscription": subscription},
    }
    return client


def test_active_asset_ctx_pushes_the_perp_ctx_and_follows_ticks(paper_server):
    frames: list[dict[str, Any]] = []
    info = paper_server.info(skip_ws=False)
    info.subscribe({"type": "activeAssetCtx", "coin": "ETH"}, frames.append)
    wait_until(lambda: frames, message="first activeAssetCtx frame")
    first = frames[0]
    assert first["channel"] == "activeAssetCtx"
    assert first["data"]["coin"] == "ETH"
    ctxs = info.meta_and_asset_ctxs()[1]
    assert set(first["data"]["ctx"]) == set(ctxs[1])

    paper_server.exchange.set_price("ETH", Decimal(first["data"]["ctx"]["midPx"]) * 2)
    wait_until(lambda: len(frames) >= 2, message="activeAssetCtx after a price move")
    assert frames[-1]["data"]["ctx"]["midPx"] != first["data"]["ctx"]["midPx"]


def test_active_asset_ctx_of_a_spot_pair_comes_on_the_spot_channel(paper_server):
    frames: list[dict[str, Any]] = []
    info = paper_server.info(skip_ws=False)
    info.subscribe({"type": "activeAssetCtx", "coin": "PURR/USDC"}, frames.append)
    wait_until(lambda: frames, message="first activeSpotAssetCtx frame")
    assert frames[0]["channel"] == "activeSpotAssetCtx"
    assert frames[0]["data"]["ctx"]["coin"] == "PURR/USDC"


def test_active_asset_data_follows_the_users_trades(paper_server, funded_wallet):
    frames: list[dict[str, Any]] = []
    info = paper_server.info(skip_ws=False)
    subscription = {"type": "activeAssetData", "user": funded_wallet.address, "coin": "ETH"}
    info.subscribe(subscription, frames.append)  # type: ignore[arg-type]
    wait_until(lambda: frames, message="first activeAssetData frame")
    assert frames[0]["data"]["availableToTrade"] == ["2000000.0", "2000000.0"]

    exchange = paper_server.sdk_exchange(funded_wallet)
    assert exchange.market_open("ETH", True, 10.0)["status"] == "ok"

    wait_until(
        lambda: frames[-1]["data"]["availableToTrade"][0] != "2000000.0",
        message="activeAssetData after a fill",
    )
    buy, sell = (Decimal(a) for a in frames[-1]["data"]["availableToTrade"])
    assert sell > buy


def test_clearinghouse_state_is_pushed_on_change(paper_server, funded_wallet, connect):
    user = funded_wallet.address.lower()
    client = _subscribed(
        connect, paper_server.ws_url, {"type": "clearinghouseState", "user": funded_wallet.address}
    )
    first = client.recv_channel("clearinghouseState")["data"]
    assert (first["dex"], first["user"]) == ("", user)
    assert first["clearinghouseState"]["marginSummary"]["accountValue"] == "100000.0"

    paper_server.fund(funded_wallet.address, 50)

    later = client.recv_channel("clearinghouseState")["data"]
    assert later["clearinghouseState"]["marginSummary"]["accountValue"] == "100050.0"


def test_l2_book_subscription_with_n_sig_figs_is_aggregated(paper_server, connect):
    mid = Decimal(paper_server.info().all_mids()["ETH"])
    bucket = Decimal(10) ** (mid.adjusted() - 2 + 1)
    client = _subscribed(
        connect, paper_server.ws_url, {"type": "l2Book", "coin": "ETH", "nSigFigs": 2}
    )

    first = client.recv_channel("l2Book")["data"]
    paper_server.post("/_paper/tick", {"ms": 1_000})
    live = client.recv_channel("l2Book")["data"]

    for book in (first, live):
        for level in book["levels"][0] + book["levels"][1]:
            assert Decimal(level["px"]) % bucket == 0


@pytest.mark.parametrize(
    "subscription",
    [
        {"type": "l2Book", "coin": "ETH", "nSigFigs": 7},
        {"type": "activeAssetData", "user": "0x" + "a" * 40, "coin": "PURR/USDC"},
        {"type": "activeAssetCtx", "coin": "NOPE"},
        {"type": "clearinghouseState", "user": "0x" + "a" * 40, "dex": "xyz"},
    ],
    ids=lambda s: s["type"],
)
def test_views_that_cannot_be_made_are_invalid_subscriptions(paper_server, connect, subscription):
    client = connect(paper_server.ws_url)
    assert client.recv_text() == "Websocket connection established."
    client.send({"method": "subscribe", "subscription": subscription})
    msg = client.recv()
    assert msg["channel"] == "error"
    assert msg["data"].startswith("Invalid subscription")
