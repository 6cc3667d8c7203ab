"""OHLCV candles for every coin and every Hyperliquid interval, built from mids and trades."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from hyperdesk.paper.numbers import wire

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
INTERVALS: dict[str, int] = {
    "1m": MINUTE,
    "3m": 3 * MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": HOUR,
    "2h": 2 * HOUR,
    "4h": 4 * HOUR,
    "8h": 8 * HOUR,
    "12h": 12 * HOUR,
    "1d": DAY,
    "3d": 3 * DAY,
    "1w": 7 * DAY,
    "1M": 0,  # calendar month, computed
}
MAX_CANDLES = 5000
_MONDAY_OFFSET = 4 * DAY  # 1970-01-01 was a Thursday; weeks open on Monday 00:00 UTC


def bucket(ts: int, interval: str) -> tuple[int, int]:
    """(open ms, close ms) of the candle containing ``ts``; close = next open - 1."""
    if interval == "1M":
        moment = datetime.fromtimestamp(ts / 1000, tz=UTC)
        month_start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
        nxt = datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC)
        return int(month_start.timestamp() * 1000), int(nxt.timestamp() * 1000) - 1
    length = INTERVALS[interval]
    offset = _MONDAY_OFFSET if interval == "1w" else 0
    start = (ts - offset) // length * length + offset
    return start, start + length - 1


@dataclass
class Candle:
    t: int
    close_t: int
    o: Decimal
    h: Decimal
    low: Decimal
    c: Decimal
    v: Decimal
    n: int

    def wire(self, coin: str, interval: str) -> dict:
        return {
            "t": self.t,
            "T": self.close_t,
            "s": coin,
            "i": interval,
            "o": wire(self.o),
            "c": wire(self.c),
            "h": wire(self.h),
            "l": wire(self.low),
            "v": wire(self.v),
            "n": self.n,
        }


class CandleStore:
    """The most recent 5000 candles per (coin, interval)."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str], list[Candle]] = {}

    def record(
        self,
        coin: str,
        ts: int,
        px: Decimal,
        *,
        volume: Decimal = Decimal(0),
        trades: int = 0,
        open_px: Decimal | None = None,
        high: Decimal | None = None,
        low: Decimal | None = None,
    ) -> list[tuple[str, Candle]]:
        """Fold a price (and optionally trade volume) into every interval; return touched candles."""
        touched = []
        for interval in INTERVALS:
            series = self._series.setdefault((coin, interval), [])
            start, end = bucket(ts, interval)
            if series and series[-1].t == start:
                candle = series[-1]
                candle.h = max(candle.h, px, high or px)
                candle.low = min(candle.low, px, low or px)
                candle.c = px
                candle.v += volume
                candle.n += trades
            elif series and series[-1].t > start:
                continue  # late data for a closed candle: ignore
            else:
                first = open_px if open_px is not None else (series[-1].c if series else px)
                candle = Candle(
                    start,
                    end,
                    first,
                    max(first, px, high or px),
                    min(first, px, low or px),
                    px,
                    volume,
                    trades,
                )
                series.append(candle)
                if len(series) > MAX_CANDLES:
                    del series[0]
            touched.append((interval, candle))
        return touched

    def series(self) -> dict[tuple[str, str], list[Candle]]:
        """Every stored series by (coin, interval); the live lists (for saving, under the lock)."""
        return self._series

    def replace(self, series: dict[tuple[str, str], list[Candle]]) -> None:
        """Swap in series read back from a saved state."""
        self._series = series

    def snapshot(self, coin: str, interval: str, start: int, end: int) -> list[dict]:
        series = self._series.get((coin, interval), [])
        return [c.wire(coin, interval) for c in series if c.close_t >= start and c.t <= end]
