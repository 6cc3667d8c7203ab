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

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from anyio import to_thread
from sqlalchemy import BigInteger, Engine, String, bindparam, case, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.accounts.session_cache import FactCache
from hyperdesk.actors.exchange import ExchangeClient
from hyperdesk.errors import DomainError, NotFound
from hyperdesk.exchange.errors import ErrorCode
from hyperdesk.exchange.models import OpenOrder, OrderRequest, OrderResult
from hyperdesk.exchange.validation import validate_order
from hyperdesk.persistence.direct import DirectStatement, direct_transaction
from hyperdesk.persistence.models import Money, Order, Wallet
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


# The order path's writes, compiled once and run straight on the driver (`DirectStatement`): an
# ORM unit of work costs several times their CPU for one row, on the thread that signs the next
# order.

_ORDER_ROW_KEYS = (
    "user_id",
    "wallet_id",
    "bot_id",
    "account_address",
    "cloid",
    "coin",
    "side",
    "order_type",
    "tif",
    "price",
    "size",
    "reduce_only",
    "status",
)
_INSERT_ORDER = DirectStatement(insert(Order).returning(Order.id), column_keys=_ORDER_ROW_KEYS)


def _if_pending(column: Any, value: Any) -> Any:
    """A column takes the answer's value only while the row still waits for its result: a late
    result never undoes a cancel or a reconciliation that settled the row first."""
    return case((Order.status == "pending", value), else_=column)


#: An order's result; a row settled meanwhile only gains its missing oid.
_STORE_RESULT = DirectStatement(
    update(Order)
    .where(Order.id == bindparam("order_id"))
    .values(
        oid=func.coalesce(Order.oid, bindparam("result_oid", type_=BigInteger())),
        status=_if_pending(Order.status, bindparam("result_status", type_=String())),
        filled_size=_if_pending(Order.filled_size, bindparam("filled", type_=Money())),
        avg_price=_if_pending(Order.avg_price, bindparam("average", type_=Money())),
        error_code=_if_pending(Order.error_code, bindparam("code", type_=String())),
    )
)


def _by_reference(statement: Any, by_cloid: bool) -> Any:
    """An order's row by its cloid (kept across modifies, and known even before a queued write
    stored the oid), else by oid."""
    where = Order.cloid == bindparam("ref_cloid") if by_cloid else Order.oid == bindparam("ref_oid")
    return statement.where(Order.wallet_id == bindparam("ref_wallet"), where)


_STORE_CANCEL = {
    by_cloid: DirectStatement(_by_reference(update(Order).values(status="canceled"), by_cloid))
    for by_cloid in (True, False)
}
_STORE_MODIFY = {
    by_cloid: DirectStatement(
        _by_reference(
            update(Order).values(
                price=bindparam("new_price", type_=Money()),
                size=bindparam("new_size", type_=Money()),
                oid=func.coalesce(bindparam("new_oid", type_=BigInteger()), Order.oid),
            ),
            by_cloid,
        )
    )
    for by_cloid in (True, False)
}


class _Row:
    """The id of an order's row, written on the signer's thread and read there after the answer."""

    id: int = 0


class OrderService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        exchange: ExchangeClient,
        fills: FillRecorder,
        market: MarketView,
        outbox: Outbox | None = None,
        wallet_owners: WalletOwners | None = None,
        *,
        flush_order_rows: bool = False,
        unflushed: Engine | None = None,
    ) -> None:
        self._sessions = sessions
        self._engine: Engine = sessions.kw["bind"]
        # Bookkeeping (and, unless `flush_order_rows`, the order row) is written through this
        # engine: commits that do not wait for the disk (`make_unflushed_engine`).
        self._unflushed: Engine = unflushed or self._engine
        # PostgreSQL: whether the order row's commit waits for the WAL flush (`order_row_flush`).
        self._flush_order_rows = flush_order_rows
        self._background: set[asyncio.Task[None]] = set()
        self._exchange = exchange
        self._fills = fills
        self._market = market
        self._outbox = outbox or Outbox()
        # Kept only when shared with the `WalletService` that forgets deleted wallets.
        self._owners: WalletOwners = wallet_owners or FactCache(max_age=0.0)
        # (wallet id, oid) → the order as sent (coin, side, cloid, …), from the exchange's
        # answers: facts of that oid, never stale (a modify answers with the oid it moves to).
        self._refs: FactCache[tuple[int, int], OrderRequest] = FactCache(
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
        wallet, request = self._prepare(user_id, wallet_id, request, bot_id, cloid)
        order_id = self._record(user_id, wallet, request, bot_id)
        started_ms = int(time.time() * 1000)
        result = self._exchange.place_order(wallet_id, request)
        self._answered(wallet_id, request, order_id, result)
        self._raise_if_refused(result, "The order was refused.")
        new_fills = self._fills_now(wallet.account_address, result, started_ms)
        return PlacedOrder(result, order_id, new_fills)

    async def place_async(
        self,
        user_id: int,
        wallet_id: int,
        request: OrderRequest,
        *,
        cloid: str | None = None,
        on_fills: Callable[[tuple[RecordedFill, ...]], None] | None = None,
    ) -> PlacedOrder:
        """`place` for a caller on the event loop (the order route).

        No thread waits for the exchange: the row is written on the signer's thread just before
        it signs, the answer's bookkeeping is queued there too (so it happens even if this caller
        is gone), and the loop is woken with the answer. What needs no I/O — the caller's wallet,
        market rules, the streamed mid — is checked here from memory; anything else first goes
        through a worker thread. The fills of an order that filled are fetched after the answer,
        off its path, and handed to `on_fills` (the answer already says how much filled, at what
        average price); `PlacedOrder.new_fills` is then empty.
        """
        if self._known_in_memory(wallet_id, request):
            wallet, request = self._prepare(user_id, wallet_id, request, None, cloid)
        else:
            wallet, request = await to_thread.run_sync(
                self._prepare_first, user_id, wallet_id, request, cloid
            )
        row = _Row()

        def record() -> None:
            row.id = self._record(user_id, wallet, request, None)

        started_ms = int(time.time() * 1000)
        result: OrderResult = await self._exchange.place_order_async(
            wallet_id,
            request,
            before_send=record,
            on_answer=lambda answer: self._answered(wallet_id, request, row.id, answer),
        )
        self._raise_if_refused(result, "The order was refused.")
        if result.filled_size > 0:
            self._fetch_fills_later(wallet.account_address, result, started_ms, on_fills)
        return PlacedOrder(result, row.id)

    def _fetch_fills_later(
        self,
        account: str,
        result: OrderResult,
        started_ms: int,
        on_fills: Callable[[tuple[RecordedFill, ...]], None] | None,
    ) -> None:
        async def fetch() -> None:
            fills = await to_thread.run_sync(self._fills_now, account, result, started_ms)
            if fills and on_fills is not None:
                on_fills(fills)

        task = asyncio.get_running_loop().create_task(fetch())
        self._background.add(task)  # the loop keeps only a weak reference to its tasks
        task.add_done_callback(self._background.discard)

    def _prepare(
        self,
        user_id: int,
        wallet_id: int,
        request: OrderRequest,
        bot_id: int | None,
        cloid: str | None,
    ) -> tuple[OwnedWallet, OrderRequest]:
        """Ownership and the pre-trade gate: bad input changes nothing."""
        if cloid is not None and bot_id_of(cloid) != bot_id:
            raise ValueError("a caller-chosen cloid must name the order's bot")
        wallet = self._owned(user_id, wallet_id)
        request = self._with_reference_price(request)
        self._check(request)
        return wallet, replace(request, cloid=cloid or new_cloid(bot_id))

    def _prepare_first(
        self, user_id: int, wallet_id: int, request: OrderRequest, cloid: str | None
    ) -> tuple[OwnedWallet, OrderRequest]:
        """`_prepare` in a worker thread, which also finds the wallet's signer on its first
        order: one trip for everything a first order reads."""
        prepared = self._prepare(user_id, wallet_id, request, None, cloid)
        self._exchange.route(wallet_id)
        return prepared

    def _known_in_memory(self, wallet_id: int, request: OrderRequest) -> bool:
        """True when `_prepare` would read nothing (so it may run on the event loop)."""
        if self._owners.get(wallet_id) is None or not self._exchange.meta_loaded:
            return False
        return (
            request.order_type != "market"
            or request.price is not None
            or self._market.mid(request.coin) is not None
        )

    def _record(
        self, user_id: int, wallet: OwnedWallet, request: OrderRequest, bot_id: int | None
    ) -> int:
        """The order's row, committed before it is sent: what resolves an unknown outcome."""
        values: dict[str, Any] = {
            "user_id": user_id,
            "wallet_id": wallet.id,
            "bot_id": bot_id,
            "account_address": wallet.account_address,
            "cloid": request.cloid,
            "coin": request.coin,
            "side": request.side,
            "order_type": request.order_type,
            "tif": request.tif if request.order_type == "limit" else "Ioc",
            "price": request.price,
            "size": request.size,
            "reduce_only": request.reduce_only,
            "status": "pending",
        }  # filled_size, created_at and updated_at: the columns' defaults (`DirectStatement`)
        engine = self._engine if self._flush_order_rows else self._unflushed
        with direct_transaction(engine, wait_for_flush=self._flush_order_rows) as connection:
            return int(connection.run(_INSERT_ORDER, values))

    def _answered(
        self, wallet_id: int, request: OrderRequest, order_id: int, result: OrderResult
    ) -> None:
        """The exchange has answered: from here on nothing may turn that answer into an error.
        Only queues work (never raises for the store), so it may run on the signer's thread."""
        self._remember_ref(wallet_id, result.oid, request)
        self._outbox.defer_statement(
            f"the result of order {order_id} ({request.cloid})",
            self._unflushed,
            _STORE_RESULT,
            {
                "order_id": order_id,
                "result_oid": result.oid,
                "result_status": result.status,
                "filled": result.filled_size,
                "average": result.avg_price,
                "code": result.error_code,
            },
        )

    @staticmethod
    def _raise_if_refused(result: OrderResult, fallback: str) -> None:
        if result.status == "error":
            if result.error_code == ErrorCode.ORDER_NOT_FOUND:
                raise NotFound(result.error_message or fallback, code="ORDER_NOT_FOUND")
            raise OrderRejected(
                result.error_message or fallback, code=result.error_code or "ORDER_REJECTED"
            )

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
        self._cancelled(wallet_id, oid, cloid)

    async def cancel_async(self, user_id: int, wallet_id: int, oid: int) -> None:
        """`cancel` for the event loop: reads nothing when the order was placed through this
        process (its coin and cloid are kept from the answer)."""
        wallet = self._owned_in_memory(user_id, wallet_id)
        known = self._refs.get((wallet_id, oid)) if wallet is not None else None
        if wallet is None or known is None:
            coin, cloid = await to_thread.run_sync(self._owned_order_ref, user_id, wallet_id, oid)
        else:
            coin, cloid = known.coin, known.cloid
        await self._exchange.signed_async(
            wallet_id,
            "cancel",
            coin,
            oid,
            on_answer=lambda _answer: self._cancelled(wallet_id, oid, cloid),
        )

    def _cancelled(self, wallet_id: int, oid: int, cloid: str | None) -> None:
        self._outbox.defer_statement(
            f"the cancel of order {oid}",
            self._unflushed,
            _STORE_CANCEL[bool(cloid)],
            {"ref_wallet": wallet_id, "ref_cloid": cloid, "ref_oid": oid},
        )

    async def modify_async(
        self,
        user_id: int,
        wallet_id: int,
        oid: int,
        *,
        price: Decimal | None,
        size: Decimal | None,
    ) -> OrderResult:
        """Change a resting order's price and size (for the event loop; only the route modifies).

        Hyperliquid's modify restates the whole order; when the caller gives both price and size
        of a plain limit order placed through this process, the rest (coin, side, time in force,
        reduce-only, cloid) is known and nothing is read, as with the SDK's `modify_order`.
        Otherwise the open order is read first, for its remaining size."""
        wallet = self._owned_in_memory(user_id, wallet_id)
        known = self._refs.get((wallet_id, oid)) if wallet is not None else None
        if (
            known is not None
            and price is not None
            and size is not None
            and known.order_type == "limit"
            and known.trigger_price is None
        ):
            request = replace(known, price=price, size=size)
        else:
            current = await to_thread.run_sync(self._owned_open_order, user_id, wallet_id, oid)
            request = self._modified(current, price, size)
        request = replace(request, cloid=request.cloid or new_cloid())
        result: OrderResult = await self._exchange.modify_order_async(
            wallet_id,
            oid,
            request,
            on_answer=lambda answer: self._modified_answer(wallet_id, oid, request, answer),
        )
        self._raise_if_refused(result, "The change was refused.")
        return result

    @staticmethod
    def _modified(current: OpenOrder, price: Decimal | None, size: Decimal | None) -> OrderRequest:
        """The order restated with its new price and size. A take-profit or stop-loss is
        refused: restated as a plain limit it would lose its trigger, and which of its two prices
        `price` means is not for us to guess."""
        if current.is_trigger:
            raise OrderRejected(
                "A take-profit or stop-loss order cannot be changed in place: cancel it and "
                "place it again with the new prices.",
                code="TRIGGER_NOT_MODIFIABLE",
            )
        return OrderRequest(
            coin=current.coin,
            is_buy=current.side == "buy",
            size=size if size is not None else current.size,
            price=price if price is not None else current.price,
            tif=current.tif if current.tif in ("Gtc", "Ioc", "Alo") else "Gtc",  # type: ignore[arg-type]
            reduce_only=current.reduce_only,
            cloid=current.cloid,
        )

    def _modified_answer(
        self, wallet_id: int, oid: int, request: OrderRequest, result: OrderResult
    ) -> None:
        if result.status == "error":
            return
        self._remember_ref(wallet_id, result.oid, request)
        self._outbox.defer_statement(
            f"the change of order {oid}",
            self._unflushed,
            _STORE_MODIFY[bool(request.cloid)],
            {
                "ref_wallet": wallet_id,
                "ref_cloid": request.cloid,
                "ref_oid": oid,
                "new_price": request.price,
                "new_size": request.size,
                "new_oid": result.oid,
            },
        )

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

    def _owned_wallet(self, user_id: int, wallet_id: int) -> Wallet:
        with self._sessions() as session:
            wallet = owned_wallet(session, user_id, wallet_id)
            session.expunge(wallet)
            return wallet

    def _owned_in_memory(self, user_id: int, wallet_id: int) -> OwnedWallet | None:
        """`_owned` when it needs no read; None when it would."""
        known = self._owners.get(wallet_id)
        return None if known is None else _owned_by(user_id, wallet_id, known)

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
        return _owned_by(user_id, wallet_id, known)

    def _remember_ref(self, wallet_id: int, oid: int | None, request: OrderRequest) -> None:
        if oid is not None:
            self._refs.put((wallet_id, oid), request, self._refs.generation())

    def bot_order_cloid(self, bot_id: int, wallet_id: int, oid: int, coin: str) -> str | None:
        """The cloid of bot `bot_id`'s order `oid` on `coin`, or None if it is not that bot's.

        Known from the exchange's answer even before the order's result is stored."""
        known = self._refs.get((wallet_id, oid))
        if known is not None and known.coin == coin and bot_id_of(known.cloid) == bot_id:
            return known.cloid
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

    def _owned_order_ref(self, user_id: int, wallet_id: int, oid: int) -> tuple[str, str | None]:
        return self._order_ref(self._owned(user_id, wallet_id), oid)

    def _owned_open_order(self, user_id: int, wallet_id: int, oid: int) -> OpenOrder:
        return self._open_order(self._owned(user_id, wallet_id), oid)

    def _order_ref(self, wallet: OwnedWallet, oid: int) -> tuple[str, str | None]:
        """The coin and cloid of an order: from its answer, our record, or else the exchange's
        open orders."""
        known = self._refs.get((wallet.id, oid))
        if known is not None:
            return known.coin, known.cloid
        with self._sessions() as session:
            row = session.execute(
                select(Order.coin, Order.cloid).where(
                    Order.wallet_id == wallet.id, Order.oid == oid
                )
            ).first()
        if row is not None:
            return row[0], row[1]
        order = self._open_order(wallet, oid)
        return order.coin, order.cloid


def _owned_by(user_id: int, wallet_id: int, owner_and_account: tuple[int, str]) -> OwnedWallet:
    owner, account = owner_and_account
    if owner != user_id:
        raise NotFound("Wallet not found.")
    return OwnedWallet(wallet_id, account)
