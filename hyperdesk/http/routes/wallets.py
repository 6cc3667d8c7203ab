"""Wallets: import or generate, list, rename, delete; the live account view; the paper faucet.

The account view and the faucet serve only verified wallets (an agent wallet the exchange does
not confirm answers 409 `WALLET_NOT_VERIFIED`).
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from hyperdesk.errors import Forbidden
from hyperdesk.http.deps import CurrentUser, ServicesDep
from hyperdesk.http.trading_schemas import (
    AccountOut,
    ApprovalOut,
    ApprovalPrepareIn,
    ApprovalSubmitIn,
    BrowserConnectIn,
    FaucetIn,
    Id,
    LeverageIn,
    PositionOut,
    SpotBalanceOut,
    WalletIn,
    WalletOut,
    WalletPatch,
)
from hyperdesk.wallets.service import WalletView, require_verified

router = APIRouter(prefix="/wallets", tags=["wallets"])


def _out(view: WalletView) -> WalletOut:
    return WalletOut(
        id=view.id,
        label=view.label,
        address=view.address,
        account_address=view.account_address,
        is_agent=view.is_agent,
        verified=view.verified,
        verified_at=view.verified_at,
        verification_checked_at=view.verification_checked_at,
        verification_error=view.verification_error,
        created_at=view.created_at,
        warnings=list(view.warnings),
    )


@router.get("", response_model=list[WalletOut])
def list_wallets(user: CurrentUser, services: ServicesDep) -> list[WalletOut]:
    return [_out(w) for w in services.wallets.list_for(user.id)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WalletOut)
def create_wallet(body: WalletIn, user: CurrentUser, services: ServicesDep) -> WalletOut:
    key = body.private_key.get_secret_value() if body.private_key else None
    view = services.wallets.create(
        user.id, label=body.label, private_key=key, account_address=body.account_address
    )
    services.on_wallet_added(view)
    return _out(view)


@router.post("/connect", status_code=status.HTTP_201_CREATED, response_model=ApprovalOut)
def connect_browser_wallet(
    body: BrowserConnectIn, user: CurrentUser, services: ServicesDep
) -> ApprovalOut:
    """Generate an agent key for the account and prepare its `approveAgent` for the account's
    owner to sign in their browser wallet; the wallet stays unverified until the signed approval
    comes back (`POST /api/wallets/{id}/approval/submit`). The account's key never comes here."""
    view = services.wallets.create(user.id, label=body.label, account_address=body.account_address)
    return _approval(view.id, body.chain_id, user, services, view)


@router.post("/{wallet_id}/approval", response_model=ApprovalOut)
def prepare_approval(
    wallet_id: Id, body: ApprovalPrepareIn, user: CurrentUser, services: ServicesDep
) -> ApprovalOut:
    """A fresh approval of an agent wallet's key (after it expired, was revoked or replaced)."""
    return _approval(wallet_id, body.chain_id, user, services)


@router.post("/{wallet_id}/approval/submit", response_model=WalletOut)
def submit_approval(
    wallet_id: Id, body: ApprovalSubmitIn, user: CurrentUser, services: ServicesDep
) -> WalletOut:
    """Send the approval the account's owner signed; the wallet is verified once the exchange
    lists the agent."""
    view = services.wallets.approve_with_signature(
        user.id,
        wallet_id,
        nonce=body.nonce,
        chain_id=body.chain_id,
        signature=body.signature,
        is_mainnet=services.settings.is_mainnet,
        post=services.exchange.submit_user_signed,
    )
    if view.verified:
        services.on_wallet_added(view)
    return _out(view)


def _approval(
    wallet_id: int,
    chain_id: int,
    user: CurrentUser,
    services: ServicesDep,
    view: WalletView | None = None,
) -> ApprovalOut:
    approval = services.wallets.browser_approval(
        user.id,
        wallet_id,
        chain_id=chain_id,
        is_mainnet=services.settings.is_mainnet,
    )
    return ApprovalOut(
        wallet=_out(view or services.wallets.get(user.id, wallet_id)),
        nonce=approval.nonce,
        chain_id=approval.chain_id,
        agent_name=approval.agent_name,
        typed_data=approval.typed_data(),
    )


@router.get("/{wallet_id}", response_model=WalletOut)
def get_wallet(wallet_id: Id, user: CurrentUser, services: ServicesDep) -> WalletOut:
    return _out(services.wallets.get(user.id, wallet_id))


@router.post("/{wallet_id}/verify", response_model=WalletOut)
def verify_wallet(wallet_id: Id, user: CurrentUser, services: ServicesDep) -> WalletOut:
    """Ask the exchange again whether this agent wallet is (still) approved for its account."""
    view = services.wallets.verify(user.id, wallet_id)
    if view.verified:
        services.on_wallet_added(view)
    else:
        services.on_wallet_unverified(view)
    return _out(view)


@router.patch("/{wallet_id}", response_model=WalletOut)
def rename_wallet(
    wallet_id: Id, body: WalletPatch, user: CurrentUser, services: ServicesDep
) -> WalletOut:
    return _out(services.wallets.rename(user.id, wallet_id, body.label))


@router.delete("/{wallet_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_wallet(wallet_id: Id, user: CurrentUser, services: ServicesDep) -> Response:
    view = services.wallets.get(user.id, wallet_id)
    services.wallets.delete(user.id, wallet_id)
    services.on_wallet_removed(view)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{wallet_id}/account", response_model=AccountOut)
def account(wallet_id: Id, user: CurrentUser, services: ServicesDep) -> AccountOut:
    wallet = services.wallets.get(user.id, wallet_id)
    require_verified(wallet)
    summary = services.exchange.account_summary(wallet.account_address)
    return AccountOut(
        address=summary.address,
        account_value=summary.account_value,
        withdrawable=summary.withdrawable,
        margin_used=summary.margin_used,
        maintenance_margin_used=summary.maintenance_margin_used,
        total_notional=summary.total_notional,
        positions=[
            PositionOut(
                coin=p.coin,
                size=p.size,
                entry_price=p.entry_price,
                unrealized_pnl=p.unrealized_pnl,
                leverage=p.leverage,
                leverage_type=p.leverage_type,
                liquidation_price=p.liquidation_price,
                margin_used=p.margin_used,
                position_value=p.position_value,
            )
            for p in summary.positions
        ],
        spot_balances=[
            SpotBalanceOut(coin=b.coin, total=b.total, hold=b.hold) for b in summary.spot_balances
        ],
        stream_mode=services.stream_mode(wallet.account_address),
    )


@router.post("/{wallet_id}/faucet", response_model=AccountOut)
def faucet(wallet_id: Id, body: FaucetIn, user: CurrentUser, services: ServicesDep) -> AccountOut:
    if not services.settings.is_paper:
        raise Forbidden("The faucet exists only on the paper network.", code="PAPER_ONLY")
    address = services.wallets.faucet_address(user.id, wallet_id)
    services.exchange.faucet(address, body.amount, hype=body.hype)
    return account(wallet_id, user, services)


@router.post("/{wallet_id}/leverage", status_code=status.HTTP_204_NO_CONTENT)
def set_leverage(
    wallet_id: Id, body: LeverageIn, user: CurrentUser, services: ServicesDep
) -> Response:
    services.orders.set_leverage(user.id, wallet_id, body.coin, body.leverage, cross=body.cross)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
