"""The non-funding ledger: every movement of a user's money that is not a fill or funding.

Hyperliquid lists these in ``userNonFundingLedgerUpdates`` and streams them on the websocket
channel of the same name, one ``{"time", "hash", "delta": {"type": <kind>, …}}`` per movement
(protocol reference §3.13). Whoever moves money records it here, at the moment it moves, so the
history is the account's real history rather than a reconstruction. Amounts are wire strings.

Both sides of a transfer between two users see the same entry, as on Hyperliquid.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hyperdesk.paper.numbers import wire, wire_usd

if TYPE_CHECKING:
    from hyperdesk.paper.engine import Engine

ZERO_USD = "0.0"


def record(engine: Engine, users: tuple[str, ...], delta: dict[str, Any], now: int) -> None:
    """Append one ledger entry (one new hash) to each of ``users`` and queue its event."""
    entry = {"time": now, "hash": engine._new_hash(), "delta": delta}
    for user in dict.fromkeys(u.lower() for u in users):
        engine.ledger.setdefault(user, []).append(entry)
        engine.pending_ledger.setdefault(user, []).append(entry)


def deposit(engine: Engine, user: str, usdc: Decimal, now: int) -> None:
    """USDC arriving from outside (the paper faucet stands in for the bridge)."""
    record(engine, (user,), {"type": "deposit", "usdc": wire_usd(usdc)}, now)


def token_credit(engine: Engine, user: str, token: str, amount: Decimal, now: int) -> None:
    """A spot token credited from outside (faucet HYPE): Hyperliquid's closest kind is a genesis."""
    record(engine, (user,), {"type": "spotGenesis", "token": token, "amount": wire(amount)}, now)


def withdraw(
    engine: Engine, user: str, usdc: Decimal, fee: Decimal, nonce: int | None, now: int
) -> None:
    delta = {"type": "withdraw", "usdc": wire_usd(usdc), "nonce": nonce, "fee": wire_usd(fee)}
    record(engine, (user,), delta, now)


def internal_transfer(engine: Engine, user: str, destination: str, usdc: Decimal, now: int) -> None:
    """``usdSend``: perp USDC from one user to another."""
    delta = {
        "type": "internalTransfer",
        "usdc": wire_usd(usdc),
        "user": user.lower(),
        "destination": destination.lower(),
        "fee": ZERO_USD,
    }
    record(engine, (user, destination), delta, now)


def class_transfer(engine: Engine, user: str, usdc: Decimal, to_perp: bool, now: int) -> None:
    """``usdClassTransfer``: USDC between the user's spot and perp balances."""
    delta = {"type": "accountClassTransfer", "usdc": wire_usd(usdc), "toPerp": to_perp}
    record(engine, (user,), delta, now)


def spot_transfer(
    engine: Engine,
    user: str,
    destination: str,
    token: str,
    amount: Decimal,
    usdc_value: Decimal,
    nonce: int | None,
    now: int,
) -> None:
    """``spotSend``: a spot token from one user to another."""
    delta = {
        "type": "spotTransfer",
        "token": token,
        "amount": wire(amount),
        "usdcValue": wire_usd(usdc_value),
        "user": user.lower(),
        "destination": destination.lower(),
        "fee": ZERO_USD,
        "nativeTokenFee": ZERO_USD,
        "nonce": nonce,
        "feeToken": "",
    }
    record(engine, (user, destination), delta, now)


def vault_deposit(engine: Engine, user: str, vault: str, usdc: Decimal, now: int) -> None:
    delta = {"type": "vaultDeposit", "vault": vault.lower(), "usdc": wire_usd(usdc)}
    record(engine, (user,), delta, now)


def vault_withdraw(
    engine: Engine,
    user: str,
    vault: str,
    requested: Decimal,
    commission: Decimal,
    basis: Decimal,
    now: int,
) -> None:
    delta = {
        "type": "vaultWithdraw",
        "vault": vault.lower(),
        "user": user.lower(),
        "requestedUsd": wire_usd(requested),
        "commission": wire_usd(commission),
        "closingCost": ZERO_USD,
        "basis": wire_usd(basis),
        "netWithdrawnUsd": wire_usd(requested - commission),
    }
    record(engine, (user,), delta, now)


def staking_transfer(
    engine: Engine, user: str, amount: Decimal, is_deposit: bool, now: int
) -> None:
    """HYPE between the spot balance and the staking balance (``cDeposit``, unstaking release)."""
    delta = {
        "type": "cStakingTransfer",
        "token": "HYPE",
        "amount": wire(amount),
        "isDeposit": is_deposit,
    }
    record(engine, (user,), delta, now)


def updates(engine: Engine, user: str, start: int, end: int | None) -> list[dict[str, Any]]:
    """Entries of ``user`` with ``start <= time <= end``, oldest first."""
    return [
        entry
        for entry in engine.ledger.get(user.lower(), [])
        if entry["time"] >= start and (end is None or entry["time"] <= end)
    ]
