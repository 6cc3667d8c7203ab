"""The synthetic market reacts (issue 14, item 3): sweeps move the mid and the book refills over a
half-life; resting orders fill as simulated taker flow reaches them; depth differs per coin.

Every test runs on a manual clock with frozen prices, so the numbers below follow from the config
alone (BTC: best level 150 000 USD, 3 s half-life, 1 000 000 USD/s of taker flow).
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from hyperdesk.paper.config import BTC_LIQUIDITY, LiquiditySpec
from hyperdesk.paper.liquidity import liquidity_params
from tests.paper.engine.conftest import ALICE, BOB, BTC, Desk, config_with

CAROL = "0x" + "c3" * 20
HALF_LIFE_MS = BTC_LIQUIDITY.refill_half_life_ms
assert HALF_LIFE_MS == 3_000  # the figures the docstring quotes
FLOW = BTC_LIQUIDITY.taker_flow_notional_per_s
assert FLOW == Decimal(1_000_000)  # noqa: SIM300


def _desk() -> Desk:
    desk = Desk()
    for user in (ALICE, BOB, CAROL):
        desk.ex.faucet(user, Decimal(5_000_000))
    return desk


def _asks(desk: Desk, coin: str = "BTC") -> list[tuple[Decimal, Decimal]]:
    book = desk.info(type="l2Book", coin=coin)
    return [(Decimal(lv["px"]), Decimal(lv["sz"])) for lv in book["levels"][1]]


def _notional_up_to(levels: list[tuple[Decimal, Decimal]], limit: Decimal) -> Decimal:
    return sum((px * sz for px, sz in levels if px <= limit), Decimal(0))


def _sweep(desk: Desk, size: str) -> tuple[Decimal, Decimal]:
    """Market-buy ``size`` BTC; returns (average price, worst price paid)."""
    limit = str(int(desk.mid("BTC") * Decimal("1.05")))
    filled = desk.order(ALICE, BTC, True, limit, size, tif="Ioc")["filled"]
    assert filled["totalSz"] == str(Decimal(size).normalize()) or Decimal(
        filled["totalSz"]
    ) == Decimal(size)
    fills = desk.info(type="userFills", user=ALICE)
    worst = max(Decimal(f["px"]) for f in fills if f["hash"] == fills[0]["hash"])
    return Decimal(filled["avgPx"]), worst


def _later(desk: Desk, ms: int) -> None:
    desk.clock.advance(ms=ms)
    desk.ex.tick()


def test_a_sweep_many_times_the_top_level_moves_the_mid_and_the_book_refills_with_the_half_life():
    desk = _desk()
    mid0 = desk.mid("BTC")
    before = _asks(desk)
    top_px, top_sz = before[0]
    size = top_sz * 8  # 8 times the best level: walks about four levels

    avg, worst = _sweep(desk, str(size))

    # The mid moved up by half of how far the best ask was pushed (the bids did not move).
    after = _asks(desk)
    assert after[0][0] > top_px
    moved = desk.mid("BTC") - mid0
    assert moved == ((after[0][0] - top_px) / 2).quantize(Decimal(1))
    assert moved >= 3  # dollars, i.e. at least 0.3 bp at 100 000
    assert desk.info(type="allMids")["BTC"] == str(desk.mid("BTC"))
    swept = avg * size
    gone = _notional_up_to(before, worst) - _notional_up_to(after, worst)
    assert abs(gone - swept) < top_px * Decimal("0.0001")  # all of it stayed gone

    # One half-life later half of it is back and the mid is half-way home (a level's rounding).
    _later(desk, HALF_LIFE_MS)
    refilled = _notional_up_to(_asks(desk), worst) - _notional_up_to(after, worst)
    assert abs(refilled - swept / 2) <= top_px * top_sz / 10
    half_way = desk.mid("BTC") - mid0
    assert 0 < half_way < moved

    # Twenty half-lives on (a millionth left), the book is what it was before the sweep.
    _later(desk, 20 * HALF_LIFE_MS)
    assert _asks(desk) == before
    assert desk.mid("BTC") == mid0


def test_sweeps_a_second_apart_pay_more_each_time_instead_of_the_same_price():
    desk = _desk()
    paid = []
    for _ in range(3):
        avg, _worst = _sweep(desk, "40")
        paid.append(avg)
        _later(desk, 1_000)
    assert paid[0] < paid[1] < paid[2]
    # A whole refill in between gives the first price again.
    _later(desk, 20 * HALF_LIFE_MS)
    again, _worst = _sweep(desk, "40")
    assert again == paid[0]
    # BTC is deep: a 4 M USD sweep costs a few bp, not tens of them.
    assert (paid[0] - Decimal(100_000)) / Decimal(100_000) < Decimal("0.001")


def test_the_refill_half_life_is_read_from_the_config():
    slow = replace(BTC_LIQUIDITY, refill_half_life_ms=30_000)
    base = config_with()
    desk = Desk(replace(base, perps=(replace(base.perps[0], liquidity=slow), *base.perps[1:])))
    desk.ex.faucet(ALICE, Decimal(5_000_000))
    before = _asks(desk)
    avg, worst = _sweep(desk, "40")
    after = _asks(desk)
    _later(desk, HALF_LIFE_MS)  # one tenth of this coin's half-life: 2^-0.1 still missing
    refilled = _notional_up_to(_asks(desk), worst) - _notional_up_to(after, worst)
    expected = avg * 40 * (1 - Decimal(2) ** Decimal("-0.1"))
    assert abs(refilled - expected) <= before[0][0] * before[0][1] / 10


def test_a_large_resting_order_fills_in_pieces_as_taker_flow_reaches_it():
    desk = _desk()
    oid = desk.order(BOB, BTC, True, "99000", "30")["resting"]["oid"]  # 2.97 M USD
    desk.ex.set_price("BTC", Decimal(98_000))  # the market trades through the bid

    first = 1_000_000 / Decimal(99_000)  # one second of flow: 10.10101 BTC
    fills = desk.info(type="userFills", user=BOB)
    assert [f["sz"] for f in fills] == [str(first.quantize(Decimal("0.00001"), "ROUND_FLOOR"))]
    assert fills[0]["px"] == "99000.0"
    assert fills[0]["crossed"] is False
    [resting] = desk.info(type="openOrders", user=BOB)
    assert Decimal(resting["sz"]) == 30 - Decimal(fills[0]["sz"])

    desk.ex.set_price("BTC", Decimal(97_900))  # no time passed: no more takers yet
    assert len(desk.info(type="userFills", user=BOB)) == 1

    _later(desk, 500)  # half a second of flow
    fills = desk.info(type="userFills", user=BOB)
    assert len(fills) == 2
    assert Decimal(fills[0]["sz"]) == (FLOW / 2 / 99_000).quantize(
        Decimal("0.00001"), "ROUND_FLOOR"
    )

    for _ in range(3):
        _later(desk, 1_000)
    filled = sum(Decimal(f["sz"]) for f in desk.info(type="userFills", user=BOB))
    assert filled == 30
    assert desk.info(type="openOrders", user=BOB) == []
    [status] = [
        u for e in desk.channel("orderUpdates") for u in e.data if u["order"]["oid"] == oid
    ][-1:]
    assert status["status"] == "filled"


def test_taker_flow_reaches_the_queue_in_price_then_time_order():
    desk = _desk()
    desk.order(BOB, BTC, True, "99000", "15")  # first in the queue, ~1.5 M USD
    desk.order(CAROL, BTC, True, "99000", "0.1")  # behind it at the same price
    desk.ex.set_price("BTC", Decimal(98_000))
    assert desk.info(type="userFills", user=CAROL) == []  # Bob's order took this second's flow
    _later(desk, 1_000)
    assert sum(Decimal(f["sz"]) for f in desk.info(type="userFills", user=BOB)) == 15
    assert [f["sz"] for f in desk.info(type="userFills", user=CAROL)] == ["0.1"]


def test_a_small_resting_order_still_fills_whole_when_the_price_moves_through_it():
    desk = _desk()
    desk.order(BOB, BTC, True, "99000", "0.5")
    desk.ex.set_price("BTC", Decimal(98_900))
    assert [f["sz"] for f in desk.info(type="userFills", user=BOB)] == ["0.5"]
    assert desk.info(type="openOrders", user=BOB) == []


def test_btc_is_quoted_deeper_and_tighter_than_doge_and_purr():
    desk = _desk()

    def shape(coin: str) -> tuple[Decimal, Decimal]:
        bids, asks = desk.info(type="l2Book", coin=coin)["levels"]
        bid, ask = Decimal(bids[0]["px"]), Decimal(asks[0]["px"])
        mid = (bid + ask) / 2
        within = sum(
            Decimal(lv["px"]) * Decimal(lv["sz"])
            for lv in asks
            if Decimal(lv["px"]) <= mid * Decimal("1.005")
        )
        return (ask - bid) / mid, within

    btc_spread, btc_depth = shape("BTC")
    for coin in ("DOGE", "PURR/USDC"):
        spread, depth = shape(coin)
        assert btc_spread < spread
        assert btc_depth > 10 * depth


def test_an_instrument_without_its_own_liquidity_uses_the_config_defaults():
    base = config_with(synthetic_level_notional=Decimal(7_000))
    config = replace(base, perps=(replace(base.perps[0], liquidity=LiquiditySpec()),))
    params = liquidity_params("BTC", config)
    assert params.level_notional == Decimal(7_000)
    assert params.refill_half_life_ms == config.synthetic_refill_half_life_ms
    assert liquidity_params("ETH", base).level_notional != Decimal(7_000)  # ETH sets its own


def test_depletion_refill_clock_and_taker_flow_survive_a_save_and_load():
    desk = _desk()
    _sweep(desk, "40")
    desk.order(BOB, BTC, True, "99000", "30")
    desk.ex.set_price("BTC", Decimal(98_000))  # Bob's bid has taken one second of flow
    saved = json.loads(json.dumps(desk.ex.export_state()))
    assert set(saved["liquidity"]["BTC"]) == {
        "center", "depleted", "depleted_ms", "flow", "flow_ms"
    }  # fmt: skip

    copy = Desk()
    copy.clock.set(desk.clock.now_ms())
    copy.ex.restore_state(saved)
    assert (
        copy.info(type="l2Book", coin="BTC")["levels"]
        == desk.info(type="l2Book", coin="BTC")["levels"]
    )
    assert copy.mid("BTC") == desk.mid("BTC")
    desk.ex.set_price("BTC", Decimal(97_900))
    copy.ex.set_price("BTC", Decimal(97_900))
    assert copy.info(type="userFills", user=BOB) == desk.info(type="userFills", user=BOB)
    for d in (desk, copy):
        _later(d, 700)
    assert (
        copy.info(type="l2Book", coin="BTC")["levels"]
        == desk.info(type="l2Book", coin="BTC")["levels"]
    )
    assert copy.info(type="userFills", user=BOB) == desk.info(type="userFills", user=BOB)
