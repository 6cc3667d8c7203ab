"""Connecting a browser wallet end to end: an EIP-1193 provider injected into the page (signing
in Python with a test key, as MetaMask would with its own) approves the agent the server made;
a signature by another account is refused in words, and the unverified agent can be approved
again from its card. Without a provider the screen says so."""

from __future__ import annotations

import itertools
import json
from typing import Any

import eth_account
import requests
from playwright.sync_api import expect

from tests.browser.conftest import Api, check_accessibility, log_in, screenshot
from tests.browser.served import Served

_names = itertools.count(1)
CHAIN_ID = "0x66eee"

# The provider a browser wallet injects, reduced to what the app asks of it; signing is done by
# the test (`hyperdeskTestSign`), which plays the wallet's owner.
PROVIDER = """
window.ethereum = {
  isMetaMask: true,
  async request({ method, params }) {
    if (method === "eth_requestAccounts" || method === "eth_accounts") return [ACCOUNT];
    if (method === "eth_chainId") return CHAIN;
    if (method === "eth_signTypedData_v4") return await window.hyperdeskTestSign(params[0], params[1]);
    throw Object.assign(new Error("unsupported " + method), { code: 4200 });
  },
};
"""


def _user(served: Served) -> Api:
    return Api(served.base_url, f"connector{next(_names)}")


def _funded_owner(served: Served) -> Any:
    """An account whose key only the 'browser wallet' holds, funded through the paper faucet."""
    owner = eth_account.Account.create()
    exchange_url = requests.get(served.base_url + "/api/health", timeout=10).json()["exchange_url"]
    answer = requests.post(
        exchange_url + "/faucet", json={"user": owner.address, "usd": "1000"}, timeout=10
    )
    assert answer.ok, answer.text
    return owner


def _install_wallet(page: Any, owner: Any, signer: dict[str, Any]) -> list[dict[str, Any]]:
    """Inject the provider; `signer["key"]` signs (the test may swap it). Returns the requests."""
    asked: list[dict[str, Any]] = []

    def sign(account: str, typed_json: str) -> str:
        typed = json.loads(typed_json)
        asked.append({"account": account, "typed_data": typed})
        signed = signer["key"].sign_typed_data(full_message=typed)
        return "0x" + signed.signature.hex().removeprefix("0x")

    page.expose_function("hyperdeskTestSign", sign)
    page.add_init_script(
        f"const ACCOUNT = {json.dumps(owner.address)}; const CHAIN = {json.dumps(CHAIN_ID)};"
        + PROVIDER
    )
    return asked


def test_connect_a_browser_wallet_and_approve_its_agent(page, served):
    user = _user(served)
    owner = _funded_owner(served)
    asked = _install_wallet(page, owner, {"key": owner})
    log_in(page, user.username, path="/wallets")
    panel = page.get_by_test_id("connect-wallet")
    expect(panel).to_contain_text("never leaves your browser wallet")
    check_accessibility(page)
    screenshot(page, "connect-wallet")

    panel.get_by_label("Label").fill("my metamask")
    panel.get_by_role("button", name="Connect browser wallet").click()
    expect(panel.get_by_test_id("connect-done")).to_contain_text("the agent is approved")
    card = page.get_by_test_id("wallet").filter(has_text="my metamask")
    expect(card.get_by_text("verified", exact=True)).to_be_visible()
    expect(card.get_by_text("agent key")).to_be_visible()

    [request] = asked
    assert request["account"].lower() == owner.address.lower()
    assert request["typed_data"]["primaryType"] == "HyperliquidTransaction:ApproveAgent"
    assert request["typed_data"]["domain"]["chainId"] == int(CHAIN_ID, 16)
    [wallet] = user.call("GET", "/wallets")
    assert wallet["is_agent"]
    assert wallet["verified"]
    assert wallet["account_address"] == owner.address.lower()
    assert wallet["address"] == request["typed_data"]["message"]["agentAddress"].lower()
    check_accessibility(page)


def test_a_signature_by_another_account_is_refused_then_approved_from_the_card(page, served):
    user = _user(served)
    owner = _funded_owner(served)
    signer = {"key": eth_account.Account.create()}  # the wallet signs with the wrong account
    _install_wallet(page, owner, signer)
    log_in(page, user.username, path="/wallets")
    panel = page.get_by_test_id("connect-wallet")
    panel.get_by_role("button", name="Connect browser wallet").click()
    expect(panel.get_by_role("alert")).to_contain_text("signed by another account")
    card = page.get_by_test_id("wallet").filter(has_text="Browser wallet")
    expect(card.get_by_text("not verified")).to_be_visible()
    check_accessibility(page)

    signer["key"] = owner
    card.get_by_role("button", name="Approve with browser wallet").click()
    expect(card.get_by_text("verified", exact=True)).to_be_visible()
    expect(card.get_by_role("button", name="Approve with browser wallet")).to_have_count(0)
    assert user.call("GET", "/wallets")[0]["verified"] is True


def test_without_a_browser_wallet_the_screen_says_so(page, served):
    user = _user(served)
    log_in(page, user.username, path="/wallets")
    expect(page.get_by_test_id("no-provider")).to_contain_text("No browser wallet was found")
    expect(page.get_by_role("button", name="Connect browser wallet")).to_have_count(0)
