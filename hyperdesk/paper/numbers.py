"""Decimal parsing and wire formatting in Hyperliquid's style.

The real API sends every price, size and USD amount as a string: plain positional notation, no
exponent, and whole numbers keep a trailing ``.0`` (``"30135.0"``, ``"0.0"``). Clients compare these
strings and parse them, so the paper exchange must never leak ``1E+5`` or ``-0``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from hyperdesk.protocol.decimal_bounds import NumberOutOfBounds, parse_bounded, strip_zeros

USD_QUANTUM = Decimal("0.000001")
"""USD amounts on the wire carry at most 6 decimals (USDC's precision on HyperCore)."""

PX_QUANTUM = Decimal("0.00000001")
"""Derived prices (entry, average, liquidation) are cut to 8 decimals."""


def wire(value: Decimal) -> str:
    """Format a decimal the way the real API does: positional, trailing ``.0`` for integers."""
    if value == 0:
        return "0.0"
    # Exact: normalize() would round to 28 digits and flush tiny values to zero.
    text = format(strip_zeros(value), "f")
    if "." not in text:
        text += ".0"
    return text


def wire_usd(value: Decimal) -> str:
    """Format a USD amount rounded to 6 decimals."""
    return wire(value.quantize(USD_QUANTUM, rounding=ROUND_HALF_EVEN))


def wire_px(value: Decimal) -> str:
    """Format a derived price rounded to 8 decimals."""
    return wire(value.quantize(PX_QUANTUM, rounding=ROUND_HALF_EVEN))


def parse_decimal(value: object) -> Decimal:
    """Parse a wire number (string or int; never float) into a finite Decimal inside the
    ``decimal_bounds`` (at most 30 decimal places, 28 significant digits, below 1e30).

    Raises ``ValueError`` (saying why) for anything else, so callers turn it into a protocol
    error: ``1e-999999999`` must not pass as a positive size, nor ``1e-999990`` become a balance
    that prints as a million characters.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"not a decimal string: {_preview(value)}")
    try:
        return parse_bounded(value)
    except NumberOutOfBounds as exc:
        raise ValueError(f"{_preview(value)} {exc}") from None


def _preview(value: object) -> str:
    """A short echo of a refused value: never repeat a huge hostile string back."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
