"""State-machine tests of the capital rule: any interleaving of orders, answers, partial fills,
cancels, unknown outcomes, replays, late deliveries, mark moves and restarts.

The machine plays the exchange too: it keeps the *truth* (what each order really did, the real
position) and delivers fills to the book late, duplicated or out of order, as a websocket with
reconnect snapshots and backfills does. Beside the book it keeps the *database* rows the trusted
side writes (orders with their last status, fills insert-or-ignore on tid), and a restart rebuilds
the book from them and compares it with the live book that also got the fills of the downtime.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from decimal import Decimal

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from hyperdesk.bots_engine.capital import (
    CAPITAL_LIMIT,
    BotFill,
    CapitalBook,
    CapitalSnapshot,
    OrderIntent,
    OrderRecord,
    OrderState,
    OrderStatus,
)
from hyperdesk.exchange.models import Side

ZERO = Decimal(0)
BASE_PRICES = {"BTC": Decimal(100), "ETH": Decimal(20)}
SIZES = [Decimal("0.5"), Decimal(1), Decimal(3), Decimal(10), Decimal(20)]
FEE_RATES = [ZERO, Decimal("0.00045"), Decimal("-0.00015"), Decimal("0.05")]
FINAL = {"filled", "partially_filled", "canceled", "error", "rejected"}

MACHINE_SETTINGS = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass
class TruthOrder:
    """What the exchange really did with one order."""

    intent: OrderIntent
    reached: bool = False  # it is (or was) on the exchange
    open: bool = False  # it rests on the exchange's book now
    filled: Decimal = ZERO


def expected_used(snapshot: CapitalSnapshot, marks: dict[str, Decimal]) -> Decimal:
    """The documented rule, recomputed from what the book shows: positions at mark, plus per coin
    and side the orders' unfilled size valued at the worst price, minus the cheapest part the
    opposite position absorbs."""
    total = sum((abs(p.size) * marks[coin] for coin, p in snapshot.positions.items()), ZERO)
    for coin in BASE_PRICES:
        position = snapshot.positions[coin].size if coin in snapshot.positions else ZERO
        for side in ("buy", "sell"):
            units = sorted(
                (
                    o.limit_price if side == "buy" else max(o.limit_price, marks[coin]),
                    o.cloid,
                    o.unfilled,
                )
                for o in snapshot.orders.values()
                if o.coin == coin and o.side == side and not o.reduce_only
            )
            side_total = sum((value * unfilled for value, _, unfilled in units), ZERO)
            room = max(ZERO, -position if side == "buy" else position)
            for value, _, unfilled in units:
                absorbed = min(room, unfilled)
                side_total -= absorbed * value
                room -= absorbed
            total += side_total
    return total


def with_order(snapshot: CapitalSnapshot, order: OrderIntent) -> CapitalSnapshot:
    pending = OrderState(
        order.cloid,
        order.coin,
        order.side,
        order.size,
        order.limit_price,
        order.reduce_only,
        status="pending",
    )
    return replace(snapshot, orders={**snapshot.orders, order.cloid: pending})


class CapitalMachine(RuleBasedStateMachine):
    #: Marks move and orders are priced around them (the rule can then be exceeded after the
    #: fact); fills may be delivered in any order.
    moving_prices = True

    def __init__(self) -> None:
        super().__init__()
        self.marks = dict(BASE_PRICES)
        self.truth: dict[str, TruthOrder] = {}
        self.truth_position = dict.fromkeys(BASE_PRICES, ZERO)
        self.sent: dict[str, OrderStatus] = {}  # the last status given to the book
        self.db_orders: dict[str, OrderRecord] = {}
        self.db_fills: dict[int, BotFill] = {}
        self.in_flight: list[BotFill] = []
        self.delivered: list[BotFill] = []
        self.next_id = 0
        self.clock = 1_000

    @initialize(
        allocation=st.sampled_from([Decimal(100), Decimal(500), Decimal(2000)]),
        leverage=st.sampled_from([Decimal(1), Decimal(2), Decimal(5)]),
    )
    def start(self, allocation: Decimal, leverage: Decimal) -> None:
        self.allocation, self.leverage = allocation, leverage
        self.book = CapitalBook(allocation, leverage)
        for coin, price in self.marks.items():
            self.book.mark(coin, price)

    # -- the bot places orders -------------------------------------------------------------------

    @rule(
        coin=st.sampled_from(sorted(BASE_PRICES)),
        side=st.sampled_from(["buy", "sell"]),
        size=st.sampled_from(SIZES),
        offset=st.sampled_from([Decimal("-0.1"), ZERO, Decimal("0.05"), Decimal("0.2")]),
        reduce_only=st.booleans(),
    )
    def submit(
        self, coin: str, side: Side, size: Decimal, offset: Decimal, reduce_only: bool
    ) -> None:
        price = self.marks[coin]
        if self.moving_prices:
            price = (price * (1 + offset)).quantize(Decimal("0.01"))
        self.next_id += 1
        order = OrderIntent(f"c{self.next_id}", coin, side, size, price, reduce_only)
        before = self.book.snapshot()
        would_be = expected_used(with_order(before, order), self.marks)

        refusal = self.book.order_submitted(order)

        if before.equity <= 0:
            event("order while equity is used up")
        if refusal is not None:
            event("order refused")
            assert refusal.code == CAPITAL_LIMIT
            assert self.book.snapshot() == before, "a refusal changes nothing"
            assert not reduce_only, "reduce-only orders are never refused"
            assert would_be > before.used, "only an order that adds exposure is refused"
            assert before.equity <= 0 or would_be > before.limit
            assert refusal.would_be == would_be
            return
        if not reduce_only:
            assert would_be <= before.used or (before.equity > 0 and would_be <= before.limit), (
                f"accepted an order that breaks the rule: {would_be} > {before.limit}"
            )
        self.truth[order.cloid] = TruthOrder(order)
        self.sent[order.cloid] = "pending"
        self.db_orders[order.cloid] = OrderRecord(
            order.cloid, coin, side, size, price, reduce_only, "pending"
        )

    # -- the exchange answers --------------------------------------------------------------------

    def _orders_sent(self, *statuses: str) -> list[str]:
        return sorted(c for c, s in self.sent.items() if s in statuses)

    def _tell_book(self, cloid: str, status: OrderStatus, filled: Decimal) -> None:
        """Give the book a status and write it to the database the way the trusted side does."""
        if status == "canceled":
            self.book.cancel_confirmed(cloid, filled_size=filled)
        elif self.sent[cloid] == "unknown" and status != "unknown":
            self.book.unknown_resolved(cloid, status, filled)  # type: ignore[arg-type]
        else:
            self.book.order_result(cloid, status, filled)  # type: ignore[arg-type]
        if self.sent[cloid] not in FINAL:
            self.sent[cloid] = status
            self.db_orders[cloid] = replace(
                self.db_orders[cloid], status=status, filled_size=filled
            )

    def _exchange_fill(self, cloid: str, wanted: Decimal, fee_rate: Decimal) -> Decimal:
        """The exchange fills up to ``wanted`` of the order now; the fill goes in flight."""
        truth = self.truth[cloid]
        order = truth.intent
        size = min(wanted, order.size - truth.filled)
        position = self.truth_position[order.coin]
        if order.reduce_only:  # the exchange never lets a reduce-only order grow a position
            size = min(size, max(ZERO, -position if order.side == "buy" else position))
        if size <= 0:
            return ZERO
        mark = self.marks[order.coin]
        price = (
            min(order.limit_price, mark) if order.side == "buy" else max(order.limit_price, mark)
        )
        # A taker order meets several makers: one fill each, same time, different tids.
        parts = [size] if size <= 1 else [size / 2, size / 2]
        self.clock += 1
        for part in parts:
            self.next_id += 1
            self.in_flight.append(
                BotFill(
                    tid=self.next_id,
                    cloid=cloid,
                    coin=order.coin,
                    side=order.side,
                    price=price,
                    size=part,
                    fee=(price * part * fee_rate).quantize(Decimal("0.000001")),
                    time_ms=self.clock,
                )
            )
        truth.filled += size
        self.truth_position[order.coin] += size if order.side == "buy" else -size
        return size

    @precondition(lambda self: self._orders_sent("pending"))
    @rule(
        data=st.data(),
        outcome=st.sampled_from(["resting", "unknown", "error", "filled", "partially_filled"]),
        reached=st.booleans(),
        fee_rate=st.sampled_from(FEE_RATES),
    )
    def answer(self, data: st.DataObject, outcome: str, reached: bool, fee_rate: Decimal) -> None:
        cloid = data.draw(st.sampled_from(self._orders_sent("pending")))
        truth = self.truth[cloid]
        size = truth.intent.size
        if outcome in ("filled", "partially_filled"):
            truth.reached = True
            filled = self._exchange_fill(cloid, size if outcome == "filled" else size / 2, fee_rate)
            if filled == size:
                self._tell_book(cloid, "filled", filled)
            elif filled > 0:
                self._tell_book(cloid, "partially_filled", filled)  # an IOC: the rest is gone
            else:
                self._tell_book(cloid, "error", ZERO)  # reduce-only with nothing to reduce
        elif outcome == "resting":
            truth.reached = truth.open = True
            self._tell_book(cloid, "resting", ZERO)
        elif outcome == "unknown":
            truth.reached = truth.open = reached
            self._tell_book(cloid, "unknown", ZERO)
        else:
            self._tell_book(cloid, "error", ZERO)

    @precondition(lambda self: any(t.open for t in self.truth.values()))
    @rule(data=st.data(), whole=st.booleans(), fee_rate=st.sampled_from(FEE_RATES))
    def exchange_fills_a_resting_order(
        self, data: st.DataObject, whole: bool, fee_rate: Decimal
    ) -> None:
        cloid = data.draw(st.sampled_from(sorted(c for c, t in self.truth.items() if t.open)))
        truth = self.truth[cloid]
        remaining = truth.intent.size - truth.filled
        self._exchange_fill(cloid, remaining if whole else remaining / 2, fee_rate)
        if truth.filled == truth.intent.size:
            truth.open = False

    @precondition(
        lambda self: any(t.open and self.sent[c] != "pending" for c, t in self.truth.items())
    )
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        cloid = data.draw(
            st.sampled_from(
                sorted(c for c, t in self.truth.items() if t.open and self.sent[c] != "pending")
            )
        )
        truth = self.truth[cloid]
        truth.open = False
        self._tell_book(cloid, "canceled", truth.filled)

    @precondition(lambda self: self._orders_sent("unknown"))
    @rule(data=st.data())
    def resolve_unknown(self, data: st.DataObject) -> None:
        cloid = data.draw(st.sampled_from(self._orders_sent("unknown")))
        truth = self.truth[cloid]
        if not truth.reached:
            self._tell_book(cloid, "rejected", ZERO)
        elif truth.open:
            self._tell_book(cloid, "resting", truth.filled)
        elif truth.filled == truth.intent.size:
            self._tell_book(cloid, "filled", truth.filled)
        else:
            self._tell_book(cloid, "canceled", truth.filled)

    @precondition(lambda self: self.moving_prices)
    @rule(
        coin=st.sampled_from(sorted(BASE_PRICES)),
        factor=st.sampled_from([Decimal("0.2"), Decimal("0.9"), Decimal("1.1"), Decimal(5)]),
    )
    def mark_moves(self, coin: str, factor: Decimal) -> None:
        self.marks[coin] = max(
            Decimal("0.01"), (self.marks[coin] * factor).quantize(Decimal("0.01"))
        )
        self.book.mark(coin, self.marks[coin])

    # -- fills reach the book ---------------------------------------------------------------------

    @precondition(lambda self: self.in_flight)
    @rule(data=st.data())
    def deliver_fill(self, data: st.DataObject) -> None:
        at = 0 if not self.moving_prices else data.draw(st.integers(0, len(self.in_flight) - 1))
        fill = self.in_flight.pop(at)
        if self.delivered and (fill.time_ms, fill.tid) < max(
            (f.time_ms, f.tid) for f in self.delivered
        ):
            event("fill delivered out of exchange order")
        assert self.book.fill(fill) is True
        self.db_fills.setdefault(fill.tid, fill)
        self.delivered.append(fill)

    @precondition(lambda self: self.delivered)
    @rule(data=st.data())
    def replay_fill(self, data: st.DataObject) -> None:
        fill = data.draw(st.sampled_from(self.delivered))
        before = self.book.snapshot()
        assert self.book.fill(fill) is False
        assert self.book.snapshot() == before, "a replayed fill changed the book"

    # -- restarts ---------------------------------------------------------------------------------

    @precondition(lambda self: self.db_orders)
    @rule()
    def restart(self) -> None:
        """Server (or bot) down: the fills still in flight happen while it is down and are
        backfilled into the database; the book is rebuilt from the database."""
        live = copy.deepcopy(self.book)
        if self.in_flight:
            event("restart with fills made while down")
        if self._orders_sent("unknown"):
            event("restart with unknown outcomes")
        for fill in self.in_flight:
            assert live.fill(fill) is True
            self.db_fills.setdefault(fill.tid, fill)
        self.delivered += self.in_flight
        self.in_flight = []

        rebuilt = CapitalBook.rebuild(
            self.allocation,
            self.leverage,
            self.db_orders.values(),
            self.db_fills.values(),
            marks=self.marks,
        )

        assert rebuilt.snapshot() == live.snapshot()
        self.book = rebuilt

    # -- what must always hold (one invariant, one snapshot per step: the machine stays fast) --

    @invariant()
    def book_is_consistent(self) -> None:
        snapshot = self.book.snapshot()
        self.check_used_is_the_documented_rule(snapshot)
        self.check_positions_fees_and_pnl_follow_the_delivered_fills(snapshot)
        self.check_orders_of_unknown_outcome_stay_reserved(snapshot)
        self.check_reservations_are_never_lost_while_fills_may_come(snapshot)
        if not self.moving_prices:
            assert snapshot.used <= snapshot.limit, f"{snapshot.used} > {snapshot.limit}"

    def check_used_is_the_documented_rule(self, snapshot: CapitalSnapshot) -> None:
        assert snapshot.used == expected_used(snapshot, self.marks)
        assert snapshot.available == (
            ZERO if snapshot.equity <= 0 else max(ZERO, snapshot.limit - snapshot.used)
        )

    def check_positions_fees_and_pnl_follow_the_delivered_fills(
        self, snapshot: CapitalSnapshot
    ) -> None:
        signed = dict.fromkeys(BASE_PRICES, ZERO)
        cash = ZERO
        for fill in self.delivered:
            amount = fill.size if fill.side == "buy" else -fill.size
            signed[fill.coin] += amount
            cash -= amount * fill.price
        for coin, size in signed.items():
            shown = snapshot.positions[coin].size if coin in snapshot.positions else ZERO
            assert shown == size
        assert snapshot.fees == sum((f.fee for f in self.delivered), ZERO)
        # Whatever the entry accounting, realized + unrealized is what trading made at the mark.
        made = cash + sum((signed[c] * self.marks[c] for c in signed), ZERO)
        assert abs(snapshot.realized_pnl + snapshot.unrealized_pnl - made) < Decimal("1e-20")
        parts = (
            snapshot.allocation + snapshot.realized_pnl + snapshot.unrealized_pnl - snapshot.fees
        )
        assert abs(snapshot.equity - parts) < Decimal("1e-20")

    def check_orders_of_unknown_outcome_stay_reserved(self, snapshot: CapitalSnapshot) -> None:
        booked: dict[str, Decimal] = {}
        for fill in self.delivered:
            booked[fill.cloid or ""] = booked.get(fill.cloid or "", ZERO) + fill.size
        for cloid in self._orders_sent("pending", "unknown"):
            left = self.truth[cloid].intent.size - booked.get(cloid, ZERO)
            if left > 0:
                assert snapshot.orders[cloid].unfilled == left
            else:
                assert cloid not in snapshot.orders

    def check_reservations_are_never_lost_while_fills_may_come(
        self, snapshot: CapitalSnapshot
    ) -> None:
        """Every fill the exchange made and the book has not booked is still reserved."""
        undelivered: dict[str, Decimal] = {}
        for fill in self.in_flight:
            undelivered[fill.cloid or ""] = undelivered.get(fill.cloid or "", ZERO) + fill.size
        for cloid, size in undelivered.items():
            assert snapshot.orders[cloid].unfilled >= size


class FixedPriceCapitalMachine(CapitalMachine):
    """Prices never move, orders are priced at the mark and fills arrive in exchange order (late
    and duplicated still): then nothing — no fill, partial fill, cancel, unknown outcome or
    restart — may ever take the bot's gross notional over its limit."""

    moving_prices = False


TestCapitalBookUnderAnyInterleaving = CapitalMachine.TestCase
TestCapitalBookUnderAnyInterleaving.settings = MACHINE_SETTINGS
TestCapitalBookWithFixedPrices = FixedPriceCapitalMachine.TestCase
TestCapitalBookWithFixedPrices.settings = MACHINE_SETTINGS
