"""A seeded geometric Brownian motion per coin: the paper exchange's "oracle".

Deterministic: the same seed and the same sequence of ``step`` calls (time deltas) give the same
prices, because each coin owns a ``random.Random`` seeded from (seed, coin name) and draws exactly
one normal per step. Money stays Decimal; only the random factor is a float.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from decimal import Decimal

MS_PER_YEAR = 365 * 24 * 3600 * 1000
_RAW_QUANTUM = Decimal("1e-12")


def coin_seed(seed: int, name: str) -> int:
    """A stable per-coin seed (Python's ``hash`` is salted per process, so it cannot be used)."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass
class _Walk:
    price: Decimal
    sigma: float
    rng: random.Random


class PriceProcess:
    """Raw (unrounded) prices of every coin; the engine rounds them onto the tick grid."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._walks: dict[str, _Walk] = {}

    def add(self, coin: str, initial: Decimal, annual_volatility: float) -> None:
        self._walks[coin] = _Walk(
            initial, annual_volatility, random.Random(coin_seed(self._seed, coin))
        )

    def price(self, coin: str) -> Decimal:
        return self._walks[coin].price

    def coins(self) -> list[str]:
        return list(self._walks)

    def set_price(self, coin: str, px: Decimal) -> None:
        """Test/admin hook: jump the process to ``px``; later steps continue from there."""
        if px <= 0:
            raise ValueError("price must be positive")
        self._walks[coin].price = px

    def state(self, coin: str) -> tuple[Decimal, object]:
        """(raw price, generator state) of one coin: what a saved exchange needs to go on."""
        walk = self._walks[coin]
        return walk.price, walk.rng.getstate()

    def restore(self, coin: str, price: Decimal, rng_state: object) -> None:
        """Put one coin back where ``state`` found it; later steps continue that path."""
        walk = self._walks[coin]
        walk.price = price
        walk.rng.setstate(rng_state)  # type: ignore[arg-type]

    def step(self, coin: str, dt_ms: int, volatility_scale: float = 1.0) -> Decimal:
        """Advance one coin by ``dt_ms`` (one normal draw, whatever the length) and return it."""
        walk = self._walks[coin]
        if dt_ms <= 0:
            return walk.price
        sigma = walk.sigma * volatility_scale
        dt = dt_ms / MS_PER_YEAR
        shock = walk.rng.gauss(0.0, 1.0)
        factor = math.exp(-0.5 * sigma * sigma * dt + sigma * math.sqrt(dt) * shock)
        walk.price = (walk.price * Decimal(repr(factor))).quantize(_RAW_QUANTUM)
        return walk.price

    def history(self, coin: str, minutes: int) -> list[Decimal]:
        """A seeded backward path of 1-minute closes ending at the current price.

        Used once at start so charts have history. It draws from its own generator, so it does not
        disturb the live process.
        """
        walk = self._walks[coin]
        rng = random.Random(coin_seed(self._seed, coin + ":history"))
        dt = 60_000 / MS_PER_YEAR
        closes = [walk.price]
        price = walk.price
        for _ in range(minutes):
            factor = math.exp(walk.sigma * math.sqrt(dt) * rng.gauss(0.0, 1.0))
            price = (price / Decimal(repr(factor))).quantize(_RAW_QUANTUM)
            closes.append(price)
        closes.reverse()
        return closes
