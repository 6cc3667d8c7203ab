"""Approving a server-held agent key with the user's own browser wallet.

The server generates the agent key; the account's owner signs Hyperliquid's user-signed
`approveAgent` in their browser wallet (EIP-1193 `eth_signTypedData_v4`), so the account's
master key never reaches the server. Everything the signature covers is rebuilt here from what
the server knows (the agent's address, its name, the network), never taken from the browser:
only the nonce and the chain id the wallet signed on come back with the signature, and the
signer is recovered before anything is posted, so a wrong account or a doctored message gets a
clear refusal instead of an exchange round trip.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from hyperdesk.errors import InvalidInput

#: The chain id Hyperliquid's own SDK signs user actions on (Arbitrum Sepolia); any chain id is
#: accepted by the exchange, and browser wallets insist on the one they are connected to.
DEFAULT_SIGNATURE_CHAIN_ID = 0x66EEE

#: How old a prepared approval may be when its signature comes back. Hyperliquid accepts nonces
#: from the last two days; a shorter window keeps a leaked signature from being replayed late.
APPROVAL_TTL_MS = 15 * 60 * 1000

_SIGNATURE = re.compile(r"^0x[0-9a-fA-F]{130}$")

_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_APPROVE_AGENT_FIELDS = [
    {"name": "hyperliquidChain", "type": "string"},
    {"name": "agentAddress", "type": "address"},
    {"name": "agentName", "type": "string"},
    {"name": "nonce", "type": "uint64"},
]


class SignatureMismatch(InvalidInput):
    """The signature is valid but not the account's: another key signed, or another message."""

    code = "SIGNATURE_MISMATCH"


class ApprovalExpired(InvalidInput):
    code = "APPROVAL_EXPIRED"


@dataclass(frozen=True)
class AgentApproval:
    """One `approveAgent` of a given agent for a given network, at a given nonce."""

    agent_address: str
    agent_name: str
    nonce: int
    chain_id: int
    is_mainnet: bool

    @property
    def hyperliquid_chain(self) -> str:
        return "Mainnet" if self.is_mainnet else "Testnet"

    def typed_data(self) -> dict[str, Any]:
        """The full EIP-712 document a browser wallet signs with `eth_signTypedData_v4`."""
        return {
            "domain": {
                "name": "HyperliquidSignTransaction",
                "version": "1",
                "chainId": self.chain_id,
                "verifyingContract": "0x0000000000000000000000000000000000000000",
            },
            "types": {
                "EIP712Domain": _DOMAIN_FIELDS,
                "HyperliquidTransaction:ApproveAgent": _APPROVE_AGENT_FIELDS,
            },
            "primaryType": "HyperliquidTransaction:ApproveAgent",
            "message": {
                "hyperliquidChain": self.hyperliquid_chain,
                "agentAddress": self.agent_address,
                "agentName": self.agent_name,
                "nonce": self.nonce,
            },
        }

    def action(self) -> dict[str, Any]:
        """The action as posted to `/exchange` (the same fields, plus type and chain id)."""
        return {
            "type": "approveAgent",
            "signatureChainId": hex(self.chain_id),
            "hyperliquidChain": self.hyperliquid_chain,
            "agentAddress": self.agent_address,
            "agentName": self.agent_name,
            "nonce": self.nonce,
        }

    def signer(self, signature: str) -> str:
        """The address that signed this approval with `signature` (65 bytes, 0x-hex)."""
        r, s, v = split_signature(signature)
        signable = encode_typed_data(full_message=self.typed_data())
        try:
            recovered = Account.recover_message(signable, vrs=(v, r, s))
        except Exception as exc:  # eth_keys raises several types for an impossible signature
            raise InvalidInput(
                "The signature is not a valid secp256k1 signature.", code="INVALID_SIGNATURE"
            ) from exc
        return str(recovered).lower()


def agent_name_for(wallet_id: int) -> str:
    """One named agent per Hyperdesk wallet: approving under a shared name would silently revoke
    the account's other Hyperdesk agent (Hyperliquid replaces an agent approved with a known name)."""
    return f"hyperdesk-{wallet_id}"


def split_signature(signature: str) -> tuple[int, int, int]:
    """(r, s, v) of an `eth_signTypedData_v4` answer; v as 27/28 whichever way the wallet wrote it."""
    if not isinstance(signature, str) or not _SIGNATURE.match(signature):
        raise InvalidInput(
            "The signature must be 0x followed by 130 hex digits (r, s, v).",
            code="INVALID_SIGNATURE",
        )
    raw = bytes.fromhex(signature[2:])
    r, s, v = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
    if v in (0, 1):
        v += 27
    if v not in (27, 28):
        raise InvalidInput("The signature's v must be 27 or 28.", code="INVALID_SIGNATURE")
    return r, s, v


def wire_signature(signature: str) -> dict[str, Any]:
    """The `{r, s, v}` object `/exchange` takes."""
    r, s, v = split_signature(signature)
    return {"r": f"0x{r:064x}", "s": f"0x{s:064x}", "v": v}


def check_fresh(nonce: int, now_ms: int | None = None) -> None:
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if not now - APPROVAL_TTL_MS <= nonce <= now + 60_000:
        raise ApprovalExpired(
            "This approval was prepared too long ago (or in the future); prepare it again and "
            f"sign within {APPROVAL_TTL_MS // 60_000} minutes."
        )
