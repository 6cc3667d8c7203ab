"""Every ``/info`` call the unmodified SDK wraps answers in Hyperliquid's shape (never 422), and the
answers the paper exchange computes (activeAssetData, aggregated books and fills) are right."""

from __future__ import annotations

import inspect
from decimal import ROUND_FLOOR, Decimal

import pytest
from hyperliquid.info import Info
from hyperliquid.utils.types import Cloid

from tests.fixtures.paper import PaperHandle

STRANGER = "0x" + "5" * 40


def _sdk_info_methods() -> set[str]:
    """Public ``Info`` methods whose body posts to ``/info`` (what the SDK wraps)."""
    names = set()
    for name, fn in inspect.getmembers(Info, inspect.isfunction):
        if name.startswith("_"):
            continue
        if '"/info"' in inspect.getsource(fn):
            names.add(name)
    return names


def _calls(paper: PaperHandle, user: str) -> dict[str, tuple]:
    now = paper.clock.now_ms()
    return {
        "user_state": (user,),
        "spot_user_state": (user,),
        "open_orders": (user,),
        "frontend_open_orders": (user,),
        "all_mids": (),
        "user_fills": (user,),
        "user_fills_by_time": (user, 0),
        "meta": (),
        "meta_and_asset_ctxs": (),
        "perp_dexs": (),
        "spot_meta": (),
        "spot_meta_and_asset_ctxs": (),
        "funding_history": ("ETH", now - 3_600_000),
        "user_funding_history": (user, 0),
        "l2_snapshot": ("ETH",),
        "candles_snapshot": ("ETH", "1m", now - 600_000, now),
        "user_fees": (user,),
        "user_staking_summary": (user,),
        "user_staking_delegations": (user,),
        "user_staking_rewards": (user,),
        "delegator_history": (user,),
        "query_order_by_oid": (user, 1),
        "query_order_by_cloid": (user, Cloid.from_int(7)),
        "query_referral_state": (user,),
        "query_sub_accounts": (user,),
        "query_user_to_multi_sig_signers": (user,),
        "query_perp_deploy_auction_status": (),
        "query_user_dex_abstraction_state": (user,),
        "query_user_abstraction_state": (user,),
        "historical_orders": (user,),
        "user_non_funding_ledger_updates": (user, 0),
        "portfolio": (user,),
        "user_twap_slice_fills": (user,),
        "user_vault_equities": (user,),
        "user_role": (user,),
        "user_rate_limit": (user,),
        "query_spot_deploy_auction_status": (user,),
        "extra_agents": (user,),
    }


@pytest.mark.parametrize("who", ["funded", "stranger"])
def test_every_info_call_the_sdk_wraps_answers(paper_server, funded_wallet, who):
    info = paper_server.info()
    user = funded_wallet.address if who == "funded" else STRANGER
    calls = _calls(paper_server, user)
    assert set(calls) == _sdk_info_methods(), "the SDK wraps an info type this test does not call"

    for name, args in calls.items():
        getattr(info, name)(*args)  # a 422 would raise ClientError


def test_features_the_paper_exchange_lacks_answer_as_for_an_account_that_never_used_them(
    paper_server, funded_wallet
):
    info = paper_server.info()
    user = funded_wallet.address
    assert info.query_sub_accounts(user) is None
    assert info.query_user_to_multi_sig_signers(user) is None
    assert info.user_twap_slice_fills(user) == []
    assert info.query_user_abstraction_state(user) == "default"
    referral = info.query_referral_state(user)
    assert referral["referredBy"] is None
    assert referral["referrerState"] == {"stage": "needToTrade", "data": {"required": "10000.0"}}
    auction = info.query_perp_deploy_auction_status()
    assert set(auction) == {
        "startTimeSeconds",
        "durationSeconds",
        "startGas",
        "currentGas",
        "endGas",
    }
    assert info.query_spot_deploy_auction_status(user)["states"] == []
    assert info.post("/info", {"type": "maxBuilderFee", "user": user, "builder": STRANGER}) == 0


def test_active_asset_data_shows_leverage_and_room_each_side(paper_server, funded_wallet):
    info = paper_server.info()
    body = {"type": "activeAssetData", "user": funded_wallet.address, "coin": "ETH"}

    flat = info.post("/info", body)

    mark = Decimal(flat["markPx"])
    assert flat["user"] == funded_wallet.address.lower()
    assert flat["coin"] == "ETH"
    assert flat["leverage"] == {"type": "cross", "value": 20}
    assert flat["availableToTrade"] == ["2000000.0", "2000000.0"]  # 100 000 USDC at 20x
    size = (Decimal(2_000_000) / mark).quantize(Decimal("0.0001"), rounding=ROUND_FLOOR)
    assert [Decimal(s) for s in flat["maxTradeSzs"]] == [size, size]

    exchange = paper_server.sdk_exchange(funded_wallet)
    assert exchange.market_open("ETH", True, 10.0)["status"] == "ok"
    long = info.post("/info", body)
    buy, sell = (Decimal(a) for a in long["availableToTrade"])
    assert sell > buy  # selling first closes the long
    assert buy < Decimal(2_000_000)


@pytest.mark.parametrize("coin", ["PURR/USDC", "NOPE"])
def test_active_asset_data_is_for_perps_only(paper_server, funded_wallet, coin):
    body = {"type": "activeAssetData", "user": funded_wallet.address, "coin": coin}
    assert paper_server.post("/info", body).status_code == 422


def _full_depth_bids(paper: PaperHandle, coin: str) -> list[dict]:
    return paper.info().post("/info", {"type": "l2Book", "coin": coin})["levels"][0]


def test_l2_book_with_n_sig_figs_aggregates_levels(paper_server):
    info = paper_server.info()
    mid = Decimal(info.all_mids()["ETH"])
    bucket = Decimal(10) ** (mid.adjusted() - 2 + 1)  # two significant figures
    full = _full_depth_bids(paper_server, "ETH")

    book = info.post("/info", {"type": "l2Book", "coin": "ETH", "nSigFigs": 2})

    bids, asks = book["levels"]
    assert bids
    assert asks
    for level in bids + asks:
        assert Decimal(level["px"]) % bucket == 0
    assert Decimal(bids[0]["px"]) <= Decimal(full[0]["px"]) < Decimal(asks[0]["px"])
    assert len(bids) < len(full)  # 20 levels 5 bp apart fall into a few buckets
    assert sum(level["n"] for level in bids) >= sum(level["n"] for level in full)


def test_l2_book_mantissa_sets_the_bucket_at_five_significant_figures(paper_server):
    info = paper_server.info()
    mid = Decimal(info.all_mids()["BTC"])
    bucket = 5 * Decimal(10) ** (mid.adjusted() - 5 + 1)

    book = info.post("/info", {"type": "l2Book", "coin": "BTC", "nSigFigs": 5, "mantissa": 5})

    for level in book["levels"][0] + book["levels"][1]:
        assert Decimal(level["px"]) % bucket == 0


@pytest.mark.parametrize(
    "extra", [{"nSigFigs": 1}, {"nSigFigs": "3"}, {"nSigFigs": 3, "mantissa": 2}, {"mantissa": 5}]
)
def test_l2_book_refuses_aggregation_hyperliquid_refuses(paper_server, extra):
    assert paper_server.post("/info", {"type": "l2Book", "coin": "ETH", **extra}).status_code == 422


def test_aggregate_by_time_merges_the_partial_fills_of_one_order(paper_server, funded_wallet):
    exchange = paper_server.sdk_exchange(funded_wallet)
    assert exchange.market_open("ETH", True, 40.0)["status"] == "ok"  # sweeps several levels
    info = paper_server.info()
    user = funded_wallet.address

    partial = info.user_fills(user)
    merged = info.post("/info", {"type": "userFills", "user": user, "aggregateByTime": True})
    by_time = info.post(
        "/info", {"type": "userFillsByTime", "user": user, "startTime": 0, "aggregateByTime": True}
    )

    assert len(partial) > 1
    assert len(merged) == 1
    assert by_time == merged
    fill = merged[0]
    assert Decimal(fill["sz"]) == sum(Decimal(f["sz"]) for f in partial) == Decimal(40)
    notional = sum(Decimal(f["sz"]) * Decimal(f["px"]) for f in partial)
    assert Decimal(fill["px"]) == (notional / 40).quantize(Decimal("0.00000001"))
    assert Decimal(fill["fee"]) == sum(Decimal(f["fee"]) for f in partial)
    assert fill["oid"] == partial[0]["oid"]
    assert fill["startPosition"] == "0.0"


def _spot_balances(paper: PaperHandle, user: str) -> dict[str, Decimal]:
    balances = paper.info().spot_user_state(user)["balances"]
    return {b["coin"]: Decimal(b["total"]) for b in balances}


def test_a_spot_buy_pays_its_fee_in_the_token_received(paper_server, funded_wallet):
    exchange = paper_server.sdk_exchange(funded_wallet)
    assert exchange.usd_class_transfer(1000.0, False)["status"] == "ok"

    bought = exchange.market_open("PURR/USDC", True, 1000.0)
    assert bought["status"] == "ok", bought
    sold = exchange.market_open("PURR/USDC", False, 500.0)
    assert sold["status"] == "ok", sold

    buy, sell = sorted(
        paper_server.info().user_fills(funded_wallet.address), key=lambda f: f["tid"]
    )
    assert buy["feeToken"] == "PURR"
    assert Decimal(buy["fee"]) == Decimal(1000) * Decimal("0.0007")  # taker rate, in PURR
    assert sell["feeToken"] == "USDC"
    sell_notional = Decimal(sell["px"]) * 500
    assert Decimal(sell["fee"]) == (sell_notional * Decimal("0.0007")).quantize(Decimal("0.000001"))
    balances = _spot_balances(paper_server, funded_wallet.address)
    assert balances["PURR"] == Decimal(1000) - Decimal(buy["fee"]) - 500
    spent = Decimal(buy["px"]) * 1000  # the USDC side of a buy is exactly its notional
    assert balances["USDC"] == Decimal(1000) - spent + sell_notional - Decimal(sell["fee"])
