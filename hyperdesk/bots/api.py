"""`BotTradingAPI`: what a user's bot calls, as documented in the bot contract (docs/api.md).

Each call is one request over the channel, answered by the trusted side, which validates every
order and enforces the bot's capital allocation; the checks here only give the author an early,
clear error. Nothing here is a control.

Prices and sizes may be given as str, int, Decimal or float; they travel as plain decimal text
and every value under one of `DECIMAL_KEYS` in an answer, a fill or an order update comes back
as `Decimal`. An error answer raises `BotAPIError(code, message)`, e.g. CAPITAL_LIMIT.

This module runs inside the sandbox, so it imports only the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

# Names of the fields that carry a decimal string in the platform's shapes (positions, orders,
# fills, book levels, candles, capital).
DECIMAL_KEYS = frozenset(
    {
        "price",
        "size",
        "orig_size",
        "filled_size",
        "avg_price",
        "trigger_price",
        "entry_price",
        "unrealized_pnl",
        "realized_pnl",
        "liquidation_price",
        "margin_used",
        "position_value",
        "fee",
        "closed_pnl",
        "mid",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "allocation",
        "used",
        "available",
        "reserved",
    }
)
LOG_MESSAGE_LIMIT = 4096

Request = Callable[[str, dict[str, Any]], Any]
Send = Callable[[dict[str, Any]], None]


class BotAPIError(Exception):
    """The server refused a call (`code` is stable, e.g. CAPITAL_LIMIT, TICK_SIZE, TIMEOUT)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def decimal_text(value: object, name: str) -> str:
    """`value` as plain decimal text, refusing booleans, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise BotAPIError("INVALID_NUMBER", f"{name} must be a number, not {type(value).__name__}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BotAPIError("INVALID_NUMBER", f"{name} must be finite")
        value = repr(value)  # the shortest text that round-trips: 0.1 stays 0.1
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise BotAPIError("INVALID_NUMBER", f"{name} is not a number: {value!r:.40}") from None
    if not number.is_finite():
        raise BotAPIError("INVALID_NUMBER", f"{name} must be finite")
    return format(number, "f")


def with_decimals(value: Any) -> Any:
    """A copy of a decoded answer with the strings under `DECIMAL_KEYS` turned into Decimal."""
    if isinstance(value, list):
        return [with_decimals(item) for item in value]
    if isinstance(value, dict):
        return {
            key: _to_decimal(item) if key in DECIMAL_KEYS else with_decimals(item)
            for key, item in value.items()
        }
    return value


def _to_decimal(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    return with_decimals(value)


class BotState:
    """A small persistent key-value store kept by the server; values must be JSON."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def get(self, key: str, default: Any = None) -> Any:
        answer = self._request("state_get", {"key": key})
        return answer["value"] if answer.get("found") else default

    def set(self, key: str, value: Any) -> None:
        self._request("state_set", {"key": key, "value": value})

    def delete(self, key: str) -> None:
        self._request("state_delete", {"key": key})

    def __getitem__(self, key: str) -> Any:
        answer = self._request("state_get", {"key": key})
        if not answer.get("found"):
            raise KeyError(key)
        return answer["value"]

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, value)

    def __delitem__(self, key: str) -> None:
        self.delete(key)


class BotTradingAPI:
    """The `api` handed to `Bot(api, config)`. Calls block until the server answers."""

    def __init__(self, request: Request, send: Send) -> None:
        self._request = request
        self._send = send
        self.state = BotState(request)

    def place_order(
        self,
        coin: str,
        side: str,
        size: object,
        price: object = None,
        *,
        order_type: str = "limit",
        tif: str = "Gtc",
        reduce_only: bool = False,
    ) -> dict[str, Any]:
        """Place one order; returns the order result (status, oid, filled_size, avg_price)."""
        if side not in ("buy", "sell"):
            raise BotAPIError("INVALID_ORDER", "side must be 'buy' or 'sell'")
        if order_type == "limit" and price is None:
            raise BotAPIError("INVALID_ORDER", "a limit order needs a price")
        params: dict[str, Any] = {
            "coin": coin,
            "side": side,
            "size": self._positive(size, "size"),
            "price": None if price is None else self._positive(price, "price"),
            "order_type": order_type,
            "tif": tif,
            "reduce_only": reduce_only,
        }
        return with_decimals(self._request("place_order", params))

    def cancel(self, coin: str, oid: int) -> Any:
        return with_decimals(self._request("cancel", {"coin": coin, "oid": oid}))

    def open_orders(self) -> list[dict[str, Any]]:
        return with_decimals(self._request("open_orders", {}))

    def positions(self) -> list[dict[str, Any]]:
        return with_decimals(self._request("positions", {}))

    def mid(self, coin: str) -> Decimal:
        return Decimal(self._request("mid", {"coin": coin}))

    def book(self, coin: str) -> dict[str, Any]:
        return with_decimals(self._request("book", {"coin": coin}))

    def candles(self, coin: str, interval: str, limit: int = 100) -> list[dict[str, Any]]:
        answer = self._request("candles", {"coin": coin, "interval": interval, "limit": limit})
        return with_decimals(answer)

    def capital(self) -> dict[str, Any]:
        """allocation, used, available, realized_pnl (Decimal)."""
        return with_decimals(self._request("capital", {}))

    def log(self, message: object, level: str = "info") -> None:
        text = str(message)
        if len(text) > LOG_MESSAGE_LIMIT:
            text = text[:LOG_MESSAGE_LIMIT] + " …[cut]"
        if level not in ("debug", "info", "warning", "error"):
            level = "info"
        self._send({"type": "log", "level": level, "message": text})

    @staticmethod
    def _positive(value: object, name: str) -> str:
        text = decimal_text(value, name)
        if Decimal(text) <= 0:
            raise BotAPIError("INVALID_NUMBER", f"{name} must be positive")
        return text
