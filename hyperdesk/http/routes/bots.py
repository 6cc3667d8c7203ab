"""Bots: create, read, edit, delete; the bot's own trades. Everything owner-only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from hyperdesk.bots_engine.service import BotDraft, BotView, NewBot
from hyperdesk.http.bot_schemas import BotIn, BotOut, BotPatch
from hyperdesk.http.deps import CurrentUser, ServicesDep
from hyperdesk.http.routes.trades import trades as trades_page
from hyperdesk.http.trading_schemas import MAX_ID, Id, TradePageOut
from hyperdesk.trading.history import MAX_PAGE, TradeFilter

router = APIRouter(prefix="/bots", tags=["bots"])


def _out(view: BotView, *, with_code: bool) -> BotOut:
    return BotOut(
        id=view.id,
        name=view.name,
        wallet_id=view.wallet_id,
        input_schema=view.input_schema,
        config=view.config,
        capital=view.capital,
        leverage=view.leverage,
        restart_policy=view.restart_policy,  # type: ignore[arg-type]
        tick_seconds=view.tick_seconds,
        keep_orders_on_stop=view.keep_orders_on_stop,
        version=view.version,
        desired_state=view.desired_state,
        status=view.status,
        restarts=view.restarts,
        last_error=view.last_error,
        created_at=view.created_at,
        updated_at=view.updated_at,
        code=view.code if with_code else None,
    )


@router.get("", response_model=list[BotOut])
def list_bots(user: CurrentUser, services: ServicesDep) -> list[BotOut]:
    return [_out(v, with_code=False) for v in services.bots.list_for(user.id)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BotOut)
def create_bot(body: BotIn, user: CurrentUser, services: ServicesDep) -> BotOut:
    view = services.bots.create(
        user.id,
        NewBot(
            name=body.name,
            code=body.code,
            wallet_id=body.wallet_id,
            capital=body.capital,
            input_schema=body.input_schema,
            config=body.config,
            leverage=body.leverage,
            restart_policy=body.restart_policy,
            tick_seconds=body.tick_seconds,
            keep_orders_on_stop=body.keep_orders_on_stop,
        ),
    )
    return _out(view, with_code=True)


@router.get("/{bot_id}", response_model=BotOut)
def get_bot(bot_id: Id, user: CurrentUser, services: ServicesDep) -> BotOut:
    return _out(services.bots.get(user.id, bot_id), with_code=True)


@router.patch("/{bot_id}", response_model=BotOut)
def edit_bot(bot_id: Id, body: BotPatch, user: CurrentUser, services: ServicesDep) -> BotOut:
    draft = BotDraft(**body.model_dump(exclude_unset=True))
    return _out(services.bots.update(user.id, bot_id, draft), with_code=True)


@router.delete("/{bot_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_bot(bot_id: Id, user: CurrentUser, services: ServicesDep) -> Response:
    services.bots.delete(user.id, bot_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{bot_id}/trades", response_model=TradePageOut)
def bot_trades(
    bot_id: Id,
    user: CurrentUser,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> TradePageOut:
    services.require_bot(user.id, bot_id)
    flt = TradeFilter(user.id, None, bot_id, None, None, None)
    return trades_page(flt, services, limit=limit, cursor=cursor)
