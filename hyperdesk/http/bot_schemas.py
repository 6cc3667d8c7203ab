"""Request and response models of the bot routes (api.md: bots)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from hyperdesk.http.schemas import StrictIn
from hyperdesk.http.trading_schemas import DecimalStr, Id, PositiveDecimal

RestartPolicy = Literal["permanent", "transient", "temporary"]

MIN_TICK_SECONDS = Decimal("0.1")
MAX_TICK_SECONDS = Decimal(3600)
MAX_LEVERAGE = Decimal(50)


class BotIn(StrictIn):
    name: str = Field(min_length=1, max_length=100)
    code: str = Field(min_length=1, description="Python source defining `class Bot`")
    input_schema: dict[str, Any] = Field(
        default_factory=dict, description="a JSON Schema (draft 2020-12) for `config`"
    )
    config: dict[str, Any] = Field(default_factory=dict)
    wallet_id: Id
    capital: PositiveDecimal = Field(description="USD the bot may commit (see docs/bots.md)")
    leverage: PositiveDecimal = Field(default=Decimal(1), le=MAX_LEVERAGE)
    restart_policy: RestartPolicy = "transient"
    tick_seconds: PositiveDecimal = Field(
        default=Decimal(5), ge=MIN_TICK_SECONDS, le=MAX_TICK_SECONDS
    )
    keep_orders_on_stop: bool = Field(
        default=False, description="leave the bot's resting orders open when it stops"
    )


class BotPatch(StrictIn):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    code: str | None = Field(default=None, min_length=1)
    input_schema: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    wallet_id: Id | None = None
    capital: PositiveDecimal | None = None
    leverage: PositiveDecimal | None = Field(default=None, le=MAX_LEVERAGE)
    restart_policy: RestartPolicy | None = None
    tick_seconds: PositiveDecimal | None = Field(
        default=None, ge=MIN_TICK_SECONDS, le=MAX_TICK_SECONDS
    )
    keep_orders_on_stop: bool | None = None


class BotOut(BaseModel):
    id: int
    name: str
    wallet_id: int
    input_schema: dict[str, Any]
    config: dict[str, Any]
    capital: DecimalStr
    leverage: DecimalStr
    restart_policy: RestartPolicy
    tick_seconds: DecimalStr
    keep_orders_on_stop: bool
    version: int
    desired_state: str
    status: str
    restarts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    code: str | None = Field(default=None, description="present on a single bot, not in lists")
    pid: int | None = Field(default=None, description="the running process (single bot only)")
    uptime_seconds: float | None = Field(default=None, description="how long this run has run")
    capital_status: BotCapitalOut | None = Field(
        default=None, description="the running bot's capital book (single bot only)"
    )


class BotCapitalOut(BaseModel):
    allocation: DecimalStr
    leverage: DecimalStr
    limit: DecimalStr
    used: DecimalStr
    available: DecimalStr
    realized_pnl: DecimalStr
    unrealized_pnl: DecimalStr
    fees: DecimalStr
    equity: DecimalStr


class BotLogOut(BaseModel):
    id: int
    run_id: int | None
    time: datetime
    level: str
    message: str


class BotLogPageOut(BaseModel):
    items: list[BotLogOut] = Field(description="newest first")
    next_cursor: int | None = Field(description="pass as `cursor` for older lines")


class BotExampleOut(BaseModel):
    name: str = Field(description="the example's file name, e.g. grid")
    title: str
    description: str = Field(description="the first paragraph of the bot's docstring")
    code: str
    input_schema: dict[str, Any]
    config: dict[str, Any] = Field(description="a sample configuration valid for input_schema")


BotOut.model_rebuild()  # BotCapitalOut is defined after BotOut
