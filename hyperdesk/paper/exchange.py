"""``PaperExchange``: the facade the protocol server drives (contract in docs/paper-exchange.md).

Every public method takes one re-entrant lock, so the HTTP threads, the websocket handlers and the
ticker thread see a serial exchange. Listeners run synchronously, inside the lock and in the order
the changes happened; they must be cheap, and their exceptions are logged and swallowed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hyperdesk.paper import actions, ledger
from hyperdesk.paper import info as info_module
from hyperdesk.paper.clock import Clock
from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.engine import ActionFormatError, Engine
from hyperdesk.paper.events import Event
from hyperdesk.paper.info import InfoError
from hyperdesk.paper.nonces import NonceTracker

__all__ = ["Event", "InfoError", "PaperExchange"]

log = logging.getLogger(__name__)


class PaperExchange:
    """An in-memory Hyperliquid: instruments, books, accounts, vaults, staking."""

    def __init__(self, config: PaperConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self._lock = threading.RLock()
        self._listeners: list[Callable[[Event], None]] = []
        self._engine = Engine(config, clock)
        self._engine.events.clear()  # start-up quotes are not news
        # The per-signer nonces belong to the exchange's state (a replay must stay refused after
        # a restart), so they live here, next to what they protect, and are saved with it.
        self.nonces = NonceTracker(
            set_size=config.nonce_set_size,
            window_past_ms=config.nonce_window_past_ms,
            window_future_ms=config.nonce_window_future_ms,
        )
        self._revision = 0

    @property
    def revision(self) -> int:
        """Grows with every call that may have changed the state (what a saver compares)."""
        return self._revision

    def export_state(self) -> dict[str, Any]:
        """The whole state as plain JSON values (state_codec.py), taken atomically."""
        from hyperdesk.paper.state_codec import dump_engine

        with self._lock:
            state = dump_engine(self._engine)
            state["nonces"] = self.nonces.export()
            return state

    def restore_state(self, state: dict[str, Any]) -> None:
        """Carry on from a saved state; raises ``StateMismatch`` if it does not fit the config.

        Meant for start-up, before the server serves anyone; events it would cause are dropped.
        """
        from hyperdesk.paper.state_codec import StateMismatch, load_engine

        with self._lock:
            nonces = state.get("nonces")
            if not isinstance(nonces, dict):
                raise StateMismatch("the saved state has no nonces")
            load_engine(self._engine, state, self.clock.now_ms())
            self.nonces.restore(nonces)
            self._engine.events.clear()
            self._revision += 1

    def add_listener(self, fn: Callable[[Event], None]) -> None:
        """Receive every event after the state change that caused it."""
        with self._lock:
            self._listeners.append(fn)

    def _dispatch(self) -> None:
        events, self._engine.events = self._engine.events, []
        for event in events:
            for listener in list(self._listeners):
                try:
                    listener(event)
                except Exception:
                    log.exception("paper exchange listener failed on %s", event.channel)

    def info(self, body: dict) -> Any:
        """Answer one ``/info`` body; raises ``InfoError`` for an unknown or malformed request."""
        with self._lock:
            return info_module.answer(self._engine, body)

    def resolve_signer(self, signer: str) -> str | None:
        """The account a signer acts for: itself, its master (live agent), or None if unknown."""
        with self._lock:
            signer = signer.lower()
            if signer in self._engine.accounts:
                return signer
            agent = self._engine.agents.get(signer)
            if agent is None:
                return None
            if agent.valid_until is not None and agent.valid_until < self.clock.now_ms():
                return None
            return agent.master

    def is_agent(self, signer: str) -> bool:
        with self._lock:
            return signer.lower() in self._engine.agents

    def decode_error(self, action: dict) -> str | None:
        """Why ``action`` cannot be decoded as a whole, or None; applies nothing.

        The server asks before it records the nonce, so an undecodable action leaves no trace.
        """
        with self._lock:
            try:
                actions.decode(self._engine, action)
            except ActionFormatError as exc:
                return str(exc)
            return None

    def execute(
        self, *, account: str, signer: str, action: dict, vault_address: str | None
    ) -> dict:
        """Run one authenticated action and return the full ``/exchange`` response body."""
        with self._lock:
            self._revision += 1
            try:
                return actions.execute(
                    self._engine,
                    account=account,
                    signer=signer,
                    action=action,
                    vault_address=vault_address,
                )
            finally:
                self._dispatch()

    def faucet(self, user: str, usd: Decimal, *, hype: Decimal = Decimal(0)) -> None:
        """Paper-only: credit perp USDC (and spot HYPE) to ``user``, creating the account."""
        with self._lock:
            self._revision += 1
            engine = self._engine
            now = self.clock.now_ms()
            token = engine.hype_token() if hype else None
            if hype and token is None:
                raise ValueError("no HYPE token configured")
            acct = engine.account(user, create=True)
            assert acct is not None
            if usd:
                acct.usdc += usd
                ledger.deposit(engine, acct.address, usd, now)
            if hype and token is not None:
                acct.spot[token] = acct.spot.get(token, Decimal(0)) + hype
                ledger.token_credit(engine, acct.address, "HYPE", hype, now)
            engine.flush_events()
            self._dispatch()

    def tick(self) -> None:
        """Advance the simulation to ``clock.now_ms()`` and publish what changed."""
        with self._lock:
            self._revision += 1
            try:
                self._engine.tick()
            finally:
                self._dispatch()

    def set_price(self, coin: str, px: Decimal) -> None:
        """Test/admin hook: move ``coin``'s mid to ``px`` now, then match and trigger like a tick."""
        with self._lock:
            self._revision += 1
            try:
                self._engine.set_price(coin, px)
            finally:
                self._dispatch()

    def set_basis(self, coin: str, basis: Decimal) -> None:
        """Test/admin hook: quote ``coin``'s perp market at ``oracle * (1 + basis)`` from now on,
        giving it a premium to its oracle (which funding then charges)."""
        with self._lock:
            self._revision += 1
            try:
                self._engine.set_basis(coin, basis)
            finally:
                self._dispatch()

    # Paper-only conveniences (not part of Hyperliquid's API).

    def mark(self, coin: str) -> Decimal:
        """The current mark price of ``coin`` (margin, PnL, triggers, liquidations)."""
        with self._lock:
            return self._engine.mark(coin)

    def oracle(self, coin: str) -> Decimal:
        """The current oracle price of ``coin`` (funding payments, premium)."""
        with self._lock:
            return self._engine.oracle_px[coin]

    def mid(self, coin: str) -> Decimal:
        """The current mid of ``coin`` as a Decimal."""
        with self._lock:
            return self._engine.mids[coin]

    def staking_balance_wei(self, user: str) -> int:
        """Undelegated staking balance, for tests and the admin view."""
        with self._lock:
            delegator = self._engine.delegators.get(user.lower())
            return delegator.undelegated if delegator else 0
