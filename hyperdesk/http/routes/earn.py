"""Vaults (deposit, withdraw, equities) and staking (validators, delegations)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hyperdesk.exchange.models import plain_decimal as plain
from hyperdesk.http.deps import CurrentUser, PublicDataDep, ServicesDep
from hyperdesk.http.trading_schemas import ActionOut, Address, AmountIn, Id, StakeIn
from hyperdesk.services import Services
from hyperdesk.wallets.service import require_verified

router = APIRouter(tags=["vaults", "staking"])


def _verified_account(services: Services, user_id: int, wallet_id: int) -> str:
    """The account of the caller's wallet, only if verified: equities, delegations and transfers
    of an account are private to the wallets the exchange confirms (`WALLET_NOT_VERIFIED`)."""
    wallet = services.wallets.get(user_id, wallet_id)
    require_verified(wallet)
    return wallet.account_address


def _num(value: Any) -> str | None:
    return None if value is None else plain(value)


def _vault_summary(v: Any) -> dict[str, Any]:
    return {
        "address": v.address,
        "name": v.name,
        "leader": v.leader,
        "apr": _num(v.apr),
        "tvl": _num(v.tvl),
        "is_closed": v.is_closed,
    }


@router.get("/vaults")
def vaults(public: PublicDataDep) -> list[dict[str, Any]]:
    """Public: served from a short-lived cache (one exchange read serves every visitor)."""
    return [_vault_summary(v) for v in public.vaults()]


@router.get("/vaults/{address}")
def vault(address: Address, public: PublicDataDep) -> dict[str, Any]:
    d = public.vault(address)
    return {
        "address": d.address,
        "name": d.name,
        "leader": d.leader,
        "description": d.description,
        "apr": _num(d.apr),
        "tvl": _num(sum((f.equity for f in d.followers), start=0) if d.followers else None),
        "followers": len(d.followers),
        "leader_fraction": _num(d.leader_fraction),
        "leader_commission": _num(d.leader_commission),
        "max_withdrawable": _num(d.max_withdrawable),
        "is_closed": d.is_closed,
        "allow_deposits": d.allow_deposits and not d.is_closed,
    }


@router.post("/vaults/{address}/deposit", response_model=ActionOut)
def vault_deposit(
    address: Address, body: AmountIn, user: CurrentUser, services: ServicesDep
) -> ActionOut:
    _verified_account(services, user.id, body.wallet_id)
    result = services.earn.vault_transfer(
        user.id, body.wallet_id, address, body.amount, deposit=True
    )
    return ActionOut(ok=result.ok, action=result.action, detail=result.detail)


@router.post("/vaults/{address}/withdraw", response_model=ActionOut)
def vault_withdraw(
    address: Address, body: AmountIn, user: CurrentUser, services: ServicesDep
) -> ActionOut:
    _verified_account(services, user.id, body.wallet_id)
    result = services.earn.vault_transfer(
        user.id, body.wallet_id, address, body.amount, deposit=False
    )
    return ActionOut(ok=result.ok, action=result.action, detail=result.detail)


@router.get("/wallets/{wallet_id}/vaults")
def wallet_vaults(wallet_id: Id, user: CurrentUser, services: ServicesDep) -> list[dict[str, Any]]:
    account = _verified_account(services, user.id, wallet_id)
    return [
        {
            "vault_address": e.vault_address,
            "equity": plain(e.equity),
            "locked_until": e.locked_until_ms,
        }
        for e in services.exchange.vault_equities(account)
    ]


@router.get("/staking/validators")
def validators(public: PublicDataDep) -> list[dict[str, Any]]:
    """Public: served from a short-lived cache (one exchange read serves every visitor)."""
    return [
        {
            "validator": v.validator,
            "name": v.name,
            "description": v.description,
            "stake": plain(v.stake),
            "commission": plain(v.commission),
            "is_active": v.is_active,
            "is_jailed": v.is_jailed,
        }
        for v in public.validators()
    ]


@router.get("/wallets/{wallet_id}/staking")
def wallet_staking(wallet_id: Id, user: CurrentUser, services: ServicesDep) -> dict[str, Any]:
    account = _verified_account(services, user.id, wallet_id)
    summary = services.exchange.staking_summary(account)
    return {
        "delegations": [
            {
                "validator": d.validator,
                "amount": plain(d.amount),
                "locked_until": d.locked_until_ms,
            }
            for d in services.exchange.delegations(account)
        ],
        "summary": {
            "delegated": plain(summary.delegated),
            "undelegated": plain(summary.undelegated),
            "total_pending_withdrawal": plain(summary.total_pending_withdrawal),
            "pending_withdrawals": summary.pending_withdrawals,
        },
    }


@router.post("/staking/delegate", response_model=ActionOut)
def delegate(body: StakeIn, user: CurrentUser, services: ServicesDep) -> ActionOut:
    _verified_account(services, user.id, body.wallet_id)
    result = services.earn.stake(
        user.id, body.wallet_id, body.validator, body.amount, delegate=True
    )
    return ActionOut(ok=result.ok, action=result.action, detail=result.detail)


@router.post("/staking/undelegate", response_model=ActionOut)
def undelegate(body: StakeIn, user: CurrentUser, services: ServicesDep) -> ActionOut:
    _verified_account(services, user.id, body.wallet_id)
    result = services.earn.stake(
        user.id, body.wallet_id, body.validator, body.amount, delegate=False
    )
    return ActionOut(ok=result.ok, action=result.action, detail=result.detail)
