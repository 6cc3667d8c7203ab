"""Hyperliquid's tick/lot/notional rules, pinned by examples from the docs and by properties."""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperdesk.protocol.rules import (
    is_valid_price,
    is_valid_size,
    meets_min_notional,
    nearest_valid_price,
    notional,
    round_size_down,
)


@pytest.mark.parametrize(
    ("px", "sz_decimals", "is_spot", "valid"),
    [
        ("1234.5", 0, False, True),
        ("1234.56", 0, False, False),
        ("0.001234", 0, False, True),
        ("0.0012345", 0, False, False),
        ("0.01234", 1, False, True),
        ("0.012345", 1, False, False),
        ("123456", 5, False, True),  # integers are always valid
        ("12345.6", 0, False, False),
        ("0.0001234", 1, True, True),
        ("0.0001234", 3, True, False),
        ("100000", 5, False, True),
        ("0", 2, False, False),
        ("-1", 2, False, False),
    ],
)
def test_price_validity_matches_the_documented_examples(px, sz_decimals, is_spot, valid):
    assert is_valid_price(Decimal(px), sz_decimals, is_spot=is_spot) is valid


def test_sizes_must_fit_the_lot():
    assert is_valid_size(Decimal("0.001"), 3)
    assert not is_valid_size(Decimal("0.0001"), 3)
    assert not is_valid_size(Decimal(0), 3)
    assert is_valid_size(Decimal("5.000"), 0)  # trailing zeros are not decimals
    assert round_size_down(Decimal("1.23456"), 2) == Decimal("1.23")


def test_min_notional():
    assert notional(Decimal(100), Decimal("0.1")) == Decimal(10)
    assert meets_min_notional(Decimal(100), Decimal("0.1"))
    assert not meets_min_notional(Decimal(100), Decimal("0.099"))


prices = st.decimals(
    min_value=Decimal("0.000001"), max_value=Decimal("10000000"), allow_nan=False, places=8
)
sz_decimals = st.integers(min_value=0, max_value=6)


@given(prices, sz_decimals, st.booleans())
def test_nearest_valid_price_is_always_valid(px, szd, is_spot):
    result = nearest_valid_price(px, szd, is_spot=is_spot)
    assert is_valid_price(result, szd, is_spot=is_spot)


@given(prices, sz_decimals, st.booleans())
def test_directional_rounding_stays_on_its_side(px, szd, is_spot):
    down = nearest_valid_price(px, szd, is_spot=is_spot, rounding=ROUND_FLOOR)
    up = nearest_valid_price(px, szd, is_spot=is_spot, rounding=ROUND_CEILING)
    assert up >= px
    if down != nearest_valid_price(Decimal(0), szd, is_spot=is_spot):
        assert down <= px


@given(prices, sz_decimals, st.booleans())
def test_valid_prices_are_fixed_points(px, szd, is_spot):
    if is_valid_price(px, szd, is_spot=is_spot):
        assert nearest_valid_price(px, szd, is_spot=is_spot) == px


@given(
    st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(10**6), places=8),
    sz_decimals,
)
def test_round_size_down_never_increases_and_is_valid_or_zero(sz, szd):
    result = round_size_down(sz, szd)
    assert result <= sz
    assert result == 0 or is_valid_size(result, szd)
