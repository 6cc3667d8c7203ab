"""Strict models of every message on a bot's channel, in both directions.

Bot → server messages are hostile input: `parse_bot_message` turns a decoded frame into exactly
one model or raises `ProtocolViolation` (unknown type or method, a missing or extra field, a
wrong type, a number that is not a plain finite decimal string). A well-formed request whose
parameters are wrong raises the subclass `InvalidRequest`, which carries the request id so the
trusted side may answer it with an error response instead of only counting the violation.

Server → bot models are what the trusted side builds and sends (`model_dump(mode="json")`).
Prices and sizes cross the channel as decimal strings and are `Decimal` on both sides; the
bot runtime turns the fields named in hyperdesk.bots.api.DECIMAL_KEYS back into `Decimal`.

These models check shape, not policy: tick and lot sizes, known coins and the capital
allocation are the risk gate's to enforce, after parsing.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    ValidationError,
)

from hyperdesk.sandbox.channel import ProtocolViolation

PROTOCOL_VERSION = 1

_DECIMAL_TEXT = re.compile(r"-?(0|[1-9][0-9]{0,19})(\.[0-9]{1,20})?")


def _decimal_from_text(value: object) -> Decimal:
    """Only a plain decimal string: no float, exponent, NaN, infinity or padding."""
    if not isinstance(value, str) or not _DECIMAL_TEXT.fullmatch(value):
        raise ValueError("must be a decimal string such as '0.5'")
    return Decimal(value)


DecimalText = Annotated[
    Decimal,
    BeforeValidator(_decimal_from_text),
    PlainSerializer(lambda value: format(value, "f"), return_type=str),
]
Coin = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9@/:_\-.]+$")]
Key = Annotated[str, Field(min_length=1, max_length=128)]
RequestId = Annotated[int, Field(ge=0, le=2**53)]
Seq = Annotated[int, Field(ge=0, le=2**53)]


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# -- bot → server -------------------------------------------------------------------------------


class Hello(Message):
    """First message, sent by the runtime before any user code is loaded."""

    type: Literal["hello"]
    protocol: int


class Ready(Message):
    """The bot's class was constructed and `on_start` ran (successfully or not)."""

    type: Literal["ready"]


class Log(Message):
    type: Literal["log"]
    level: Literal["debug", "info", "warning", "error"]
    message: str = Field(max_length=8192)


class Pong(Message):
    """Answer to `Ping`, sent from the bot's main loop: it proves the loop is not stuck."""

    type: Literal["pong"]
    nonce: int


class CallbackDone(Message):
    type: Literal["callback_done"]
    event: Literal["tick", "fill", "order_update"]
    seq: Seq
    ok: bool


class BotError(Message):
    """A fatal error the runtime reports before exiting (e.g. the module failed to load)."""

    type: Literal["error"]
    code: Literal["LOAD_FAILED", "INIT_FAILED", "PROTOCOL"]
    message: str = Field(max_length=8192)


class NoParams(Message):
    pass


class PlaceOrderParams(Message):
    coin: Coin
    side: Literal["buy", "sell"]
    size: DecimalText = Field(gt=0)
    price: DecimalText | None = Field(default=None, gt=0)
    order_type: Literal["limit", "market"] = "limit"
    tif: Literal["Gtc", "Ioc", "Alo"] = "Gtc"
    reduce_only: bool = False


class CancelParams(Message):
    coin: Coin
    oid: int = Field(ge=0)


class CoinParams(Message):
    coin: Coin


class CandlesParams(Message):
    coin: Coin
    interval: Literal["1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "8h", "12h", "1d"]
    limit: int = Field(ge=1, le=5000)


class StateGetParams(Message):
    key: Key


class StateSetParams(Message):
    key: Key
    value: JsonValue


class _Request(Message):
    type: Literal["request"]
    id: RequestId


class PlaceOrderRequest(_Request):
    method: Literal["place_order"]
    params: PlaceOrderParams


class CancelRequest(_Request):
    method: Literal["cancel"]
    params: CancelParams


class OpenOrdersRequest(_Request):
    method: Literal["open_orders"]
    params: NoParams


class PositionsRequest(_Request):
    method: Literal["positions"]
    params: NoParams


class CapitalRequest(_Request):
    method: Literal["capital"]
    params: NoParams


class MidRequest(_Request):
    method: Literal["mid"]
    params: CoinParams


class BookRequest(_Request):
    method: Literal["book"]
    params: CoinParams


class CandlesRequest(_Request):
    method: Literal["candles"]
    params: CandlesParams


class StateGetRequest(_Request):
    method: Literal["state_get"]
    params: StateGetParams


class StateSetRequest(_Request):
    method: Literal["state_set"]
    params: StateSetParams


class StateDeleteRequest(_Request):
    method: Literal["state_delete"]
    params: StateGetParams


Request = (
    PlaceOrderRequest
    | CancelRequest
    | OpenOrdersRequest
    | PositionsRequest
    | CapitalRequest
    | MidRequest
    | BookRequest
    | CandlesRequest
    | StateGetRequest
    | StateSetRequest
    | StateDeleteRequest
)
BotMessage = Hello | Ready | Log | Pong | CallbackDone | BotError | Request

_BOT_MESSAGES: dict[str, type[Message]] = {
    "hello": Hello,
    "ready": Ready,
    "log": Log,
    "pong": Pong,
    "callback_done": CallbackDone,
    "error": BotError,
}
_REQUESTS: dict[str, type[_Request]] = {
    "place_order": PlaceOrderRequest,
    "cancel": CancelRequest,
    "open_orders": OpenOrdersRequest,
    "positions": PositionsRequest,
    "capital": CapitalRequest,
    "mid": MidRequest,
    "book": BookRequest,
    "candles": CandlesRequest,
    "state_get": StateGetRequest,
    "state_set": StateSetRequest,
    "state_delete": StateDeleteRequest,
}


class InvalidRequest(ProtocolViolation):
    """A request envelope with a known method and id whose parameters are invalid."""

    def __init__(self, request_id: int, method: str, message: str) -> None:
        super().__init__("INVALID_REQUEST", message)
        self.request_id = request_id
        self.method = method


def parse_bot_message(raw: dict[str, Any]) -> BotMessage:
    """The model for one decoded frame from a bot; ProtocolViolation for anything else."""
    kind = raw.get("type")
    if kind == "request":
        method = raw.get("method")
        model: type[Message] | None = _REQUESTS.get(method) if isinstance(method, str) else None
        if model is None:
            raise ProtocolViolation("UNKNOWN_METHOD", f"unknown request method {method!r:.64}")
        request_id = raw.get("id")
        if set(raw) == {"type", "id", "method", "params"} and _is_request_id(request_id):
            try:
                return model.model_validate(raw)  # type: ignore[return-value]
            except ValidationError as exc:
                raise InvalidRequest(request_id, method, _summary(exc)) from None  # type: ignore[arg-type]
    else:
        model = _BOT_MESSAGES.get(kind) if isinstance(kind, str) else None
        if model is None:
            raise ProtocolViolation("UNKNOWN_TYPE", f"unknown message type {kind!r:.64}")
    try:
        return model.model_validate(raw)  # type: ignore[return-value]
    except ValidationError as exc:
        raise ProtocolViolation("INVALID_MESSAGE", _summary(exc)) from None


def _is_request_id(value: object) -> bool:
    return type(value) is int and 0 <= value <= 2**53


def _summary(exc: ValidationError) -> str:
    """Where and what, without echoing the (hostile, possibly huge) input back."""
    parts = [
        f"{'.'.join(str(part) for part in error['loc']) or 'message'}: {error['msg']}"
        for error in exc.errors(include_input=False)[:5]
    ]
    return "; ".join(parts)[:500]


# -- server → bot -------------------------------------------------------------------------------


class Start(Message):
    type: Literal["start"] = "start"
    config: dict[str, JsonValue]
    tick_seconds: float = Field(ge=0)


class Tick(Message):
    type: Literal["tick"] = "tick"
    seq: Seq


class Fill(Message):
    """A fill of one of this bot's orders; `fill` has the platform's fill shape, decimals as text."""

    type: Literal["fill"] = "fill"
    seq: Seq
    fill: dict[str, JsonValue]


class OrderUpdate(Message):
    type: Literal["order_update"] = "order_update"
    seq: Seq
    update: dict[str, JsonValue]


class ErrorDetail(Message):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    message: str


class Response(Message):
    """The answer to one request: `result` when ok, `error` otherwise (e.g. CAPITAL_LIMIT)."""

    type: Literal["response"] = "response"
    id: RequestId
    ok: bool
    result: JsonValue = None
    error: ErrorDetail | None = None


class Ping(Message):
    type: Literal["ping"] = "ping"
    nonce: int


class Stop(Message):
    type: Literal["stop"] = "stop"
    reason: str = ""


ServerMessage = Start | Tick | Fill | OrderUpdate | Response | Ping | Stop
