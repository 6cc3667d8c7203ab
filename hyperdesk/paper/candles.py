"""OHLCV candles for every coin and every Hyperliquid interval, and the rolling 24 h figures.

Why only the 1m candle is touched per trade: updating fourteen intervals on every trade was a
fifth of the matching bench. A price or trade now updates the coin's current 1m candle; when a
minute closes it is folded once into every longer interval. A longer interval's current candle
is that fold plus the open minute, merged when it is read (``current``, ``snapshot``).

The 24 h volume and ``prevDayPx`` come from the same 1m candles (each also keeps its notional):
a running sum over the last 1440 minutes, advanced as minutes leave the window.
"""

from __future__ import annotations

from bisect import bisect_left
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
LONGER = [interval for interval in INTERVALS if interval != "1m"]
MAX_CANDLES = 5000
_MONDAY_OFFSET = 4 * DAY  # 1970-01-01 was a Thursday; weeks open on Monday 00:00 UTC
ZERO = Decimal(0)


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
    ntl: Decimal = ZERO
    """Traded notional (not on the wire): what the 24 h ``dayNtlVlm`` sums."""

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


def _merge(into: Candle, minute: Candle) -> Candle:
    """``into`` extended by a later minute (a new object; ``into`` is not changed)."""
    return Candle(
        into.t,
        into.close_t,
        into.o,
        max(into.h, minute.h),
        min(into.low, minute.low),
        minute.c,
        into.v + minute.v,
        into.n + minute.n,
        into.ntl + minute.ntl,
    )


def _widen(minute: Candle, start: int, end: int) -> Candle:
    """A longer candle that so far holds one minute."""
    return Candle(
        start, end, minute.o, minute.h, minute.low, minute.c, minute.v, minute.n, minute.ntl
    )


@dataclass
class _Day:
    """Running 24 h totals of one coin over its 1m candles with ``t >= since``."""

    since: int
    ntl: Decimal = ZERO
    base: Decimal = ZERO


class CandleStore:
    """The most recent 5000 candles per (coin, interval)."""

    def __init__(self) -> None:
        self._series: dict[tuple[str, str], list[Candle]] = {}
        self._bounds: dict[int, list[tuple[str, int, int]]] = {}
        self._day: dict[str, _Day] = {}
        self._texts: dict[Decimal, str] = {}

    def record(
        self,
        coin: str,
        ts: int,
        px: Decimal,
        *,
        volume: Decimal = ZERO,
        trades: int = 0,
        open_px: Decimal | None = None,
    ) -> bool:
        """Fold a price (and optionally one trade's size) into the coin's 1m candle.

        Returns False for late data (a minute already closed), which is ignored."""
        series = self._series.get((coin, "1m"))
        if series is None:
            series = self._series[(coin, "1m")] = []
        start = ts - ts % MINUTE
        last = series[-1] if series else None
        ntl = px * volume if volume else ZERO
        if last is not None and last.t == start:
            if px > last.h:
                last.h = px
            elif px < last.low:
                last.low = px
            last.c = px
            if trades:
                last.v += volume
                last.n += trades
                last.ntl += ntl
                day = self._day.get(coin)
                if day is not None:
                    day.ntl += ntl
                    day.base += volume
            return True
        if last is not None and last.t > start:
            return False
        if last is not None:
            self._fold(coin, last)
        first = open_px if open_px is not None else (last.c if last is not None else px)
        candle = Candle(
            start,
            start + MINUTE - 1,
            first,
            max(first, px),
            min(first, px),
            px,
            volume,
            trades,
            ntl,
        )
        series.append(candle)
        if len(series) > MAX_CANDLES:
            del series[0]
        day = self._day.get(coin)
        if day is not None:
            day.ntl += ntl
            day.base += volume
        return True

    def _longer_bounds(self, minute_t: int) -> list[tuple[str, int, int]]:
        """(interval, open, close) of every longer candle holding this minute (cached)."""
        bounds = self._bounds.get(minute_t)
        if bounds is None:
            if len(self._bounds) > 64:
                self._bounds.clear()
            bounds = [(i, *bucket(minute_t, i)) for i in LONGER]
            self._bounds[minute_t] = bounds
        return bounds

    def _fold(self, coin: str, minute: Candle) -> None:
        """Add a closed minute to every longer interval's stored candles."""
        for interval, start, end in self._longer_bounds(minute.t):
            series = self._series.get((coin, interval))
            if series is None:
                series = self._series[(coin, interval)] = []
            last = series[-1] if series else None
            if last is not None and last.t == start:
                series[-1] = _merge(last, minute)
            elif last is None or last.t < start:
                series.append(_widen(minute, start, end))
                if len(series) > MAX_CANDLES:
                    del series[0]

    def current(self, coin: str) -> list[tuple[str, Candle]]:
        """The live candle of every interval (each longer one merged with the open minute)."""
        minutes = self._series.get((coin, "1m"))
        if not minutes:
            return []
        minute = minutes[-1]
        out = [("1m", minute)]
        for interval, start, end in self._longer_bounds(minute.t):
            out.append((interval, self._live(coin, interval, minute, start, end)))
        return out

    def current_wires(self, coin: str) -> list[tuple[str, dict]]:
        """``current`` as wire dicts. Intervals share most prices and prices repeat from call to
        call, so formatted numbers are kept (a bounded cache; equal values format alike)."""
        texts = self._texts
        if len(texts) > 4096:
            texts.clear()

        def text(value: Decimal) -> str:
            found = texts.get(value)
            if found is None:
                found = texts[value] = wire(value)
            return found

        return [
            (
                interval,
                {
                    "t": c.t,
                    "T": c.close_t,
                    "s": coin,
                    "i": interval,
                    "o": text(c.o),
                    "c": text(c.c),
                    "h": text(c.h),
                    "l": text(c.low),
                    "v": text(c.v),
                    "n": c.n,
                },
            )
            for interval, c in self.current(coin)
        ]

    def _live(self, coin: str, interval: str, minute: Candle, start: int, end: int) -> Candle:
        series = self._series.get((coin, interval))
        last = series[-1] if series else None
        if last is not None and last.t == start:
            return _merge(last, minute)
        return _widen(minute, start, end)

    def series(self) -> dict[tuple[str, str], list[Candle]]:
        """Every stored series by (coin, interval); the live lists (for saving, under the lock).

        A longer interval's list holds closed minutes only; the open minute is in the 1m list."""
        return self._series

    def replace(self, series: dict[tuple[str, str], list[Candle]]) -> None:
        """Swap in series read back from a saved state."""
        self._series = series
        self._day = {}

    def snapshot(self, coin: str, interval: str, start: int, end: int) -> list[dict]:
        stored = self._series.get((coin, interval), [])
        candles = list(stored)
        if interval != "1m":
            live = dict(self.current(coin)).get(interval)
            if live is not None:
                if candles and candles[-1].t == live.t:
                    candles[-1] = live
                else:
                    candles.append(live)
                candles = candles[-MAX_CANDLES:]
        return [c.wire(coin, interval) for c in candles if c.close_t >= start and c.t <= end]

    # ------------------------------------------------------------------ 24 h figures

    def day_figures(self, coin: str, now_ms: int) -> tuple[Decimal | None, Decimal, Decimal]:
        """(price 24 h ago, notional traded, base size traded) over the last 24 hours.

        The price 24 h ago is the close of the last minute that ended before the window, else
        the open of the oldest minute kept (None without any candle)."""
        minutes = self._series.get((coin, "1m"), [])
        since = now_ms - now_ms % MINUTE - DAY + MINUTE
        day = self._day.get(coin)
        if day is None or since < day.since:
            day = self._day[coin] = _Day(since)
            for candle in minutes[bisect_left(minutes, since, key=lambda c: c.t) :]:
                day.ntl += candle.ntl
                day.base += candle.v
        elif since > day.since:
            first = bisect_left(minutes, day.since, key=lambda c: c.t)
            last = bisect_left(minutes, since, key=lambda c: c.t)
            for candle in minutes[first:last]:
                day.ntl -= candle.ntl
                day.base -= candle.v
            day.since = since
        if not minutes:
            return None, day.ntl, day.base
        before = bisect_left(minutes, since, key=lambda c: c.t)
        prev = minutes[before - 1].c if before > 0 else minutes[0].o
        return prev, day.ntl, day.base
