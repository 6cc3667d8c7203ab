"""Accounting and matching invariants of the paper engine (review pins).

Scenario tests pin single behaviours; the property tests run random user-vs-user trading and check
that money is conserved (balances + fees collected stay constant; the faucet is the only source),
that reduce-only orders never increase or flip a position and that each user's PnL adds up.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.paper.engine.conftest import ALICE, BOB, ETH, Desk, config_with

CAROL = "0x" + "c4" * 20
PURR = 10000
USERS = (ALICE, BOB, CAROL)
START = Decimal(100_000)


def _engine(desk: Desk):
    return desk.ex._engine


def _account_value(desk: Desk, user: str) -> Decimal:
    engine = _engine(desk)
    return engine.summary(engine.accounts[user]).account_value


def _fees(desk: Desk, user: str) -> Decimal:
    return sum((Decimal(f["fee"]) for f in _engine(desk).fills.get(user, [])), Decimal(0))


def _szi(desk: Desk, user: str, coin: str = "ETH") -> Decimal:
    pos = _engine(desk).accounts[user].positions.get(coin)
    return pos.szi if pos else Decimal(0)


def _status(desk: Desk, user: str, oid: int) -> str:
    return desk.info(type="orderStatus", user=user, oid=oid)["order"]["status"]


def _spot(desk: Desk, user: str) -> dict[str, Decimal]:
    balances = desk.info(type="spotClearinghouseState", user=user)["balances"]
    return {b["coin"]: Decimal(b["total"]) for b in balances}


def _to_spot(desk: Desk, user: str, amount: str) -> None:
    transfer = {"type": "usdClassTransfer", "amount": amount, "toPerp": False, "nonce": 1}
    assert desk.act(user, transfer)["status"] == "ok"


# ---------------------------------------------------------------------- reduce-only


def test_resting_reduce_only_maker_is_clipped_to_the_position(desk: Desk):
    desk.order(BOB, ETH, False, "3500", "1")
    desk.order(ALICE, ETH, True, "3500", "1", tif="Ioc")
    assert _szi(desk, ALICE) == 1
    oid = desk.order(ALICE, ETH, False, "3500.2", "3", reduce_only=True)["resting"]["oid"]
    status = desk.order(BOB, ETH, True, "3500.2", "3", tif="Ioc")
    assert status["filled"]["totalSz"] == "1.0"
    assert _szi(desk, ALICE) == 0  # closed, never flipped short
    assert _status(desk, ALICE, oid) == "reduceOnlyCanceled"
    [close] = [f for f in desk.info(type="userFills", user=ALICE) if f["oid"] == oid]
    assert close["dir"] == "Close Long"
    assert close["sz"] == "1.0"


def test_several_resting_reduce_only_orders_never_flip(desk: Desk):
    desk.order(BOB, ETH, False, "3500", "1")
    desk.order(ALICE, ETH, True, "3500", "1", tif="Ioc")
    first = desk.order(ALICE, ETH, False, "3500.1", "0.6", reduce_only=True)["resting"]["oid"]
    second = desk.order(ALICE, ETH, False, "3500.2", "0.6", reduce_only=True)["resting"]["oid"]
    desk.order(BOB, ETH, True, "3500.2", "1.2", tif="Ioc")
    assert _szi(desk, ALICE) == 0
    assert _status(desk, ALICE, first) == "filled"
    assert _status(desk, ALICE, second) == "reduceOnlyCanceled"
    [fill] = [f for f in desk.info(type="userFills", user=ALICE) if f["oid"] == second]
    assert fill["sz"] == "0.4"
    assert _szi(desk, BOB) == 0  # Bob's IOC remainder was canceled, nothing else filled it


def test_several_reduce_only_orders_crossed_by_a_price_move(desk: Desk):
    desk.order(BOB, ETH, False, "3500", "1")
    desk.order(ALICE, ETH, True, "3500", "1", tif="Ioc")
    desk.order(ALICE, ETH, False, "3510", "0.6", reduce_only=True)
    second = desk.order(ALICE, ETH, False, "3520", "0.6", reduce_only=True)["resting"]["oid"]
    desk.ex.set_price("ETH", Decimal("3600"))
    assert _szi(desk, ALICE) == 0
    # The second fills what is left of the position (0.4), then cannot reduce any more.
    [fill] = [f for f in desk.info(type="userFills", user=ALICE) if f["oid"] == second]
    assert fill["sz"] == "0.4"
    assert _status(desk, ALICE, second) == "reduceOnlyCanceled"


def test_stale_reduce_only_order_is_canceled_once(desk: Desk):
    desk.order(BOB, ETH, False, "3500", "1")
    desk.order(ALICE, ETH, True, "3500", "1", tif="Ioc")
    desk.order(ALICE, ETH, False, "3510", "1", reduce_only=True)
    stale = desk.order(ALICE, ETH, False, "3520", "1", reduce_only=True)["resting"]["oid"]
    desk.ex.set_price("ETH", Decimal("3600"))
    assert _szi(desk, ALICE) == 0
    updates = [
        u["status"]
        for e in desk.channel("orderUpdates")
        for u in e.data
        if u["order"]["oid"] == stale
    ]
    assert updates == ["open", "reduceOnlyCanceled"]


def test_triggered_reduce_only_limit_does_not_rest_once_it_cannot_reduce(desk: Desk):
    desk.order(ALICE, ETH, True, "3700", "1", tif="Ioc")
    trigger = {"isMarket": False, "triggerPx": "3600", "tpsl": "tp"}
    oid = desk.order(ALICE, ETH, False, "3590", "2", reduce_only=True, trigger=trigger)
    oid = oid["resting"]["oid"]
    desk.ex.set_price("ETH", Decimal("3601"))
    assert _szi(desk, ALICE) == 0
    assert desk.info(type="openOrders", user=ALICE) == []
    assert _status(desk, ALICE, oid) == "reduceOnlyCanceled"


# ---------------------------------------------------------------------- margin and balances


def test_aggressive_sell_margin_is_checked_at_the_price_it_will_fill():
    desk = Desk()
    desk.ex.faucet(ALICE, Decimal(1000))
    # 5.9 ETH at 20x: 1032.5 of margin at the mid (3500), 980.9 at the IOC's limit (3325).
    status = desk.order(ALICE, ETH, False, "3325", "5.9", tif="Ioc")
    assert status["error"].startswith("Insufficient margin to place order.")
    assert _engine(desk).accounts[ALICE].positions == {}
    ok = desk.order(ALICE, ETH, False, "3325", "5.6", tif="Ioc")
    assert ok["filled"]["totalSz"] == "5.6"
    state = desk.state(ALICE)
    assert Decimal(state["marginSummary"]["totalMarginUsed"]) <= Decimal(
        state["marginSummary"]["accountValue"]
    )


def test_spot_buy_holds_its_notional_and_never_overdraws(desk: Desk):
    _to_spot(desk, ALICE, "100")
    # 500 PURR at 0.2 costs exactly 100 USDC (the fee is paid in PURR); 501 is too many.
    rejected = desk.order(ALICE, PURR, True, "0.2", "501")
    assert rejected["error"].startswith("Order has insufficient spot balance to trade")
    oid = desk.order(ALICE, PURR, True, "0.2", "500")["resting"]["oid"]
    balances = desk.info(type="spotClearinghouseState", user=ALICE)["balances"]
    [usdc] = [b for b in balances if b["coin"] == "USDC"]
    assert Decimal(usdc["hold"]) == Decimal(100)
    too_much = {"type": "usdClassTransfer", "amount": "0.2", "toPerp": True, "nonce": 2}
    assert desk.act(ALICE, too_much)["status"] == "err"
    desk.ex.set_price("PURR/USDC", Decimal("0.19"))
    assert _status(desk, ALICE, oid) == "filled"
    assert _spot(desk, ALICE).get("USDC", Decimal(0)) == 0  # spent exactly, never below
    assert _spot(desk, ALICE)["PURR"] == Decimal("499.8")  # 500 less the 0.04 % maker fee


def test_spot_sell_trigger_cannot_sell_tokens_the_user_does_not_have(desk: Desk):
    trigger = {"isMarket": True, "triggerPx": "0.19", "tpsl": "sl"}
    oid = desk.order(ALICE, PURR, False, "0.17", "100", trigger=trigger)["resting"]["oid"]
    desk.ex.set_price("PURR/USDC", Decimal("0.18"))
    assert _spot(desk, ALICE).get("PURR", Decimal(0)) >= 0
    assert _status(desk, ALICE, oid) == "marginCanceled"


def test_perp_entry_trigger_without_margin_is_canceled_when_it_fires():
    desk = Desk()
    desk.ex.faucet(ALICE, Decimal(100))
    trigger = {"isMarket": True, "triggerPx": "3600", "tpsl": "sl"}
    oid = desk.order(ALICE, ETH, True, "3600", "10", trigger=trigger)["resting"]["oid"]
    desk.ex.set_price("ETH", Decimal("3610"))
    assert _engine(desk).accounts[ALICE].positions == {}
    assert _status(desk, ALICE, oid) == "marginCanceled"


def test_perp_entry_trigger_with_margin_fills(desk: Desk):
    trigger = {"isMarket": True, "triggerPx": "3600", "tpsl": "sl"}
    oid = desk.order(ALICE, ETH, True, "3600", "1", trigger=trigger)["resting"]["oid"]
    desk.ex.set_price("ETH", Decimal("3610"))
    assert _szi(desk, ALICE) == 1
    assert _status(desk, ALICE, oid) == "filled"


def test_triggered_limit_resting_in_the_book_reserves_margin():
    desk = Desk()
    desk.ex.faucet(ALICE, Decimal(2000))
    trigger = {"isMarket": False, "triggerPx": "3450", "tpsl": "tp"}
    desk.order(ALICE, ETH, True, "3400", "10", trigger=trigger)  # 1700 of margin once live
    desk.ex.set_price("ETH", Decimal("3449"))
    [live] = desk.info(type="openOrders", user=ALICE)
    assert live["limitPx"] == "3400.0"
    status = desk.order(ALICE, ETH, True, "3000", "5")  # 750 more: over the 2000 account
    assert status["error"].startswith("Insufficient margin to place order.")


# ---------------------------------------------------------------------- TP/SL siblings


def test_filled_tpsl_child_cancels_its_sibling(desk: Desk):
    wires = [
        {"a": ETH, "b": True, "p": "3700", "s": "1", "r": False, "t": {"limit": {"tif": "Ioc"}}},
        {
            "a": ETH,
            "b": False,
            "p": "3800",
            "s": "1",
            "r": True,
            "t": {"trigger": {"isMarket": True, "triggerPx": "3800", "tpsl": "tp"}},
        },
        {
            "a": ETH,
            "b": False,
            "p": "3300",
            "s": "1",
            "r": True,
            "t": {"trigger": {"isMarket": True, "triggerPx": "3300", "tpsl": "sl"}},
        },
    ]
    response = desk.act(ALICE, {"type": "order", "orders": wires, "grouping": "normalTpsl"})
    _, tp, sl = response["response"]["data"]["statuses"]
    assert tp == sl == "waitingForTrigger"
    tp_oid, sl_oid = (o.oid for o in _engine(desk).open_orders[ALICE].values())
    desk.ex.set_price("ETH", Decimal("3810"))
    assert _szi(desk, ALICE) == 0
    assert _status(desk, ALICE, tp_oid) == "filled"
    assert _status(desk, ALICE, sl_oid) == "siblingFilledCanceled"
    assert desk.info(type="frontendOpenOrders", user=ALICE) == []
    # A later position is not closed by the old stop loss.
    desk.order(ALICE, ETH, True, "4000", "1", tif="Ioc")
    desk.ex.set_price("ETH", Decimal("3290"))
    assert _szi(desk, ALICE) == 1


# ---------------------------------------------------------------------- PnL and fees


def test_entry_price_and_closed_pnl_through_increase_reduce_and_flip(desk: Desk):
    def trade(taker_buys: bool, px: str, sz: str) -> dict:
        desk.order(BOB, ETH, not taker_buys, px, sz)
        desk.order(ALICE, ETH, taker_buys, px, sz, tif="Ioc")
        return desk.info(type="userFills", user=ALICE)[0]

    trade(True, "3500", "1")
    trade(True, "3500.3", "1")  # entry = (3500 + 3500.3) / 2
    assert desk.position(ALICE, "ETH")["entryPx"] == "3500.15"
    fill = trade(False, "3499.7", "0.5")  # reduce: entry kept, pnl on the closed half
    assert fill["closedPnl"] == "-0.225"
    assert fill["dir"] == "Close Long"
    assert desk.position(ALICE, "ETH")["entryPx"] == "3500.15"
    fill = trade(False, "3500.2", "2.5")  # flip: close 1.5, open 1 short at the fill price
    assert fill["dir"] == "Long > Short"
    assert fill["closedPnl"] == "0.075"
    assert fill["fee"] == "3.937725"  # taker 0.045 % of 8750.5
    pos = desk.position(ALICE, "ETH")
    assert pos["szi"] == "-1.0"
    assert pos["entryPx"] == "3500.2"
    bob_fill = desk.info(type="userFills", user=BOB)[0]
    assert bob_fill["crossed"] is False
    assert Decimal(bob_fill["fee"]) == (
        Decimal("3500.2") * Decimal("2.5") * Decimal("0.00015")
    ).quantize(Decimal("0.000001"))


# ---------------------------------------------------------------------- properties

PRICES = ("3499.7", "3499.8", "3499.9", "3500.0", "3500.1", "3500.2", "3500.3")

trade_step = st.tuples(
    st.sampled_from(USERS),  # maker
    st.sampled_from(USERS),  # taker
    st.booleans(),  # taker buys
    st.sampled_from(PRICES),
    st.integers(min_value=3, max_value=40).map(lambda n: Decimal(n) / 10),  # maker size
    st.integers(min_value=3, max_value=40).map(lambda n: Decimal(n) / 10),  # taker size
    st.booleans(),  # taker reduce-only
    st.booleans(),  # maker reduce-only
)
move_step = st.sampled_from(("3300", "3450", "3500", "3550", "3800"))
step = st.one_of(trade_step, move_step)


def _setup(isolated: tuple[bool, ...]) -> Desk:
    # Liquidations trade with the synthetic market maker (money from outside), so they are off
    # here: this pins down user-vs-user conservation (tests/paper/engine/test_liquidation.py
    # covers liquidations).
    desk = Desk(config_with(liquidations_enabled=False))
    for user, iso in zip(USERS, isolated, strict=True):
        desk.ex.faucet(user, START)
        if iso:
            action = {"type": "updateLeverage", "asset": ETH, "isCross": False, "leverage": 10}
            assert desk.act(user, action)["status"] == "ok"
    return desk


def _cancel_all(desk: Desk) -> None:
    engine = _engine(desk)
    for user in USERS:
        for order in list(engine.open_orders.get(user, {}).values()):
            engine.cancel(user, order, desk.clock.now_ms())


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(
    isolated=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    steps=st.lists(step, min_size=1, max_size=25),
)
def test_user_vs_user_trading_conserves_money_and_pnl(isolated, steps):
    desk = _setup(isolated)
    for item in steps:
        if isinstance(item, str):
            # Price moves only with an empty user book, so the synthetic market maker (money
            # from outside) never trades with a user.
            _cancel_all(desk)
            desk.ex.set_price("ETH", Decimal(item))
            continue
        maker, taker, taker_buys, px, maker_sz, taker_sz, taker_ro, maker_ro = item
        if maker == taker:
            continue
        _cancel_all(desk)
        desk.ex.set_price("ETH", Decimal(3500))
        before = {u: _szi(desk, u) for u in USERS}
        desk.order(maker, ETH, not taker_buys, px, str(maker_sz), reduce_only=maker_ro)
        desk.order(taker, ETH, taker_buys, px, str(taker_sz), tif="Ioc", reduce_only=taker_ro)
        for user, ro in ((maker, maker_ro), (taker, taker_ro)):
            if ro:  # a reduce-only order never increases or flips the position
                after = _szi(desk, user)
                assert abs(after) <= abs(before[user])
                assert after == 0 or (after > 0) == (before[user] > 0)
        total = sum((_account_value(desk, u) for u in USERS), Decimal(0))
        fees = sum((_fees(desk, u) for u in USERS), Decimal(0))
        assert abs(total + fees - 3 * START) < Decimal("1e-12")
        assert sum((_szi(desk, u) for u in USERS), Decimal(0)) == 0
    for user in USERS:
        fills = _engine(desk).fills.get(user, [])
        closed = sum((Decimal(f["closedPnl"]) for f in fills), Decimal(0))
        summary = _engine(desk).summary(_engine(desk).accounts[user])
        upnl = sum((v.unrealized_pnl for v in summary.views), Decimal(0))
        # Account value = deposits + realised PnL - fees + unrealised PnL.
        expected = START + closed - _fees(desk, user) + upnl
        assert abs(summary.account_value - expected) <= Decimal("0.000001") * (len(fills) + 1)
        assert summary.account_value >= summary.total_margin_used


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    sizes=st.lists(
        st.tuples(st.booleans(), st.integers(min_value=1, max_value=30)), min_size=1, max_size=12
    ),
)
def test_margin_is_never_negative_after_accepted_market_orders(sizes):
    desk = Desk()
    desk.ex.faucet(ALICE, Decimal(2000))
    for is_buy, tenths in sizes:
        px = "3675" if is_buy else "3325"
        desk.order(ALICE, ETH, is_buy, px, str(Decimal(tenths) / 10), tif="Ioc")
        state = desk.state(ALICE)
        used = Decimal(state["crossMarginSummary"]["totalMarginUsed"])
        value = Decimal(state["crossMarginSummary"]["accountValue"])
        # Only the last fill's fee and slippage (a few USD) may eat into the initial margin.
        assert used <= value + Decimal("10")
