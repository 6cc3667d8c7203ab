"""Importing, generating, listing and unlocking wallets, with ownership checked on every call."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.errors import Conflict, InvalidInput, NotFound
from hyperdesk.keystore import Keyring, address_of, generate_private_key
from hyperdesk.persistence.database import transaction
from hyperdesk.persistence.models import Bot, Wallet

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


#: ``agent_verifier(agent_address, account_address) -> bool``: does the exchange say this key is an
#: approved agent of that account? Anyone can name any public address as the account of an agent
#: wallet; until the exchange confirms it, the wallet gets none of the account's private data.
AgentVerifier = Callable[[str, str], bool]

UNVERIFIED_AGENT_WARNING = (
    "The exchange does not (yet) list this key as an approved API wallet of the account. Approve "
    "it from the account (Hyperliquid: More → API), then verify the wallet here."
)


class WalletService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        keyring: Keyring,
        agent_verifier: AgentVerifier = lambda _agent, _account: False,
    ) -> None:
        self._sessions = sessions
        self._keyring = keyring
        self._verify_agent = agent_verifier

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
        verified = not is_agent or self._verify_agent(address, account)
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
                return _view(wallet, warnings)
        except IntegrityError as exc:
            raise Conflict(
                "You already keep a wallet with this key.", code="WALLET_EXISTS"
            ) from exc
        finally:
            del key_hex

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
        """Ask the exchange again whether an agent wallet is approved for its account."""
        with self._sessions() as session:
            wallet = owned_wallet(session, user_id, wallet_id)
            if wallet.verified:
                return _view(wallet)
            address, account = wallet.address, wallet.account_address
        approved = self._verify_agent(address, account)
        with transaction(self._sessions) as session:
            wallet = owned_wallet(session, user_id, wallet_id)
            wallet.verified = approved
            return _view(wallet, () if approved else (UNVERIFIED_AGENT_WARNING,))

    def verify_pending(self) -> list[WalletView]:
        """Re-check every unverified agent wallet (at start-up); returns those now verified."""
        with self._sessions() as session:
            pending = [
                (w.user_id, w.id)
                for w in session.scalars(select(Wallet).where(Wallet.verified.is_(False)))
            ]
        fresh = [self.verify(user_id, wallet_id) for user_id, wallet_id in pending]
        return [w for w in fresh if w.verified]

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
            session.delete(wallet)

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
    )


def exchange_agent_verifier(info_request: Callable[[dict[str, Any]], Any]) -> AgentVerifier:
    """An `AgentVerifier` asking the exchange's `userRole` (protocol: an approved agent answers
    `{"role": "agent", "data": {"user": <master>}}`). Any failure means "not verified yet"."""

    def verify(agent: str, account: str) -> bool:
        try:
            role = info_request({"type": "userRole", "user": agent.lower()})
        except Exception:
            log.warning("could not ask the exchange about agent %s", agent, exc_info=True)
            return False
        if not isinstance(role, dict) or role.get("role") != "agent":
            return False
        data = role.get("data")
        return isinstance(data, dict) and str(data.get("user", "")).lower() == account.lower()

    return verify
