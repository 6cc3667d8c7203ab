"""The one place where errors become HTTP answers of the api.md shape."""

from __future__ import annotations

import logging
import math

import pykka
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hyperdesk.errors import DomainError, TooManyRequests
from hyperdesk.exchange.errors import (
    ExchangeError,
    ExchangeRejected,
    ExchangeTimeout,
    OrderNotFound,
    RateLimited,
    TransientExchangeError,
)

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
}


def error_body(code: str, message: str, **extra: object) -> dict:
    return {"detail": {"code": code, "message": message, **extra}}


def install_error_handlers(app: FastAPI) -> None:
    async def mapped(_request: Request, exc: Exception) -> JSONResponse:
        return error_response(exc)

    for kind in (
        DomainError,
        ExchangeError,
        OperationalError,
        pykka.Timeout,
        RequestValidationError,
        StarletteHTTPException,
        Exception,
    ):
        app.add_exception_handler(kind, mapped)


def error_response(exc: Exception) -> JSONResponse:
    """The answer for an error raised while serving a request: FastAPI's exception handlers and
    the order endpoints (`order_endpoints`, outside FastAPI's routing) both answer with this."""
    if isinstance(exc, DomainError):
        headers = {}
        if isinstance(exc, TooManyRequests):
            headers["Retry-After"] = str(exc.retry_after)
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(
            error_body(exc.code, exc.message, **exc.extra), status_code=exc.status, headers=headers
        )
    if isinstance(exc, ExchangeError):
        headers = {}
        if isinstance(exc, RateLimited):  # shed for the exchange budget: say when to come back
            headers["Retry-After"] = str(_retry_after_seconds(exc))
        return JSONResponse(
            {"detail": exc.to_dict()}, status_code=_exchange_status(exc), headers=headers
        )
    if isinstance(exc, OperationalError):
        # A lost connection or a locked database: the transaction was rolled back, nothing half
        # written; the caller may simply try again.
        log.warning("database unavailable: %s", exc.__class__.__name__)
        return JSONResponse(
            error_body("DATABASE_UNAVAILABLE", "The database is unavailable; try again shortly."),
            status_code=503,
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, pykka.Timeout):
        # An actor did not answer in time (e.g. the bot supervisor starting hundreds of bots):
        # the server is busy, not broken; what was asked may still complete.
        return JSONResponse(
            error_body("SERVER_BUSY", "The server is busy; check the result and try again."),
            status_code=503,
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, RequestValidationError):
        errors = [
            {
                "field": ".".join(str(part) for part in err["loc"][1:]) or "body",
                "message": _clean(err),
            }
            for err in exc.errors()
        ]
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "Invalid request."
        return JSONResponse(error_body("VALIDATION_ERROR", message, errors=errors), status_code=422)
    if isinstance(exc, StarletteHTTPException):
        if isinstance(exc.detail, dict) and "code" in exc.detail:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        code = _HTTP_CODES.get(exc.status_code, "ERROR")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse(
        error_body("INTERNAL", "Something went wrong on the server."), status_code=500
    )


def _retry_after_seconds(exc: RateLimited) -> int:
    try:
        seconds = float(exc.detail.get("retry_after_seconds", 1))
    except (TypeError, ValueError):
        seconds = 1.0
    return max(1, math.ceil(seconds))


def _exchange_status(exc: ExchangeError) -> int:
    if isinstance(exc, RateLimited):
        return 429
    if isinstance(exc, ExchangeTimeout):
        return 504
    if isinstance(exc, TransientExchangeError):
        return 503
    if isinstance(exc, OrderNotFound):
        return 404
    if isinstance(exc, ExchangeRejected):
        return 422
    return 502


def _clean(err: dict) -> str:
    message = str(err.get("msg", "invalid"))
    # pydantic prefixes custom validator messages; people need only the sentence.
    return message.removeprefix("Value error, ")
