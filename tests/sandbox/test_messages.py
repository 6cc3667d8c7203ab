"""The strict message models: exactly the documented shapes, nothing else."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hyperdesk.sandbox.channel import ProtocolViolation
from hyperdesk.sandbox.messages import (
    CallbackDone,
    ErrorDetail,
    Fill,
    Hello,
    InvalidRequest,
    Log,
    PlaceOrderRequest,
    Pong,
    Response,
    Start,
    StateSetRequest,
    Stop,
    parse_bot_message,
)


def order(**params: Any) -> dict[str, Any]:
    base = {"coin": "BTC", "side": "buy", "size": "0.5", "price": "50000.5"}
    return {"type": "request", "id": 7, "method": "place_order", "params": {**base, **params}}


def test_a_place_order_request_parses_to_decimals() -> None:
    message = parse_bot_message(order(tif="Ioc", reduce_only=True))

    assert isinstance(message, PlaceOrderRequest)
    assert message.id == 7
    assert message.params.size == Decimal("0.5")
    assert message.params.price == Decimal("50000.5")
    assert message.params.order_type == "limit"
    assert message.params.tif == "Ioc"
    assert message.params.reduce_only is True


@pytest.mark.parametrize(
    ("raw", "cls"),
    [
        ({"type": "hello", "protocol": 1}, Hello),
        ({"type": "log", "level": "warning", "message": "hi"}, Log),
        ({"type": "pong", "nonce": 3}, Pong),
        ({"type": "callback_done", "event": "tick", "seq": 4, "ok": False}, CallbackDone),
        (
            {
                "type": "request",
                "id": 1,
                "method": "state_set",
                "params": {"key": "k", "value": [1, {"a": None}]},
            },
            StateSetRequest,
        ),
    ],
)
def test_each_bot_message_type_parses(raw: dict[str, Any], cls: type) -> None:
    assert isinstance(parse_bot_message(raw), cls)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ({"type": "launch_missiles"}, "UNKNOWN_TYPE"),
        ({"no": "type"}, "UNKNOWN_TYPE"),
        ({"type": ["hello"]}, "UNKNOWN_TYPE"),
        ({"type": "request", "id": 1, "method": "withdraw", "params": {}}, "UNKNOWN_METHOD"),
        ({"type": "hello", "protocol": 1, "extra": True}, "INVALID_MESSAGE"),
        ({"type": "hello", "protocol": "1"}, "INVALID_MESSAGE"),
        ({"type": "pong", "nonce": True}, "INVALID_MESSAGE"),
        ({"type": "log", "level": "info", "message": "x" * 10_000}, "INVALID_MESSAGE"),
        ({"type": "request", "method": "mid", "params": {"coin": "BTC"}}, "INVALID_MESSAGE"),
        (
            {"type": "request", "id": -1, "method": "mid", "params": {"coin": "BTC"}},
            "INVALID_MESSAGE",
        ),
    ],
)
def test_anything_else_is_a_protocol_violation(raw: dict[str, Any], code: str) -> None:
    with pytest.raises(ProtocolViolation) as caught:
        parse_bot_message(raw)
    assert caught.value.code == code
    assert not isinstance(caught.value, InvalidRequest)


@pytest.mark.parametrize(
    "params",
    [
        {"size": 0.5},  # a float: numbers cross as text
        {"size": "NaN"},
        {"size": "1e309"},
        {"size": "Infinity"},
        {"size": "-1"},
        {"size": "0"},
        {"price": "0"},
        {"size": "1" * 30},
        {"size": " 1"},
        {"side": "long"},
        {"coin": ""},
        {"coin": "BTC\n"},
        {"tif": "Fok"},
        {"leverage": 50},
    ],
)
def test_bad_order_parameters_are_an_invalid_request_carrying_its_id(
    params: dict[str, Any],
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_bot_message(order(**params))
    assert caught.value.request_id == 7
    assert caught.value.method == "place_order"
    assert caught.value.code == "INVALID_REQUEST"


def test_a_violation_message_does_not_echo_the_input() -> None:
    with pytest.raises(ProtocolViolation) as caught:
        parse_bot_message(order(coin="SECRET" * 100))
    assert "SECRET" not in str(caught.value)


def test_server_messages_serialize_decimals_as_text() -> None:
    assert Start(config={"a": 1}, tick_seconds=5).model_dump(mode="json") == {
        "type": "start",
        "config": {"a": 1},
        "tick_seconds": 5.0,
    }
    fill = Fill(seq=1, fill={"price": "50000.5", "size": "0.1"})
    assert fill.model_dump(mode="json")["fill"] == {"price": "50000.5", "size": "0.1"}
    error = Response(id=3, ok=False, error=ErrorDetail(code="CAPITAL_LIMIT", message="over"))
    assert error.model_dump(mode="json") == {
        "type": "response",
        "id": 3,
        "ok": False,
        "result": None,
        "error": {"code": "CAPITAL_LIMIT", "message": "over"},
    }
    assert Stop().model_dump(mode="json") == {"type": "stop", "reason": ""}
    params = parse_bot_message(order()).params  # type: ignore[union-attr]
    assert params.model_dump(mode="json")["size"] == "0.5"
