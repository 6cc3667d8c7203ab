"""Hyperliquid's per-address action budget, switched on (``address_rate_limit``) with a small
buffer so the SDK reaches it in a few actions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hyperdesk.paper.config import PaperConfig
from tests.fixtures.paper import PaperHandle, paper_test_config

BUFFER = 2


@pytest.fixture
def paper_config() -> PaperConfig:
    return paper_test_config(address_rate_limit=True, address_rate_limit_buffer=BUFFER)


def _resting_buy(paper: PaperHandle, wallet) -> dict:
    px = float(int(Decimal(paper.info().all_mids()["ETH"]) * Decimal("0.9")))
    return paper.sdk_exchange(wallet).order("ETH", True, 0.01, px, {"limit": {"tif": "Gtc"}})


def test_actions_over_the_budget_are_refused_then_throttled(paper_server, funded_wallet):
    first = _resting_buy(paper_server, funded_wallet)
    assert first["status"] == "ok"
    assert _resting_buy(paper_server, funded_wallet)["status"] == "ok"

    refused = _resting_buy(paper_server, funded_wallet)

    assert refused == {
        "status": "err",
        "response": "Too many cumulative requests sent (3 > 2) for cumulative volume traded "
        "$0.00. Place taker orders to free up 1 request per USDC traded.",
    }
    limit = paper_server.info().user_rate_limit(funded_wallet.address)
    assert (limit["nRequestsUsed"], limit["nRequestsCap"]) == (2, BUFFER)
    # Cancels have a larger budget: the user can always leave the book.
    oid = first["response"]["data"]["statuses"][0]["resting"]["oid"]
    assert paper_server.sdk_exchange(funded_wallet).cancel("ETH", oid)["status"] == "ok"
    # Once spent, one action every 10 seconds still goes through.
    paper_server.post("/_paper/tick", {"ms": 10_000}, timeout=60)
    assert _resting_buy(paper_server, funded_wallet)["status"] == "ok"
    assert _resting_buy(paper_server, funded_wallet)["status"] == "err"


def test_traded_volume_buys_more_requests(paper_server, funded_wallet):
    exchange = paper_server.sdk_exchange(funded_wallet)
    assert exchange.market_open("ETH", True, 0.1)["status"] == "ok"  # ~350 USDC traded

    for _ in range(5):
        assert _resting_buy(paper_server, funded_wallet)["status"] == "ok"

    limit = paper_server.info().user_rate_limit(funded_wallet.address)
    assert limit["nRequestsCap"] == BUFFER + int(Decimal(limit["cumVlm"]))
    assert limit["nRequestsUsed"] == 6


def test_the_budget_only_counts_when_switched_off(paper_server_factory):
    paper = paper_server_factory(paper_test_config(address_rate_limit_buffer=BUFFER))
    wallet = paper.new_wallet()
    for _ in range(BUFFER + 2):
        assert _resting_buy(paper, wallet)["status"] == "ok"
    assert paper.info().user_rate_limit(wallet.address)["nRequestsUsed"] == BUFFER + 2
