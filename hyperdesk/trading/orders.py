"""Manual orders: validate, record with a cloid, send through the exchange actor, reconcile.

Every order row is written *before* the order is sent, keyed by its cloid, so an order whose
outcome is unknown (timeout, reset) can always be looked up later — never resent blindly.

Once the exchange has answered, that answer is what the caller gets. Storing it, and fetching
the fills it made, is bookkeeping that can fail on its own: it is handed to the `Outbox`, which
stores it off the request's path (retried until stored; start-up reconciliation settles the row by
cloid if we die first), and missing fills arrive by stream, poll or backfill. Neither may turn an
executed order into an error the user would "fix" by sending it again.

The one database write an order waits for is that row, in one round trip. Who owns a wallet and
which account it trades never change, so they are read once and kept (`FactCache`; a deleted
wallet is forgotten by `WalletService.delete`). An order's coin and cloid by oid are kept from its
answer, so a cancel needs no read either.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.accounts.session_cache import FactCache
from hyperdesk.actors.exchange import ExchangeClient
from hyperdesk.errors import DomainError, NotFound
from hyperdesk.exchange.models import OpenOrder, OrderRequest, OrderResult
from hyperdesk.exchange.validation import validate_order
from hyperdesk.persistence.database import reconcilable_transaction, transaction
from hyperdesk.persistence.models import Order, Wallet
from hyperdesk.trading.cloids import bot_id_of, new_cloid
from hyperdesk.trading.fills import FillRecorder, RecordedFill
from hyperdesk.trading.market_view import MarketView
from hyperdesk.trading.outbox import Outbox
from hyperdesk.wallets.service import owned_wallet, require_verified

log = logging.getLogger(__name__)


class OrderRejected(DomainError):
    """The pre-trade gate or the exchange refused the order; nothing is open."""

    status = 422


@dataclass(frozen=True)
class OwnedWallet:
    """What the order path needs of a wallet: facts that never change while it exists."""

    id: int
    account_address: str


#: wallet id → (owner's user id, account address)
WalletOwners = FactCache[int, tuple[int, str]]


@dataclass(frozen=True)
class PlacedOrder:
    result: OrderResult
    order_id: int
    new_fills: tuple[RecordedFill, ...] = ()


class OrderService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        exchange: ExchangeClient,
        fills: FillRecorder,
        market: MarketView,
        outbox: Outbox | None = None,
        wallet_owners: WalletOwners | None = None,
    ) -> None:
        self._sessions = sessions
        self._exchange = exchange
        self._fills = fills
        self._market = market
        self._outbox = outbox or Outbox()
        # Kept only when shared with the `WalletService` that forgets deleted wallets.
        self._owners: WalletOwners = wallet_owners or FactCache(max_age=0.0)
        # (wallet id, oid) → (coin, cloid), from the exchange's answers: facts, never stale.
        self._refs: FactCache[tuple[int, int], tuple[str, str | None]] = FactCache(
            max_entries=50_000, max_age=float("inf")
        )

    def place(
        self,
        user_id: int,
        wallet_id: int,
        request: OrderRequest,
        *,
        bot_id: int | None = None,
        cloid: str | None = None,
    ) -> PlacedOrder:
        """A caller-chosen `cloid` (from `new_cloid(bot_id)`) is known before the order is sent:
        the bot engine reserves capital under it, the order route records its owner for the
        stream. None makes one here."""
        if cloid is not None and bot_id_of(cloid) != bot_id:
            raise ValueError("a caller-chosen cloid must name the order's bot")
        wallet = self._owned(user_id, wallet_id)
        request = self._with_reference_price(request)
        self._check(request)
        request = replace(request, cloid=cloid or new_cloid(bot_id))
        with transaction(self._sessions) as session:
            row = Order(
                user_id=user_id,
                wallet_id=wallet_id,
                bot_id=bot_id,
                account_address=wallet.account_address,
                cloid=request.cloid,
                coin=request.coin,
                side=request.side,
                order_type=request.order_type,
                tif=request.tif if request.order_type == "limit" else "Ioc",
                price=request.price,
                size=request.size,
                reduce_only=request.reduce_only,
                status="pending",
            )
            session.add(row)
            session.flush()
            order_id = row.id
        started_ms = int(time.time() * 1000)
        result = self._exchange.place_order(wallet_id, request)
        # The exchange has answered: from here on nothing may turn that answer into an error.
        self._remember_ref(wallet_id, result.oid, request.coin, request.cloid)
        self._outbox.defer(
            f"the result of order {order_id} ({request.cloid})",
            lambda: self._store_result(order_id, result),
        )
        if result.status == "error":
            raise OrderRejected(
                result.error_message or "The order was refused.",
                code=result.error_code or "ORDER_REJECTED",
            )
        new_fills = self._fills_now(wallet.account_address, result, started_ms)
        return PlacedOrder(result, order_id, new_fills)

    def _fills_now(
        self, account: str, result: OrderResult, started_ms: int
    ) -> tuple[RecordedFill, ...]:
        """The fills of an order that filled, for a polled account; best effort.

        The response tells how much filled, not which fills. A streamed account hears of them
        within milliseconds; a polled one would wait for its next poll, so fetch them now and the
        history is complete at once (duplicates are no-ops). If this fails the fills still come
        by poll or backfill, so the failure is logged, never reported as the order's.
        """
        if result.filled_size <= 0:
            return ()
        try:
            if self._market.stream_mode(account) == "websocket":
                return ()
            fills = self._exchange.fills_since(account, started_ms - 5_000)
            return tuple(self._fills.record(account, fills))
        except Exception:
            log.warning("could not fetch the fills of %s now; polling will", account, exc_info=True)
            return ()

    def _with_reference_price(self, request: OrderRequest) -> OrderRequest:
        """A market order is priced off the mid; the streamed one saves a read of every mid."""
        if request.order_type != "market" or request.price is not None:
            return request
        mid = self._market.mid(request.coin)
        if mid is None:
            mid = self._exchange.mids().get(request.coin)
        return replace(request, price=mid) if mid is not None else request

    def _check(self, request: OrderRequest) -> None:
        """The pre-trade gate, before anything is recorded or signed: bad input changes nothing."""
        market = self._exchange.market(request.coin)
        rejection = validate_order(request, market, reference_price=request.price)
        if rejection is not None:
            extra = rejection.to_dict()
            del extra["code"], extra["message"]
            raise OrderRejected(rejection.message, code=str(rejection.code), extra=extra)

    def cancel(self, user_id: int, wallet_id: int, oid: int) -> None:
        wallet = self._owned(user_id, wallet_id)
        coin, cloid = self._order_ref(wallet, oid)
        self._exchange.cancel(wallet_id, coin, oid)
        self._outbox.defer(
            f"the cancel of order {oid}", lambda: self._store_cancel(wallet_id, oid, cloid)
        )

    def _store_cancel(self, wallet_id: int, oid: int, cloid: str | None) -> None:
        with reconcilable_transaction(self._sessions) as session:
            row = _order_row(session, wallet_id, oid, cloid)
            if row is not None:
                row.status = "canceled"

    def modify(
        self,
        user_id: int,
        wallet_id: int,
        oid: int,
        *,
        price: Decimal | None,
        size: Decimal | None,
    ) -> OrderResult:
        wallet = self._owned(user_id, wallet_id)
        current = self._open_order(wallet, oid)
        request = OrderRequest(
            coin=current.coin,
            is_buy=current.side == "buy",
            size=size if size is not None else current.size,
            price=price if price is not None else current.price,
            tif=current.tif if current.tif in ("Gtc", "Ioc", "Alo") else "Gtc",  # type: ignore[arg-type]
            reduce_only=current.reduce_only,
            cloid=current.cloid,
        )
        result = self._exchange.modify_order(wallet_id, oid, request)
        if result.status == "error":
            raise OrderRejected(
                result.error_message or "The change was refused.",
                code=result.error_code or "ORDER_REJECTED",
            )
        self._remember_ref(wallet_id, result.oid, request.coin, request.cloid)
        self._outbox.defer(
            f"the change of order {oid}",
            lambda: self._store_modify(wallet_id, oid, request, result),
        )
        return result

    def _store_modify(
        self, wallet_id: int, oid: int, request: OrderRequest, result: OrderResult
    ) -> None:
        with reconcilable_transaction(self._sessions) as session:
            row = _order_row(session, wallet_id, oid, request.cloid)
            if row is not None:
                row.price, row.size = request.price, request.size
                if result.oid is not None:
                    row.oid = result.oid

    def open_orders(self, user_id: int, wallet_id: int) -> tuple[tuple[OpenOrder, int | None], ...]:
        """The wallet's resting orders with the bot (if any) that placed each."""
        wallet = self._owned_wallet(user_id, wallet_id)
        require_verified(wallet)  # the account's orders are private to its verified wallets
        orders = self._exchange.open_orders(wallet.account_address)
        cloids = {o.cloid for o in orders if o.cloid}
        with self._sessions() as session:
            rows = session.execute(
                select(Order.cloid, Order.bot_id).where(
                    Order.cloid.in_(cloids), Order.user_id == user_id
                )
            ).all()
        bots = {cloid: bot_id for cloid, bot_id in rows}
        return tuple((o, bots.get(o.cloid or "")) for o in orders)

    def set_leverage(self, user_id: int, wallet_id: int, coin: str, leverage: int, *, cross: bool):
        self._owned(user_id, wallet_id)
        return self._exchange.update_leverage(wallet_id, coin, leverage, is_cross=cross)

    def _store_result(self, order_id: int, result: OrderResult) -> None:
        """Idempotent, and it never undoes a later fact: a row already settled (an earlier try
        committed, a cancel or reconciliation got there first) only gains its missing oid."""
        with reconcilable_transaction(self._sessions) as session:
            row = session.get(Order, order_id)
            if row is None:
                return
            if row.oid is None:
                row.oid = result.oid
            if row.status != "pending":
                return
            row.status = result.status
            row.filled_size = result.filled_size
            row.avg_price = result.avg_price
            row.error_code = result.error_code

    def _owned_wallet(self, user_id: int, wallet_id: int) -> Wallet:
        with self._sessions() as session:
            wallet = owned_wallet(session, user_id, wallet_id)
            session.expunge(wallet)
            return wallet

    def _owned(self, user_id: int, wallet_id: int) -> OwnedWallet:
        """The caller's wallet, from memory after the first read; another user's, or a missing
        one, answers 404 exactly like `owned_wallet`."""
        known = self._owners.get(wallet_id)
        if known is None:
            generation = self._owners.generation()
            with self._sessions() as session:
                row = session.get(Wallet, wallet_id)
                if row is None:
                    raise NotFound("Wallet not found.")
                known = (row.user_id, row.account_address)
            self._owners.put(wallet_id, known, generation)
        owner, account = known
        if owner != user_id:
            raise NotFound("Wallet not found.")
        return OwnedWallet(wallet_id, account)

    def _remember_ref(self, wallet_id: int, oid: int | None, coin: str, cloid: str | None) -> None:
        if oid is not None:
            self._refs.put((wallet_id, oid), (coin, cloid), self._refs.generation())

    def bot_order_cloid(self, bot_id: int, wallet_id: int, oid: int, coin: str) -> str | None:
        """The cloid of bot `bot_id`'s order `oid` on `coin`, or None if it is not that bot's.

        Known from the exchange's answer even before the order's result is stored."""
        known = self._refs.get((wallet_id, oid))
        if known is not None and known[0] == coin and bot_id_of(known[1]) == bot_id:
            return known[1]
        with self._sessions() as session:
            return session.scalar(
                select(Order.cloid).where(
                    Order.bot_id == bot_id, Order.oid == oid, Order.coin == coin
                )
            )

    def _open_order(self, wallet: Wallet | OwnedWallet, oid: int) -> OpenOrder:
        for order in self._exchange.open_orders(wallet.account_address):
            if order.oid == oid:
                return order
        raise NotFound("No open order with that id on this wallet.", code="ORDER_NOT_FOUND")

    def _order_ref(self, wallet: OwnedWallet, oid: int) -> tuple[str, str | None]:
        """The coin and cloid of an order: from its answer, our record, or else the exchange's
        open orders."""
        known = self._refs.get((wallet.id, oid))
        if known is not None:
            return known
        with self._sessions() as session:
            known = session.execute(
                select(Order.coin, Order.cloid).where(
                    Order.wallet_id == wallet.id, Order.oid == oid
                )
            ).first()
        if known is not None:
            return known[0], known[1]
        order = self._open_order(wallet, oid)
        return order.coin, order.cloid


def _order_row(session: Session, wallet_id: int, oid: int, cloid: str | None) -> Order | None:
    """An order's row by cloid (kept across modifies, and known even while a queued write has
    not stored the oid yet), else by oid."""
    where = Order.cloid == cloid if cloid else Order.oid == oid
    return session.scalar(select(Order).where(Order.wallet_id == wallet_id, where))
