"""Liquidations (issue 14, item 1): an account under maintenance margin is liquidated, through
the book in slices when large, by the backstop when the book cannot or equity is too low, and
never loses more than it owns. All on a ManualClock, prices moved by hand."""

from __future__ import annotations

from decimal import Decimal

from tests.paper.engine.conftest import ALICE, BTC, ETH, Desk, config_with

START = Decimal(10_000)


def _value(desk: Desk, user: str) -> Decimal:
    return Decimal(desk.state(user)["marginSummary"]["accountValue"])


def _szi(desk: Desk, user: str, coin: str) -> Decimal:
    pos = desk.position(user, coin)
    return Decimal(pos["szi"]) if pos else Decimal(0)


def _long_btc_at_18x(desk: Desk) -> None:
    """$10k long 1.78 BTC at 18x cross: about $178k of BTC on $10k (the issue's account)."""
    desk.ex.faucet(ALICE, START)
    leverage = {"type": "updateLeverage", "asset": BTC, "isCross": True, "leverage": 18}
    assert desk.act(ALICE, leverage)["status"] == "ok"
    assert desk.order(ALICE, BTC, True, "100900", "1.78", tif="Ioc")["filled"]["totalSz"] == "1.78"


def _user_events(desk: Desk, key: str) -> list[dict]:
    return [e.data[key] for e in desk.channel("user") if e.key == ALICE and key in e.data]


def test_an_over_leveraged_cross_account_is_liquidated_near_its_liquidation_price():
    desk = Desk()
    _long_btc_at_18x(desk)
    reported = Decimal(desk.position(ALICE, "BTC")["liquidationPx"])
    assert Decimal(95_000) < reported < Decimal(96_500)
    # A resting take-profit: the liquidation cancels the account's open orders.
    assert "resting" in desk.order(ALICE, BTC, False, "120000", "0.5", reduce_only=True)
    px = Decimal(100_000)
    while _szi(desk, ALICE, "BTC") == Decimal("1.78"):
        assert _value(desk, ALICE) > 0
        px -= 20
        desk.clock.advance(seconds=1)
        desk.ex.set_price("BTC", px)
    mark = desk.ex.mark("BTC")
    assert abs(mark - reported) <= 40, (mark, reported)  # within two price steps
    # Worth more than $100k: a 20 % slice goes to the book first (Hyperliquid's partial rule).
    assert _szi(desk, ALICE, "BTC") == Decimal("1.424")
    fills = [f for f in desk.info(type="userFills", user=ALICE) if "liquidation" in f]
    assert {f["liquidation"]["method"] for f in fills} == {"market"}
    assert fills[0]["liquidation"]["liquidatedUser"] == ALICE
    assert Decimal(fills[0]["liquidation"]["markPx"]) == mark
    assert sum(Decimal(f["sz"]) for f in fills) == Decimal("0.356")
    assert all(f["side"] == "A" and f["dir"] == "Close Long" for f in fills)
    [liquidation] = _user_events(desk, "liquidation")
    assert liquidation["liquidated_user"] == ALICE
    assert Decimal(liquidation["liquidated_ntl_pos"]) == Decimal("1.78") * mark
    assert _user_events(desk, "nonUserCancel")[0][0]["coin"] == "BTC"
    assert desk.info(type="openOrders", user=ALICE) == []
    [entry] = [
        e
        for e in desk.info(type="userNonFundingLedgerUpdates", user=ALICE, startTime=0)
        if e["delta"]["type"] == "liquidation"
    ]
    assert entry["delta"]["leverageType"] == "Cross"
    assert entry["delta"]["liquidatedPositions"] == [{"coin": "BTC", "szi": "1.78"}]
    assert Decimal(entry["delta"]["accountValue"]) > 0
    # The price keeps falling: the rest goes (slices after the cooldown, or the backstop), and
    # the account never shows less than nothing.
    while desk.position(ALICE, "BTC") is not None:
        px -= 20
        desk.clock.advance(seconds=1)
        desk.ex.set_price("BTC", px)
        assert _value(desk, ALICE) >= 0
    assert Decimal(0) <= _value(desk, ALICE) < START
    assert Decimal(desk.state(ALICE)["withdrawable"]) <= _value(desk, ALICE)


def test_a_gap_through_bankruptcy_is_backstopped_and_costs_only_the_equity():
    """The issue: a gap to 85k left -$17k open and +$10k when the price came back."""
    desk = Desk()
    _long_btc_at_18x(desk)
    equity = _value(desk, ALICE)
    desk.ex.set_price("BTC", Decimal(85_000))
    state = desk.state(ALICE)
    assert state["assetPositions"] == []
    assert state["marginSummary"]["accountValue"] == "0.0"
    assert state["withdrawable"] == "0.0"
    [fill] = [f for f in desk.info(type="userFills", user=ALICE) if "liquidation" in f]
    assert fill["liquidation"]["method"] == "backstop"
    assert (fill["sz"], fill["fee"], fill["crossed"]) == ("1.78", "0.0", True)
    [event] = _user_events(desk, "liquidation")
    assert Decimal(event["liquidated_account_value"]) < 0  # the backstop absorbed the rest
    assert equity > 0
    desk.ex.set_price("BTC", Decimal(100_000))
    assert _value(desk, ALICE) == 0


def test_an_isolated_position_loses_at_most_its_margin():
    desk = Desk()
    desk.ex.faucet(ALICE, START)
    leverage = {"type": "updateLeverage", "asset": ETH, "isCross": False, "leverage": 10}
    assert desk.act(ALICE, leverage)["status"] == "ok"
    filled = desk.order(ALICE, ETH, True, "3600", "14", tif="Ioc")["filled"]
    assert Decimal(filled["totalSz"]) == 14
    margin = Decimal(desk.position(ALICE, "ETH")["marginUsed"])
    assert Decimal(4_800) < margin < Decimal(5_000)
    cash = _value(desk, ALICE) - margin  # what sits outside the isolated position
    desk.ex.set_price("ETH", Decimal(2_950))  # -15 %: a $7.3k loss on $4.9k of margin
    assert desk.position(ALICE, "ETH") is None
    assert _value(desk, ALICE) == cash
    assert Decimal(desk.state(ALICE)["withdrawable"]) <= _value(desk, ALICE)
    [entry] = [
        e
        for e in desk.info(type="userNonFundingLedgerUpdates", user=ALICE, startTime=0)
        if e["delta"]["type"] == "liquidation"
    ]
    assert entry["delta"]["leverageType"] == "Isolated"


def test_an_isolated_position_is_liquidated_near_its_liquidation_price():
    desk = Desk()
    desk.ex.faucet(ALICE, START)
    leverage = {"type": "updateLeverage", "asset": ETH, "isCross": False, "leverage": 10}
    assert desk.act(ALICE, leverage)["status"] == "ok"
    desk.order(ALICE, ETH, True, "3600", "2", tif="Ioc")
    reported = Decimal(desk.position(ALICE, "ETH")["liquidationPx"])
    margin = Decimal(desk.position(ALICE, "ETH")["marginUsed"])
    px = Decimal(3500)
    while desk.position(ALICE, "ETH") is not None:
        px -= 1
        desk.clock.advance(seconds=1)
        desk.ex.set_price("ETH", px)
    assert abs(desk.ex.mark("ETH") - reported) <= 2
    # Closed through the book near the liquidation price: most of the margin is lost, not more.
    assert START - margin < _value(desk, ALICE) < START - margin * Decimal("0.7")


def test_withdrawable_never_exceeds_the_account_value():
    desk = Desk(config_with(liquidations_enabled=False))
    desk.ex.faucet(ALICE, START)
    leverage = {"type": "updateLeverage", "asset": ETH, "isCross": False, "leverage": 10}
    assert desk.act(ALICE, leverage)["status"] == "ok"
    desk.order(ALICE, ETH, True, "3600", "14", tif="Ioc")
    desk.ex.set_price("ETH", Decimal(2_950))  # under water, not liquidated (switched off)
    state = desk.state(ALICE)
    assert Decimal(state["withdrawable"]) <= Decimal(state["marginSummary"]["accountValue"])


def test_a_resting_order_is_margin_checked_again_when_it_fills():
    desk = Desk()
    desk.ex.faucet(ALICE, START)
    desk.order(ALICE, BTC, True, "100900", "1.4", tif="Ioc")  # $7k of margin at 20x
    assert "resting" in desk.order(ALICE, BTC, True, "97000", "0.5")  # $2.4k more: fits now
    desk.ex.set_price("BTC", Decimal(96_900))  # -$4.7k: the bid is crossed, margin is gone
    assert _szi(desk, ALICE, "BTC") == Decimal("1.4")  # not liquidated, and did not grow
    [update] = [
        u
        for e in desk.channel("orderUpdates")
        for u in e.data
        if u["status"] == "marginCanceled" and u["order"]["limitPx"] == "97000.0"
    ]
    assert update["order"]["coin"] == "BTC"


def test_liquidations_can_be_switched_off():
    desk = Desk(config_with(liquidations_enabled=False))
    _long_btc_at_18x(desk)
    desk.ex.set_price("BTC", Decimal(85_000))
    assert _szi(desk, ALICE, "BTC") == Decimal("1.78")
