"""Build signed ``/exchange`` envelopes with the SDK's own signing helpers.

For requests the SDK's ``Exchange`` methods cannot produce (tampered actions, chosen nonces, assets
the meta does not list, actions the SDK does not wrap such as ``cDeposit``).
"""

from __future__ import annotations

import time
from typing import Any

from eth_account.signers.local import LocalAccount
from hyperliquid.utils import signing as sdk_signing


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def l1_envelope(
    wallet: LocalAccount,
    action: dict[str, Any],
    *,
    nonce: int | None = None,
    vault_address: str | None = None,
    expires_after: int | None = None,
    is_mainnet: bool = False,
) -> dict[str, Any]:
    nonce = now_ms() if nonce is None else nonce
    signature = sdk_signing.sign_l1_action(
        wallet, action, vault_address, nonce, expires_after, is_mainnet
    )
    return {
        "action": action,
        "nonce": nonce,
        "signature": signature,
        "vaultAddress": vault_address,
        "expiresAfter": expires_after,
    }


def user_envelope(
    wallet: LocalAccount,
    action: dict[str, Any],
    sign_types: list[dict[str, str]],
    primary_type: str,
    *,
    nonce: int,
    is_mainnet: bool = False,
) -> dict[str, Any]:
    signature = sdk_signing.sign_user_signed_action(
        wallet, action, sign_types, primary_type, is_mainnet
    )
    return {
        "action": action,
        "nonce": nonce,
        "signature": signature,
        "vaultAddress": None,
        "expiresAfter": None,
    }


def c_deposit_envelope(wallet: LocalAccount, wei: int) -> dict[str, Any]:
    """Spot HYPE → staking balance (``cDeposit``; not wrapped by SDK 0.24.0)."""
    nonce = now_ms()
    return user_envelope(
        wallet,
        {"type": "cDeposit", "wei": wei, "nonce": nonce},
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "wei", "type": "uint64"},
            {"name": "nonce", "type": "uint64"},
        ],
        "HyperliquidTransaction:CDeposit",
        nonce=nonce,
    )


def order_action(asset: int, is_buy: bool, px: str, sz: str, tif: str = "Gtc") -> dict[str, Any]:
    return {
        "type": "order",
        "orders": [{"a": asset, "b": is_buy, "p": px, "s": sz, "r": False, "t": {"limit": {"tif": tif}}}],
        "grouping": "na",
    }  # fmt: skip
