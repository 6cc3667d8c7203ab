"""The pre-trade gate refuses what the exchange would refuse, with codes and nearest values."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperdesk.exchange.errors import ErrorCode
from hyperdesk.exchange.models import Market, OrderRequest
from hyperdesk.exchange.validation import validate_order, validate_order_in
from hyperdesk.protocol import rules

BTC = Market(coin="BTC", asset=0, sz_decimals=5, max_leverage=50, mid=Decimal(60000))
DOGE = Market(coin="DOGE", asset=5, sz_decimals=0, max_leverage=10, mid=Decimal("0.1234"))
D = Decimal


def order(**kw) -> OrderRequest:
    base = {"coin": "BTC", "is_buy": True, "size": D("0.001"), "price": D("60000")}
    base.update(kw)
    return OrderRequest(**base)


def test_a_valid_limit_order_passes():
    assert validate_order(order(), BTC) is None


def test_unknown_coin_is_refused():
    rejection = validate_order_in(order(coin="NOPE"), {"BTC": BTC})
    assert rejection.code is ErrorCode.UNKNOWN_COIN


@pytest.mark.parametrize(
    "bad", [D("NaN"), D("Infinity"), D("-1"), D(0), "1e309", float("nan"), "abc", True]
)
def test_non_finite_or_non_positive_sizes_are_refused(bad):
    rejection = validate_order(order(size=bad), BTC)
    assert rejection.code is ErrorCode.INVALID_NUMBER
    assert rejection.field == "size"


@pytest.mark.parametrize("bad", [D("NaN"), D("-60000"), D(0), "1e309"])
def test_non_finite_or_non_positive_prices_are_refused(bad):
    rejection = validate_order(order(price=bad), BTC)
    assert rejection.code is ErrorCode.INVALID_NUMBER
    assert rejection.field == "price"


def test_off_tick_price_is_refused_with_the_nearest_passive_price():
    buy = validate_order(order(price=D("60000.5")), BTC)
    assert buy.code is ErrorCode.TICK_SIZE
    assert buy.nearest == D("60000")
    assert "60000" in buy.message
    sell = validate_order(order(is_buy=False, price=D("60000.5")), BTC)
    assert sell.nearest == D("60001")


def test_too_many_decimals_for_the_asset_is_a_tick_error():
    # DOGE has szDecimals 0 → 6 price decimals; 0.1234567 has 7.
    rejection = validate_order(order(coin="DOGE", size=D(100), price=D("0.1234567")), DOGE)
    assert rejection.code is ErrorCode.TICK_SIZE
    assert rejection.nearest == D("0.12345")


def test_integer_prices_are_always_valid():
    assert validate_order(order(price=D(123456)), BTC) is None


def test_too_many_size_decimals_is_a_lot_error_with_the_nearest_size():
    rejection = validate_order(order(size=D("0.0012345")), BTC)
    assert rejection.code is ErrorCode.LOT_SIZE
    assert rejection.nearest == D("0.00123")


def test_below_ten_dollars_is_refused_with_the_smallest_size():
    rejection = validate_order(order(size=D("0.0001")), BTC)
    assert rejection.code is ErrorCode.MIN_NOTIONAL
    assert rejection.nearest == D("0.00017")
    assert rejection.to_dict()["code"] == "MIN_NOTIONAL"


def test_reduce_only_closes_are_exempt_from_the_minimum():
    assert validate_order(order(size=D("0.0001"), reduce_only=True), BTC) is None


def test_market_orders_are_valued_at_the_reference_price():
    small = OrderRequest(coin="BTC", is_buy=True, size=D("0.0001"), order_type="market")
    assert validate_order(small, BTC).code is ErrorCode.MIN_NOTIONAL
    assert validate_order(small, BTC, reference_price=D(200000)) is None


def test_market_orders_need_sane_slippage():
    bad = OrderRequest(
        coin="BTC", is_buy=True, size=D("0.001"), order_type="market", slippage=D("0.9")
    )
    assert validate_order(bad, BTC).code is ErrorCode.INVALID_NUMBER


def test_limit_order_without_price_is_refused():
    assert validate_order(order(price=None), BTC).field == "price"


@given(
    price=st.decimals(min_value=D("0.000001"), max_value=D(10**7), places=6),
    size=st.decimals(min_value=D(1), max_value=D(10**6), places=0),
)
def test_whatever_the_gate_accepts_is_on_the_exchange_grid(price, size):
    request = order(coin="DOGE", size=size, price=price)
    if validate_order(request, DOGE) is None:
        assert rules.is_valid_price(price, 0, is_spot=False)
        assert rules.is_valid_size(size, 0)
        assert price * size >= 10


@given(price=st.decimals(min_value=D("0.0001"), max_value=D(10**6), places=8))
def test_nearest_price_offered_is_itself_valid(price):
    rejection = validate_order(order(coin="DOGE", size=D(10**6), price=price), DOGE)
    if rejection is not None and rejection.code is ErrorCode.TICK_SIZE:
        assert rules.is_valid_price(rejection.nearest, 0, is_spot=False)
