"""Vault deposits and withdrawals, staking delegations: sent through the exchange actor, recorded.

Every attempt is recorded (ok or error) so the owner can see what was tried and what happened.
The record is written after the exchange answered, through the `Outbox`: a database failure then
delays the record, never turns the exchange's answer into an error.
A withdrawal refused for a lock-up is explained with the time the lock-up ends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.actors.exchange import ExchangeClient
from hyperdesk.exchange.errors import ErrorCode, ExchangeError, ExchangeRejected
from hyperdesk.exchange.models import ActionResult
from hyperdesk.persistence.database import transaction
from hyperdesk.persistence.models import StakingAction, VaultAction
from hyperdesk.trading.outbox import Outbox
from hyperdesk.wallets.service import owned_wallet


class EarnService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        exchange: ExchangeClient,
        outbox: Outbox | None = None,
    ) -> None:
        self._sessions = sessions
        self._exchange = exchange
        self._outbox = outbox or Outbox()

    def account_of(self, user_id: int, wallet_id: int) -> str:
        with self._sessions() as session:
            return owned_wallet(session, user_id, wallet_id).account_address

    def vault_transfer(
        self, user_id: int, wallet_id: int, vault: str, amount: Decimal, *, deposit: bool
    ) -> ActionResult:
        account = self.account_of(user_id, wallet_id)
        kind = "deposit" if deposit else "withdraw"
        record = dict(
            user_id=user_id,
            wallet_id=wallet_id,
            vault_address=vault.lower(),
            kind=kind,
            amount=amount,
        )
        try:
            if deposit:
                result = self._exchange.vault_deposit(wallet_id, vault, amount)
            else:
                result = self._exchange.vault_withdraw(wallet_id, vault, amount)
        except ExchangeError as exc:
            self._record(VaultAction, exc.message, **record)
            if not deposit and exc.code is ErrorCode.VAULT_LOCKED:
                raise self._explain_lockup(exc, vault, account) from None
            raise
        self._record(VaultAction, None, **record)
        return result

    def stake(
        self, user_id: int, wallet_id: int, validator: str, amount: Decimal, *, delegate: bool
    ) -> ActionResult:
        self.account_of(user_id, wallet_id)
        kind = "delegate" if delegate else "undelegate"
        record = dict(
            user_id=user_id,
            wallet_id=wallet_id,
            validator=validator.lower(),
            kind=kind,
            amount=amount,
        )
        try:
            if delegate:
                result = self._exchange.delegate(wallet_id, validator, amount)
            else:
                result = self._exchange.undelegate(wallet_id, validator, amount)
        except ExchangeError as exc:
            self._record(StakingAction, exc.message, **record)
            raise
        self._record(StakingAction, None, **record)
        return result

    def _explain_lockup(self, exc: ExchangeError, vault: str, account: str) -> ExchangeError:
        try:
            equities = self._exchange.vault_equities(account)
        except ExchangeError:
            return exc
        until = next(
            (e.locked_until_ms for e in equities if e.vault_address == vault.lower()), None
        )
        if not until:
            return exc
        when = datetime.fromtimestamp(until / 1000, UTC)
        return ExchangeRejected(
            ErrorCode.VAULT_LOCKED,
            f"This deposit is locked until {when:%Y-%m-%d %H:%M:%S} UTC; withdraw after that.",
            detail={"unlocks_at": when.isoformat(), "unlocks_at_ms": until},
        )

    def _record(
        self, action: type[VaultAction] | type[StakingAction], error: str | None, **fields: Any
    ) -> None:
        """Every attempt is kept, failed ones with the exchange's reason; never raises."""
        row = dict(status="error" if error else "ok", error=error, **fields)

        def write() -> None:
            with transaction(self._sessions) as session:
                session.add(action(**row))

        self._outbox.deliver(f"a {fields.get('kind')} record", write)
