"""Manual trading: place, list, modify and cancel orders.

Every route is `async`. Placing, modifying and cancelling wait for the exchange on the event loop
(the signer actor replies to the loop), so no worker thread is tied up per order; listing runs
its reads in one worker thread. A sync route with a response model would cost a second trip
through the thread pool, for FastAPI to validate the answer there.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from starlette.concurrency import run_in_threadpool

from hyperdesk.accounts.service import UserView
from hyperdesk.exchange.models import OrderRequest, OrderResult
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
async def place_order(body: OrderIn, user: CurrentUser, services: ServicesDep) -> Response:
    return await place(services, user, body)


@router.patch("/{oid}", response_model=OrderOut)
async def modify_order(
    oid: Oid, body: OrderModifyIn, user: CurrentUser, services: ServicesDep
) -> Response:
    return await modify(services, user, oid, body)


@router.delete("/{oid}", status_code=status.HTTP_204_NO_CONTENT)
async def cancel_order(
    oid: Oid, wallet_id: Annotated[Id, Query()], user: CurrentUser, services: ServicesDep
) -> Response:
    return await cancel(services, user, oid, wallet_id)


# What the three routes do, whichever way a request came in: through FastAPI's routing above,
# or straight from `OrderEndpoints` once it has checked the request the way FastAPI would.


async def place(services: Services, user: UserView, body: OrderIn) -> Response:
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
    services.remember_order_owner(cloid, user.id)
    placed = await services.orders.place_async(
        user.id, body.wallet_id, request, cloid=cloid, on_fills=services.publish_fills
    )
    return _order_out(placed.result, placed.order_id)


async def modify(services: Services, user: UserView, oid: int, body: OrderModifyIn) -> Response:
    result = await services.orders.modify_async(
        user.id, body.wallet_id, oid, price=body.price, size=body.size
    )
    return _order_out(result)


async def cancel(services: Services, user: UserView, oid: int, wallet_id: int) -> Response:
    await services.orders.cancel_async(user.id, wallet_id, oid)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _order_out(result: OrderResult, order_id: int | None = None) -> Response:
    """The answer, serialized here: a model returned to FastAPI would be validated against
    `response_model` again before being serialized (the model stays for the schema)."""
    answer = OrderOut(
        id=order_id,
        status=result.status,
        oid=result.oid,
        cloid=result.cloid,
        filled_size=result.filled_size,
        avg_price=result.avg_price,
    )
    return Response(answer.model_dump_json(), media_type="application/json")
