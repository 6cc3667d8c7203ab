"""Connecting a browser wallet: the server's agent key is approved by the account's own signature.

The "browser wallet" here is eth_account signing the prepared EIP-712 document exactly as
`eth_signTypedData_v4` does; the paper exchange checks that signature like any other and is
asked, afterwards, whether it lists the agent.
"""

from __future__ import annotations

import time

import eth_account
import pytest
import requests

from hyperdesk.wallets.browser_approval import APPROVAL_TTL_MS
from tests.fixtures.app import import_funded_key


def _sign(key, typed_data) -> str:
    signed = key.sign_typed_data(full_message=typed_data)
    return "0x" + signed.signature.hex().removeprefix("0x")


@pytest.fixture
def owner(paper_server):
    """An account whose key lives only in the user's browser wallet."""
    key = eth_account.Account.create()
    paper_server.fund(key.address, 10_000)
    return key


def _connect(client, user, owner, **extra):
    body = {"label": "from my browser", "account_address": owner.address, **extra}
    response = client.post("/api/wallets/connect", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _submit(client, user, prepared, signature, **override):
    body = {
        "nonce": prepared["nonce"],
        "chain_id": prepared["chain_id"],
        "signature": signature,
        **override,
    }
    return client.post(
        f"/api/wallets/{prepared['wallet']['id']}/approval/submit", json=body, headers=user.headers
    )


def _agents(client, owner):
    health = client.get("/api/health").json()
    answer = requests.post(
        health["exchange_url"] + "/info",
        json={"type": "extraAgents", "user": owner.address.lower()},
        timeout=10,
    )
    return [a["address"].lower() for a in answer.json()]


def test_the_owners_browser_signature_approves_the_servers_agent_key(client, alice, owner):
    prepared = _connect(client, alice, owner, chain_id=42161)
    wallet = prepared["wallet"]
    assert (wallet["is_agent"], wallet["verified"]) == (True, False)
    assert wallet["account_address"] == owner.address.lower()
    typed = prepared["typed_data"]
    assert typed["primaryType"] == "HyperliquidTransaction:ApproveAgent"
    assert typed["domain"]["chainId"] == 42161
    assert typed["message"]["agentAddress"] == wallet["address"]
    assert typed["message"]["hyperliquidChain"] == "Testnet"  # the paper network's chain

    response = _submit(client, alice, prepared, _sign(owner, typed))
    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True
    assert wallet["address"] in _agents(client, owner)

    # The agent now trades for the account: its private view and its orders work.
    account = client.get(f"/api/wallets/{wallet['id']}/account", headers=alice.headers)
    assert account.status_code == 200, account.text
    order = client.post(
        "/api/orders",
        json={
            "wallet_id": wallet["id"],
            "coin": "ETH",
            "side": "buy",
            "type": "limit",
            "size": "0.01",
            "price": "1000",
        },
        headers=alice.headers,
    )
    assert order.status_code == 200, order.text
    assert order.json()["status"] == "resting"


def test_a_signature_by_another_key_is_refused_and_nothing_is_approved(client, alice, owner):
    prepared = _connect(client, alice, owner)
    stranger = eth_account.Account.create()
    response = _submit(client, alice, prepared, _sign(stranger, prepared["typed_data"]))
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "SIGNATURE_MISMATCH"
    assert stranger.address.lower() in detail["message"]
    assert _agents(client, owner) == []
    wallet = client.get(f"/api/wallets/{prepared['wallet']['id']}", headers=alice.headers).json()
    assert wallet["verified"] is False


def test_a_doctored_message_is_refused(client, alice, owner):
    """The browser cannot approve another agent: the server rebuilds what was signed."""
    prepared = _connect(client, alice, owner)
    doctored = {**prepared["typed_data"]}
    doctored["message"] = {
        **doctored["message"],
        "agentAddress": eth_account.Account.create().address.lower(),
    }
    response = _submit(client, alice, prepared, _sign(owner, doctored))
    assert response.json()["detail"]["code"] == "SIGNATURE_MISMATCH"
    assert _agents(client, owner) == []


def test_malformed_or_stale_signatures_are_refused(client, alice, owner):
    prepared = _connect(client, alice, owner)
    signature = _sign(owner, prepared["typed_data"])
    bad_v = signature[:-2] + "05"
    assert _submit(client, alice, prepared, bad_v).json()["detail"]["code"] == "INVALID_SIGNATURE"
    not_hex = "0x" + "zz" * 65
    assert _submit(client, alice, prepared, not_hex).json()["detail"]["code"] == (
        "INVALID_SIGNATURE"
    )
    assert _submit(client, alice, prepared, "0x12").status_code == 422
    stale = int(time.time() * 1000) - APPROVAL_TTL_MS - 60_000
    response = _submit(client, alice, prepared, signature, nonce=stale)
    assert response.json()["detail"]["code"] == "APPROVAL_EXPIRED"
    assert _agents(client, owner) == []


def test_another_user_cannot_prepare_or_submit_for_my_wallet(client, alice, bob, owner):
    prepared = _connect(client, alice, owner)
    wallet_id = prepared["wallet"]["id"]
    response = client.post(f"/api/wallets/{wallet_id}/approval", json={}, headers=bob.headers)
    assert response.status_code == 404
    response = _submit(client, bob, prepared, _sign(owner, prepared["typed_data"]))
    assert response.status_code == 404
    assert response.json()["detail"]["code"] == "NOT_FOUND"
    assert _agents(client, owner) == []


def test_a_wallet_holding_its_accounts_own_key_needs_no_approval(client, alice, paper_server):
    _, wallet = import_funded_key(client, alice, paper_server)
    response = client.post(f"/api/wallets/{wallet['id']}/approval", json={}, headers=alice.headers)
    assert response.status_code == 409
    assert response.json()["detail"]["code"] == "NOT_AN_AGENT_WALLET"


def test_an_approval_can_be_prepared_again_and_the_latest_signature_wins(client, alice, owner):
    first = _connect(client, alice, owner)
    again = client.post(
        f"/api/wallets/{first['wallet']['id']}/approval",
        json={"chain_id": 1},
        headers=alice.headers,
    )
    assert again.status_code == 200, again.text
    second = again.json()
    assert second["typed_data"]["domain"]["chainId"] == 1
    response = _submit(client, alice, second, _sign(owner, second["typed_data"]))
    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True
