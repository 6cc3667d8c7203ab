"""Agent (API) wallets are trusted with their account only while the exchange confirms them.

Against the real paper exchange (the unmodified SDK approves, replaces and expires agents there)
and the REST API on every test database: an unverified agent sees none of its account's private
data and cannot use the faucet; the faucet never credits an address merely named or an agent's own
key; an approval revoked or expired on the exchange is found out — on demand, by the periodic
re-check and when the exchange refuses the key — and the wallet stops receiving the account's fills.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

import eth_account
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hyperdesk.http.app import create_app
from hyperdesk.persistence.models import StakingAction, VaultAction
from hyperdesk.runtime import Runtime
from tests.fixtures.app import register_and_login
from tests.helpers import wait_until

VAULT = "0x1111111111111111111111111111111111111111"
VALIDATOR = "0x5ac99df645f3414876c816caa18b2d234024b487"


def _wallet(client, user, **body):
    response = client.post("/api/wallets", json={"label": "w", **body}, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _get_wallet(client, user, wallet):
    response = client.get(f"/api/wallets/{wallet['id']}", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


def _agent_wallet(client, user, master, agent_key):
    return _wallet(client, user, private_key=agent_key, account_address=master.address)


def _trades(client, user):
    response = client.get("/api/trades", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _code(response, status):
    assert response.status_code == status, response.text
    return response.json()["detail"]["code"]


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _perp_usdc(paper_server, address) -> Decimal:
    state = paper_server.info().user_state(address.lower())
    return Decimal(state["marginSummary"]["accountValue"])


def _approve(paper_server, master, name=None) -> str:
    """The master approves a fresh agent key (unnamed replaces the previous unnamed one)."""
    response, agent_key = paper_server.sdk_exchange(master).approve_agent(name)
    assert response["status"] == "ok", response
    return agent_key


def _private_requests(wallet_id):
    amount = {"wallet_id": wallet_id, "amount": "10"}
    stake = {"wallet_id": wallet_id, "validator": VALIDATOR, "amount": "1"}
    return [
        ("get", f"/api/wallets/{wallet_id}/account", {}),
        ("post", f"/api/wallets/{wallet_id}/faucet", {"json": {"amount": "1000"}}),
        ("get", "/api/orders", {"params": {"wallet_id": wallet_id}}),
        ("get", f"/api/wallets/{wallet_id}/vaults", {}),
        ("get", f"/api/wallets/{wallet_id}/staking", {}),
        ("post", f"/api/vaults/{VAULT}/deposit", {"json": amount}),
        ("post", f"/api/vaults/{VAULT}/withdraw", {"json": amount}),
        ("post", "/api/staking/delegate", {"json": stake}),
        ("post", "/api/staking/undelegate", {"json": stake}),
    ]


def test_an_unverified_agent_wallet_is_refused_every_private_view(
    client, services, alice, paper_server
):
    master = paper_server.new_wallet(usd=5000)
    paper_server.fund(master.address, 0, hype=10)
    agent = eth_account.Account.create()  # never approved by the master
    wallet = _agent_wallet(client, alice, master, agent.key.hex())
    assert not wallet["verified"]

    for method, path, kwargs in _private_requests(wallet["id"]):
        response = getattr(client, method)(path, headers=alice.headers, **kwargs)
        assert _code(response, 409) == "WALLET_NOT_VERIFIED", (method, path)
        assert "verify" in response.json()["detail"]["message"]

    # ...and nothing happened: no money moved, no attempt recorded.
    assert _perp_usdc(paper_server, master.address) == Decimal(5000)
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(VaultAction)) == 0
        assert session.scalar(select(func.count()).select_from(StakingAction)) == 0
    # The wallet says why.
    shown = _get_wallet(client, alice, wallet)
    assert "approved" in shown["verification_error"]
    assert shown["verified_at"] is None


def test_the_faucet_never_credits_an_address_merely_named(client, alice, paper_server):
    victim = eth_account.Account.create()
    claim = _agent_wallet(client, alice, victim, eth_account.Account.create().key.hex())

    response = client.post(
        f"/api/wallets/{claim['id']}/faucet", json={"amount": "1000"}, headers=alice.headers
    )
    assert _code(response, 409) == "WALLET_NOT_VERIFIED"
    assert paper_server.exchange.resolve_signer(victim.address) is None  # still no account


def test_the_faucet_never_credits_an_approved_agents_own_key(client, alice, bob, paper_server):
    master = paper_server.new_wallet(usd=5000)
    agent_key = _approve(paper_server, master)
    agent = eth_account.Account.from_key(agent_key)
    # The agent's key imported as if it were an account's own: the desk would follow the agent's
    # address, while the exchange maps the key to the master.
    plain = _wallet(client, alice, private_key=agent_key)
    assert plain["verified"]
    assert not plain["is_agent"]

    response = client.post(
        f"/api/wallets/{plain['id']}/faucet", json={"amount": "1000"}, headers=alice.headers
    )
    assert _code(response, 403) == "FAUCET_NOT_AN_ACCOUNT"
    # Crediting it would have made the agent an account of its own, so its orders would land
    # there instead of in the master's account.
    assert paper_server.exchange.resolve_signer(agent.address) == master.address.lower()

    # The verified agent wallet's faucet credits its account, the master — never the agent.
    wallet = _agent_wallet(client, bob, master, agent_key)
    assert wallet["verified"]
    response = client.post(
        f"/api/wallets/{wallet['id']}/faucet", json={"amount": "1000"}, headers=bob.headers
    )
    assert response.status_code == 200, response.text
    assert Decimal(response.json()["account_value"]) == Decimal(6000)
    assert paper_server.exchange.resolve_signer(agent.address) == master.address.lower()


def test_a_replaced_agent_is_found_out_when_verified_again_and_gets_no_more_fills(
    client, services, alice, paper_server
):
    master = paper_server.new_wallet()
    wallet = _agent_wallet(client, alice, master, _approve(paper_server, master))
    assert wallet["verified"]
    account = master.address.lower()

    assert paper_server.sdk_exchange(master).market_open("ETH", True, 0.1)["status"] == "ok"
    assert len(wait_until(lambda: _trades(client, alice), message="the account's fill")) == 1
    assert services.stream_mode(account) is not None

    _approve(paper_server, master)  # a new unnamed agent replaces (revokes) alice's key

    verified = client.post(f"/api/wallets/{wallet['id']}/verify", headers=alice.headers).json()
    assert verified["verified"] is False
    assert "approved" in verified["verification_error"]
    assert verified["verified_at"] == wallet["verified_at"]  # when it was last confirmed
    assert _get_wallet(client, alice, wallet)["verified"] is False
    assert services.stream_mode(account) is None  # nobody verified follows the account now

    # The account keeps trading; whatever way its fills arrive, none is the agent's owner's.
    assert paper_server.sdk_exchange(master).market_close("ETH")["status"] == "ok"
    everything = services.exchange.fills_since(account, 0)
    assert len(everything) == 2
    services.on_stream_fills(account, everything)
    assert len(_trades(client, alice)) == 1
    response = client.get(f"/api/wallets/{wallet['id']}/account", headers=alice.headers)
    assert _code(response, 409) == "WALLET_NOT_VERIFIED"


def test_an_expired_agent_is_found_out_by_the_periodic_re_verification(
    client, services, alice, paper_server
):
    master = paper_server.new_wallet()
    expires = paper_server.clock.now_ms() + 60_000
    wallet = _agent_wallet(
        client, alice, master, _approve(paper_server, master, f"desk valid_until {expires}")
    )
    assert wallet["verified"]

    services.reverify_agents()  # still valid: nothing changes but the time of the check
    still = _get_wallet(client, alice, wallet)
    assert still["verified"]
    assert _when(still["verification_checked_at"]) > _when(wallet["verification_checked_at"])

    paper_server.advance(seconds=120)  # the exchange's clock passes validUntil
    services.reverify_agents()  # what the timer runs, triggered here instead of waited for

    expired = _get_wallet(client, alice, wallet)
    assert expired["verified"] is False
    assert "expired" in expired["verification_error"]
    assert services.stream_mode(master.address) is None


def test_an_order_refused_for_an_unknown_agent_marks_the_wallet_unverified(
    client, services, alice, paper_server
):
    master = paper_server.new_wallet()
    wallet = _agent_wallet(client, alice, master, _approve(paper_server, master))
    assert services.stream_mode(master.address) is not None
    _approve(paper_server, master)  # replaced on the exchange; the desk was not told

    body = {
        "wallet_id": wallet["id"],
        "coin": "ETH",
        "side": "buy",
        "type": "limit",
        "size": "0.1",
        "price": "1000",
    }
    response = client.post("/api/orders", json=body, headers=alice.headers)
    assert _code(response, 422) == "AGENT_REVOKED"
    assert "approve it again" in response.json()["detail"]["message"]

    gone = _get_wallet(client, alice, wallet)
    assert gone["verified"] is False
    assert "revoked" in gone["verification_error"]
    assert services.stream_mode(master.address) is None
    response = client.get("/api/orders", params={"wallet_id": wallet["id"]}, headers=alice.headers)
    assert _code(response, 409) == "WALLET_NOT_VERIFIED"


def test_an_agent_still_followed_by_another_verified_wallet_keeps_the_stream(
    client, services, alice, bob, paper_server
):
    master = paper_server.new_wallet()
    wallet = _agent_wallet(client, alice, master, _approve(paper_server, master))
    _wallet(client, bob, private_key=master.key.hex())  # bob holds the account's own key
    _approve(paper_server, master)

    gone = client.post(f"/api/wallets/{wallet['id']}/verify", headers=alice.headers).json()
    assert gone["verified"] is False
    assert services.stream_mode(master.address) is not None  # bob still follows it


def test_an_agent_approved_later_is_trusted_by_the_periodic_re_verification(
    client, services, alice, paper_server
):
    master = paper_server.new_wallet()
    agent_key = "0x" + "ab" * 32
    wallet = _agent_wallet(client, alice, master, agent_key)
    assert not wallet["verified"]

    from hyperliquid.utils.signing import get_timestamp_ms, sign_agent

    sdk = paper_server.sdk_exchange(master)
    nonce = get_timestamp_ms()
    agent = eth_account.Account.from_key(agent_key)
    action = {
        "type": "approveAgent",
        "agentAddress": agent.address,
        "agentName": "",
        "nonce": nonce,
    }
    signature = sign_agent(master, action, False)
    del action["agentName"]
    assert sdk._post_action(action, signature, nonce)["status"] == "ok"

    services.reverify_agents()
    now = _get_wallet(client, alice, wallet)
    assert now["verified"]
    assert now["verified_at"]
    assert now["verification_error"] is None
    assert services.stream_mode(master.address) is not None


@pytest.fixture
def fast_reverify(settings_factory) -> Iterator[tuple[TestClient, Runtime]]:
    runtime = Runtime(settings_factory(agent_reverify_seconds=0.2))
    runtime.start()
    try:
        assert runtime.services is not None
        with TestClient(create_app(runtime.services)) as client:
            yield client, runtime
    finally:
        runtime.stop()


def test_the_re_verification_timer_runs_on_its_own(fast_reverify, paper_server):
    client, _runtime = fast_reverify
    carol = register_and_login(client, "carol")
    master = paper_server.new_wallet()
    wallet = _agent_wallet(client, carol, master, _approve(paper_server, master))
    assert wallet["verified"]
    _approve(paper_server, master)

    wait_until(
        lambda: _get_wallet(client, carol, wallet)["verified"] is False,
        message="the timer's re-verification to find the replaced agent",
    )


def test_only_the_agents_own_unknown_signer_error_means_revoked():
    from hyperdesk.exchange.errors import ErrorCode, agent_revoked

    agent, account = "0x" + "aa" * 20, "0x" + "bb" * 20
    text = f"User or API Wallet {agent.upper().replace('0X', '0x')} does not exist."
    error = agent_revoked(agent, account, text)
    assert error is not None
    assert error.code is ErrorCode.AGENT_REVOKED
    other = "0x" + "cc" * 20  # a bad signature recovers some other address
    assert agent_revoked(agent, account, f"User or API Wallet {other} does not exist.") is None
    assert agent_revoked(account, account, f"User or API Wallet {account} does not exist.") is None
    assert agent_revoked(agent, account, "Insufficient margin to place order.") is None


def test_an_exchange_that_cannot_answer_does_not_revoke_anyone(
    client, services, alice, paper_server
):
    from hyperdesk.keystore import load_keyring
    from hyperdesk.wallets.service import AgentStatus, WalletService

    master = paper_server.new_wallet()
    wallet = _agent_wallet(client, alice, master, _approve(paper_server, master))
    unreachable = WalletService(
        services.sessions,
        load_keyring(services.settings.resolved_master_key_file),
        lambda _agent, _account: AgentStatus(None, "The exchange could not be asked (timeout)."),
    )

    assert unreachable.reverify_agents() == []
    shown = _get_wallet(client, alice, wallet)
    assert shown["verified"] is True  # an outage is not a revocation
    assert "could not be asked" in shown["verification_error"]

    again = client.post(f"/api/wallets/{wallet['id']}/verify", headers=alice.headers).json()
    assert again["verified"] is True
    assert again["verification_error"] is None
