"""Place, modify and cancel, served without going through FastAPI's routing.

These three are the platform's hottest requests: every manual order, and the whole reason a
trader would rather not pay for a hop through Hyperdesk. FastAPI's route matching across the
nested routers, its dependency resolution and its exception middlewares cost about as much
event-loop CPU per order as everything the order itself needs on the loop
(`bench/order_path_cpu.py`). This middleware, innermost of ours (so the body limit, the request
budget and the security headers still apply), recognises exactly those three requests, checks
them as their FastAPI routes declare (the same models, validated the same way), and calls the
same functions (`routes.orders.place`, `modify`, `cancel`); answers and errors are built by the
same code (`errors.error_response`).

Whatever it does not fully recognise — another path or method, a body that is not JSON or does
not validate, a malformed id or query — goes on to FastAPI untouched (the body replayed), whose
route gives the canonical answer. Each route is thus declared once (its FastAPI route, which is
also the OpenAPI schema) and implemented once.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from hyperdesk.exchange.answer_priority import ANSWERS
from hyperdesk.http.body_limit import replaying
from hyperdesk.http.deps import user_of_token
from hyperdesk.http.errors import error_response
from hyperdesk.http.routes import orders
from hyperdesk.http.trading_schemas import MAX_ID, MAX_INT64, OrderIn, OrderModifyIn
from hyperdesk.services import Services

PREFIX = "/api/orders"
#: An order's path with a plain decimal oid (a leading zero, or anything odder, is left to FastAPI).
_ITEM = re.compile(r"/api/orders/(0|[1-9][0-9]{0,18})")
_WALLET_ID = re.compile(r"[1-9][0-9]{0,9}")
_M = TypeVar("_M", bound=BaseModel)


class OrderEndpoints:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        item = _ITEM.fullmatch(path)
        if not (
            (method == "POST" and path == PREFIX)
            or (method in ("PATCH", "DELETE") and item is not None)
        ):
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, value)  # the first of a repeated header, as Starlette reads it
        if method != "DELETE" and not _is_json(headers.get(b"content-type")):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client went away before sending its whole body
        call = _recognised(method, item, body, scope["query_string"])
        if call is None:
            await self.app(scope, replaying(body, receive), send)
            return
        services: Services = scope["app"].state.services
        # Busy on the CPU from here until the response is written, except while the signer waits
        # for the exchange: the stream's threads hold their frames back meanwhile (bounded).
        with ANSWERS.answering():
            try:
                user = await user_of_token(services, _bearer(headers.get(b"authorization")))
                response = await call(services, user)
            except Exception as exc:  # the same answers FastAPI's handlers give
                response = error_response(exc)
            await response(scope, receive, send)


def _recognised(method: str, item: re.Match[str] | None, body: bytes, query: bytes) -> Any:
    """The route's call, given the services and the caller, for a request exactly as its FastAPI
    route would accept it; None for anything else."""
    if method == "POST":
        placed = _model(OrderIn, body)
        return None if placed is None else lambda s, u: orders.place(s, u, placed)
    assert item is not None
    oid = int(item[1])
    if oid > MAX_INT64:
        return None
    if method == "PATCH":
        change = _model(OrderModifyIn, body)
        return None if change is None else lambda s, u: orders.modify(s, u, oid, change)
    wallet_id = _wallet_id(query)
    if wallet_id is None:
        return None
    return lambda s, u: orders.cancel(s, u, oid, wallet_id)


def _model(model: type[_M], body: bytes) -> _M | None:
    """The body as FastAPI validates it: parsed as JSON, then validated as Python data."""
    try:
        return model.model_validate(json.loads(body))
    except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None


def _wallet_id(query: bytes) -> int | None:
    """`?wallet_id=N` when it is the query's only, plain and in-range wallet id."""
    try:
        values = [
            v
            for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            if k == "wallet_id"
        ]
    except ValueError:
        return None
    if len(values) != 1 or not _WALLET_ID.fullmatch(values[0]):
        return None
    wallet_id = int(values[0])
    return wallet_id if wallet_id <= MAX_ID else None


def _is_json(content_type: bytes | None) -> bool:
    if content_type is None:
        return False
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json"


def _bearer(authorization: bytes | None) -> str | None:
    """The token of an `Authorization: Bearer …` header, as FastAPI's `HTTPBearer` reads it."""
    if not authorization:
        return None
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
