"""The pre-trade gate (security.md §6): every order is checked here before anything is signed.

Bots are hostile and people make typos, so the trusted side re-checks what the exchange would
check — known coin, finite positive numbers, tick size, lot size, minimum notional — and answers
with a ``Rejection`` value rather than raising: a refused order is a normal reply (style.md rule
5), with a stable code and, where it helps, the nearest valid value. The capital manager reuses
``validate_order`` before reserving capital.

The grid rules themselves live in ``hyperdesk.protocol.rules`` (shared with the paper exchange's
engine) so both sides refuse exactly the same orders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from hyperdesk.exchange.errors import ErrorCode
from hyperdesk.exchange.models import Market, OrderRequest, plain_decimal, to_decimal
from hyperdesk.protocol import rules
from hyperdesk.protocol.decimal_bounds import NumberOutOfBounds, check_bounds

_MAX_SLIPPAGE = Decimal("0.5")
# Far beyond any real price or size, and where float-based clients (the SDK) lose exactness;
# "1e309" is a finite Decimal but infinity as a float.
MAX_NUMBER = Decimal("1e15")


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an order was refused; ``nearest`` is the closest valid value of ``field`` if any."""

    code: ErrorCode
    message: str
    field: str | None = None
    nearest: Decimal | None = None

    def to_dict(self) -> dict[str, str]:
        body = {"code": str(self.code), "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.nearest is not None:
            body["nearest"] = str(self.nearest)
        return body


def _number(value: object, field: str) -> tuple[Decimal | None, Rejection | None]:
    """A finite positive Decimal inside the ``decimal_bounds``, or the rejection saying why not
    (NaN, inf, 1e309, 1e-999999999, <= 0, junk)."""
    if isinstance(value, bool):
        return None, Rejection(ErrorCode.INVALID_NUMBER, f"{field} must be a number", field)
    try:
        number = to_decimal(value)
    except ValueError:
        return None, Rejection(
            ErrorCode.INVALID_NUMBER, f"{field} must be a finite number, got {value!r}", field
        )
    try:
        check_bounds(number)
    except NumberOutOfBounds as exc:
        return None, Rejection(ErrorCode.INVALID_NUMBER, f"{field} {exc}", field)
    if number <= 0:
        return None, Rejection(ErrorCode.INVALID_NUMBER, f"{field} must be positive", field)
    if number >= MAX_NUMBER:
        return None, Rejection(ErrorCode.INVALID_NUMBER, f"{field} is too large", field)
    return number, None


def validate_order(
    request: OrderRequest,
    market: Market | None,
    *,
    reference_price: Decimal | None = None,
    min_notional: Decimal = rules.MIN_NOTIONAL,
) -> Rejection | None:
    """Check one order against its market; ``None`` means it may be signed.

    ``market`` is ``None`` when the coin is unknown. ``reference_price`` (usually the mid) values
    market orders for the minimum-notional check when they carry no price. Reduce-only orders are
    exempt from the minimum notional (the exchange lets small closes through).
    """
    if market is None or market.is_delisted:
        return Rejection(
            ErrorCode.UNKNOWN_COIN, f"unknown or delisted coin {request.coin!r}", "coin"
        )
    size, rejection = _number(request.size, "size")
    if rejection:
        return rejection
    assert size is not None
    if not rules.is_valid_size(size, market.sz_decimals):
        nearest = rules.round_size_down(size, market.sz_decimals)
        return Rejection(
            ErrorCode.LOT_SIZE,
            f"size {size} has more than {market.sz_decimals} decimals for {market.coin}; "
            f"nearest valid size is {nearest}",
            "size",
            nearest if nearest > 0 else Decimal(1).scaleb(-market.sz_decimals),
        )

    price: Decimal | None = None
    if request.order_type == "limit" or request.price is not None:
        if request.price is None:
            return Rejection(ErrorCode.INVALID_NUMBER, "a limit order needs a price", "price")
        price, rejection = _number(request.price, "price")
        if rejection:
            return rejection
        assert price is not None
    if request.order_type == "limit":
        assert price is not None
        if not rules.is_valid_price(price, market.sz_decimals, is_spot=market.is_spot):
            # Stay on the passive side: a bid rounds down, an ask up.
            mode = ROUND_FLOOR if request.is_buy else ROUND_CEILING
            nearest = rules.nearest_valid_price(
                price, market.sz_decimals, is_spot=market.is_spot, rounding=mode
            )
            return Rejection(
                ErrorCode.TICK_SIZE,
                f"price {price} is not on {market.coin}'s tick grid (5 significant figures, "
                f"{rules.max_price_decimals(market.sz_decimals, is_spot=market.is_spot)} "
                f"decimals); nearest valid price is {nearest}",
                "price",
                nearest,
            )
    else:
        slippage, rejection = _number(request.slippage, "slippage")
        if rejection:
            return rejection
        assert slippage is not None
        if slippage >= _MAX_SLIPPAGE:
            return Rejection(
                ErrorCode.INVALID_NUMBER, f"slippage must be below {_MAX_SLIPPAGE}", "slippage"
            )

    if request.trigger_price is not None:
        trigger, rejection = _number(request.trigger_price, "trigger_price")
        if rejection:
            return rejection
        assert trigger is not None
        if not rules.is_valid_price(trigger, market.sz_decimals, is_spot=market.is_spot):
            nearest = rules.nearest_valid_price(trigger, market.sz_decimals, is_spot=market.is_spot)
            return Rejection(
                ErrorCode.TICK_SIZE,
                f"trigger price {trigger} is not on the tick grid; nearest valid is {nearest}",
                "trigger_price",
                nearest,
            )
        if request.trigger_kind not in ("tp", "sl"):
            return Rejection(
                ErrorCode.TRIGGER_PRICE, "a trigger order needs trigger_kind tp or sl", "trigger"
            )

    value_price = price if price is not None else reference_price or market.mid
    if (
        not request.reduce_only
        and value_price is not None
        and not rules.meets_min_notional(value_price, size, min_notional)
    ):
        needed = _min_size(min_notional, value_price, market.sz_decimals)
        return Rejection(
            ErrorCode.MIN_NOTIONAL,
            f"order value {plain_decimal(value_price * size)} is below the minimum of "
            f"${min_notional}; the smallest size at this price is {needed}",
            "size",
            needed,
        )
    return None


def validate_order_in(
    request: OrderRequest,
    markets: Mapping[str, Market],
    *,
    reference_price: Decimal | None = None,
) -> Rejection | None:
    """``validate_order`` with the market looked up by coin in ``markets``."""
    return validate_order(request, markets.get(request.coin), reference_price=reference_price)


def _min_size(min_notional: Decimal, price: Decimal, sz_decimals: int) -> Decimal:
    lot = Decimal(1).scaleb(-sz_decimals)
    return (min_notional / price).quantize(lot, rounding=ROUND_CEILING)
