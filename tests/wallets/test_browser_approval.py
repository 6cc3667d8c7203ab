"""The approval document a browser wallet signs is the one Hyperliquid's own SDK signs."""

from __future__ import annotations

import eth_account
import pytest
from hyperliquid.utils.signing import sign_agent

from hyperdesk.errors import InvalidInput
from hyperdesk.wallets.browser_approval import AgentApproval, split_signature, wire_signature


@pytest.mark.parametrize("is_mainnet", [False, True])
def test_a_browser_signature_equals_the_sdks_signature_of_the_same_approval(is_mainnet):
    owner = eth_account.Account.create()
    approval = AgentApproval(
        agent_address=eth_account.Account.create().address.lower(),
        agent_name="hyperdesk-7",
        nonce=1_795_480_205_517,
        chain_id=0x66EEE,
        is_mainnet=is_mainnet,
    )
    browser = owner.sign_typed_data(full_message=approval.typed_data())
    sdk_action = {
        "type": "approveAgent",
        "agentAddress": approval.agent_address,
        "agentName": approval.agent_name,
        "nonce": approval.nonce,
    }
    sdk = sign_agent(owner, sdk_action, is_mainnet)
    ours = wire_signature("0x" + browser.signature.hex().removeprefix("0x"))
    # The SDK writes r and s without leading zeros; the numbers are what is signed.
    assert (int(ours["r"], 16), int(ours["s"], 16), ours["v"]) == (
        int(sdk["r"], 16),
        int(sdk["s"], 16),
        sdk["v"],
    )
    assert approval.action() == sdk_action | {
        "signatureChainId": "0x66eee",
        "hyperliquidChain": "Mainnet" if is_mainnet else "Testnet",
    }
    assert approval.signer("0x" + browser.signature.hex().removeprefix("0x")) == (
        owner.address.lower()
    )


def test_v_may_be_written_as_0_or_1():
    r, s = "11" * 32, "22" * 32
    assert split_signature(f"0x{r}{s}00")[2] == 27
    assert split_signature(f"0x{r}{s}1c")[2] == 28
    with pytest.raises(InvalidInput):
        split_signature(f"0x{r}{s}1d")
