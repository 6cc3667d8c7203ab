"""The simulated market prints its own trades: at the configured rate, inside the synthetic spread
of their time and inside their candles, counted in the 24 h volume, the same whatever the ticker's
cadence, none when switched off, and continuing exactly after a save and load."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

from hyperdesk.paper.clock import ManualClock
from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.exchange import Event, PaperExchange
from hyperdesk.paper.state_codec import dump_engine, load_engine
from tests.paper.engine.conftest import ALICE

SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
START = 1_700_000_000_000
MM = PaperConfig().market_maker_address


def _config(**changes: Any) -> PaperConfig:
    """BTC and ETH only (no spot pairs), prices moving, prints on, no candle history."""
    base = PaperConfig(seed=21, candle_history_minutes=0)
    return replace(base, perps=base.perps[:2], spot_pairs=(), **changes)


class Market:
    """A paper exchange on a manual clock with every event it published."""

    def __init__(self, config: PaperConfig, start: int = START) -> None:
        self.clock = ManualClock(start)
        self.ex = PaperExchange(config, self.clock)
        self.events: list[Event] = []
        self.ex.add_listener(self.events.append)

    def run(self, ms: int, every: int) -> None:
        end = self.clock.now_ms() + ms
        while self.clock.now_ms() < end:
            self.clock.advance(ms=min(every, end - self.clock.now_ms()))
            self.ex.tick()

    def prints(self, coin: str | None = None) -> list[dict]:
        return [
            t
            for e in self.events
            if e.channel == "trades" and (coin is None or e.key == coin)
            for t in e.data
        ]

    def info(self, **body: Any) -> Any:
        return self.ex.info(body)


def test_prints_arrive_at_the_configured_rate_on_the_tape_without_touching_any_account() -> None:
    market = Market(_config(synthetic_prints_per_minute=12.0))
    market.ex.faucet(ALICE, Decimal(10_000))
    before = market.info(type="clearinghouseState", user=ALICE)["marginSummary"]
    market.run(HOUR, every=5 * SECOND)
    for coin in ("BTC", "ETH"):
        prints = market.prints(coin)
        # 720 expected; a Poisson count's standard deviation is ~27, so this is ±5 of them.
        assert 585 <= len(prints) <= 855, (coin, len(prints))
        assert all(p["users"] == [MM, MM] and p["coin"] == coin for p in prints)
        assert {p["side"] for p in prints} == {"A", "B"}
        assert all(Decimal(p["sz"]) > 0 for p in prints)
        tape = market.info(type="recentTrades", coin=coin)
        assert len(tape) == 100
        assert tape == list(reversed(prints))[:100]
    everything = market.prints()
    assert len({p["tid"] for p in everything}) == len(everything)
    assert len({p["hash"] for p in everything}) == len(everything)
    assert market.info(type="clearinghouseState", user=ALICE)["marginSummary"] == before
    assert not [e for e in market.events if e.channel in ("userFills", "orderUpdates")]
    assert MM not in market.ex._engine.accounts


def test_prints_lie_inside_the_spread_of_their_time_and_inside_their_candles() -> None:
    market = Market(_config(synthetic_prints_per_minute=60.0))
    checked = 0
    for _ in range(5 * 60):  # one tick per grid step: the book then is the print's book
        market.clock.advance(ms=SECOND)
        seen = len(market.prints())
        market.ex.tick()
        now = market.clock.now_ms()
        for p in market.prints()[seen:]:
            assert p["time"] == now
            bids, asks = market.info(type="l2Book", coin=p["coin"])["levels"]
            assert Decimal(bids[0]["px"]) <= Decimal(p["px"]) <= Decimal(asks[0]["px"]), p
            checked += 1
    assert checked > 450
    for coin in ("BTC", "ETH"):
        prints = market.prints(coin)
        for interval in ("1m", "15m", "1h"):
            candles = market.info(
                type="candleSnapshot", req={"coin": coin, "interval": interval, "startTime": 0}
            )
            for p in prints:
                [candle] = [c for c in candles if c["t"] <= p["time"] <= c["T"]]
                assert Decimal(candle["l"]) <= Decimal(p["px"]) <= Decimal(candle["h"])
            assert sum(c["n"] for c in candles) == len(prints)
            assert sum(Decimal(c["v"]) for c in candles) == sum(Decimal(p["sz"]) for p in prints)


def test_24h_volume_counts_the_prints() -> None:
    market = Market(_config())
    market.run(30 * MINUTE, every=10 * SECOND)
    meta, ctxs = market.info(type="metaAndAssetCtxs")
    for asset, coin in enumerate(a["name"] for a in meta["universe"]):
        prints = market.prints(coin)
        assert prints
        notional = sum(Decimal(p["px"]) * Decimal(p["sz"]) for p in prints)
        assert abs(Decimal(ctxs[asset]["dayNtlVlm"]) - notional) < Decimal("0.01")
        assert Decimal(ctxs[asset]["dayBaseVlm"]) == sum(Decimal(p["sz"]) for p in prints)


def test_the_same_seed_prints_the_same_trades_whatever_the_ticker_cadence() -> None:
    steady, ragged = Market(_config()), Market(_config())
    steady.run(15 * MINUTE, every=SECOND)
    for gap in [7, 1, 13, 61, 2, 250, 3, 90, 1, 400]:  # seconds
        ragged.clock.advance(ms=gap * SECOND)
        ragged.ex.tick()
    ragged.run(START + 15 * MINUTE - ragged.clock.now_ms(), every=37 * SECOND)
    assert ragged.clock.now_ms() == steady.clock.now_ms()
    assert len(steady.prints()) > 250
    # A tick's trades go out one message per coin, so only the grouping may differ.
    by_tid = sorted(ragged.prints(), key=lambda p: p["tid"])
    assert by_tid == sorted(steady.prints(), key=lambda p: p["tid"])
    for coin in ("BTC", "ETH"):
        assert ragged.info(type="recentTrades", coin=coin) == steady.info(
            type="recentTrades", coin=coin
        )


def test_switched_off_nothing_prints_and_the_price_path_is_unchanged() -> None:
    off, on = Market(_config(synthetic_prints_enabled=False)), Market(_config())
    mids_off, mids_on = [], []
    for _ in range(120):
        off.run(15 * SECOND, every=15 * SECOND)
        on.run(15 * SECOND, every=15 * SECOND)
        mids_off.append(off.info(type="allMids"))
        mids_on.append(on.info(type="allMids"))
    assert mids_off == mids_on
    assert on.prints()
    assert off.prints() == []
    assert off.info(type="recentTrades", coin="BTC") == []
    _meta, ctxs = off.info(type="metaAndAssetCtxs")
    assert all(Decimal(ctx["dayNtlVlm"]) == 0 for ctx in ctxs)


def test_a_saved_and_loaded_market_keeps_printing_exactly_the_same_trades() -> None:
    original = Market(_config())
    original.run(5 * MINUTE, every=3 * SECOND)
    saved = json.loads(json.dumps(dump_engine(original.ex._engine)))
    assert saved["print_flow"]
    restored = Market(_config(), start=original.clock.now_ms())
    load_engine(restored.ex._engine, saved, restored.clock.now_ms())
    seen = len(original.prints())
    original.run(10 * MINUTE, every=3 * SECOND)
    restored.run(10 * MINUTE, every=3 * SECOND)
    assert len(restored.prints()) > 100
    assert restored.prints() == original.prints()[seen:]
