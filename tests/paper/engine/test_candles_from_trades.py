"""Candles, 24 h volume and prevDayPx are built from the trades themselves (and the moving mids),
longer candles are their minutes aggregated, and the 24 h figures roll with time."""

from __future__ import annotations

import json
from decimal import Decimal

from hyperdesk.paper.candles import INTERVALS
from hyperdesk.paper.manual_time import advance
from hyperdesk.paper.state_codec import dump_engine, load_engine
from tests.paper.engine.conftest import ALICE, ETH, Desk, config_with

MINUTE = 60_000
HOUR = 60 * MINUTE


def _sweep(desk: Desk, minute: int) -> None:
    """Alice takes several synthetic levels at once: prints away from the mid."""
    is_buy = minute % 2 == 0
    mid = desk.mid("ETH")
    limit = mid * (Decimal("1.01") if is_buy else Decimal("0.99"))
    desk.order(ALICE, ETH, is_buy, str(limit.quantize(Decimal("0.1"))), "120", tif="Ioc")


def _candles(desk: Desk, interval: str) -> list[dict]:
    return desk.info(
        type="candleSnapshot",
        req={"coin": "ETH", "interval": interval, "startTime": 0},
    )


def _busy_desk() -> Desk:
    desk = Desk(config_with(candle_history_minutes=0, seed=4))
    desk.ex.faucet(ALICE, Decimal(1_000_000))
    for minute in range(70):
        _sweep(desk, minute)
        for _ in range(2):
            desk.clock.advance(ms=MINUTE // 2)
            desk.ex.tick()
    return desk


def test_every_trade_price_lies_inside_its_candle_and_volume_counts_every_trade() -> None:
    desk = _busy_desk()
    trades = [t for e in desk.channel("trades") if e.key == "ETH" for t in e.data]
    assert len(trades) >= 70
    for interval in ("1m", "5m", "15m", "1h", "1d", "1M"):
        candles = _candles(desk, interval)
        for trade in trades:
            [candle] = [c for c in candles if c["t"] <= trade["time"] <= c["T"]]
            assert Decimal(candle["l"]) <= Decimal(trade["px"]) <= Decimal(candle["h"]), (
                interval,
                trade,
                candle,
            )
        assert sum(c["n"] for c in candles) == len(trades)
        assert sum(Decimal(c["v"]) for c in candles) == sum(Decimal(t["sz"]) for t in trades)


def test_longer_candles_are_their_minutes_aggregated_and_streamed_live() -> None:
    desk = _busy_desk()
    minutes = _candles(desk, "1m")
    for interval in ("3m", "5m", "15m", "30m", "1h", "2h"):
        for candle in _candles(desk, interval):
            inside = [m for m in minutes if candle["t"] <= m["t"] <= candle["T"]]
            assert candle["o"] == inside[0]["o"]
            assert candle["c"] == inside[-1]["c"]
            assert Decimal(candle["h"]) == max(Decimal(m["h"]) for m in inside)
            assert Decimal(candle["l"]) == min(Decimal(m["l"]) for m in inside)
            assert Decimal(candle["v"]) == sum(Decimal(m["v"]) for m in inside)
            assert candle["n"] == sum(m["n"] for m in inside)
        streamed = [e.data for e in desk.channel("candle") if e.key == f"ETH:{interval}"]
        assert streamed[-1] == _candles(desk, interval)[-1]
    assert {e.key for e in desk.channel("candle")} >= {f"ETH:{i}" for i in INTERVALS}


def _ctx(desk: Desk) -> dict:
    meta, ctxs = desk.info(type="metaAndAssetCtxs")
    return ctxs[[a["name"] for a in meta["universe"]].index("ETH")]


def test_day_volume_and_prev_day_px_roll_with_a_24_hour_window() -> None:
    desk = Desk(config_with(candle_history_minutes=30))
    desk.ex.faucet(ALICE, Decimal(1_000_000))
    desk.ex.set_price("ETH", Decimal(3_000))
    desk.order(ALICE, ETH, True, "3010", "3", tif="Ioc")
    [prints] = [e.data for e in desk.channel("trades") if e.key == "ETH"]
    traded = sum(Decimal(t["px"]) * Decimal(t["sz"]) for t in prints)
    assert _ctx(desk)["dayNtlVlm"] == f"{traded:.1f}"
    assert _ctx(desk)["dayBaseVlm"] == "3.0"
    advance(desk.ex, HOUR)
    desk.ex.set_price("ETH", Decimal(3_300))
    advance(desk.ex, 22 * HOUR + 50 * MINUTE)  # 23 h 50 min after the trade: still inside
    assert _ctx(desk)["dayNtlVlm"] == f"{traded:.1f}"
    advance(desk.ex, 20 * MINUTE)  # 24 h 10 min: the trade left the window
    ctx = _ctx(desk)
    assert (ctx["dayNtlVlm"], ctx["dayBaseVlm"]) == ("0.0", "0.0")
    assert Decimal(ctx["prevDayPx"]) == Decimal(3_000)  # the price a day ago
    advance(desk.ex, HOUR)  # 25 h 10 min: a day ago the price was already 3300
    assert Decimal(_ctx(desk)["prevDayPx"]) == Decimal(3_300)
    desk.order(ALICE, ETH, True, "3310", "1", tif="Ioc")
    before = _ctx(desk)
    assert Decimal(before["dayNtlVlm"]) > 3_300
    saved = json.loads(json.dumps(dump_engine(desk.ex._engine)))
    restored = Desk(config_with(candle_history_minutes=30))
    restored.clock.set(desk.clock.now_ms())
    load_engine(restored.ex._engine, saved, desk.clock.now_ms())
    after = _ctx(restored)
    assert (after["dayNtlVlm"], after["prevDayPx"]) == (before["dayNtlVlm"], before["prevDayPx"])
