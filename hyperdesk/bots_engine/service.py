"""Bots as stored things: create, read, edit, delete, with every code upload kept as a version.

Running them is the supervisor's job; this module only keeps definitions and is what the routes
call. Ownership is checked on every call: another user's bot answers exactly like a missing one.
A running bot keeps the code, configuration and capital it started with until it is restarted,
so an edit here never changes what a live process is doing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.bots_engine.definitions import check_code, check_config
from hyperdesk.errors import Conflict, NotFound
from hyperdesk.persistence.database import transaction
from hyperdesk.persistence.models import Bot, BotVersion
from hyperdesk.wallets.service import owned_wallet

MAX_BOTS_PER_USER = 50


class RestartPolicyName(StrEnum):
    PERMANENT = "permanent"
    TRANSIENT = "transient"
    TEMPORARY = "temporary"


@dataclass(frozen=True)
class NewBot:
    name: str
    code: str
    wallet_id: int
    capital: Decimal
    input_schema: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    leverage: Decimal = Decimal(1)
    restart_policy: str = RestartPolicyName.TRANSIENT.value
    tick_seconds: Decimal = Decimal(5)
    keep_orders_on_stop: bool = False


@dataclass(frozen=True)
class BotDraft:
    """An edit: `None` means "leave as it is"."""

    name: str | None = None
    code: str | None = None
    input_schema: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    wallet_id: int | None = None
    capital: Decimal | None = None
    leverage: Decimal | None = None
    restart_policy: str | None = None
    tick_seconds: Decimal | None = None
    keep_orders_on_stop: bool | None = None


@dataclass(frozen=True)
class BotView:
    id: int
    user_id: int
    name: str
    wallet_id: int
    code: str
    input_schema: dict[str, Any]
    config: dict[str, Any]
    capital: Decimal
    leverage: Decimal
    restart_policy: str
    tick_seconds: Decimal
    keep_orders_on_stop: bool
    version: int
    desired_state: str
    status: str
    restarts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)


class BotService:
    def __init__(
        self, sessions: sessionmaker[Session], *, max_bots_per_user: int = MAX_BOTS_PER_USER
    ) -> None:
        self._sessions = sessions
        self._max_bots = max_bots_per_user

    def create(self, user_id: int, draft: NewBot) -> BotView:
        schema, config = draft.input_schema, draft.config
        check_code(draft.code)
        check_config(schema, config)
        try:
            with transaction(self._sessions) as session:
                owned_wallet(session, user_id, draft.wallet_id)
                count = session.scalar(select(func.count(Bot.id)).where(Bot.user_id == user_id))
                if (count or 0) >= self._max_bots:
                    raise Conflict(
                        f"A user may keep at most {self._max_bots} bots; delete one first.",
                        code="TOO_MANY_BOTS",
                    )
                self._name_free(session, user_id, draft.name)
                bot = Bot(
                    user_id=user_id,
                    wallet_id=draft.wallet_id,
                    name=draft.name,
                    code=draft.code,
                    input_schema=schema,
                    config=config,
                    capital=draft.capital,
                    leverage=draft.leverage,
                    restart_policy=draft.restart_policy,
                    tick_seconds=draft.tick_seconds,
                    keep_orders_on_stop=draft.keep_orders_on_stop,
                    version=1,
                    desired_state="stopped",
                    status="stopped",
                )
                session.add(bot)
                session.flush()
                session.add(
                    BotVersion(bot_id=bot.id, version=1, code=draft.code, input_schema=schema)
                )
                session.flush()
                return _view(bot)
        except IntegrityError as exc:  # a concurrent create with the same name won the race
            raise _name_taken() from exc

    def list_for(self, user_id: int) -> list[BotView]:
        with self._sessions() as session:
            bots = session.scalars(select(Bot).where(Bot.user_id == user_id).order_by(Bot.id))
            return [_view(b) for b in bots]

    def get(self, user_id: int, bot_id: int) -> BotView:
        with self._sessions() as session:
            return _view(owned_bot(session, user_id, bot_id))

    def update(self, user_id: int, bot_id: int, draft: BotDraft) -> BotView:
        if draft.code is not None:
            check_code(draft.code)
        try:
            with transaction(self._sessions) as session:
                bot = owned_bot(session, user_id, bot_id)
                schema = draft.input_schema if draft.input_schema is not None else bot.input_schema
                config = draft.config if draft.config is not None else bot.config
                if draft.input_schema is not None or draft.config is not None:
                    check_config(schema, config)
                if draft.wallet_id is not None and draft.wallet_id != bot.wallet_id:
                    owned_wallet(session, user_id, draft.wallet_id)
                    bot.wallet_id = draft.wallet_id
                if draft.name is not None and draft.name != bot.name:
                    self._name_free(session, user_id, draft.name)
                    bot.name = draft.name
                code_changed = draft.code is not None and draft.code != bot.code
                schema_changed = schema != bot.input_schema
                if code_changed or schema_changed:
                    bot.version += 1
                    bot.code = draft.code if draft.code is not None else bot.code
                    bot.input_schema = schema
                    session.add(
                        BotVersion(
                            bot_id=bot.id, version=bot.version, code=bot.code, input_schema=schema
                        )
                    )
                bot.config = config
                for name in (
                    "capital",
                    "leverage",
                    "restart_policy",
                    "tick_seconds",
                    "keep_orders_on_stop",
                ):
                    value = getattr(draft, name)
                    if value is not None:
                        setattr(bot, name, value)
                session.flush()
                return _view(bot)
        except IntegrityError as exc:
            raise _name_taken() from exc

    def delete(self, user_id: int, bot_id: int) -> None:
        with transaction(self._sessions) as session:
            bot = owned_bot(session, user_id, bot_id)
            if bot.desired_state == "running" or bot.status not in ("stopped", "failed"):
                raise Conflict("Stop the bot before deleting it.", code="BOT_RUNNING")
            session.delete(bot)

    def versions(self, user_id: int, bot_id: int) -> list[tuple[int, datetime]]:
        with self._sessions() as session:
            owned_bot(session, user_id, bot_id)
            rows = session.execute(
                select(BotVersion.version, BotVersion.created_at)
                .where(BotVersion.bot_id == bot_id)
                .order_by(BotVersion.version)
            ).all()
            return [(v, t) for v, t in rows]

    @staticmethod
    def _name_free(session: Session, user_id: int, name: str) -> None:
        taken = session.scalar(select(Bot.id).where(Bot.user_id == user_id, Bot.name == name))
        if taken is not None:
            raise _name_taken()


def owned_bot(session: Session, user_id: int, bot_id: int) -> Bot:
    """The caller's bot; another user's answers exactly like a missing one (404)."""
    bot = session.get(Bot, bot_id)
    if bot is None or bot.user_id != user_id:
        raise NotFound("Bot not found.")
    return bot


def _name_taken() -> Conflict:
    return Conflict("You already have a bot with that name.", code="BOT_NAME_TAKEN")


def _view(bot: Bot) -> BotView:
    return BotView(
        id=bot.id,
        user_id=bot.user_id,
        name=bot.name,
        wallet_id=bot.wallet_id,
        code=bot.code,
        input_schema=dict(bot.input_schema or {}),
        config=dict(bot.config or {}),
        capital=bot.capital,
        leverage=bot.leverage,
        restart_policy=bot.restart_policy,
        tick_seconds=bot.tick_seconds,
        keep_orders_on_stop=bot.keep_orders_on_stop,
        version=bot.version,
        desired_state=bot.desired_state,
        status=bot.status,
        restarts=bot.restarts,
        last_error=bot.last_error,
        created_at=bot.created_at,
        updated_at=bot.updated_at,
    )
