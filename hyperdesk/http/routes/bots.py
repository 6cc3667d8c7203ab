"""Bots: create, read, edit, delete; start, stop, restart; logs and the bot's own trades.

Everything owner-only: another user's bot answers 404 before the supervisor is asked anything.
Lifecycle routes ask the bot supervisor with a timeout (plain `def`: FastAPI runs them in its
thread pool, so the wait never blocks the event loop).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import select

from hyperdesk.actors.bot_process import ProcessInfo, capital_json
from hyperdesk.bots_engine import examples
from hyperdesk.bots_engine.service import BotDraft, BotView, NewBot
from hyperdesk.errors import ServiceUnavailable
from hyperdesk.http.bot_schemas import (
    BotCapitalOut,
    BotExampleOut,
    BotIn,
    BotLogOut,
    BotLogPageOut,
    BotOut,
    BotPatch,
)
from hyperdesk.http.deps import CurrentUser, ServicesDep
from hyperdesk.http.routes.trades import trades as trades_page
from hyperdesk.http.trading_schemas import MAX_ID, Id, TradePageOut
from hyperdesk.persistence.models import BotLog
from hyperdesk.services import Services
from hyperdesk.trading.history import MAX_PAGE, TradeFilter

router = APIRouter(prefix="/bots", tags=["bots"])


STOP_TIMEOUT_SECONDS = 120.0
ASK_TIMEOUT_SECONDS = 60.0
MAX_LOG_PAGE = 1000


def _out(view: BotView, *, with_code: bool, info: ProcessInfo | None = None) -> BotOut:
    capital = capital_json(info.capital) if info is not None and info.capital else None
    return BotOut(
        pid=info.pid if info is not None else None,
        uptime_seconds=max(0.0, time.time() - info.started_at) if info is not None else None,
        capital_status=BotCapitalOut(**capital) if capital else None,
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


@router.get("/examples", response_model=list[BotExampleOut])
def bot_examples(user: CurrentUser) -> list[BotExampleOut]:
    """The example bots (code, input schema, sample configuration) to start a new bot from.

    Registered before `/{bot_id}` so that "examples" is not read as a bot id."""
    return [BotExampleOut(**vars(e)) for e in examples.load_examples(examples.EXAMPLES_DIR)]


@router.get("/{bot_id}", response_model=BotOut)
def get_bot(bot_id: Id, user: CurrentUser, services: ServicesDep) -> BotOut:
    view = services.bots.get(user.id, bot_id)
    return _out(view, with_code=True, info=_info(services, bot_id))


def _supervisor(services: Services) -> Any:
    if services.supervisor is None:
        raise ServiceUnavailable("The bot engine is not running.", code="BOT_ENGINE_DOWN")
    return services.supervisor


def _info(services: Services, bot_id: int) -> ProcessInfo | None:
    if services.supervisor is None:
        return None
    info: ProcessInfo | None = services.supervisor.status(bot_id).get(timeout=ASK_TIMEOUT_SECONDS)
    return info


@router.post("/{bot_id}/start", response_model=BotOut)
def start_bot(bot_id: Id, user: CurrentUser, services: ServicesDep) -> BotOut:
    """Start the bot (also a FAILED one: the owner's start forgets the failure)."""
    services.bots.get(user.id, bot_id)
    _supervisor(services).start_bot(bot_id).get(timeout=ASK_TIMEOUT_SECONDS)
    return get_bot(bot_id, user, services)


@router.post("/{bot_id}/stop", response_model=BotOut)
def stop_bot(bot_id: Id, user: CurrentUser, services: ServicesDep) -> BotOut:
    """Stop the bot and wait for its process to end; it is not restarted until started again."""
    services.bots.get(user.id, bot_id)
    _supervisor(services).stop_bot(bot_id).get(timeout=STOP_TIMEOUT_SECONDS)
    return get_bot(bot_id, user, services)


@router.post("/{bot_id}/restart", response_model=BotOut)
def restart_bot(bot_id: Id, user: CurrentUser, services: ServicesDep) -> BotOut:
    services.bots.get(user.id, bot_id)
    _supervisor(services).restart_bot(bot_id).get(timeout=STOP_TIMEOUT_SECONDS)
    return get_bot(bot_id, user, services)


@router.get("/{bot_id}/logs", response_model=BotLogPageOut)
def bot_logs(
    bot_id: Id,
    user: CurrentUser,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LOG_PAGE)] = 200,
    cursor: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> BotLogPageOut:
    """The bot's log lines, newest first; `next_cursor` pages to older ones."""
    services.require_bot(user.id, bot_id)
    query = select(BotLog).where(BotLog.bot_id == bot_id)
    if cursor is not None:
        query = query.where(BotLog.id < cursor)
    with services.sessions() as session:
        rows = session.scalars(query.order_by(BotLog.id.desc()).limit(limit + 1)).all()
        items = [
            BotLogOut(id=r.id, run_id=r.run_id, time=r.time, level=r.level, message=r.message)
            for r in rows[:limit]
        ]
    return BotLogPageOut(items=items, next_cursor=items[-1].id if len(rows) > limit else None)


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
