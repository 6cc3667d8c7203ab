"""Importing, generating, listing and unlocking wallets, with ownership checked on every call.

An agent (API) wallet is trusted with its account's private data only while the exchange lists
its approval; the approval is re-checked on demand, periodically and when the exchange refuses
the key, and every check is recorded on the wallet (`verified_at`, `verification_error`).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.accounts.session_cache import FactCache
from hyperdesk.errors import Conflict, Forbidden, InvalidInput, NotFound
from hyperdesk.exchange.errors import ExchangeError
from hyperdesk.keystore import Keyring, address_of, generate_private_key
from hyperdesk.persistence.database import transaction
from hyperdesk.persistence.models import Bot, Wallet, utcnow
from hyperdesk.wallets.browser_approval import (
    AgentApproval,
    SignatureMismatch,
    agent_name_for,
    check_fresh,
    wire_signature,
)

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
log = logging.getLogger(__name__)

MAX_WALLETS_PER_USER = 50

PLAIN_KEY_WARNING = (
    "This is the account's own key: it can withdraw funds. Prefer an API wallet (agent) approved "
    "for the account — it can trade but not withdraw."
)


@dataclass(frozen=True)
class WalletView:
    id: int
    user_id: int
    label: str
    address: str
    account_address: str
    is_agent: bool
    verified: bool
    created_at: datetime
    warnings: tuple[str, ...] = ()
    verified_at: datetime | None = None
    verification_checked_at: datetime | None = None
    verification_error: str | None = None


@dataclass(frozen=True)
class AgentStatus:
    """The exchange's answer about one agent key: ``approved`` for the account, refused (False,
    with the reason), or None when it could not be asked — then what we knew stays as it was."""

    approved: bool | None
    reason: str = ""


#: ``agent_verifier(agent_address, account_address) -> AgentStatus``: does the exchange say this
#: key is an approved, unexpired agent of that account? Anyone can name any public address as the
#: account of an agent wallet; until the exchange confirms it, the wallet gets none of the
#: account's private data.
AgentVerifier = Callable[[str, str], AgentStatus]

#: ``role_lookup(address) -> "user" | "agent" | "vault" | "missing" | …`` (exchange `userRole`),
#: None when the exchange could not be asked.
RoleLookup = Callable[[str], str | None]


class WalletNotVerified(Conflict):
    """A private view or action of an agent wallet the exchange does not (or no longer) confirm."""

    code = "WALLET_NOT_VERIFIED"


def require_verified(wallet: Wallet | WalletView) -> None:
    """Refuse an unverified wallet: its account's data and money are not its owner's to see."""
    if not wallet.verified:
        reason = getattr(wallet, "verification_error", None)
        raise WalletNotVerified(
            "The exchange does not list this API wallet as approved for its account"
            + (f" ({reason.rstrip('.')})" if reason else "")
            + ". Approve it from the account, then verify the wallet (POST "
            f"/api/wallets/{wallet.id}/verify).",
            extra={"wallet_id": wallet.id},
        )


UNVERIFIED_AGENT_WARNING = (
    "The exchange does not (yet) list this key as an approved API wallet of the account. Approve "
    "it from the account (Hyperliquid: More → API), then verify the wallet here."
)


class WalletService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        keyring: Keyring,
        agent_verifier: AgentVerifier = lambda _agent, _account: AgentStatus(None, "no exchange"),
        role_lookup: RoleLookup = lambda _address: None,
    ) -> None:
        self._sessions = sessions
        self._keyring = keyring
        #: wallet id → (owner, account address), kept by the order path (`OrderService`) so an
        #: order reads no wallet row; a deleted wallet is forgotten here (SQLite reuses ids).
        self.owners: FactCache[int, tuple[int, str]] = FactCache()
        #: account address → users with a verified wallet for it, read by the market stream on
        #: every order update; forgotten whenever a wallet of that account is added, deleted or
        #: re-checked here.
        self._account_users: FactCache[str, frozenset[int]] = FactCache()
        self._verify_agent = agent_verifier
        self._role_of = role_lookup

    def create(
        self,
        user_id: int,
        *,
        label: str,
        private_key: str | None = None,
        account_address: str | None = None,
    ) -> WalletView:
        if private_key is None:
            key_hex, address = generate_private_key()
        else:
            if not _KEY.match(private_key.strip()):
                raise InvalidInput(
                    "The private key must be 32 bytes as 64 hex digits, optionally with 0x.",
                    code="INVALID_KEY",
                )
            key_hex = private_key.strip()
            key_hex = key_hex if key_hex.startswith("0x") else "0x" + key_hex
            try:
                address = address_of(key_hex)
            except ValueError as exc:
                raise InvalidInput(str(exc), code="INVALID_KEY") from None
        if account_address is not None and not _ADDRESS.match(account_address):
            raise InvalidInput(
                "The account address must be 0x followed by 40 hex digits.", code="INVALID_ADDRESS"
            )
        account = (account_address or address).lower()
        is_agent = account != address
        status = self._verify_agent(address, account) if is_agent else AgentStatus(True)
        verified = status.approved is True
        now = utcnow()
        warnings = (PLAIN_KEY_WARNING,) if private_key is not None and not is_agent else ()
        if not verified:
            warnings = (UNVERIFIED_AGENT_WARNING,)
        try:
            with transaction(self._sessions) as session:
                count = len(
                    session.scalars(select(Wallet.id).where(Wallet.user_id == user_id)).all()
                )
                if count >= MAX_WALLETS_PER_USER:
                    raise Conflict(
                        f"A user may keep at most {MAX_WALLETS_PER_USER} wallets.",
                        code="TOO_MANY_WALLETS",
                    )
                exists = session.scalar(
                    select(Wallet.id).where(Wallet.user_id == user_id, Wallet.address == address)
                )
                if exists is not None:
                    raise Conflict("You already keep a wallet with this key.", code="WALLET_EXISTS")
                wallet = Wallet(
                    user_id=user_id,
                    label=label,
                    address=address,
                    account_address=account,
                    is_agent=is_agent,
                    verified=verified,
                    verified_at=now if verified else None,
                    verification_checked_at=now if is_agent else None,
                    verification_error=None if verified else status.reason,
                    encrypted_key="",
                    key_id="",
                )
                session.add(wallet)
                session.flush()  # the id is part of what the ciphertext is bound to
                encrypted = self._keyring.encrypt(
                    key_hex.encode(), user_id=user_id, wallet_id=wallet.id, address=address
                )
                wallet.encrypted_key = encrypted.serialize()
                wallet.key_id = encrypted.key_id
                view = _view(wallet, warnings)
        except IntegrityError as exc:
            raise Conflict(
                "You already keep a wallet with this key.", code="WALLET_EXISTS"
            ) from exc
        finally:
            del key_hex
        self._account_changed(account)
        return view

    def browser_approval(
        self, user_id: int, wallet_id: int, *, chain_id: int, is_mainnet: bool
    ) -> AgentApproval:
        """A fresh `approveAgent` of this agent wallet's key, for its account's owner to sign."""
        nonce = int(time.time() * 1000)
        return self._approval(user_id, wallet_id, nonce, chain_id, is_mainnet)[1]

    def approve_with_signature(
        self,
        user_id: int,
        wallet_id: int,
        *,
        nonce: int,
        chain_id: int,
        signature: str,
        is_mainnet: bool,
        post: Callable[[dict[str, Any], int, dict[str, Any]], object],
    ) -> WalletView:
        """Check the account's signature of this wallet's approval, have ``post`` send it to the
        exchange, then ask the exchange whether the agent is approved: its answer, not ours, is
        what verifies the wallet."""
        wallet, approval = self._approval(user_id, wallet_id, nonce, chain_id, is_mainnet)
        check_fresh(nonce)
        signer = approval.signer(signature)
        if signer != wallet.account_address:
            raise SignatureMismatch(
                f"The approval was signed by {signer}, not by the account "
                f"{wallet.account_address}: sign with that account in your wallet.",
                extra={"signer": signer, "account_address": wallet.account_address},
            )
        post(approval.action(), nonce, wire_signature(signature))
        return self.verify(user_id, wallet_id)

    def _approval(
        self, user_id: int, wallet_id: int, nonce: int, chain_id: int, is_mainnet: bool
    ) -> tuple[WalletView, AgentApproval]:
        """The caller's agent wallet and its approval at `nonce`: everything the signature covers
        comes from here, never from the browser."""
        wallet = self.get(user_id, wallet_id)
        if not wallet.is_agent:
            raise Conflict(
                "This wallet holds its account's own key; it needs no approval.",
                code="NOT_AN_AGENT_WALLET",
            )
        approval = AgentApproval(
            agent_address=wallet.address,
            agent_name=agent_name_for(wallet.id),
            nonce=nonce,
            chain_id=chain_id,
            is_mainnet=is_mainnet,
        )
        return wallet, approval

    def users_of_account(self, account: str) -> frozenset[int]:
        """Users with a verified wallet for `account`: only they see its private data."""
        known = self._account_users.get(account)
        if known is None:
            generation = self._account_users.generation()
            with self._sessions() as session:
                known = frozenset(
                    session.scalars(
                        select(Wallet.user_id).where(
                            Wallet.account_address == account, Wallet.verified.is_(True)
                        )
                    )
                )
            self._account_users.put(account, known, generation)
        return known

    def _account_changed(self, account: str) -> None:
        """Called after the commit: a read that began before it stores nothing."""
        self._account_users.invalidate(lambda cached: cached == account)

    def list_for(self, user_id: int) -> list[WalletView]:
        with self._sessions() as session:
            rows = session.scalars(
                select(Wallet).where(Wallet.user_id == user_id).order_by(Wallet.id)
            )
            return [_view(w) for w in rows]

    def all_wallets(self) -> list[WalletView]:
        """Every wallet of every user, for start-up reconciliation and the market stream."""
        with self._sessions() as session:
            return [_view(w) for w in session.scalars(select(Wallet).order_by(Wallet.id))]

    def get(self, user_id: int, wallet_id: int) -> WalletView:
        with self._sessions() as session:
            return _view(owned_wallet(session, user_id, wallet_id))

    def verify(self, user_id: int, wallet_id: int) -> WalletView:
        """Ask the exchange again whether an agent wallet is (still) approved for its account.

        A verified wallet is asked too: an approval can be revoked, replaced or expire."""
        with self._sessions() as session:
            wallet = owned_wallet(session, user_id, wallet_id)
            if not wallet.is_agent:
                return _view(wallet)
            address, account = wallet.address, wallet.account_address
        self._record_check(wallet_id, self._verify_agent(address, account))
        with self._sessions() as session:
            wallet = owned_wallet(session, user_id, wallet_id)
            return _view(wallet, () if wallet.verified else (UNVERIFIED_AGENT_WARNING,))

    def reverify_agents(self) -> list[WalletView]:
        """Re-check every agent wallet (at start-up and periodically); returns those whose
        `verified` changed. One question per (agent, account) pair, however many users hold it."""
        with self._sessions() as session:
            rows = session.execute(
                select(Wallet.id, Wallet.address, Wallet.account_address, Wallet.verified)
                .where(Wallet.is_agent.is_(True))
                .order_by(Wallet.id)
            ).all()
        answers: dict[tuple[str, str], AgentStatus] = {}
        changed: list[WalletView] = []
        for wallet_id, address, account, was_verified in rows:
            status = answers.get((address, account))
            if status is None:
                status = answers[(address, account)] = self._verify_agent(address, account)
            view = self._record_check(wallet_id, status)
            if view is not None and view.verified != was_verified:
                changed.append(view)
        return changed

    def mark_revoked(self, wallet_id: int, reason: str) -> WalletView | None:
        """The exchange refused this agent key as unknown: stop trusting the wallet at once."""
        return self._record_check(wallet_id, AgentStatus(False, reason))

    def _record_check(self, wallet_id: int, status: AgentStatus) -> WalletView | None:
        """Store one answer about an agent wallet (None if it was deleted meanwhile)."""
        with transaction(self._sessions) as session:
            wallet = session.get(Wallet, wallet_id)
            if wallet is None or not wallet.is_agent:
                return None if wallet is None else _view(wallet)
            now = utcnow()
            wallet.verification_checked_at = now
            if status.approved is None:  # no answer: keep what we knew, say why it is old
                wallet.verification_error = status.reason or "The exchange could not be asked."
            else:
                wallet.verified = status.approved
                wallet.verified_at = now if status.approved else wallet.verified_at
                wallet.verification_error = None if status.approved else status.reason
            view = _view(wallet)
        self._account_changed(view.account_address)
        return view

    def faucet_address(self, user_id: int, wallet_id: int) -> str:
        """Where the paper faucet may credit for this wallet: its own verified account, never an
        address merely named, and never a key the exchange maps to another account (crediting an
        approved agent's address would make it an account of its own, so the agent's orders
        would land there instead of in the account the desk follows)."""
        wallet = self.get(user_id, wallet_id)
        require_verified(wallet)
        role = self._role_of(wallet.account_address)
        if role not in ("user", "missing"):
            raise Forbidden(
                "The faucet credits only a plain trading account; the exchange "
                + ("could not be asked about" if role is None else f"lists as a {role}")
                + f" {wallet.account_address}.",
                code="FAUCET_NOT_AN_ACCOUNT",
            )
        return wallet.account_address

    def rename(self, user_id: int, wallet_id: int, label: str) -> WalletView:
        with transaction(self._sessions) as session:
            wallet = owned_wallet(session, user_id, wallet_id)
            wallet.label = label
            return _view(wallet)

    def delete(self, user_id: int, wallet_id: int) -> None:
        with transaction(self._sessions) as session:
            wallet = owned_wallet(session, user_id, wallet_id)
            if session.scalar(select(Bot.id).where(Bot.wallet_id == wallet_id).limit(1)):
                raise Conflict(
                    "Bots still trade with this wallet; delete or move them first.",
                    code="WALLET_IN_USE",
                )
            account = wallet.account_address
            session.delete(wallet)
        self.owners.invalidate(lambda cached_id: cached_id == wallet_id)
        self._account_changed(account)

    def key_for(self, wallet_id: int) -> tuple[str, str | None]:
        """(private key, master account if agent) for the exchange actor, the only caller that signs."""
        with self._sessions() as session:
            wallet = session.get(Wallet, wallet_id)
            if wallet is None:
                raise NotFound("Wallet not found.")
            key = self._keyring.decrypt(
                wallet.encrypted_key,
                user_id=wallet.user_id,
                wallet_id=wallet.id,
                address=wallet.address,
            )
            return key.decode(), (wallet.account_address if wallet.is_agent else None)


def owned_wallet(session: Session, user_id: int, wallet_id: int) -> Wallet:
    """The caller's wallet; another user's answers exactly like a missing one (404)."""
    wallet = session.get(Wallet, wallet_id)
    if wallet is None or wallet.user_id != user_id:
        raise NotFound("Wallet not found.")
    return wallet


def _view(wallet: Wallet, warnings: tuple[str, ...] = ()) -> WalletView:
    return WalletView(
        id=wallet.id,
        user_id=wallet.user_id,
        label=wallet.label,
        address=wallet.address,
        account_address=wallet.account_address,
        is_agent=wallet.is_agent,
        verified=wallet.verified,
        created_at=wallet.created_at,
        warnings=warnings,
        verified_at=wallet.verified_at,
        verification_checked_at=wallet.verification_checked_at,
        verification_error=wallet.verification_error,
    )


NOT_LISTED = "The exchange does not list this key as an approved API wallet of the account."


def exchange_agent_verifier(info_request: Callable[[dict[str, Any]], Any]) -> AgentVerifier:
    """An `AgentVerifier` asking the exchange's `userRole` (protocol: an approved agent answers
    `{"role": "agent", "data": {"user": <master>}}`, weight 60) and, for an agent of the account,
    whether `extraAgents` gives its approval a `validUntil` that the exchange's own clock
    (`exchangeStatus`) has passed — `userRole` alone may still name an expired agent."""

    def verify(agent: str, account: str) -> AgentStatus:
        agent, account = agent.lower(), account.lower()
        try:
            role = info_request({"type": "userRole", "user": agent})
            if not isinstance(role, dict) or role.get("role") != "agent":
                return AgentStatus(False, NOT_LISTED)
            data = role.get("data")
            if not isinstance(data, dict) or str(data.get("user", "")).lower() != account:
                return AgentStatus(False, NOT_LISTED)
            until = _valid_until(info_request, agent, account)
            if until is not None:
                status = info_request({"type": "exchangeStatus"})
                now = int(status["time"]) if isinstance(status, dict) else None
                if now is not None and until <= now:
                    when = datetime.fromtimestamp(until / 1000, UTC)
                    return AgentStatus(False, f"The approval expired at {when:%Y-%m-%d %H:%M} UTC.")
        except Exception as exc:
            log.warning("could not ask the exchange about agent %s", agent, exc_info=True)
            why = exc.message if isinstance(exc, ExchangeError) else type(exc).__name__
            return AgentStatus(None, f"The exchange could not be asked ({why}).")
        return AgentStatus(True)

    return verify


def _valid_until(
    info_request: Callable[[dict[str, Any]], Any], agent: str, account: str
) -> int | None:
    """The expiry (ms) of a named agent's approval, None if it has none or is unnamed."""
    listed = info_request({"type": "extraAgents", "user": account})
    for entry in listed if isinstance(listed, list) else ():
        if isinstance(entry, dict) and str(entry.get("address", "")).lower() == agent:
            until = entry.get("validUntil")
            return int(until) if until is not None else None
    return None


def exchange_role_lookup(info_request: Callable[[dict[str, Any]], Any]) -> RoleLookup:
    """A `RoleLookup` asking the exchange's `userRole` (weight 60)."""

    def role_of(address: str) -> str | None:
        try:
            answer = info_request({"type": "userRole", "user": address.lower()})
        except Exception:
            log.warning("could not ask the exchange about %s", address, exc_info=True)
            return None
        return str(answer.get("role")) if isinstance(answer, dict) else None

    return role_of
