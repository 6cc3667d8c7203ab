"""Hostile decimals are refused at the REST edge with a field error and change nothing (finding 7).

``1e-999999999`` used to pass every check of a reduce-only order and reach the exchange as "0";
``1e-999990`` through the faucet became a balance written out as a million digits. Both now stop
at the request model: 422 ``VALIDATION_ERROR`` naming the field, and nothing is sent or stored.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hyperdesk.persistence.models import StakingAction, VaultAction
from tests.fixtures.paper import paper_test_config

VAULT = "0x1111111111111111111111111111111111111111"
VALIDATOR = "0x5ac99df645f3414876c816caa18b2d234024b487"
TINY = ["1e-999999999", "1e-999990"]


@pytest.fixture
def paper_config():
    return paper_test_config(vault_lockup_s=60, staking_delegation_lockup_s=60)


def _wallet(client, user) -> dict:
    response = client.post("/api/wallets", json={"label": "main"}, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _faucet(client, user, wallet, **body):
    return client.post(f"/api/wallets/{wallet['id']}/faucet", json=body, headers=user.headers)


def _funded(client, user, usd="10000", hype="0") -> dict:
    wallet = _wallet(client, user)
    assert _faucet(client, user, wallet, amount=usd, hype=hype).status_code == 200
    return wallet


def _assert_field_error(response, field: str) -> None:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "VALIDATION_ERROR"
    assert [e["field"] for e in detail["errors"]] == [field]
    assert "decimal places" in detail["errors"][0]["message"]
    assert len(response.text) < 1000  # the refused value is not echoed back


def _account(client, user, wallet) -> dict:
    response = client.get(f"/api/wallets/{wallet['id']}/account", headers=user.headers)
    assert response.status_code == 200
    assert len(response.text) < 5000
    return response.json()


def _open_orders(client, user, wallet) -> list:
    params = {"wallet_id": wallet["id"]}
    return client.get("/api/orders", params=params, headers=user.headers).json()


@pytest.mark.parametrize("text", TINY)
@pytest.mark.parametrize(
    ("field", "extra"),
    [
        ("size", {"price": "3000"}),
        ("price", {"size": "0.1"}),
        ("trigger_price", {"size": "0.1", "price": "3000", "trigger_kind": "sl"}),
    ],
)
@pytest.mark.parametrize("reduce_only", [True, False])
def test_an_order_with_a_hostile_number_is_a_field_error(
    client, alice, paper_server, text, field, extra, reduce_only
):
    wallet = _funded(client, alice)
    body = {"wallet_id": wallet["id"], "coin": "ETH", "side": "sell", "reduce_only": reduce_only}
    body.update(extra)
    body[field] = text
    _assert_field_error(client.post("/api/orders", json=body, headers=alice.headers), field)
    assert _open_orders(client, alice, wallet) == []
    assert paper_server.info().open_orders(wallet["account_address"]) == []


@pytest.mark.parametrize("text", TINY)
def test_a_market_order_with_a_hostile_slippage_is_a_field_error(client, alice, text):
    wallet = _funded(client, alice)
    body = {"wallet_id": wallet["id"], "coin": "ETH", "side": "buy", "type": "market"}
    body.update(size="0.01", slippage=text)
    _assert_field_error(client.post("/api/orders", json=body, headers=alice.headers), "slippage")


@pytest.mark.parametrize("field", ["size", "price"])
def test_a_modify_with_a_hostile_number_is_a_field_error(client, alice, paper_server, field):
    wallet = _funded(client, alice)
    body = {"wallet_id": wallet["id"], "coin": "ETH", "side": "buy", "size": "0.1"}
    placed = client.post("/api/orders", json={**body, "price": "3000"}, headers=alice.headers)
    assert placed.status_code == 200, placed.text
    oid = placed.json()["oid"]
    patch = {"wallet_id": wallet["id"], field: "1e-999999999"}
    response = client.patch(f"/api/orders/{oid}", json=patch, headers=alice.headers)
    _assert_field_error(response, field)
    [order] = paper_server.info().open_orders(wallet["account_address"])
    assert (order["oid"], order["limitPx"], order["sz"]) == (oid, "3000.0", "0.1")


@pytest.mark.parametrize("text", TINY)
@pytest.mark.parametrize("field", ["amount", "hype"])
def test_the_faucet_refuses_hostile_amounts_and_credits_nothing(client, alice, text, field):
    wallet = _funded(client, alice, usd="2500")
    body = {"amount": "1", field: text}
    _assert_field_error(_faucet(client, alice, wallet, **body), field)
    account = _account(client, alice, wallet)
    assert Decimal(account["account_value"]) == Decimal(2500)
    assert account["spot_balances"] == [] or all(
        Decimal(b["total"]) == 0 for b in account["spot_balances"]
    )


@pytest.mark.parametrize("route", ["deposit", "withdraw"])
def test_a_vault_transfer_of_a_hostile_amount_is_refused_and_not_recorded(
    client, alice, services, route
):
    wallet = _funded(client, alice, usd="5000")
    body = {"wallet_id": wallet["id"], "amount": "1e-999999999"}
    response = client.post(f"/api/vaults/{VAULT}/{route}", json=body, headers=alice.headers)
    _assert_field_error(response, "amount")
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(VaultAction)) == 0
    assert Decimal(_account(client, alice, wallet)["account_value"]) == Decimal(5000)


@pytest.mark.parametrize("route", ["delegate", "undelegate"])
def test_a_staking_action_of_a_hostile_amount_is_refused_and_not_recorded(
    client, alice, services, route
):
    wallet = _funded(client, alice, usd="100", hype="50")
    body = {"wallet_id": wallet["id"], "validator": VALIDATOR, "amount": "1e-999990"}
    response = client.post(f"/api/staking/{route}", json=body, headers=alice.headers)
    _assert_field_error(response, "amount")
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(StakingAction)) == 0


def test_ordinary_amounts_still_pass_the_edge(client, alice):
    wallet = _funded(client, alice, usd="1234.567891", hype="0.00000001")
    assert Decimal(_account(client, alice, wallet)["account_value"]) == Decimal("1234.567891")
