"""Hyperliquid's order-input rules (tick size, lot size, minimum notional) as pure functions.

Shared by the paper exchange's matching engine and the platform's pre-trade validator, so both
reject exactly the same orders. Decimal only: a float cannot tell ``0.1`` from ``0.1000000001``.

Rules (Hyperliquid docs, "Tick and lot size"):

* a price has at most 5 significant figures and at most ``MAX_DECIMALS - szDecimals`` decimal places
  (6 for perps, 8 for spot); integer prices are always valid whatever their significant figures;
* a size is positive with at most ``szDecimals`` decimal places;
* an order's notional (price x size) must be at least $10 (10 quote units on spot).

Digits are counted exactly from the digit tuple (``decimal_bounds``), never through
``normalize()``, which flushes ``1e-999999999`` to zero and would call it a valid whole size.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from hyperdesk.protocol.decimal_bounds import decimal_places, significant_digits, strip_zeros

MAX_SIGNIFICANT_FIGURES = 5
PERP_MAX_DECIMALS = 6
SPOT_MAX_DECIMALS = 8
MIN_NOTIONAL = Decimal(10)


def max_price_decimals(sz_decimals: int, *, is_spot: bool) -> int:
    """Decimal places a price may carry for an asset with ``sz_decimals``."""
    base = SPOT_MAX_DECIMALS if is_spot else PERP_MAX_DECIMALS
    return max(0, base - sz_decimals)


def is_valid_price(px: Decimal, sz_decimals: int, *, is_spot: bool) -> bool:
    """True when ``px`` is positive and on the asset's price grid."""
    if not px.is_finite() or px <= 0:
        return False
    if px == px.to_integral_value():
        return True
    if decimal_places(px) > max_price_decimals(sz_decimals, is_spot=is_spot):
        return False
    return significant_digits(px) <= MAX_SIGNIFICANT_FIGURES


def price_quantum(px: Decimal, sz_decimals: int, *, is_spot: bool) -> Decimal:
    """The price step that applies around ``px`` (the grid is finer for smaller prices)."""
    sig_exponent = px.adjusted() - (MAX_SIGNIFICANT_FIGURES - 1)
    exponent = max(sig_exponent, -max_price_decimals(sz_decimals, is_spot=is_spot))
    return Decimal(1).scaleb(min(exponent, 0))


def nearest_valid_price(
    px: Decimal, sz_decimals: int, *, is_spot: bool, rounding: str = ROUND_HALF_EVEN
) -> Decimal:
    """Round ``px`` onto the price grid (``rounding`` is a ``decimal`` rounding mode).

    Use ``ROUND_FLOOR`` for a bid and ``ROUND_CEILING`` for an ask to stay on the passive side.
    The result is never below the smallest valid price.
    """
    if not px.is_finite() or px <= 0:
        return Decimal(1).scaleb(-max_price_decimals(sz_decimals, is_spot=is_spot))
    quantum = price_quantum(px, sz_decimals, is_spot=is_spot)
    result = px.quantize(quantum, rounding=rounding)
    if result <= 0:
        result = quantum
    if not is_valid_price(result, sz_decimals, is_spot=is_spot):
        # Rounding up crossed a power of ten (9.99995 -> 10.0000): one more pass on the new grid.
        result = result.quantize(price_quantum(result, sz_decimals, is_spot=is_spot), rounding)
    return strip_zeros(result) if result != result.to_integral_value() else result.quantize(1)


def is_valid_size(sz: Decimal, sz_decimals: int) -> bool:
    """True when ``sz`` is positive with at most ``sz_decimals`` decimals."""
    if not sz.is_finite() or sz <= 0:
        return False
    return decimal_places(sz) <= sz_decimals


def round_size_down(sz: Decimal, sz_decimals: int) -> Decimal:
    """Truncate ``sz`` to the lot (never rounds up: an order must not exceed what was asked)."""
    return sz.quantize(Decimal(1).scaleb(-sz_decimals), rounding=ROUND_DOWN)


def notional(px: Decimal, sz: Decimal) -> Decimal:
    """Order value in quote units."""
    return px * sz


def meets_min_notional(px: Decimal, sz: Decimal, minimum: Decimal = MIN_NOTIONAL) -> bool:
    """True when the order is worth at least ``minimum`` quote units."""
    return notional(px, sz) >= minimum


def is_cloid(value: object) -> bool:
    """A client order id as Hyperliquid takes it: ``0x`` and 32 hex digits (16 bytes)."""
    if not isinstance(value, str) or len(value) != 34 or not value.startswith("0x"):
        return False
    try:
        int(value[2:], 16)
    except ValueError:
        return False
    return True
