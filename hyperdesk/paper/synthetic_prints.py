"""Trades the simulated market prints by itself: the tape, candles and 24 h volume of a live coin.

Why: without them only users' trades printed, so a chart moved only by re-quoted mids, the tape
and the ``trades`` channel stayed empty and ``dayNtlVlm`` counted nobody but our users.

Why a Poisson process on the price grid: like the price path, the prints must be a function of
(seed, grid time), not of how often the ticker runs. Each coin draws exponential gaps from its own
seeded generator (separate from the price path's, so the path is unchanged); every arrival falls on
the first grid step at or after it, and a tick that covers several steps sees each of them (the
price process hands each due step to ``step``). The price is the step's own mid, so a print is
inside the synthetic spread of its time; the aggressor side leans with the step's move.

Prints fill no user order and touch no account (simulated takers crossing users' orders are the
reactive liquidity's job); the market maker address stands on both sides. Frozen prices
(``volatility_scale`` 0) take no grid steps, so a frozen market prints nothing.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.instruments import Instrument
from hyperdesk.paper.liquidity import BPS, liquidity_params
from hyperdesk.paper.prices import StepView, coin_seed
from hyperdesk.protocol.rules import nearest_valid_price, round_size_down

FOLLOW_MOVE = 0.75
"""Chance that a print's aggressor trades with the step's move (buys on an up step)."""
SIZE_SPREAD = 0.8
"""Standard deviation of a print's log notional around the coin's scale."""


@dataclass(frozen=True)
class Print:
    coin: str
    time: int
    px: Decimal
    sz: Decimal
    is_buy: bool
    """The aggressor's side ("B" on the tape)."""
    hash: str


@dataclass
class _CoinFlow:
    instrument: Instrument
    source: str
    """The price process coin this one quotes around (a spot pair may share its perp's)."""
    rng: random.Random
    due: float
    """Time (ms) of the next arrival."""
    notional: float
    half_spread: Decimal


class PrintFlow:
    """Every coin's arrivals; the engine's ``StepObserver`` for the price process."""

    def __init__(
        self,
        config: PaperConfig,
        instruments: list[Instrument],
        oracle_source: dict[str, str],
        center: Callable[[Instrument, Decimal], Decimal],
        start_ms: int,
    ) -> None:
        """``center(instrument, raw)`` is the quoted mid for a raw price (the engine's basis)."""
        self._seed = config.seed
        self._rate = config.synthetic_prints_per_minute / 60_000  # arrivals per ms
        self._center = center
        specs = {p.name: p.liquidity for p in config.perps}
        specs.update((p.name, p.liquidity) for p in config.spot_pairs)
        self._coins: dict[str, _CoinFlow] = {}
        for inst in instruments:
            spec = specs.get(inst.coin)
            notional = spec.print_notional if spec is not None else None
            rng = random.Random(coin_seed(config.seed, inst.coin + ":prints"))
            self._coins[inst.coin] = _CoinFlow(
                inst,
                oracle_source[inst.coin],
                rng,
                start_ms + self._gap(rng),
                float(config.synthetic_print_notional if notional is None else notional),
                liquidity_params(inst.coin, config).half_spread_bps * BPS,
            )
        self.pending: list[Print] = []
        self.due_ms = 0.0
        self._update_due()

    def _gap(self, rng: random.Random) -> float:
        return rng.expovariate(self._rate) if self._rate > 0 else math.inf

    def _update_due(self) -> None:
        self.due_ms = min((c.due for c in self._coins.values()), default=math.inf)

    def step(self, t_ms: int, view: StepView) -> None:
        """Print every arrival in (t_ms - step, t_ms] at this step's prices."""
        floor = t_ms - view.step_ms
        for coin, flow in self._coins.items():
            if flow.due > t_ms:
                continue
            if flow.due <= floor:  # steps nobody saw (a load skips the downtime): start afresh
                flow.due = floor + self._gap(flow.rng)
            k = 0
            mid = self._center(flow.instrument, view.price(flow.source))
            move = view.move(flow.source)
            while flow.due <= t_ms:
                self.pending.append(self._print(coin, flow, t_ms, k, mid, move))
                flow.due += self._gap(flow.rng)
                k += 1
        self._update_due()

    def _print(
        self, coin: str, flow: _CoinFlow, t_ms: int, k: int, mid: Decimal, move: float
    ) -> Print:
        rng, inst = flow.rng, flow.instrument
        lean = FOLLOW_MOVE if move > 0 else 1 - FOLLOW_MOVE if move < 0 else 0.5
        is_buy = rng.random() < lean
        depth = Decimal(repr(rng.random())) * flow.half_spread
        # Rounded towards the mid, which is on the price grid: the print stays within the best
        # quotes of a ladder built around it (build_ladder rounds those away from the mid).
        raw = mid * (1 + depth) if is_buy else mid * (1 - depth)
        rounding = ROUND_FLOOR if is_buy else ROUND_CEILING
        px = nearest_valid_price(raw, inst.sz_decimals, is_spot=inst.is_spot, rounding=rounding)
        notional = flow.notional * math.exp(SIZE_SPREAD * rng.gauss(0.0, 1.0) - SIZE_SPREAD**2 / 2)
        lot = Decimal(1).scaleb(-inst.sz_decimals)
        sz = max(lot, round_size_down(Decimal(repr(notional)) / px, inst.sz_decimals))
        digest = hashlib.sha256(f"{self._seed}:print:{coin}:{t_ms}:{k}".encode()).hexdigest()
        return Print(coin, t_ms, px, sz, is_buy, "0x" + digest)

    def drain(self) -> list[Print]:
        prints, self.pending = self.pending, []
        return prints

    # ------------------------------------------------------------------ saving

    def dump(self) -> dict[str, Any]:
        """Each coin's next arrival and generator (JSON values; floats round-trip)."""
        return {
            coin: [flow.due, _rng_out(flow.rng.getstate())] for coin, flow in self._coins.items()
        }

    def load(self, saved: dict[str, Any]) -> None:
        for coin, (due, rng) in saved.items():
            flow = self._coins.get(coin)
            if flow is not None:
                flow.due = float(due)
                flow.rng.setstate(_rng_in(rng))
        self._update_due()


def _rng_out(state: Any) -> list:
    version, internal, gauss_next = state
    return [version, list(internal), gauss_next]


def _rng_in(saved: Any) -> tuple:
    version, internal, gauss_next = saved
    return (version, tuple(internal), gauss_next)
