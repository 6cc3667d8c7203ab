"""Oracle and mark prices of the paper perps (protocol reference §9.4).

Why a mark distinct from the mid: Hyperliquid margins, liquidates and triggers TP/SL on the mark,
a robust median that one print or one thin book cannot move. Its inputs are

1. the oracle plus the 150 s EMA of (mid - oracle),
2. the median of best bid, best ask and last trade on the venue,
3. the volume-weighted median of CEX perp mids.

The paper world has no CEX, and Hyperliquid's rule for exactly two inputs adds the 30 s EMA of
input 2 as the third, so that is what is computed here. The oracle is the seeded price process of
the token (shared by a token's perp and its spot pair, so their basis stays anchored).

EMAs are time-weighted (``weight = exp(-dt / tau)``): a ManualClock that does not move leaves
them where they are, and a long gap lets the new sample dominate. Pure arithmetic in Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ONE = Decimal(1)


@dataclass
class MarkState:
    """The running inputs of one perp's mark price."""

    basis_ema: Decimal | None = None
    """EMA of (mid - oracle)."""
    book_ema: Decimal | None = None
    """EMA of median(best bid, best ask, last trade)."""
    updated_ms: int = 0


def time_ema(previous: Decimal | None, sample: Decimal, dt_ms: int, tau_ms: int) -> Decimal:
    """One step of a time-weighted EMA; the first sample starts it."""
    if previous is None or tau_ms <= 0:
        return sample
    if dt_ms <= 0:
        return previous
    weight = (Decimal(-dt_ms) / Decimal(tau_ms)).exp()
    return previous * weight + sample * (ONE - weight)


def median(values: list[Decimal]) -> Decimal:
    """Median of one to three values (the mean of the middle two for an even count)."""
    ordered = sorted(values)
    n = len(ordered)
    if n % 2:
        return ordered[n // 2]
    return (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def book_price(bid: Decimal | None, ask: Decimal | None, last_trade: Decimal | None) -> Decimal:
    """Input 2: median of the venue's best bid, best ask and last trade (those that exist)."""
    present = [p for p in (bid, ask, last_trade) if p is not None]
    if not present:
        raise ValueError("no book price")
    return median(present)


def update_mark(
    state: MarkState,
    now_ms: int,
    *,
    oracle: Decimal,
    mid: Decimal,
    book: Decimal,
    basis_tau_ms: int,
    book_tau_ms: int,
) -> Decimal:
    """Advance ``state`` to ``now_ms`` with the current samples and return the (raw) mark."""
    dt = now_ms - state.updated_ms
    state.basis_ema = time_ema(state.basis_ema, mid - oracle, dt, basis_tau_ms)
    state.book_ema = time_ema(state.book_ema, book, dt, book_tau_ms)
    state.updated_ms = max(state.updated_ms, now_ms)
    return median([oracle + state.basis_ema, book, state.book_ema])
