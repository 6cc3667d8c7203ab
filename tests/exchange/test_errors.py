"""Hyperliquid's error texts map to stable codes and typed exceptions."""

from __future__ import annotations

import pytest

from hyperdesk.exchange.errors import (
    ErrorCode,
    ExchangeRejected,
    ExchangeUnavailable,
    NonceError,
    OrderNotFound,
    RateLimited,
    TransientExchangeError,
    classify,
    error_from_http,
    error_from_message,
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Price must be divisible by tick size. asset=0", ErrorCode.TICK_SIZE),
        ("Order has invalid price.", ErrorCode.TICK_SIZE),
        ("Order has invalid size.", ErrorCode.LOT_SIZE),
        ("Order has zero size.", ErrorCode.LOT_SIZE),
        ("Order must have minimum value of $10. asset=4", ErrorCode.MIN_NOTIONAL),
        ("Order must have minimum value of 10 USDC.", ErrorCode.MIN_NOTIONAL),
        ("Insufficient margin to place order. asset=1", ErrorCode.INSUFFICIENT_MARGIN),
        (
            "Post only order would have immediately matched, bbo was 100.1@100.2. asset=0",
            ErrorCode.POST_ONLY_WOULD_MATCH,
        ),
        ("Reduce only order would increase position. asset=0", ErrorCode.REDUCE_ONLY),
        (
            "Order could not immediately match against any resting orders. asset=3",
            ErrorCode.IOC_NO_MATCH,
        ),
        ("No liquidity available for market order.", ErrorCode.NO_LIQUIDITY),
        ("Invalid TP/SL price.", ErrorCode.TRIGGER_PRICE),
        ("Order price too far from oracle", ErrorCode.PRICE_BAND),
        ("Order would increase open interest too quickly", ErrorCode.OPEN_INTEREST_CAP),
        ("Invalid nonce: duplicate nonce 1700000000000", ErrorCode.NONCE),
        ("Invalid nonce: nonce too low 1700000000000 < 1700000000123", ErrorCode.NONCE),
        ("User or API Wallet 0xabc does not exist.", ErrorCode.ACCOUNT_NOT_FOUND),
        ("Unable to recover signer.", ErrorCode.SIGNATURE),
        ("Order was never placed, already canceled, or filled.", ErrorCode.ORDER_NOT_FOUND),
        ("Cannot withdraw from vault during lock-up period.", ErrorCode.VAULT_LOCKED),
        ("Vault deposit is locked until 1737697731869", ErrorCode.VAULT_LOCKED),
        ("Unknown asset BTCX", ErrorCode.UNKNOWN_COIN),
        (
            "Too many cumulative requests sent (11000 > 10000) for cumulative volume traded $0.",
            ErrorCode.RATE_LIMITED,
        ),
        ("Insufficient balance for withdrawal.", ErrorCode.INSUFFICIENT_BALANCE),
        ("Something entirely new", ErrorCode.EXCHANGE_ERROR),
    ],
)
def test_exchange_texts_map_to_stable_codes(text, code):
    assert classify(text) is code


def test_typed_exceptions_follow_the_code():
    assert isinstance(error_from_message("Invalid nonce: duplicate nonce 1"), NonceError)
    assert isinstance(
        error_from_message("Order was never placed, already canceled, or filled."), OrderNotFound
    )
    assert isinstance(error_from_message("Too many cumulative requests sent"), RateLimited)
    rejected = error_from_message("Order must have minimum value of $10. asset=4")
    assert isinstance(rejected, ExchangeRejected)
    assert not rejected.retryable
    assert rejected.message == "Order must have minimum value of $10."
    assert rejected.to_dict() == {
        "code": "MIN_NOTIONAL",
        "message": "Order must have minimum value of $10.",
    }


def test_http_429_with_null_body_is_rate_limited_and_retryable():
    error = error_from_http(429, "null")
    assert isinstance(error, RateLimited)
    assert isinstance(error, TransientExchangeError)
    assert error.retryable


def test_http_5xx_is_unavailable():
    assert isinstance(error_from_http(502, "Bad Gateway"), ExchangeUnavailable)


def test_http_422_is_an_exchange_error_with_the_status():
    error = error_from_http(422, "Failed to deserialize the JSON body into the target type")
    assert error.code is ErrorCode.EXCHANGE_ERROR
    assert "422" in error.message


def test_paper_and_live_lock_texts_are_told_apart():
    assert (
        classify("Cannot withdraw from vault during the lock-up period. Deposit is locked until 1")
        is ErrorCode.VAULT_LOCKED
    )
    assert (
        classify("Delegation is locked until 17 and cannot be undelegated yet.")
        is ErrorCode.STAKING_LOCKED
    )
    assert classify("Insufficient vault equity for withdrawal.") is ErrorCode.INSUFFICIENT_BALANCE
