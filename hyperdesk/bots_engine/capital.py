"""``CapitalBook``: one bot's capital rule as a pure book of events (no I/O, no threads, Decimal).

Shape (architecture.md, "The actor system")::

    BotProcessActor ── order from the bot ──► CapitalManagerActor ──► ExchangeActor
                                                 │ owns one CapitalBook, runs it
                                                 ▼
                         CapitalBook.order_submitted(order)  → None (reserved) | Refusal
                         order_result / cancel_confirmed / unknown_resolved / fill / mark
                         snapshot()                          → what the owner and the bot see

The actor is the thread that owns the book; the book decides. Every method is plain, synchronous
and deterministic, so the rule is unit-tested (tests/bots_engine) without actors or an exchange.

**The rule** (docs/bots-capital.md has a worked example). With ``limit = allocation × leverage``:

* *Gross notional* ``used`` = Σ over coins of ``|position| × mark`` (entry price until a mark is
  known) plus the notional *reserved* by the bot's live orders that would increase a position.
* Reservation, per coin and side, for orders that are not reduce-only: the part of the side's
  remaining size that the opposite position cannot absorb. A buy absorbs up to the short size, a
  sell up to the long size; beyond that it increases exposure. Which orders the position absorbs
  is chosen to be conservative and independent of arrival order: the lowest-valued orders first
  (ties by cloid), so the reserved remainder is the most expensive one. Buy and sell sides are
  added, not netted: both may fill.
* An order is valued at the worst price it can plausibly fill at: a buy at its limit price (it
  cannot fill higher), a sell at the higher of its limit price and the mark (it cannot fill lower
  than its limit, and a marketable sell fills near the mark).
* Reduce-only orders reserve nothing and are always accepted (the exchange never lets them grow
  a position).
* A non-reduce-only order is accepted when adding it does not raise ``used`` (it only reduces),
  or when ``used`` after adding it stays ``≤ limit`` and equity is positive. Otherwise it is
  refused with ``CAPITAL_LIMIT`` and the book is unchanged.
* Equity = allocation + realized PnL + unrealized PnL − fees. At equity ≤ 0 the bot may only
  reduce (reduce-only orders, or orders that add nothing to ``used``).
* The limit is checked when an order is accepted. Marks moving afterwards (or a fill at a price
  other than the mark) can push ``used`` over the limit; the book never cancels anything itself,
  it then accepts only orders that do not raise ``used``. Fills, cancels and results never raise
  ``used`` at unchanged prices: a fill moves notional from an order's reservation into a position.

**Order lifecycle.** An order reserves from ``order_submitted`` (before signing) while it is
``pending``, ``resting`` or ``unknown``: an unknown outcome stays reserved until its cloid is
resolved (security.md §5). A ``filled`` order keeps its unfilled size reserved until its fills are
booked (the order answer often arrives before the fills). ``partially_filled`` (in this codebase:
the order ended with part of it filled, e.g. an IOC; see ``hyperdesk/exchange/hyperliquid.py``),
``canceled``, ``error`` and ``rejected`` are final: the order then reserves only what the exchange
reported as filled and not yet booked. Final statuses are never changed by later answers. An
order that is final or wholly filled, and reserves nothing, is dropped from the book; later
answers about it change nothing.

**Fills** are idempotent on ``tid``. Positions and realized PnL use average entry price (as
Hyperliquid does, hyperliquid-protocol.md §8.5): opening fills move the entry to the size-weighted
average, closing fills keep it and realize ``(fill price − entry) × closed size`` (sign flipped for
shorts), a fill through zero opens the rest at the fill price. Average-entry accounting depends on
the order of fills, so each coin's fills are applied in exchange order ``(time_ms, tid)``; a fill
that arrives late (a backfill) replays that coin's fills. The exchange's own ``closedPnl`` is not
used: it belongs to the wallet's position, which other bots and manual trades share. Fees are in
the collateral (perps: USDC); a negative fee is a rebate.

**Restarts.** ``CapitalBook.rebuild`` builds the same book from the persisted orders and fills
(including fills that happened while the bot or the server was down).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Context, Decimal, localcontext
from typing import Literal

from hyperdesk.exchange.models import Side

ZERO = Decimal(0)
CAPITAL_LIMIT = "CAPITAL_LIMIT"

#: Every computation runs in this context, whatever the calling thread's decimal context is, so
#: the live book and a rebuilt one round the (only inexact) average-entry division identically.
_CONTEXT = Context(prec=40)

OrderStatus = Literal[
    "pending", "resting", "unknown", "filled", "partially_filled", "canceled", "error", "rejected"
]
#: What an order answer may say (``canceled`` when a cancel answer is folded in).
ResultStatus = Literal["resting", "filled", "partially_filled", "error", "unknown", "canceled"]
#: What a cloid lookup may settle an unknown order to (``rejected``: it never reached the book).
Resolution = Literal["resting", "filled", "partially_filled", "canceled", "rejected"]

_STATUSES: frozenset[str] = frozenset(
    ("pending", "resting", "unknown", "filled", "partially_filled", "canceled", "error", "rejected")
)
#: Statuses in which all of the order's unfilled size may still fill.
_WHOLE_SIZE_EXPECTED = frozenset({"pending", "resting", "unknown", "filled"})
_FINAL = frozenset({"filled", "partially_filled", "canceled", "error", "rejected"})


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """An order the bot wants placed, as the capital rule sees it (already validated for tick,
    lot and coin by the trusted side). ``limit_price`` is the order's limit, or for a market
    order the slippage-bounded price it will be sent with."""

    cloid: str
    coin: str
    side: Side
    size: Decimal
    limit_price: Decimal
    reduce_only: bool = False


@dataclass(frozen=True, slots=True)
class BotFill:
    """One fill of one of the bot's orders (attributed by cloid), live or from the database."""

    tid: int
    cloid: str | None
    coin: str
    side: Side
    price: Decimal
    size: Decimal
    fee: Decimal
    time_ms: int


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """A persisted order row, as ``rebuild`` needs it (plain values, not an ORM object).

    ``status`` and ``filled_size`` are as last reported — by the order answer, the cancel
    confirmation or the cloid lookup — and the trusted side writes both on every status change,
    except that a final status is never overwritten (the book ignores later answers too)."""

    cloid: str
    coin: str
    side: Side
    size: Decimal
    limit_price: Decimal
    reduce_only: bool
    status: OrderStatus
    filled_size: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class OrderState:
    """One order as the book holds it; ``booked`` is the size of its fills booked so far."""

    cloid: str
    coin: str
    side: Side
    size: Decimal
    limit_price: Decimal
    reduce_only: bool
    status: OrderStatus
    reported_filled: Decimal = ZERO
    booked: Decimal = ZERO

    @property
    def unfilled(self) -> Decimal:
        """Size that may still fill and is therefore held against the limit."""
        expected = self.size if self.status in _WHOLE_SIZE_EXPECTED else self.reported_filled
        return max(ZERO, min(expected, self.size) - self.booked)


@dataclass(frozen=True, slots=True)
class Position:
    """Signed size (negative = short) and average entry price (zero when flat)."""

    size: Decimal
    entry_price: Decimal


@dataclass(frozen=True, slots=True)
class PositionView:
    size: Decimal
    entry_price: Decimal
    mark: Decimal | None
    notional: Decimal
    unrealized_pnl: Decimal


@dataclass(frozen=True, slots=True)
class Refusal:
    """A capital refusal: a normal reply (style.md: rejection is a reply), nothing was reserved."""

    message: str
    limit: Decimal
    would_be: Decimal
    code: str = CAPITAL_LIMIT


@dataclass(frozen=True, slots=True)
class CapitalSnapshot:
    """Everything the book knows, in the shape the owner and the bot are shown.

    ``used`` is the gross notional, ``limit`` = allocation × leverage, ``available`` what another
    order may still add (zero while only reducing is allowed). ``reserved`` is per coin."""

    allocation: Decimal
    leverage: Decimal
    limit: Decimal
    used: Decimal
    available: Decimal
    positions: Mapping[str, PositionView]
    reserved: Mapping[str, Decimal]
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    fees: Decimal
    equity: Decimal
    only_reducing: bool
    orders: Mapping[str, OrderState] = field(default_factory=dict)


class CapitalBook:
    """One bot's allocation, reservations, positions and PnL. Not thread-safe by design: exactly
    one actor owns it. Invalid input (non-positive or non-finite numbers, unknown side, a reused
    cloid) raises ``ValueError`` and changes nothing; a capital refusal is a ``Refusal`` reply."""

    def __init__(self, allocation: Decimal, leverage: Decimal = Decimal(1)) -> None:
        _require_positive("allocation", allocation)
        _require_positive("leverage", leverage)
        self._allocation = allocation
        self._leverage = leverage
        self._orders: dict[str, OrderState] = {}
        self._cloids: set[str] = set()
        self._tids: set[int] = set()
        self._fills: dict[str, list[BotFill]] = {}
        self._fill_keys: dict[str, list[tuple[int, int]]] = {}
        self._positions: dict[str, Position] = {}
        self._realized: dict[str, Decimal] = {}
        self._fees = ZERO
        self._marks: dict[str, Decimal] = {}

    # -- construction from the database ---------------------------------------------------------

    @classmethod
    def rebuild(
        cls,
        allocation: Decimal,
        leverage: Decimal,
        orders: Iterable[OrderRecord],
        fills: Iterable[BotFill],
        marks: Mapping[str, Decimal] | None = None,
    ) -> CapitalBook:
        """The book of a bot from its persisted orders and fills, equal to the live book that
        saw the same events. Orders are taken as accepted (the rule applied when they were
        submitted, not retroactively); duplicated fill rows are harmless."""
        book = cls(allocation, leverage)
        for coin, price in (marks or {}).items():
            book.mark(coin, price)
        for record in orders:
            intent = OrderIntent(
                record.cloid,
                record.coin,
                record.side,
                record.size,
                record.limit_price,
                record.reduce_only,
            )
            book._validate(intent)
            if record.status not in _STATUSES:
                raise ValueError(f"unknown order status {record.status!r}")
            book._add(intent)
            if record.status != "pending":
                book._set_status(record.cloid, record.status, record.filled_size)
        for fill in sorted(fills, key=lambda f: (f.time_ms, f.tid)):
            book.fill(fill)
        return book

    # -- commands and events --------------------------------------------------------------------

    def check(self, order: OrderIntent) -> Refusal | None:
        """Would ``order`` be accepted now? Changes nothing."""
        self._validate(order)
        if order.reduce_only:
            return None
        with localcontext(_CONTEXT):
            before = self._used()
            after = self._used(extra=order)
            if after <= before:
                return None
            limit = self._allocation * self._leverage
            if self._equity() <= ZERO:
                return Refusal(
                    "The bot's equity is used up: only orders that reduce its positions are "
                    "accepted.",
                    limit=limit,
                    would_be=after,
                )
            if after > limit:
                return Refusal(
                    f"This order would bring the bot's exposure to {after}, over its limit of "
                    f"{limit} (allocation × leverage).",
                    limit=limit,
                    would_be=after,
                )
        return None

    def order_submitted(self, order: OrderIntent) -> Refusal | None:
        """Reserve for ``order`` before it is signed, or refuse it (then nothing is sent)."""
        refusal = self.check(order)
        if refusal is None:
            self._add(order)
        return refusal

    def order_result(self, cloid: str, status: ResultStatus, filled_size: Decimal = ZERO) -> None:
        """The exchange's answer to placing the order (``unknown`` keeps it reserved)."""
        if status not in ("resting", "filled", "partially_filled", "error", "unknown", "canceled"):
            raise ValueError(f"not an order answer: {status!r}")
        self._set_status(cloid, status, filled_size)

    def cancel_confirmed(self, cloid: str, *, filled_size: Decimal) -> None:
        """The order is off the book and ``filled_size`` of it had filled (its original size
        minus its size when canceled, from the cloid lookup). Required, not defaulted: fills of
        that size may still be on their way, and they stay reserved until booked — a cancel
        that claimed nothing had filled would free capital that a late fill then uses again."""
        self._set_status(cloid, "canceled", filled_size)

    def unknown_resolved(self, cloid: str, status: Resolution, filled_size: Decimal = ZERO) -> None:
        """A cloid lookup settled an order whose outcome was unknown."""
        if status not in ("resting", "filled", "partially_filled", "canceled", "rejected"):
            raise ValueError(f"not a resolution: {status!r}")
        self._set_status(cloid, status, filled_size)

    def fill(self, fill: BotFill) -> bool:
        """Book one fill; ``False`` (and no change) when its ``tid`` was booked already."""
        if fill.tid in self._tids:
            return False
        _require_side(fill.side)
        _require_positive("fill size", fill.size)
        _require_positive("fill price", fill.price)
        _require_finite("fee", fill.fee)
        order = self._orders.get(fill.cloid) if fill.cloid is not None else None
        if order is not None and (order.coin != fill.coin or order.side != fill.side):
            raise ValueError(f"fill {fill.tid} does not match order {fill.cloid}")
        with localcontext(_CONTEXT):
            self._tids.add(fill.tid)
            self._fees += fill.fee
            key = (fill.time_ms, fill.tid)
            keys = self._fill_keys.setdefault(fill.coin, [])
            fills = self._fills.setdefault(fill.coin, [])
            if not keys or key > keys[-1]:
                keys.append(key)
                fills.append(fill)
                self._apply(fill)
            else:
                at = bisect.bisect(keys, key)
                keys.insert(at, key)
                fills.insert(at, fill)
                self._replay(fill.coin)
            if order is not None:
                self._orders[order.cloid] = replace(order, booked=order.booked + fill.size)
                self._drop_if_done(order.cloid)
        return True

    def mark(self, coin: str, price: Decimal) -> None:
        _require_positive("mark", price)
        self._marks[coin] = price

    def coins(self) -> set[str]:
        """Coins the book holds a position or a live order in: the ones that need a mark."""
        return {c for c, p in self._positions.items() if p.size != 0} | {
            o.coin for o in self._orders.values()
        }

    # -- queries ----------------------------------------------------------------------------------

    def snapshot(self) -> CapitalSnapshot:
        with localcontext(_CONTEXT):
            positions = {
                coin: self._position_view(coin, position)
                for coin, position in sorted(self._positions.items())
            }
            reserved = self._reserved()
            used = sum((p.notional for p in positions.values()), ZERO) + sum(
                reserved.values(), ZERO
            )
            unrealized = sum((p.unrealized_pnl for p in positions.values()), ZERO)
            realized = sum(self._realized.values(), ZERO)
            equity = self._allocation + realized + unrealized - self._fees
            limit = self._allocation * self._leverage
            only_reducing = equity <= ZERO
            return CapitalSnapshot(
                allocation=self._allocation,
                leverage=self._leverage,
                limit=limit,
                used=used,
                available=ZERO if only_reducing else max(ZERO, limit - used),
                positions=positions,
                reserved={coin: value for coin, value in sorted(reserved.items()) if value},
                realized_pnl=realized,
                unrealized_pnl=unrealized,
                fees=self._fees,
                equity=equity,
                only_reducing=only_reducing,
                orders=dict(sorted(self._orders.items())),
            )

    # -- internals ------------------------------------------------------------------------------

    def _validate(self, order: OrderIntent) -> None:
        _require_side(order.side)
        _require_positive("size", order.size)
        _require_positive("limit price", order.limit_price)
        if not order.cloid or not order.coin:
            raise ValueError("an order needs a cloid and a coin")
        if order.cloid in self._cloids:
            raise ValueError(f"cloid {order.cloid} was used already")

    def _add(self, order: OrderIntent) -> None:
        self._cloids.add(order.cloid)
        self._orders[order.cloid] = OrderState(
            order.cloid,
            order.coin,
            order.side,
            order.size,
            order.limit_price,
            order.reduce_only,
            status="pending",
        )

    def _set_status(self, cloid: str, status: OrderStatus, filled_size: Decimal) -> None:
        if filled_size < ZERO or not filled_size.is_finite():
            raise ValueError(f"bad filled size {filled_size}")
        order = self._orders.get(cloid)
        if order is None:
            if cloid in self._cloids:
                return  # settled and dropped already: a late or repeated answer
            raise KeyError(f"no order with cloid {cloid}")
        if order.status in _FINAL:
            return
        self._orders[cloid] = replace(order, status=status, reported_filled=filled_size)
        self._drop_if_done(cloid)

    def _drop_if_done(self, cloid: str) -> None:
        """An order that can fill no more and reserves nothing leaves the book for good."""
        order = self._orders[cloid]
        if order.unfilled == ZERO and (order.status in _FINAL or order.booked >= order.size):
            del self._orders[cloid]

    def _apply(self, fill: BotFill) -> None:
        position = self._positions.get(fill.coin, Position(ZERO, ZERO))
        position, realized = _after_fill(position, fill)
        if position.size == ZERO:
            self._positions.pop(fill.coin, None)
        else:
            self._positions[fill.coin] = position
        self._realized[fill.coin] = self._realized.get(fill.coin, ZERO) + realized

    def _replay(self, coin: str) -> None:
        self._positions.pop(coin, None)
        self._realized.pop(coin, None)
        for fill in self._fills[coin]:
            self._apply(fill)

    def _price_of_position(self, coin: str, position: Position) -> Decimal:
        return self._marks.get(coin, position.entry_price)

    def _position_view(self, coin: str, position: Position) -> PositionView:
        mark = self._marks.get(coin)
        price = self._price_of_position(coin, position)
        return PositionView(
            size=position.size,
            entry_price=position.entry_price,
            mark=mark,
            notional=abs(position.size) * price,
            unrealized_pnl=(price - position.entry_price) * position.size,
        )

    def _order_value(self, order: OrderState) -> Decimal:
        """The worst plausible fill price (see the module docstring)."""
        if order.side == "buy":
            return order.limit_price
        return max(order.limit_price, self._marks.get(order.coin, order.limit_price))

    def _reserved(self, extra: OrderIntent | None = None) -> dict[str, Decimal]:
        orders = list(self._orders.values())
        if extra is not None:
            orders.append(
                OrderState(
                    extra.cloid,
                    extra.coin,
                    extra.side,
                    extra.size,
                    extra.limit_price,
                    extra.reduce_only,
                    status="pending",
                )
            )
        by_side: dict[tuple[str, Side], list[tuple[Decimal, str, Decimal]]] = {}
        for order in orders:
            if order.reduce_only or order.unfilled == ZERO:
                continue
            by_side.setdefault((order.coin, order.side), []).append(
                (self._order_value(order), order.cloid, order.unfilled)
            )
        reserved: dict[str, Decimal] = {}
        for (coin, side), entries in by_side.items():
            position = self._positions.get(coin, Position(ZERO, ZERO)).size
            absorbable = max(ZERO, -position) if side == "buy" else max(ZERO, position)
            total = ZERO
            for value, _cloid, unfilled in sorted(entries):
                absorbed = min(absorbable, unfilled)
                absorbable -= absorbed
                total += (unfilled - absorbed) * value
            reserved[coin] = reserved.get(coin, ZERO) + total
        return reserved

    def _used(self, extra: OrderIntent | None = None) -> Decimal:
        held = sum(
            (abs(p.size) * self._price_of_position(c, p) for c, p in self._positions.items()), ZERO
        )
        return held + sum(self._reserved(extra).values(), ZERO)

    def _equity(self) -> Decimal:
        unrealized = sum(
            (
                (self._price_of_position(c, p) - p.entry_price) * p.size
                for c, p in self._positions.items()
            ),
            ZERO,
        )
        return self._allocation + sum(self._realized.values(), ZERO) + unrealized - self._fees


def _after_fill(position: Position, fill: BotFill) -> tuple[Position, Decimal]:
    """Average-entry accounting of one fill: the new position and the PnL it realizes."""
    signed = fill.size if fill.side == "buy" else -fill.size
    size, entry = position.size, position.entry_price
    if size == ZERO or (size > ZERO) == (signed > ZERO):
        new_size = size + signed
        new_entry = (abs(size) * entry + fill.size * fill.price) / abs(new_size)
        return Position(new_size, new_entry), ZERO
    closed = min(fill.size, abs(size))
    realized = (fill.price - entry) * closed * (1 if size > ZERO else -1)
    new_size = size + signed
    if new_size == ZERO:
        return Position(ZERO, ZERO), realized
    if (new_size > ZERO) != (size > ZERO):
        return Position(new_size, fill.price), realized  # through zero: the rest opens here
    return Position(new_size, entry), realized


def _require_positive(name: str, value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= ZERO:
        raise ValueError(f"{name} must be a positive finite Decimal, not {value!r}")


def _require_finite(name: str, value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{name} must be a finite Decimal, not {value!r}")


def _require_side(side: str) -> None:
    if side not in ("buy", "sell"):
        raise ValueError(f"side must be 'buy' or 'sell', not {side!r}")
