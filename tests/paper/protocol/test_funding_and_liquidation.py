"""Funding and liquidations over the wire: the unmodified SDK's info calls and the raw websocket
channels (``userFundings``, ``userEvents``), against a paper server on a ManualClock."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import websocket

from tests.fixtures.paper import paper_test_config

HOUR = 3_600_000


@pytest.fixture
def flat_paper(paper_server_factory):
    return paper_server_factory(paper_test_config(volatility_scale=0.0))


def _recv_channel(ws: websocket.WebSocket, channel: str, limit: int = 200) -> dict:
    for _ in range(limit):
        msg = json.loads(ws.recv())
        if msg.get("channel") == channel:
            return msg
    raise AssertionError(f"no {channel} frame")


def _subscribe(ws: websocket.WebSocket, subscription: dict) -> None:
    ws.send(json.dumps({"method": "subscribe", "subscription": subscription}))
    assert _recv_channel(ws, "subscriptionResponse")["data"]["subscription"] == subscription


def test_sdk_reads_funding_paid_by_a_position(flat_paper):
    wallet = flat_paper.new_wallet()
    exchange = flat_paper.sdk_exchange(wallet)
    info = flat_paper.info()
    assert exchange.market_open("ETH", True, 1.0)["status"] == "ok"
    flat_paper.exchange.set_basis("ETH", Decimal("0.003"))
    ws = websocket.create_connection(flat_paper.ws_url, timeout=5)
    try:
        assert ws.recv() == "Websocket connection established."
        user = wallet.address.lower()
        _subscribe(ws, {"type": "userFundings", "user": user})
        snapshot = _recv_channel(ws, "userFundings")["data"]
        assert snapshot == {"isSnapshot": True, "user": user, "fundings": []}
        _subscribe(ws, {"type": "userEvents", "user": user})
        now = flat_paper.clock.now_ms()
        flat_paper.advance(ms=(now // HOUR + 1) * HOUR - now)  # to the next funding time
        live = _recv_channel(ws, "userFundings")["data"]
        event = _recv_channel(ws, "user")["data"]
    finally:
        ws.close()
    [paid] = info.user_funding_history(wallet.address, 0)
    assert live == {"user": user, "fundings": [{"time": paid["time"], **{
        k: v for k, v in paid["delta"].items() if k != "type"}}]}  # fmt: skip
    assert event == {"funding": live["fundings"][0]}
    [record] = info.funding_history("ETH", 0)
    assert paid["delta"]["fundingRate"] == record["fundingRate"]
    oracle = flat_paper.exchange.oracle("ETH")
    expected = -(Decimal(1) * oracle * Decimal(record["fundingRate"])).quantize(Decimal("1e-6"))
    assert Decimal(paid["delta"]["usdc"]) == expected < 0
    position = info.user_state(wallet.address)["assetPositions"][0]["position"]
    assert Decimal(position["cumFunding"]["allTime"]) == -expected
    predicted = dict(info.post("/info", {"type": "predictedFundings"}))
    assert predicted["ETH"][0][1]["nextFundingTime"] == paid["time"] + HOUR
    ctx = info.meta_and_asset_ctxs()[1][1]
    assert Decimal(ctx["markPx"]) > 0
    assert ctx["oraclePx"] != ctx["midPx"]  # the basis: the book is over the oracle


def test_a_liquidation_reaches_the_sdk_in_hyperliquids_shapes(flat_paper):
    wallet = flat_paper.new_wallet(usd=1_000)
    exchange = flat_paper.sdk_exchange(wallet)
    info = flat_paper.info()
    assert exchange.market_open("ETH", True, 5.0)["status"] == "ok"  # ~$17.5k on $1k
    ws = websocket.create_connection(flat_paper.ws_url, timeout=5)
    try:
        assert ws.recv() == "Websocket connection established."
        user = wallet.address.lower()
        _subscribe(ws, {"type": "userEvents", "user": user})
        flat_paper.set_price("ETH", "3200")
        event = _recv_channel(ws, "user")["data"]
        while "liquidation" not in event:
            event = _recv_channel(ws, "user")["data"]
    finally:
        ws.close()
    assert set(event["liquidation"]) == {
        "lid",
        "liquidator",
        "liquidated_user",
        "liquidated_ntl_pos",
        "liquidated_account_value",
    }
    assert event["liquidation"]["liquidated_user"] == user
    state = info.user_state(wallet.address)
    assert state["assetPositions"] == []
    assert Decimal(state["marginSummary"]["accountValue"]) >= 0
    fills = [f for f in info.user_fills(wallet.address) if "liquidation" in f]
    assert fills
    assert fills[0]["liquidation"]["liquidatedUser"] == user
    ledger = info.post(
        "/info", {"type": "userNonFundingLedgerUpdates", "user": wallet.address, "startTime": 0}
    )
    assert [e["delta"]["leverageType"] for e in ledger if e["delta"]["type"] == "liquidation"] == [
        "Cross"
    ]
