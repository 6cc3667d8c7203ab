"""Market data: markets with metadata and mids, order books, candles."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from hyperdesk.errors import InvalidInput, NotFound
from hyperdesk.exchange.models import to_decimal
from hyperdesk.http.deps import ServicesDep
from hyperdesk.http.trading_schemas import BookOut, CandleOut, LevelOut, MarketOut, TradePrintOut

router = APIRouter(prefix="/markets", tags=["markets"])

Interval = Literal["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d"]
_INTERVAL_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000}
MAX_CANDLES = 5000


@router.get("", response_model=list[MarketOut])
def markets(services: ServicesDep) -> list[MarketOut]:
    return [
        MarketOut(coin=m.coin, sz_decimals=m.sz_decimals, max_leverage=m.max_leverage, mid=m.mid)
        for m in services.exchange.markets()
    ]


def _require_coin(services: ServicesDep, coin: str) -> None:
    if services.exchange.market(coin) is None:
        raise NotFound(f"No market named {coin!r}.", code="UNKNOWN_COIN")


@router.get("/{coin}/book", response_model=BookOut)
def book(coin: str, services: ServicesDep) -> BookOut:
    _require_coin(services, coin)
    snapshot = services.exchange.l2_book(coin)
    return BookOut(
        coin=coin,
        bids=[LevelOut(price=b.price, size=b.size) for b in snapshot.bids],
        asks=[LevelOut(price=a.price, size=a.size) for a in snapshot.asks],
        time=snapshot.time_ms,
    )


@router.get("/{coin}/trades", response_model=list[TradePrintOut])
def recent_trades(coin: str, services: ServicesDep) -> list[TradePrintOut]:
    """The market's latest public trades (anyone's), newest first."""
    _require_coin(services, coin)
    raw = services.exchange.info_request({"type": "recentTrades", "coin": coin}) or []
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
    services: ServicesDep,
    interval: Interval = "1m",
    start: Annotated[int | None, Query(ge=0)] = None,
    end: Annotated[int | None, Query(ge=0)] = None,
) -> list[CandleOut]:
    _require_coin(services, coin)
    step = int(interval[:-1]) * _INTERVAL_MS[interval[-1]]
    end_ms = end if end is not None else int(time.time() * 1000)
    start_ms = start if start is not None else end_ms - 500 * step
    if start_ms > end_ms:
        raise InvalidInput("start must not be after end.", code="BAD_RANGE")
    if (end_ms - start_ms) // step > MAX_CANDLES:
        raise InvalidInput(f"At most {MAX_CANDLES} candles per request.", code="RANGE_TOO_LARGE")
    return [
        CandleOut(
            time=c.time_ms, open=c.open, high=c.high, low=c.low, close=c.close, volume=c.volume
        )
        for c in services.exchange.candles(coin, interval, start_ms, end_ms)
    ]
