"""Bounds on decimals that arrive from outside, and exact digit arithmetic that needs no context.

Python's ``Decimal`` takes exponents up to about ±10^18 and any number of digits, while its default
context only *computes* with 28 digits and exponents down to -999 999. Left unchecked, a hostile
number misbehaves in two quiet ways: ``normalize()`` turns anything below about 1e-1000026 into
``0`` (so ``1e-999999999`` passes a "positive size on the lot grid" check and is sent as ``"0"``),
and positional formatting expands ``1e-999990`` into a million-character string that every later
view repeats. So every money field is checked here at the edge — the REST models, the pre-trade
gate and the paper exchange's wire parser — and a number is accepted only when it is

* finite;
* no finer than ``MAX_DECIMAL_PLACES`` (30) digits after the decimal point (zeros included);
* below ``10 ** MAX_INTEGER_DIGITS`` (10^30) in magnitude;
* written with at most ``MAX_SIGNIFICANT_DIGITS`` (28) significant digits, so the default
  context's arithmetic stays exact on it;
* (as text) at most ``MAX_TEXT_LENGTH`` (100) characters long, so parsing costs nothing.

Real values are far inside these limits (Hyperliquid uses at most 8 decimals for prices and sizes,
6 for USD and 8 for HYPE wei), and every value inside them formats to at most ~62 characters.
The helpers below (``significant_digits``, ``decimal_places``, ``strip_zeros``, ``plain``) work on
the digit tuple and never round, so they are exact whatever value reaches them.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MAX_DECIMAL_PLACES = 30
MAX_INTEGER_DIGITS = 30
MAX_SIGNIFICANT_DIGITS = 28
MAX_TEXT_LENGTH = 100
#: ``plain`` refuses to expand a value whose decimal point is further than this from its digits
#: (a computed value never gets there from bounded inputs; a hostile one must not be printed).
MAX_PLAIN_EXPONENT = 100


class NumberOutOfBounds(ValueError):
    """A number is not finite or lies outside the documented bounds; ``str(exc)`` says why."""


def _parts(value: Decimal) -> tuple[int, tuple[int, ...], int]:
    if not value.is_finite():
        raise NumberOutOfBounds("must be a finite number")
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    return sign, digits, exponent


def _trailing_zeros(digits: tuple[int, ...]) -> int:
    count = 0
    for digit in reversed(digits[1:]):
        if digit != 0:
            break
        count += 1
    return count


def check_bounds(value: Decimal) -> Decimal:
    """Return ``value`` if it lies inside the bounds above, else raise ``NumberOutOfBounds``."""
    _sign, digits, exponent = _parts(value)
    if exponent < -MAX_DECIMAL_PLACES:
        raise NumberOutOfBounds(f"must have at most {MAX_DECIMAL_PLACES} decimal places")
    if exponent + len(digits) > MAX_INTEGER_DIGITS:
        raise NumberOutOfBounds(f"must be below 1e{MAX_INTEGER_DIGITS} in magnitude")
    if len(digits) - _trailing_zeros(digits) > MAX_SIGNIFICANT_DIGITS:
        raise NumberOutOfBounds(f"must have at most {MAX_SIGNIFICANT_DIGITS} significant digits")
    return value


def parse_bounded(raw: str | int | Decimal) -> Decimal:
    """Parse a decimal string or integer (never a float or bool) and check its bounds.

    Raises ``NumberOutOfBounds`` (a ``ValueError``) for junk, non-finite or out-of-bounds input.
    """
    if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
        raise NumberOutOfBounds("must be a decimal string")
    if isinstance(raw, str):
        if len(raw) > MAX_TEXT_LENGTH:
            raise NumberOutOfBounds(f"must be at most {MAX_TEXT_LENGTH} characters long")
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            raise NumberOutOfBounds("must be a decimal string") from None
    else:
        value = Decimal(raw)
    return check_bounds(value)


def significant_digits(value: Decimal) -> int:
    """Digits of ``value`` without trailing zeros (``1100.00`` → 2); exact, no context."""
    _sign, digits, _exponent = _parts(value)
    return len(digits) - _trailing_zeros(digits)


def decimal_places(value: Decimal) -> int:
    """Places needed after the point to write ``value`` exactly (``2.50`` → 1, ``1E+3`` → 0)."""
    _sign, digits, exponent = _parts(value)
    return max(0, -(exponent + _trailing_zeros(digits)))


def strip_zeros(value: Decimal) -> Decimal:
    """``value`` without trailing zeros, like ``normalize()`` but exact: it neither rounds to the
    context's precision nor flushes tiny values to zero. Zero becomes plain ``0``."""
    sign, digits, exponent = _parts(value)
    if not any(digits):
        return Decimal(0)
    zeros = _trailing_zeros(digits)
    return Decimal((sign, digits[: len(digits) - zeros], exponent + zeros))


def plain(value: Decimal) -> str:
    """Exact positional text without trailing zeros or exponent (``-0`` → ``"0"``).

    Raises ``NumberOutOfBounds`` rather than expand a value whose exponent is beyond
    ``MAX_PLAIN_EXPONENT`` into a huge string.
    """
    stripped = strip_zeros(value)
    _sign, digits, exponent = _parts(stripped)
    if exponent < -MAX_PLAIN_EXPONENT or exponent + len(digits) > MAX_PLAIN_EXPONENT:
        raise NumberOutOfBounds("is too large or too small to write out")
    return format(stripped, "f")
