"""Manual trading: place, list, modify and cancel orders.

Routes that answer with a model are `async` and run their blocking part in one worker thread:
a sync route with a response model costs a second trip through the thread pool, for FastAPI to
validate the answer there (about a millisecond on a loaded machine, on every order).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from starlette.concurrency import run_in_threadpool

from hyperdesk.exchange.models import OrderRequest
from hyperdesk.http.deps import CurrentUser, ServicesDep
from hyperdesk.http.trading_schemas import (
    Id,
    Oid,
    OpenOrderOut,
    OrderIn,
    OrderModifyIn,
    OrderOut,
)
from hyperdesk.services import Services
from hyperdesk.trading.cloids import new_cloid

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("", response_model=list[OpenOrderOut])
async def open_orders(
    wallet_id: Annotated[Id, Query()], user: CurrentUser, services: ServicesDep
) -> list[OpenOrderOut]:
    rows = await run_in_threadpool(services.orders.open_orders, user.id, wallet_id)
    return [
        OpenOrderOut(
            coin=o.coin,
            side=o.side,
            price=o.price,
            size=o.size,
            orig_size=o.orig_size,
            oid=o.oid,
            cloid=o.cloid,
            reduce_only=o.reduce_only,
            order_type=o.order_type,
            is_trigger=o.is_trigger,
            trigger_price=o.trigger_price,
            time=o.timestamp_ms,
            bot_id=bot_id,
        )
        for o, bot_id in rows
    ]


@router.post("", response_model=OrderOut)
async def place_order(body: OrderIn, user: CurrentUser, services: ServicesDep) -> OrderOut:
    return await run_in_threadpool(_place, body, user.id, services)


def _place(body: OrderIn, user_id: int, services: Services) -> OrderOut:
    request = OrderRequest(
        coin=body.coin,
        is_buy=body.side == "buy",
        size=body.size,
        price=body.price,
        order_type=body.type,
        tif=body.tif if body.type == "limit" else "Ioc",
        reduce_only=body.reduce_only,
        slippage=body.slippage,
        trigger_price=body.trigger_price,
        trigger_kind=body.trigger_kind,
    )
    # The cloid is chosen here so the stream knows whose order it is before the exchange answers.
    cloid = new_cloid()
    services.remember_order_owner(cloid, user_id)
    placed = services.orders.place(user_id, body.wallet_id, request, cloid=cloid)
    result = placed.result
    services.publish_fills(placed.new_fills)
    return OrderOut(
        id=placed.order_id,
        status=result.status,
        oid=result.oid,
        cloid=result.cloid,
        filled_size=result.filled_size,
        avg_price=result.avg_price,
    )


@router.patch("/{oid}", response_model=OrderOut)
async def modify_order(
    oid: Oid, body: OrderModifyIn, user: CurrentUser, services: ServicesDep
) -> OrderOut:
    result = await run_in_threadpool(
        lambda: services.orders.modify(
            user.id, body.wallet_id, oid, price=body.price, size=body.size
        )
    )
    return OrderOut(
        status=result.status,
        oid=result.oid,
        cloid=result.cloid,
        filled_size=result.filled_size,
        avg_price=result.avg_price,
    )


@router.delete("/{oid}", status_code=status.HTTP_204_NO_CONTENT)
def cancel_order(
    oid: Oid, wallet_id: Annotated[Id, Query()], user: CurrentUser, services: ServicesDep
) -> Response:
    services.orders.cancel(user.id, wallet_id, oid)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
