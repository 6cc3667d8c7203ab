"""The paper exchange's oracle prices: one market factor plus per-coin noise, jumps and regimes.

Why a factor model: independent walks left BTC and ETH uncorrelated, which no strategy tested on
paper would ever meet in the real market. Each coin's log return over one grid step is

    sigma_i * regime * sqrt(dt) * (w_i * z_market + sqrt(1 - w_i^2) * z_i)

so the correlation of two coins' returns is ``w_i * w_j`` (``CoinModel.market_weight``). Jumps
are market-wide events (a Poisson count per step) that hit every coin with the same loadings, so
they add fat tails without changing that correlation. The volatility regime is a Markov chain
shared by all coins (calm / normal / stressed by default).

Why a fixed time grid: the path must be a function of (seed, time), not of how often the ticker
ran. The process takes one step per ``step_ms`` of simulated time, and a tick that covers several
grid points takes every one of them, each drawing the same numbers from the same seeded
generators. Between grid points the price stays at the last one.

Money stays Decimal: a coin's price is a Decimal level (what ``set_price`` sets) times
``exp(log move since then)``; only the random factor is a float, and every float of the state
round-trips through JSON exactly.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

MS_PER_YEAR = 365 * 24 * 3600 * 1000
MS_PER_DAY = 24 * 3600 * 1000
_RAW_QUANTUM = Decimal("1e-12")


@dataclass(frozen=True)
class VolRegime:
    """A volatility regime: every coin's volatility times ``scale``, left after about
    ``mean_duration_ms`` on average (geometric holding time on the price grid)."""

    scale: float
    mean_duration_ms: int


@dataclass(frozen=True)
class PriceModel:
    """Knobs of the price process shared by every coin (per-coin ones live on the specs)."""

    step_ms: int = 1_000
    """Length of one grid step: the path is defined at multiples of this many milliseconds."""
    regimes: tuple[VolRegime, ...] = (
        VolRegime(1.0, 6 * 3_600_000),
        VolRegime(0.6, 8 * 3_600_000),
        VolRegime(2.0, 2 * 3_600_000),
    )
    """The first is where the process starts; a switch goes to one of the others at random."""
    jumps_per_day: float = 3.0
    """Mean number of market-wide jumps a day (0 = none)."""
    jump_size: float = 0.15
    """Standard deviation of a jump, in units of each coin's daily volatility."""


@dataclass(frozen=True)
class CoinModel:
    """One coin's parameters: annual volatility and its weight on the market factor (0..1)."""

    annual_volatility: float
    market_weight: float


def coin_seed(seed: int, name: str) -> int:
    """A stable per-coin seed (Python's ``hash`` is salted per process, so it cannot be used)."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass
class _Walk:
    level: Decimal
    """The price at the last ``set_price`` (or the initial price)."""
    log_move: float
    """Log return accumulated since ``level`` was set."""
    model: CoinModel
    rng: random.Random
    cached: Decimal | None = None


class StepObserver(Protocol):
    """Something that watches grid steps inside one advance (synthetic_prints.py).

    ``step`` is called for a grid point only when its time is at least ``due_ms``, so an observer
    with nothing due costs the price loop one comparison a step."""

    due_ms: float

    def step(self, t_ms: int, view: StepView) -> None: ...


class StepView:
    """The path at one grid step inside ``_run``, before the walks are updated at its end."""

    def __init__(
        self, process: PriceProcess, moves: list[float], last: list[float], step_ms: int
    ) -> None:
        self._index = {coin: i for i, coin in enumerate(process._walks)}
        self._walks = process._walks
        self._moves = moves
        self._last = last
        self.step_ms = step_ms

    def price(self, coin: str) -> Decimal:
        """The raw price at this step; at the last step of a run, exactly what ``price`` gives
        once the run is over (the same float sum, the same rounding)."""
        walk = self._walks[coin]
        factor = Decimal(repr(math.exp(walk.log_move + self._moves[self._index[coin]])))
        return (walk.level * factor).quantize(_RAW_QUANTUM)

    def move(self, coin: str) -> float:
        """The coin's log return over this one step."""
        return self._last[self._index[coin]]


class PriceProcess:
    """Raw (unrounded) prices of every coin; the engine rounds them onto the tick grid."""

    def __init__(self, seed: int, model: PriceModel | None = None, start_ms: int = 0) -> None:
        self._seed = seed
        self.model = model or PriceModel()
        if self.model.step_ms <= 0:
            raise ValueError("price step must be positive")
        if not self.model.regimes:
            raise ValueError("at least one volatility regime is needed")
        self._walks: dict[str, _Walk] = {}
        self._market = random.Random(coin_seed(seed, ":market"))
        self.regime = 0
        self.grid_ms = start_ms // self.model.step_ms * self.model.step_ms
        """Time of the last grid point the path has reached."""

    def add(
        self, coin: str, initial: Decimal, annual_volatility: float, market_weight: float = 0.0
    ) -> None:
        if not 0.0 <= market_weight <= 1.0:
            raise ValueError("market weight must be within [0, 1]")
        self._walks[coin] = _Walk(
            initial,
            0.0,
            CoinModel(annual_volatility, market_weight),
            random.Random(coin_seed(self._seed, coin)),
        )

    def price(self, coin: str) -> Decimal:
        walk = self._walks[coin]
        if walk.cached is None:
            factor = Decimal(repr(math.exp(walk.log_move)))
            walk.cached = (walk.level * factor).quantize(_RAW_QUANTUM)
        return walk.cached

    def coins(self) -> list[str]:
        return list(self._walks)

    def set_price(self, coin: str, px: Decimal) -> None:
        """Test/admin hook: move the coin's level to ``px``; later steps continue from there."""
        if px <= 0:
            raise ValueError("price must be positive")
        walk = self._walks[coin]
        walk.level, walk.log_move, walk.cached = px, 0.0, None

    def advance_to(
        self, now_ms: int, volatility_scale: float = 1.0, observer: StepObserver | None = None
    ) -> int:
        """Take every grid step up to ``now_ms``; return how many were taken.

        ``observer`` sees each step it is due for (frozen prices take no steps it could see)."""
        step = self.model.step_ms
        steps = (now_ms - self.grid_ms) // step
        if steps <= 0:
            return 0
        self.grid_ms += steps * step
        if volatility_scale == 0:
            return steps  # frozen prices: nothing to draw, nothing moves
        self._run(steps, volatility_scale, observer, self.grid_ms - steps * step)
        return steps

    def _run(
        self,
        steps: int,
        volatility_scale: float,
        observer: StepObserver | None = None,
        start_ms: int = 0,
    ) -> None:
        model = self.model
        dt = model.step_ms / MS_PER_YEAR
        day = MS_PER_DAY / MS_PER_YEAR
        jump_p = model.jumps_per_day * model.step_ms / MS_PER_DAY
        switch_p = [model.step_ms / max(r.mean_duration_ms, 1) for r in model.regimes]
        scales = [r.scale * volatility_scale for r in model.regimes]
        n_regimes = len(model.regimes)
        walks = list(self._walks.values())
        params = [
            (
                w,
                w.rng.gauss,
                w.model.annual_volatility * math.sqrt(dt),
                w.model.annual_volatility * math.sqrt(day) * model.jump_size * volatility_scale,
                w.model.market_weight,
                math.sqrt(1.0 - w.model.market_weight**2),
            )
            for w in walks
        ]
        moves = [0.0] * len(walks)
        last = [0.0] * len(walks)
        view = StepView(self, moves, last, model.step_ms) if observer is not None else None
        t = start_ms
        market_gauss, market_random = self._market.gauss, self._market.random
        regime = self.regime
        for _ in range(steps):
            z_market = market_gauss(0.0, 1.0)
            if market_random() < switch_p[regime] and n_regimes > 1:
                other = self._market.randrange(n_regimes - 1)
                regime = other if other < regime else other + 1
            jumped = market_random() < jump_p
            z_jump = market_gauss(0.0, 1.0) if jumped else 0.0
            scale = scales[regime]
            for i, (_w, gauss, sd, jump_sd, weight, own) in enumerate(params):
                sigma = sd * scale
                x = sigma * (weight * z_market + own * gauss(0.0, 1.0)) - 0.5 * sigma * sigma
                if jumped:
                    x += jump_sd * (weight * z_jump + own * gauss(0.0, 1.0))
                moves[i] += x
                last[i] = x
            t += model.step_ms
            if view is not None and observer is not None and t >= observer.due_ms:
                observer.step(t, view)
        self.regime = regime
        for walk, move in zip(walks, moves, strict=True):
            walk.log_move += move
            walk.cached = None

    # ------------------------------------------------------------------ saving

    def dump(self) -> dict[str, Any]:
        """Everything the path needs to continue exactly (JSON values; floats round-trip)."""
        return {
            "grid_ms": self.grid_ms,
            "regime": self.regime,
            "market_rng": _rng_out(self._market.getstate()),
            "coins": {
                coin: [str(w.level), w.log_move, _rng_out(w.rng.getstate())]
                for coin, w in self._walks.items()
            },
        }

    def load(self, saved: dict[str, Any], now_ms: int) -> None:
        """Put the process back where ``dump`` found it. Time does not run while the exchange is
        down: the grid resumes at ``now_ms`` without drawing the steps of the downtime."""
        self.regime = int(saved["regime"]) % len(self.model.regimes)
        self._market.setstate(_rng_in(saved["market_rng"]))
        for coin, (level, log_move, rng) in saved["coins"].items():
            walk = self._walks.get(coin)
            if walk is None:
                continue
            walk.level, walk.log_move, walk.cached = Decimal(level), float(log_move), None
            walk.rng.setstate(_rng_in(rng))
        aligned = now_ms // self.model.step_ms * self.model.step_ms
        self.grid_ms = max(int(saved["grid_ms"]), aligned)

    def restore_legacy(self, coin: str, price: Decimal, rng_state: Any) -> None:
        """A state saved before the factor model: the coin's price and its generator."""
        walk = self._walks[coin]
        walk.level, walk.log_move, walk.cached = price, 0.0, None
        walk.rng.setstate(_rng_in(rng_state))

    def history(self, coin: str, minutes: int) -> list[Decimal]:
        """A seeded backward path of 1-minute closes ending at the current price.

        Used once at start so charts have history. It draws from its own generator, so it does not
        disturb the live process.
        """
        walk = self._walks[coin]
        sigma = walk.model.annual_volatility
        rng = random.Random(coin_seed(self._seed, coin + ":history"))
        dt = 60_000 / MS_PER_YEAR
        price = self.price(coin)
        closes = [price]
        for _ in range(minutes):
            factor = math.exp(sigma * math.sqrt(dt) * rng.gauss(0.0, 1.0))
            price = (price / Decimal(repr(factor))).quantize(_RAW_QUANTUM)
            closes.append(price)
        closes.reverse()
        return closes


def _rng_out(state: Any) -> list:
    version, internal, gauss_next = state
    return [version, list(internal), gauss_next]


def _rng_in(saved: Any) -> tuple:
    version, internal, gauss_next = saved
    return (version, tuple(internal), gauss_next)
