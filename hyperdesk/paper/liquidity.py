"""The synthetic market maker: a ladder of quotes around each coin's price, and how it reacts.

It exists so a market order (the SDK's IOC at mid +/- 5%) always finds liquidity and a resting
user order fills when the price moves through it. Three things make it behave like a real book
rather than a wall that is restored whole every tick:

* **Depth per coin** (``LiquiditySpec``): BTC quotes tighter and deeper than DOGE or PURR.
* **Depletion and refill**: what takers consume stays gone and comes back with a half-life, so a
  sweep moves the mid (the best quotes are now further out) and a second sweep a second later pays
  more. The ladder is a pure function of (center, depletion per side), so it can be rebuilt after
  a restart from the saved numbers alone.
* **Simulated taker flow**: a resting user order the market crossed is filled by a budget of USD
  a second per side, best price and oldest order first, so a large order fills in pieces over time
  while a small one still fills at once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from hyperdesk.paper.config import LiquiditySpec, PaperConfig
from hyperdesk.paper.instruments import Instrument
from hyperdesk.paper.numbers import wire
from hyperdesk.protocol.rules import nearest_valid_price, round_size_down

BPS = Decimal("0.0001")
ZERO = Decimal(0)
_USD_CENT = Decimal("0.01")
_REFILLED_FRACTION = Decimal("0.001")
"""Depletion under this share of the best level counts as refilled (the decay ends, the ladder
is the untouched one again, and equal to what it was before the sweep)."""
_LADDER_SERIALS = itertools.count(1)
FLOW_BURST_MS = 1_000
"""Simulated takers bank at most this much time's worth of flow while nothing is crossed."""


@dataclass(frozen=True)
class LiquidityParams:
    """One coin's resolved ``LiquiditySpec`` (its own values, else the config's defaults)."""

    levels: int
    half_spread_bps: Decimal
    level_spacing_bps: Decimal
    level_notional: Decimal
    refill_half_life_ms: int
    taker_flow_notional_per_s: Decimal


def liquidity_params(coin: str, config: PaperConfig) -> LiquidityParams:
    specs = {p.name: p.liquidity for p in config.perps}
    specs.update((p.name, p.liquidity) for p in config.spot_pairs)
    spec = specs.get(coin, LiquiditySpec())
    half_life = spec.refill_half_life_ms
    return LiquidityParams(
        levels=config.synthetic_levels,
        half_spread_bps=_or(spec.half_spread_bps, config.synthetic_half_spread_bps),
        level_spacing_bps=_or(spec.level_spacing_bps, config.synthetic_level_spacing_bps),
        level_notional=_or(spec.level_notional, config.synthetic_level_notional),
        refill_half_life_ms=config.synthetic_refill_half_life_ms
        if half_life is None
        else half_life,
        taker_flow_notional_per_s=_or(
            spec.taker_flow_notional_per_s, config.synthetic_taker_flow_notional_per_s
        ),
    )


def _or(value: Decimal | None, default: Decimal) -> Decimal:
    return default if value is None else value


@dataclass
class Level:
    """One synthetic quote; ``sz`` shrinks as takers consume it."""

    px: Decimal
    sz: Decimal
    n: int
    _wire: tuple[Decimal, dict[str, Any]] | None = field(default=None, repr=False, compare=False)

    def wire(self) -> dict[str, Any]:
        """The ``l2Book`` entry of this quote alone, formatted once per size (read-only)."""
        cached = self._wire
        if cached is None or cached[0] != self.sz:
            px = cached[1]["px"] if cached is not None else wire(self.px)
            cached = self._wire = (self.sz, {"px": px, "sz": wire(self.sz), "n": self.n})
        return cached[1]


@dataclass
class Ladder:
    """Synthetic bids (best = highest first) and asks (best = lowest first).

    ``full_best`` is each side's best price before any depletion: the mid moves by how far the
    consumed quotes pushed the best prices away from it. ``revision`` changes whenever a level's
    size does, and ``serial`` tells ladders apart, so a cached L2 view knows when it is stale.
    """

    bids: list[Level] = field(default_factory=list)
    asks: list[Level] = field(default_factory=list)
    full_best: dict[bool, Decimal] = field(default_factory=dict)
    full_worst: dict[bool, Decimal] = field(default_factory=dict)
    revision: int = 0
    serial: int = field(default_factory=lambda: next(_LADDER_SERIALS))

    def side(self, is_buy: bool) -> list[Level]:
        return self.bids if is_buy else self.asks

    def best(self, is_buy: bool) -> Decimal | None:
        for level in self.side(is_buy):
            if level.sz > 0:
                return level.px
        return None


def build_ladder(
    mid: Decimal,
    instrument: Instrument,
    params: LiquidityParams,
    depleted: dict[bool, Decimal] | None = None,
) -> Ladder:
    """Quote ``params.levels`` levels a side at tick-valid prices around ``mid``, then remove
    ``depleted[side]`` USD from each side's best levels (what takers took and was not refilled)."""
    ladder = Ladder()
    lot = Decimal(1).scaleb(-instrument.sz_decimals)
    for is_buy, rounding in ((True, ROUND_FLOOR), (False, ROUND_CEILING)):
        levels = ladder.side(is_buy)
        last: Decimal | None = None
        for k in range(params.levels):
            offset = (params.half_spread_bps + k * params.level_spacing_bps) * BPS
            raw = mid * (1 - offset) if is_buy else mid * (1 + offset)
            px = nearest_valid_price(
                raw, instrument.sz_decimals, is_spot=instrument.is_spot, rounding=rounding
            )
            if last is not None and (px >= last if is_buy else px <= last):
                continue  # coarse grid: two offsets rounded onto the same price
            size = round_size_down(params.level_notional * (k + 1) / px, instrument.sz_decimals)
            levels.append(Level(px, max(size, lot), 1 + k % 4))
            last = px
        if levels:
            ladder.full_best[is_buy] = levels[0].px
            ladder.full_worst[is_buy] = levels[-1].px
        gone = depleted.get(is_buy, ZERO) if depleted else ZERO
        for level in levels:
            if gone <= 0:
                break
            take = min(level.sz, round_size_down(gone / level.px, instrument.sz_decimals))
            if take < level.sz and gone >= level.sz * level.px:
                take = level.sz  # the rounding left less than a lot: the level is gone
            if take <= 0:
                break
            level.sz -= take
            gone -= take * level.px
    return ladder


def _halved(amount: Decimal, elapsed_ms: int, params: LiquidityParams) -> Decimal:
    if amount <= 0 or elapsed_ms <= 0:
        return amount
    if params.refill_half_life_ms <= 0:
        return ZERO
    power = Decimal(-elapsed_ms) / params.refill_half_life_ms
    left = (amount * Decimal(2) ** power).quantize(_USD_CENT)
    return left if left >= params.level_notional * _REFILLED_FRACTION else ZERO


@dataclass
class CoinLiquidity:
    """The synthetic market of one coin: where it is centred, what is missing, who is coming.

    ``depleted`` and ``flow`` are keyed by the side of the book (True = bids): ``depleted[True]``
    is USD of synthetic bids that sellers took; ``flow[True]`` is USD that simulated sellers may
    still trade into crossed resting user *bids*. Both are as of their ``*_ms``.
    """

    instrument: Instrument
    params: LiquidityParams
    center: Decimal
    depleted: dict[bool, Decimal]
    depleted_ms: int
    flow: dict[bool, Decimal]
    flow_ms: int
    ladder: Ladder

    @classmethod
    def fresh(
        cls, instrument: Instrument, params: LiquidityParams, center: Decimal, now: int
    ) -> CoinLiquidity:
        full = params.taker_flow_notional_per_s * FLOW_BURST_MS / 1000
        return cls(
            instrument,
            params,
            center,
            {True: ZERO, False: ZERO},
            now,
            {True: full, False: full},
            now,
            build_ladder(center, instrument, params),
        )

    @property
    def is_depleted(self) -> bool:
        return self.depleted[True] > 0 or self.depleted[False] > 0

    def _refill(self, now: int) -> None:
        elapsed = now - self.depleted_ms
        if elapsed > 0:
            for side in (True, False):
                self.depleted[side] = _halved(self.depleted[side], elapsed, self.params)
            self.depleted_ms = now

    def requote(self, center: Decimal, now: int) -> Ladder:
        """Quote around ``center`` with what has refilled by ``now``; returns the new ladder."""
        self._refill(now)
        self.center = center
        depleted = self.depleted if self.is_depleted else None
        self.ladder = build_ladder(center, self.instrument, self.params, depleted)
        return self.ladder

    def refresh(self, now: int) -> bool:
        """Let consumed quotes refill up to ``now`` between re-quotes; True if the ladder changed."""
        if not self.is_depleted or now <= self.depleted_ms:
            return False
        self.requote(self.center, now)
        return True

    def consumed(self, side: bool, notional: Decimal, now: int) -> None:
        """Takers took ``notional`` USD of ``side`` at ``now`` (the ladder levels are already
        reduced; ``refresh`` ran before the take, so only an undepleted clock moves here)."""
        self._refill(now)
        self.depleted[side] += notional

    def dump(self) -> dict[str, Any]:
        """The state that cannot be recomputed from the price (the ladder can, from it)."""
        return {
            "center": str(self.center),
            "depleted": [str(self.depleted[True]), str(self.depleted[False])],
            "depleted_ms": self.depleted_ms,
            "flow": [str(self.flow[True]), str(self.flow[False])],
            "flow_ms": self.flow_ms,
        }

    @classmethod
    def load(
        cls, instrument: Instrument, params: LiquidityParams, saved: dict[str, Any]
    ) -> CoinLiquidity:
        center = Decimal(saved["center"])
        depleted = {True: Decimal(saved["depleted"][0]), False: Decimal(saved["depleted"][1])}
        return cls(
            instrument,
            params,
            center,
            depleted,
            int(saved["depleted_ms"]),
            {True: Decimal(saved["flow"][0]), False: Decimal(saved["flow"][1])},
            int(saved["flow_ms"]),
            build_ladder(center, instrument, params, depleted),
        )

    def mid(self) -> Decimal:
        """The center moved by half of how far depletion pushed each best quote away."""
        if not self.is_depleted:
            return self.center
        shift = ZERO
        for side, sign in ((False, 1), (True, -1)):
            full = self.ladder.full_best.get(side)
            if full is None:
                continue
            now_best = self.ladder.best(side)
            if now_best is None:  # the whole side is gone: as far as the ladder reached
                now_best = self.ladder.full_worst[side]
            shift += sign * (now_best - full)
        inst = self.instrument
        return nearest_valid_price(self.center + shift / 2, inst.sz_decimals, is_spot=inst.is_spot)

    def flow_budget(self, resting_is_buy: bool, now: int) -> Decimal:
        """USD that simulated takers can still trade into crossed resting orders of one side."""
        rate = self.params.taker_flow_notional_per_s
        elapsed = now - self.flow_ms
        if elapsed > 0:
            cap = rate * FLOW_BURST_MS / 1000
            for side in (True, False):
                self.flow[side] = min(cap, self.flow[side] + rate * elapsed / 1000)
            self.flow_ms = now
        return self.flow[resting_is_buy]

    def use_flow(self, resting_is_buy: bool, notional: Decimal) -> None:
        self.flow[resting_is_buy] = max(ZERO, self.flow[resting_is_buy] - notional)
