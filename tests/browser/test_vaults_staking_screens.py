"""The Vaults and Staking screens end to end: deposit into a vault and see the equity with its
unlock time; delegate HYPE to a validator and see the delegation and the summary; no console
error and no serious accessibility violation."""

from __future__ import annotations

import itertools

from playwright.sync_api import expect

from tests.browser.conftest import Api, check_accessibility, log_in, screenshot
from tests.browser.served import Served

_names = itertools.count(1)


def _user(served: Served) -> Api:
    return Api(served.base_url, f"earner{next(_names)}")


def test_deposit_into_a_vault_and_see_the_equity_locked_until_its_unlock_time(page, served):
    user = _user(served)
    wallet = user.funded_wallet("saver")
    vault = user.call("GET", "/vaults")[0]
    log_in(page, user.username, path="/vaults")
    expect(page.get_by_test_id("vault-list")).to_contain_text(vault["name"])
    expect(page.get_by_text("This wallet has nothing in vaults.")).to_be_visible()
    check_accessibility(page)

    page.get_by_role("button", name=f"Details of {vault['name']}", exact=True).click()
    details = page.get_by_test_id("vault-details")
    expect(details.get_by_role("heading", name=vault["name"])).to_be_visible()
    expect(details).to_contain_text("lock-up")
    details.get_by_label("Amount (USDC)").fill("250")
    details.get_by_role("button", name="Deposit").click()
    expect(details.get_by_test_id("vault-done")).to_have_text("Deposited $250.00.")

    equities = page.get_by_test_id("vault-equities")
    expect(equities).to_contain_text(vault["name"])
    expect(equities).to_contain_text("$250.00")
    expect(equities.get_by_test_id("unlock")).to_contain_text("locked until")
    [equity] = user.call("GET", f"/wallets/{wallet['id']}/vaults")
    assert equity["vault_address"] == vault["address"]
    assert equity["locked_until"]
    check_accessibility(page)
    screenshot(page, "vaults")

    # Withdrawing before the unlock time is refused, in words that say when it unlocks.
    details.get_by_label("Amount (USDC)").fill("10")
    details.get_by_role("button", name="Withdraw").click()
    expect(details.get_by_role("alert")).to_contain_text("locked until")


def test_delegate_hype_to_a_validator_and_see_the_delegation(page, served):
    user = _user(served)
    wallet = user.call("POST", "/wallets", json={"label": "staker"})
    user.call("POST", f"/wallets/{wallet['id']}/faucet", json={"amount": "1000", "hype": "100"})
    validator = user.call("GET", "/staking/validators")[0]
    log_in(page, user.username, path="/staking")
    expect(page.get_by_test_id("validator-list")).to_contain_text(validator["name"])
    expect(page.get_by_test_id("delegated")).to_have_text("0 HYPE")
    check_accessibility(page)

    page.get_by_role("button", name=f"Choose {validator['name']}", exact=True).click()
    expect(page.get_by_label("Validator", exact=True)).to_have_value(validator["validator"])
    page.get_by_label("Amount (HYPE)").fill("12.5")
    page.get_by_role("button", name="Delegate", exact=True).click()
    expect(page.get_by_test_id("stake-done")).to_have_text(
        f"Delegated 12.5 HYPE to {validator['name']}."
    )
    expect(page.get_by_test_id("delegated")).to_have_text("12.5 HYPE")
    delegations = page.get_by_test_id("delegations")
    expect(delegations).to_contain_text(validator["name"])
    expect(delegations).to_contain_text("12.5 HYPE")
    staking = user.call("GET", f"/wallets/{wallet['id']}/staking")
    assert [(d["validator"], d["amount"]) for d in staking["delegations"]] == [
        (validator["validator"], "12.5")
    ]
    check_accessibility(page)
    screenshot(page, "staking")
