"""Market data: markets with metadata and mids, order books, candles.

Public (no login), so served from the stream and short-lived caches: a crowd of visitors costs
the shared exchange budget one read per question per few seconds (`trading/public_data.py`).
"""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from hyperdesk.errors import InvalidInput, NotFound
from hyperdesk.exchange.models import to_decimal
from hyperdesk.http.deps import PublicDataDep
from hyperdesk.http.trading_schemas import BookOut, CandleOut, LevelOut, MarketOut, TradePrintOut

router = APIRouter(prefix="/markets", tags=["markets"])

Interval = Literal["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d"]
_INTERVAL_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}
MAX_CANDLES = 5000
DEFAULT_CANDLES = 500


@router.get("", response_model=list[MarketOut])
def markets(public: PublicDataDep) -> list[MarketOut]:
    return [
        MarketOut(coin=m.coin, sz_decimals=m.sz_decimals, max_leverage=m.max_leverage, mid=m.mid)
        for m in public.markets()
    ]


def _require_coin(public: PublicDataDep, coin: str) -> None:
    if public.market(coin) is None:
        raise NotFound(f"No market named {coin!r}.", code="UNKNOWN_COIN")


@router.get("/{coin}/book", response_model=BookOut)
def book(coin: str, public: PublicDataDep) -> BookOut:
    _require_coin(public, coin)
    snapshot = public.book(coin)
    return BookOut(
        coin=coin,
        bids=[LevelOut(price=b.price, size=b.size) for b in snapshot.bids],
        asks=[LevelOut(price=a.price, size=a.size) for a in snapshot.asks],
        time=snapshot.time_ms,
    )


@router.get("/{coin}/trades", response_model=list[TradePrintOut])
def recent_trades(coin: str, public: PublicDataDep) -> list[TradePrintOut]:
    """The market's latest public trades (anyone's), newest first."""
    _require_coin(public, coin)
    raw = public.recent_trades(coin)
    prints = [
        TradePrintOut(
            time=int(t["time"]),
            side="buy" if t["side"] == "B" else "sell",
            price=to_decimal(t["px"]),
            size=to_decimal(t["sz"]),
            tid=int(t["tid"]),
        )
        for t in raw
    ]
    return sorted(prints, key=lambda p: (p.time, p.tid), reverse=True)


@router.get("/{coin}/candles", response_model=list[CandleOut])
def candles(
    coin: str,
    public: PublicDataDep,
    interval: Interval = "1m",
    start: Annotated[int | None, Query(ge=0)] = None,
    end: Annotated[int | None, Query(ge=0)] = None,
) -> list[CandleOut]:
    _require_coin(public, coin)
    step = int(interval[:-1]) * _INTERVAL_MS[interval[-1]]
    end_ms = end if end is not None else _now_ms()
    start_ms = start if start is not None else end_ms - DEFAULT_CANDLES * step
    if start_ms > end_ms:
        raise InvalidInput("start must not be after end.", code="BAD_RANGE")
    if (end_ms - start_ms) // step > MAX_CANDLES:
        raise InvalidInput(f"At most {MAX_CANDLES} candles per request.", code="RANGE_TOO_LARGE")
    if start is None and end is None:  # "the latest": one read serves every chart for a while
        found = public.latest_candles(coin, interval, DEFAULT_CANDLES * step, _now_ms)
    else:
        found = public.candles(coin, interval, start_ms, end_ms)
    return [
        CandleOut(
            time=c.time_ms, open=c.open, high=c.high, low=c.low, close=c.close, volume=c.volume
        )
        for c in found
    ]


def _now_ms() -> int:
    return int(time.time() * 1000)
