"""Oracle, mark price and hourly funding (issue 14, item 2), on a ManualClock.

The synthetic market quotes around the oracle, so a flat paper market has no premium and pays
the baseline rate; ``set_basis`` shifts a perp's quotes to give it a known premium.
"""

from __future__ import annotations

from decimal import Decimal

from hyperdesk.paper.funding import funding_rate
from tests.paper.engine.conftest import ALICE, BOB, BTC, Desk, config_with

HOUR = 3_600_000
INTEREST_PER_HOUR = Decimal("0.0000125")  # 0.01 % per 8 hours


def _to_next_hour(desk: Desk) -> None:
    now = desk.clock.now_ms()
    desk.clock.set((now // HOUR + 1) * HOUR)
    desk.ex.tick()


def _run_hours(desk: Desk, hours: int, ticks_per_hour: int = 6) -> None:
    for _ in range(hours * ticks_per_hour):
        desk.clock.advance(ms=HOUR // ticks_per_hour)
        desk.ex.tick()


def _btc_ctx(desk: Desk) -> dict:
    _meta, ctxs = desk.info(type="metaAndAssetCtxs")
    return ctxs[BTC]


def _open_btc(desk: Desk, size: str) -> None:
    """Alice long ``size`` BTC, Bob short the same, traded between them (not the market maker)."""
    desk.order(BOB, BTC, False, "100000", size)
    assert "filled" in desk.order(ALICE, BTC, True, "100000", size, tif="Ioc")


def test_funding_paid_over_n_hours_matches_the_formula_for_a_known_premium(desk: Desk):
    _open_btc(desk, "0.5")
    desk.ex.set_basis("BTC", Decimal("0.002"))  # BTC's book quotes 0.2 % over its oracle
    _to_next_hour(desk)
    ctx = _btc_ctx(desk)
    oracle = Decimal(ctx["oraclePx"])
    impact_bid, impact_ask = (Decimal(p) for p in ctx["impactPxs"])
    # premium = (max(impact bid - oracle, 0) - max(oracle - impact ask, 0)) / oracle
    assert impact_ask > impact_bid > oracle
    premium = ((impact_bid - oracle) / oracle).quantize(Decimal("0.00000001"))
    assert Decimal(ctx["premium"]) == premium
    assert premium > Decimal("0.0015")
    # F = P + clamp(0.0001 - P, -0.0005, 0.0005), paid hourly as F / 8.
    rate = (premium - Decimal("0.0005")) / 8
    assert Decimal(ctx["funding"]) == rate
    before = {u: Decimal(desk.state(u)["marginSummary"]["accountValue"]) for u in (ALICE, BOB)}
    start = desk.clock.now_ms()

    _run_hours(desk, 3)

    per_hour = (Decimal("0.5") * oracle * rate).quantize(Decimal("0.000001"))
    paid = desk.info(type="userFunding", user=ALICE, startTime=start + 1)
    assert [Decimal(e["delta"]["usdc"]) for e in paid] == [-per_hour] * 3
    assert [e["time"] for e in paid] == [start + HOUR, start + 2 * HOUR, start + 3 * HOUR]
    assert paid[0]["delta"] == {
        "type": "funding",
        "coin": "BTC",
        "usdc": paid[0]["delta"]["usdc"],
        "szi": "0.5",
        "fundingRate": str(rate),
        "nSamples": 720,  # one premium sample every 5 s
    }
    received = desk.info(type="userFunding", user=BOB, startTime=start + 1)
    assert [Decimal(e["delta"]["usdc"]) for e in received] == [per_hour] * 3
    after = {u: Decimal(desk.state(u)["marginSummary"]["accountValue"]) for u in (ALICE, BOB)}
    assert after[ALICE] - before[ALICE] == -3 * per_hour  # volatility 0: only funding moved
    assert after[BOB] - before[BOB] == 3 * per_hour
    cum = desk.position(ALICE, "BTC")["cumFunding"]
    assert Decimal(cum["sinceOpen"]) == Decimal(cum["allTime"]) > 3 * per_hour  # + 1st hour
    history = desk.info(type="fundingHistory", coin="BTC", startTime=start + 1)
    assert history == [
        {"coin": "BTC", "fundingRate": str(rate), "premium": ctx["premium"], "time": t}
        for t in (start + HOUR, start + 2 * HOUR, start + 3 * HOUR)
    ]
    # The websocket shapes: userFundings and userEvents' funding.
    fundings = [e.data for e in desk.channel("userFundings") if e.key == ALICE]
    assert fundings[-1] == {
        "user": ALICE,
        "fundings": [
            {
                "time": start + 3 * HOUR,
                "coin": "BTC",
                "usdc": paid[-1]["delta"]["usdc"],
                "szi": "0.5",
                "fundingRate": str(rate),
                "nSamples": 720,
            }
        ],
    }
    events = [e.data["funding"] for e in desk.channel("user") if "funding" in e.data]
    assert events[-2:] == [
        fundings[-1]["fundings"][0],
        {**fundings[-1]["fundings"][0], "usdc": received[-1]["delta"]["usdc"], "szi": "-0.5"},
    ]


def test_a_flat_market_pays_the_baseline_rate_and_the_cap_holds(desk: Desk):
    _open_btc(desk, "0.1")
    _to_next_hour(desk)
    start = desk.clock.now_ms()
    _run_hours(desk, 2, ticks_per_hour=1)
    history = desk.info(type="fundingHistory", coin="BTC", startTime=start + 1)
    rates = [r["fundingRate"] for r in history]
    assert rates == ["0.0000125", "0.0000125"]
    assert funding_rate(Decimal("0.9"), desk.ex.config) == Decimal("0.04")  # 4 % an hour
    assert funding_rate(Decimal("-0.9"), desk.ex.config) == Decimal("-0.04")
    assert funding_rate(Decimal(0), desk.ex.config) == INTEREST_PER_HOUR


def test_funding_is_paid_out_of_an_isolated_positions_margin(desk: Desk):
    leverage = {"type": "updateLeverage", "asset": BTC, "isCross": False, "leverage": 10}
    assert desk.act(ALICE, leverage)["status"] == "ok"
    _open_btc(desk, "0.5")
    margin = Decimal(desk.position(ALICE, "BTC")["marginUsed"])
    _to_next_hour(desk)
    _run_hours(desk, 1, ticks_per_hour=1)
    paid = sum(Decimal(e["delta"]["usdc"]) for e in desk.info(type="userFunding", user=ALICE,
                                                               startTime=0))  # fmt: skip
    assert paid < 0
    assert Decimal(desk.position(ALICE, "BTC")["marginUsed"]) == margin + paid


def test_predicted_fundings_shape(desk: Desk):
    predicted = dict(desk.info(type="predictedFundings"))
    [[venue, detail]] = predicted["BTC"]
    assert venue == "HlPerp"
    assert detail["fundingRate"] == "0.0000125"
    assert detail["nextFundingTime"] % HOUR == 0
    assert detail["nextFundingTime"] > desk.clock.now_ms()
    assert detail["fundingIntervalHours"] == 1


def test_funding_can_be_switched_off():
    desk = Desk(config_with(funding_enabled=False))
    desk.ex.faucet(ALICE, Decimal(100_000))
    desk.ex.faucet(BOB, Decimal(100_000))
    _open_btc(desk, "0.5")
    _run_hours(desk, 2, ticks_per_hour=1)
    assert desk.info(type="userFunding", user=ALICE, startTime=0) == []
    assert desk.position(ALICE, "BTC")["cumFunding"]["allTime"] == "0.0"


def test_the_mark_is_a_median_not_the_mid(desk: Desk):
    oracle = desk.ex.oracle("BTC")
    desk.ex.set_basis("BTC", Decimal("0.01"))  # the book jumps 1 % over the oracle
    # The EMAs have not seen it yet: median(oracle + 0, bid, old book EMA) = the oracle.
    assert desk.mid("BTC") == oracle * Decimal("1.01")
    assert desk.ex.mark("BTC") == oracle
    _run_hours(desk, 1, ticks_per_hour=60)
    # After many EMA time constants the mark follows the book (no trade yet: its mid).
    assert desk.ex.mark("BTC") == desk.mid("BTC")
    assert Decimal(_btc_ctx(desk)["markPx"]) == desk.mid("BTC")


def test_stop_loss_triggers_on_the_mark_not_the_mid(desk: Desk):
    _open_btc(desk, "0.1")
    stop = {"triggerPx": "99500", "isMarket": True, "tpsl": "sl"}
    assert "resting" in desk.order(ALICE, BTC, False, "90000", "0.1", reduce_only=True,
                                   trigger=stop)  # fmt: skip
    desk.ex.set_basis("BTC", Decimal("-0.01"))  # the book drops 1 %; the oracle does not
    assert desk.mid("BTC") < Decimal(99_500) < desk.ex.mark("BTC")
    assert desk.position(ALICE, "BTC") is not None  # a book dip alone does not stop it out
    desk.ex.set_price("BTC", Decimal(99_000))  # the oracle falls too: the mark follows
    assert desk.position(ALICE, "BTC") is None


def test_a_tokens_perp_and_spot_pair_share_one_oracle():
    desk = Desk(config_with(volatility_scale=1.0))
    for _ in range(50):
        desk.clock.advance(seconds=60)
        desk.ex.tick()
    mids = desk.info(type="allMids")
    assert Decimal(mids["HYPE"]) != Decimal(40)  # it moved
    assert desk.ex.oracle("HYPE") == desk.ex.oracle("@1")
    assert mids["HYPE"] == mids["@1"]
    desk.ex.set_price("@1", Decimal(45))
    assert desk.info(type="allMids")["HYPE"] == "45.0"


def test_cum_funding_since_change_restarts_when_the_size_changes(desk: Desk):
    _open_btc(desk, "0.5")
    _to_next_hour(desk)
    _run_hours(desk, 1, ticks_per_hour=1)
    cum = desk.position(ALICE, "BTC")["cumFunding"]
    assert Decimal(cum["sinceChange"]) == Decimal(cum["sinceOpen"]) > 0
    _open_btc(desk, "0.1")  # the position grows
    grown = desk.position(ALICE, "BTC")["cumFunding"]
    assert grown["sinceChange"] == "0.0"
    assert grown["sinceOpen"] == grown["allTime"] == cum["sinceOpen"]
