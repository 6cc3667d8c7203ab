"""The price model: a market factor that correlates coins, a path that is a function of (seed,
time) whatever the ticker's cadence, a perp/spot basis held inside its band, and a path that
continues exactly after a save and load. Everything runs on a ManualClock."""

from __future__ import annotations

import itertools
import json
import math
import statistics
from dataclasses import replace
from decimal import Decimal

from hyperdesk.paper.clock import ManualClock
from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.exchange import PaperExchange
from hyperdesk.paper.prices import PriceModel, VolRegime
from hyperdesk.paper.state_codec import dump_engine, load_engine

MINUTE = 60_000
DAY = 1440 * MINUTE
START = 1_700_000_000_000


def _two_coins(btc_weight: float, eth_weight: float, **changes: object) -> PaperConfig:
    """Only BTC and ETH (and no spot pairs), so a day of minute ticks stays fast."""
    base = PaperConfig(seed=11, candle_history_minutes=0)
    btc, eth = base.perps[0], base.perps[1]
    return replace(
        base,
        perps=(replace(btc, market_weight=btc_weight), replace(eth, market_weight=eth_weight)),
        spot_pairs=(),
        **changes,  # type: ignore[arg-type]
    )


def _minute_return_correlation(config: PaperConfig) -> float:
    clock = ManualClock(START)
    ex = PaperExchange(config, clock)
    btc, eth = [], []
    for _ in range(1441):
        mids = ex.info({"type": "allMids"})
        btc.append(math.log(Decimal(mids["BTC"])))
        eth.append(math.log(Decimal(mids["ETH"])))
        clock.advance(ms=MINUTE)
        ex.tick()
    btc_returns = [b - a for a, b in itertools.pairwise(btc)]
    eth_returns = [b - a for a, b in itertools.pairwise(eth)]
    return statistics.correlation(btc_returns, eth_returns)


def test_btc_and_eth_minute_returns_correlate_as_configured_by_default() -> None:
    defaults = PaperConfig()
    configured = defaults.perps[0].market_weight * defaults.perps[1].market_weight
    assert abs(configured - 0.8) < 0.01  # the default is the real market's ~0.8
    config = _two_coins(defaults.perps[0].market_weight, defaults.perps[1].market_weight)
    measured = _minute_return_correlation(config)
    assert abs(measured - configured) <= 0.1, measured


def test_a_configured_low_correlation_is_what_a_day_shows() -> None:
    configured = 0.5 * 0.6
    measured = _minute_return_correlation(_two_coins(0.5, 0.6))
    assert abs(measured - configured) <= 0.1, measured


def _mids_at(ex: PaperExchange, clock: ManualClock, steps: list[int]) -> dict[int, dict]:
    """Tick after each step (ms) and record allMids at every whole 5 s."""
    seen = {clock.now_ms(): ex.info({"type": "allMids"})}
    for step in steps:
        clock.advance(ms=step)
        ex.tick()
        if clock.now_ms() % 5_000 == 0:
            seen[clock.now_ms()] = ex.info({"type": "allMids"})
    return seen


def test_the_same_seed_gives_the_same_path_whatever_the_ticker_cadence() -> None:
    config = PaperConfig(
        seed=5,
        candle_history_minutes=0,
        price_model=PriceModel(jumps_per_day=2_000.0),  # jumps within the span, too
    )
    span = 20_000
    irregular = [137, 863, 2_500, 1, 1_499, 3_000, 2_000, 7, 4_993, 5_000]
    assert sum(irregular) == span
    paths = []
    for steps in ([100] * (span // 100), [1_000] * (span // 1_000), irregular):
        clock = ManualClock(START)
        paths.append(_mids_at(PaperExchange(config, clock), clock, steps))
    common = sorted(set(paths[0]) & set(paths[1]) & set(paths[2]))
    assert len(common) == span // 5_000 + 1
    for at in common:
        assert paths[0][at] == paths[1][at] == paths[2][at], at
    assert paths[0][common[0]]["BTC"] != paths[0][common[-1]]["BTC"]  # the path did move


def test_set_price_moves_the_level_and_the_path_goes_on_from_there() -> None:
    config = PaperConfig(seed=3, candle_history_minutes=0)
    free_clock, moved_clock = ManualClock(START), ManualClock(START)
    free, moved = PaperExchange(config, free_clock), PaperExchange(config, moved_clock)
    for clock in (free_clock, moved_clock):
        clock.advance(ms=30_000)
    free.tick()
    moved.set_price("BTC", Decimal(50_000))
    assert moved.mid("BTC") == Decimal(50_000)
    reference = free._engine.prices.price("BTC")
    for _ in range(20):
        for clock, ex in ((free_clock, free), (moved_clock, moved)):
            clock.advance(ms=3_000)
            ex.tick()
    free_move = free._engine.prices.price("BTC") / reference
    moved_move = moved._engine.prices.price("BTC") / Decimal(50_000)
    assert free_move != 1
    assert abs(free_move - moved_move) < Decimal("1e-9")


def test_hype_perp_and_spot_stay_within_the_basis_band_through_a_day() -> None:
    """The perp and its spot pair quote one oracle; even a perp pushed over its band (and the
    stressed regime, jumps and trades) leaves them within ``perp_basis_band`` of each other."""
    base = PaperConfig(seed=9, candle_history_minutes=0)
    hype = next(p for p in base.perps if p.name == "HYPE")
    band = Decimal("0.004")
    config = replace(
        base,
        perps=(replace(hype, market_weight=0.6),),
        spot_pairs=tuple(p for p in base.spot_pairs if p.name == "@1"),
        perp_basis_band=band,
        price_model=PriceModel(regimes=(VolRegime(2.0, DAY),), jumps_per_day=24.0),
    )
    clock = ManualClock(START)
    ex = PaperExchange(config, clock)
    trader = "0x" + "c3" * 20
    ex.faucet(trader, Decimal(1_000_000))
    ex.set_basis("HYPE", Decimal("0.05"))  # asks for 5 %: held at the band
    widest = Decimal(0)
    first_perp = ex.mid("HYPE")
    for minute in range(1440):
        clock.advance(ms=MINUTE)
        ex.tick()
        if minute % 60 == 0:  # a market buy of the perp every hour
            mid = ex.mid("HYPE")
            order = {"a": 0, "b": True, "p": str((mid * Decimal("1.05")).quantize(Decimal("0.01"))),
                     "s": "10", "r": False, "t": {"limit": {"tif": "Ioc"}}}  # fmt: skip
            ex.execute(account=trader, signer=trader,
                       action={"type": "order", "orders": [order], "grouping": "na"},
                       vault_address=None)  # fmt: skip
        perp, spot = ex.mid("HYPE"), ex.mid("@1")
        widest = max(widest, abs(perp / spot - 1))
    tick_slack = Decimal("0.001") / ex.mid("@1") * 2  # both mids sit on a price grid
    assert widest <= band + tick_slack, widest
    assert widest >= band / 2  # the band is actually used, not trivially zero
    assert abs(ex.mid("HYPE") / first_perp - 1) > Decimal("0.01")  # and the oracle moved


def test_the_price_path_continues_exactly_after_a_save_and_load() -> None:
    config = PaperConfig(
        seed=21,
        candle_history_minutes=0,
        # Regimes that switch about every minute and frequent jumps: their state matters.
        price_model=PriceModel(
            regimes=(VolRegime(1.0, MINUTE), VolRegime(3.0, MINUTE), VolRegime(0.3, MINUTE)),
            jumps_per_day=5_000.0,
        ),
    )
    clock = ManualClock(START)
    original = PaperExchange(config, clock)
    for _ in range(7):
        clock.advance(ms=9_300)
        original.tick()
    while original._engine.prices.regime == 0:  # save in a regime other than the starting one
        clock.advance(ms=9_300)
        original.tick()
    saved = json.loads(json.dumps(dump_engine(original._engine)))
    restored = PaperExchange(config, clock)
    load_engine(restored._engine, saved, clock.now_ms())
    assert restored._engine.prices.dump() == original._engine.prices.dump()
    for _ in range(30):
        clock.advance(ms=2_000)
        original.tick()
        restored.tick()
        assert restored.info({"type": "allMids"}) == original.info({"type": "allMids"})
    for coin in original._engine.prices.coins():
        assert restored._engine.prices.price(coin) == original._engine.prices.price(coin)
