"""Trade history: every fill, by hand or by bot, filtered, paged, summarised, exported as CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from hyperdesk.http.deps import CurrentUser, ServicesDep
from hyperdesk.http.trading_schemas import (
    MAX_ID,
    Id,
    TimeMs,
    TradeOut,
    TradePageOut,
    TradeSummaryOut,
)
from hyperdesk.trading.history import MAX_PAGE, TradeFilter

router = APIRouter(tags=["trades"])


def trade_filter(
    user: CurrentUser,
    services: ServicesDep,
    wallet_id: Id | None = None,
    bot_id: Id | None = None,
    coin: Annotated[str | None, Query(max_length=32)] = None,
    start: TimeMs | None = None,
    end: TimeMs | None = None,
) -> TradeFilter:
    if wallet_id is not None:
        services.wallets.get(user.id, wallet_id)  # 404 unless the caller owns it
    if bot_id is not None:
        services.require_bot(user.id, bot_id)
    return TradeFilter(user.id, wallet_id, bot_id, coin, start, end)


Filter = Annotated[TradeFilter, Depends(trade_filter)]


@router.get("/trades", response_model=TradePageOut)
def trades(
    flt: Filter,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> TradePageOut:
    rows, next_cursor = services.history.page(flt, limit=limit, cursor=cursor)
    return TradePageOut(
        items=[
            TradeOut(
                id=r.id,
                wallet_id=r.wallet_id,
                bot_id=r.bot_id,
                source=r.source,
                coin=r.coin,
                side=r.side,
                price=r.price,
                size=r.size,
                fee=r.fee,
                closed_pnl=r.closed_pnl,
                direction=r.direction,
                time=r.time_ms,
                tid=r.tid,
                oid=r.oid,
                cloid=r.cloid,
            )
            for r in rows
        ],
        next_cursor=next_cursor,
    )


@router.get("/trades.csv", response_class=StreamingResponse)
def trades_csv(flt: Filter, services: ServicesDep) -> StreamingResponse:
    return StreamingResponse(
        services.history.csv_chunks(flt),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="trades.csv"'},
    )


@router.get("/trades/summary", response_model=TradeSummaryOut)
def trades_summary(flt: Filter, services: ServicesDep) -> TradeSummaryOut:
    s = services.history.summary(flt)
    return TradeSummaryOut(
        trades=s.trades,
        volume=s.volume,
        fees=s.fees,
        realized_pnl=s.realized_pnl,
        net_pnl=s.net_pnl,
    )
