"""Hyperliquid's funding formulas (protocol reference §9.4), as pure Decimal functions.

* The premium is sampled on a fixed grid (every 5 s): ``(max(impact_bid - oracle, 0) -
  max(oracle - impact_ask, 0)) / oracle``, where an impact price is the average fill price of a
  market order worth the coin's impact notional (20k USD for BTC/ETH, 6k for the others).
* Each funding interval (an hour) averages its samples into ``P`` and pays
  ``F = P + clamp(interest - P, -0.0005, 0.0005)`` scaled from 8 hours to the interval (one
  eighth for an hour), capped at 4 % an hour. With a flat book the rate is the baseline
  0.01 % / 8 h = 0.00125 % an hour.
* A position pays ``szi * oracle * rate`` (a positive rate: longs pay shorts).

The engine owns the clock and the state (``FundingAccumulator`` per coin); nothing here reads
time or mutates the engine, so the numbers in a test are the numbers of this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from hyperdesk.paper.config import PaperConfig

ZERO = Decimal(0)
EIGHT_HOURS_MS = 8 * 3_600_000
PREMIUM_QUANTUM = Decimal("0.00000001")
RATE_QUANTUM = Decimal("0.000000000001")
USD_QUANTUM = Decimal("0.000001")


@dataclass
class FundingAccumulator:
    """Premium samples of the current funding interval of one coin."""

    premium_sum: Decimal = ZERO
    n_samples: int = 0

    def add(self, premium: Decimal, count: int) -> None:
        self.premium_sum += premium * count
        self.n_samples += count

    def average(self, fallback: Decimal) -> Decimal:
        """The interval's average premium (``fallback`` when nothing was sampled)."""
        if self.n_samples == 0:
            return fallback.quantize(PREMIUM_QUANTUM, rounding=ROUND_HALF_EVEN)
        avg = self.premium_sum / self.n_samples
        return avg.quantize(PREMIUM_QUANTUM, rounding=ROUND_HALF_EVEN)

    def reset(self) -> None:
        self.premium_sum = ZERO
        self.n_samples = 0


def impact_price(levels: Iterable[tuple[Decimal, Decimal]], notional: Decimal) -> Decimal | None:
    """Average fill price of a market order worth ``notional`` USD against ``levels`` (best
    first, ``(px, sz)``); None when the book is not that deep."""
    if notional <= 0:
        return None
    filled_ntl = ZERO
    filled_sz = ZERO
    for px, sz in levels:
        take = min(px * sz, notional - filled_ntl)
        if take <= 0:
            continue
        filled_ntl += take
        filled_sz += take / px
        if filled_ntl >= notional:
            return filled_ntl / filled_sz
    return None


def premium(oracle: Decimal, impact_bid: Decimal | None, impact_ask: Decimal | None) -> Decimal:
    """One premium sample; a side without enough depth contributes nothing."""
    if oracle <= 0:
        return ZERO
    above = max(impact_bid - oracle, ZERO) if impact_bid is not None else ZERO
    below = max(oracle - impact_ask, ZERO) if impact_ask is not None else ZERO
    return (above - below) / oracle


def funding_rate(avg_premium: Decimal, config: PaperConfig) -> Decimal:
    """The rate paid for one funding interval from the interval's average premium."""
    interest = config.funding_interest_rate_8h
    clamp = config.funding_premium_clamp
    eight_hour = avg_premium + min(max(interest - avg_premium, -clamp), clamp)
    rate = eight_hour * Decimal(config.funding_interval_ms) / Decimal(EIGHT_HOURS_MS)
    cap = config.funding_cap_per_interval
    rate = min(max(rate, -cap), cap)
    return rate.quantize(RATE_QUANTUM, rounding=ROUND_HALF_EVEN)


def payment(szi: Decimal, oracle: Decimal, rate: Decimal) -> Decimal:
    """USDC a position receives (negative: pays) for one interval."""
    return (-szi * oracle * rate).quantize(USD_QUANTUM, rounding=ROUND_HALF_EVEN)


def sample_count(start_ms: int, end_ms: int, sample_ms: int) -> int:
    """How many sample instants (multiples of ``sample_ms``) lie in ``(start_ms, end_ms]``."""
    if end_ms <= start_ms:
        return 0
    return end_ms // sample_ms - start_ms // sample_ms
