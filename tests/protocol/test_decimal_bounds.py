"""Hostile decimals are refused at every edge and digit counts are exact (review finding 7).

``Decimal`` accepts ``1e-999999999``; ``normalize()`` in the default context flushes it to ``0``,
which made it a "valid" size of zero decimals and sent it to the exchange as ``"0"``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from hyperdesk.exchange.errors import ErrorCode
from hyperdesk.exchange.models import Market, OrderRequest, plain_decimal
from hyperdesk.exchange.validation import validate_order
from hyperdesk.paper.numbers import parse_decimal, wire
from hyperdesk.protocol import rules
from hyperdesk.protocol.decimal_bounds import (
    NumberOutOfBounds,
    check_bounds,
    decimal_places,
    parse_bounded,
    plain,
    significant_digits,
    strip_zeros,
)

D = Decimal
ETH = Market(coin="ETH", asset=1, sz_decimals=4, max_leverage=50, mid=D(3500))
HOSTILE = ["1e-999999999", "1e-999990", "1e-31", "1e30", "1e+999999", "0e-999999999", "0e40"]


@pytest.mark.parametrize(
    "text",
    ["0", "-0", "1", "0.1", "3500.5", "1e-30", "9" * 28, "1" + "0" * 29, "0." + "0" * 29 + "1"],
)
def test_ordinary_numbers_pass_unchanged(text):
    assert check_bounds(D(text)) == D(text)
    assert parse_bounded(text) == D(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1e-999999999", "decimal places"),
        ("1e-999990", "decimal places"),
        ("1e-31", "decimal places"),
        ("0e-999999999", "decimal places"),
        ("1e30", "below 1e30"),
        ("1e+999999", "below 1e30"),
        ("0e40", "below 1e30"),
        ("1." + "1" * 28, "significant digits"),
        ("NaN", "finite"),
        ("-Infinity", "finite"),
    ],
)
def test_extreme_numbers_are_refused_with_a_reason(text, reason):
    with pytest.raises(NumberOutOfBounds, match=reason):
        check_bounds(D(text))


@pytest.mark.parametrize("raw", ["abc", "", "1" * 101, 1.5, True, None])
def test_parse_bounded_takes_only_short_decimal_strings_and_integers(raw):
    with pytest.raises(NumberOutOfBounds):
        parse_bounded(raw)  # type: ignore[arg-type]


def test_digit_counts_are_exact_where_normalize_is_not():
    tiny = D("1e-999999999")
    assert decimal_places(tiny) == 999_999_999
    assert significant_digits(D("1100.00")) == 2
    assert decimal_places(D("2.50")) == 1
    assert decimal_places(D("1E+3")) == 0
    assert strip_zeros(tiny) == tiny  # normalize() would give 0
    assert strip_zeros(D("-0.000")) == 0
    long = D("1.000000000000000000000000000001")  # 31 digits: normalize() rounds it to 1
    assert strip_zeros(long) == long


def test_plain_is_exact_and_refuses_to_expand_a_huge_exponent():
    assert plain(D("1100.0")) == "1100"
    assert plain(D("-0.0")) == "0"
    assert plain(D("1e-40")) == "0." + "0" * 39 + "1"
    for text in ("1e-999999999", "1e-999990", "1e+999999"):
        with pytest.raises(ValueError, match="too large or too small"):
            plain(D(text))
        with pytest.raises(ValueError, match="too large or too small"):
            plain_decimal(D(text))  # was "0" for 1e-999999999 and a million digits for 1e-999990


@pytest.mark.parametrize("text", ["1e-999999999", "1e-1000030"])
def test_lot_and_tick_rules_do_not_mistake_a_tiny_number_for_a_whole_one(text):
    assert not rules.is_valid_size(D(text), 4)
    assert not rules.is_valid_price(D(text), 4, is_spot=False)


@pytest.mark.parametrize("field", ["size", "price", "trigger_price"])
@pytest.mark.parametrize("text", HOSTILE[:3])
def test_the_pre_trade_gate_refuses_hostile_numbers_even_reduce_only(field, text):
    fields = {"size": D("0.01"), "price": D("3500"), field: D(text)}
    if field == "trigger_price":
        fields["trigger_kind"] = "sl"
    request = OrderRequest(coin="ETH", is_buy=False, reduce_only=True, **fields)
    rejection = validate_order(request, ETH)
    assert rejection is not None
    assert rejection.code is ErrorCode.INVALID_NUMBER
    assert rejection.field == field
    assert "decimal places" in rejection.message


def test_the_gate_refuses_a_hostile_slippage_on_a_market_order():
    request = OrderRequest(
        coin="ETH", is_buy=True, size=D("0.01"), order_type="market", slippage=D("1e-999999999")
    )
    rejection = validate_order(request, ETH)
    assert rejection is not None
    assert (rejection.code, rejection.field) == (ErrorCode.INVALID_NUMBER, "slippage")


@pytest.mark.parametrize("text", HOSTILE)
def test_the_paper_exchange_wire_parser_refuses_hostile_numbers(text):
    with pytest.raises(ValueError, match=r"decimal places|below 1e30"):
        parse_decimal(text)


def test_paper_wire_format_is_exact():
    assert wire(D("1e-40")) == "0." + "0" * 39 + "1"
    assert wire(D("1E+3")) == "1000.0"
    assert wire(D("-0.50")) == "-0.5"
