"""The synthetic market maker: a ladder of quotes around the mid of each coin.

It exists so a market order (the SDK's IOC at mid +/- 5%) always finds liquidity and a resting
user order fills when the price moves through it. The ladder is a pure function of the mid and the
settings (no randomness), re-quoted on every tick; what takers consume within one tick stays
consumed until the next re-quote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from hyperdesk.exchange.rules import nearest_valid_price, round_size_down
from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.instruments import Instrument

BPS = Decimal("0.0001")


@dataclass
class Level:
    """One synthetic quote; ``sz`` shrinks as takers consume it."""

    px: Decimal
    sz: Decimal
    n: int


@dataclass
class Ladder:
    """Synthetic bids (best = highest first) and asks (best = lowest first)."""

    bids: list[Level] = field(default_factory=list)
    asks: list[Level] = field(default_factory=list)

    def side(self, is_buy: bool) -> list[Level]:
        return self.bids if is_buy else self.asks

    def best(self, is_buy: bool) -> Decimal | None:
        for level in self.side(is_buy):
            if level.sz > 0:
                return level.px
        return None


def build_ladder(mid: Decimal, instrument: Instrument, config: PaperConfig) -> Ladder:
    """Quote ``config.synthetic_levels`` levels a side at tick-valid prices around ``mid``."""
    ladder = Ladder()
    lot = Decimal(1).scaleb(-instrument.sz_decimals)
    for is_buy, rounding in ((True, ROUND_FLOOR), (False, ROUND_CEILING)):
        levels = ladder.side(is_buy)
        last: Decimal | None = None
        for k in range(config.synthetic_levels):
            offset = (
                config.synthetic_half_spread_bps + k * config.synthetic_level_spacing_bps
            ) * BPS
            raw = mid * (1 - offset) if is_buy else mid * (1 + offset)
            px = nearest_valid_price(
                raw, instrument.sz_decimals, is_spot=instrument.is_spot, rounding=rounding
            )
            if last is not None and (px >= last if is_buy else px <= last):
                continue  # coarse grid: two offsets rounded onto the same price
            size = round_size_down(
                config.synthetic_level_notional * (k + 1) / px, instrument.sz_decimals
            )
            levels.append(Level(px, max(size, lot), 1 + k % 4))
            last = px
    return ladder
