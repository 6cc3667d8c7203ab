"""The capital rule on worked examples (the same as in docs/bots-capital.md)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hyperdesk.bots_engine.capital import (
    CAPITAL_LIMIT,
    BotFill,
    CapitalBook,
    OrderIntent,
    OrderRecord,
)
from hyperdesk.exchange.models import Side

D = Decimal


def order(
    cloid: str, side: Side, size: str, price: str, *, reduce_only: bool = False, coin: str = "ETH"
) -> OrderIntent:
    return OrderIntent(cloid, coin, side, D(size), D(price), reduce_only)


def fill(
    tid: int,
    cloid: str,
    side: Side,
    size: str,
    price: str,
    *,
    fee: str = "0",
    time_ms: int | None = None,
) -> BotFill:
    return BotFill(
        tid, cloid, "ETH", side, D(price), D(size), D(fee), time_ms if time_ms is not None else tid
    )


def book_with_long_position() -> CapitalBook:
    """Allocation 1,000, leverage 2: long 2 ETH at 200, mark 200 → 400 used of 2,000."""
    book = CapitalBook(D(1000), D(2))
    book.mark("ETH", D(200))
    assert book.order_submitted(order("a", "buy", "2", "200")) is None
    book.order_result("a", "filled", D(2))
    book.fill(fill(1, "a", "buy", "2", "200", fee="0.18"))
    return book


def test_worked_example_from_the_docs() -> None:
    book = book_with_long_position()
    assert book.snapshot().used == D(400)
    # A buy of 5 at 190 adds 950: 1,350 used.
    assert book.order_submitted(order("b", "buy", "5", "190")) is None
    assert book.snapshot().used == D(1350)
    # A sell of 3 at 210: the long 2 absorbs 2 of it, 1 more would open a short: +210.
    assert book.order_submitted(order("c", "sell", "3", "210")) is None
    assert book.snapshot().used == D(1560)
    # A buy of 3 at 200 would add 600 → 2,160 > 2,000: refused, nothing reserved.
    refusal = book.order_submitted(order("d", "buy", "3", "200"))
    assert refusal is not None
    assert refusal.code == CAPITAL_LIMIT
    assert (refusal.limit, refusal.would_be) == (D(2000), D(2160))
    assert book.snapshot().used == D(1560)
    # Reduce-only orders reserve nothing and are never refused.
    assert book.order_submitted(order("e", "sell", "2", "150", reduce_only=True)) is None
    assert book.snapshot().used == D(1560)
    # Half of the buy fills at 190: 2.5 × 190 moves from reserved into the position (at mark 200).
    book.fill(fill(2, "b", "buy", "2.5", "190"))
    snapshot = book.snapshot()
    assert snapshot.positions["ETH"].size == D("4.5")
    assert snapshot.used == D("4.5") * 200 + D("2.5") * 190 + 0  # the sell is absorbed by 4.5 now
    assert snapshot.available == D(2000) - snapshot.used


def test_refused_order_changes_nothing() -> None:
    book = book_with_long_position()
    before = book.snapshot()
    assert book.order_submitted(order("x", "buy", "100", "200")) is not None
    assert book.snapshot() == before
    # The same cloid may be used once the first try was refused: nothing was recorded.
    assert book.order_submitted(order("x", "buy", "1", "200")) is None


def test_sell_is_valued_at_the_mark_when_the_mark_is_higher() -> None:
    book = CapitalBook(D(1000))
    book.mark("ETH", D(200))
    assert (
        book.order_submitted(order("s", "sell", "1", "150")) is None
    )  # marketable: fills near 200
    assert book.snapshot().used == D(200)


def test_unknown_outcome_stays_reserved_until_its_cloid_is_resolved() -> None:
    book = CapitalBook(D(1000))
    book.mark("ETH", D(100))
    assert book.order_submitted(order("u", "buy", "8", "100")) is None
    book.order_result("u", "unknown")
    assert book.snapshot().used == D(800)
    assert book.order_submitted(order("v", "buy", "3", "100")) is not None
    book.unknown_resolved("u", "rejected")
    assert book.snapshot().used == D(0)
    assert book.order_submitted(order("v", "buy", "3", "100")) is None


def test_cancel_keeps_reserved_what_filled_but_is_not_booked_yet() -> None:
    book = CapitalBook(D(1000))
    book.mark("ETH", D(100))
    book.order_submitted(order("r", "buy", "6", "100"))
    book.order_result("r", "resting")
    book.cancel_confirmed("r", filled_size=D(2))  # 2 filled; that fill has not arrived yet
    assert book.snapshot().used == D(200)
    book.fill(fill(7, "r", "buy", "2", "100"))
    assert book.snapshot().used == D(200)  # now as a position
    assert "r" not in book.snapshot().orders


def test_duplicated_and_replayed_fills_change_nothing() -> None:
    book = book_with_long_position()
    before = book.snapshot()
    assert book.fill(fill(1, "a", "buy", "2", "200", fee="0.18")) is False
    assert book.snapshot() == before


def test_realized_pnl_uses_the_average_entry_price() -> None:
    book = CapitalBook(D(10_000))
    book.mark("ETH", D(100))
    book.order_submitted(order("a", "buy", "3", "130"))
    book.fill(fill(1, "a", "buy", "1", "100"))
    book.fill(fill(2, "a", "buy", "2", "130"))  # entry (100 + 260) / 3 = 120
    book.order_submitted(order("b", "sell", "4", "90"))
    book.fill(fill(3, "b", "sell", "2", "150", fee="0.5"))  # closes 2: (150 − 120) × 2 = 60
    snapshot = book.snapshot()
    assert snapshot.positions["ETH"].entry_price == D(120)
    assert snapshot.realized_pnl == D(60)
    book.fill(fill(4, "b", "sell", "2", "110"))  # closes 1 (−10), opens a short of 1 at 110
    snapshot = book.snapshot()
    assert snapshot.realized_pnl == D(50)
    assert (snapshot.positions["ETH"].size, snapshot.positions["ETH"].entry_price) == (
        D(-1),
        D(110),
    )
    assert snapshot.unrealized_pnl == D(10)  # short from 110, mark 100
    assert snapshot.equity == D(10_000) + 50 + 10 - D("0.5")


def test_a_late_fill_is_booked_in_exchange_order() -> None:
    in_order, late = CapitalBook(D(10_000)), CapitalBook(D(10_000))
    fills = [
        fill(1, "a", "buy", "1", "100", time_ms=1),
        fill(2, "b", "sell", "1", "150", time_ms=2),
        fill(3, "a", "buy", "1", "120", time_ms=3),
    ]
    for book in (in_order, late):
        book.order_submitted(order("a", "buy", "2", "120"))
        book.order_submitted(order("b", "sell", "1", "150"))
    for f in fills:
        in_order.fill(f)
    for f in (fills[0], fills[2], fills[1]):  # the sell arrives last (a backfill)
        late.fill(f)
    assert late.snapshot() == in_order.snapshot()
    assert late.snapshot().realized_pnl == D(50)


def test_equity_used_up_allows_only_reducing_orders() -> None:
    book = CapitalBook(D(100), D(5))
    book.mark("ETH", D(100))
    book.order_submitted(order("a", "buy", "5", "100"))
    book.fill(fill(1, "a", "buy", "5", "100"))
    book.mark("ETH", D(80))  # −100: equity 0
    snapshot = book.snapshot()
    assert snapshot.equity == 0
    assert snapshot.only_reducing
    assert snapshot.available == 0
    refusal = book.order_submitted(order("b", "buy", "0.1", "80"))
    assert refusal is not None
    assert "equity" in refusal.message
    assert book.order_submitted(order("c", "sell", "6", "80")) is not None  # 1 beyond the long
    assert book.order_submitted(order("d", "sell", "5", "80")) is None  # closes, adds nothing
    assert book.order_submitted(order("e", "sell", "5", "79", reduce_only=True)) is None


def test_marks_moving_over_the_limit_leave_only_orders_that_do_not_add() -> None:
    book = CapitalBook(D(1000))
    book.mark("ETH", D(100))
    book.order_submitted(order("a", "buy", "10", "100"))
    book.fill(fill(1, "a", "buy", "10", "100"))
    book.mark("ETH", D(110))
    assert book.snapshot().used == D(1100)  # over the limit after the fact; nothing is cancelled
    assert book.order_submitted(order("b", "buy", "0.01", "110")) is not None
    assert book.order_submitted(order("c", "sell", "4", "110")) is None


def test_rebuild_from_rows_equals_the_live_book_and_ignores_duplicate_rows() -> None:
    live = book_with_long_position()
    live.order_submitted(order("b", "buy", "5", "190"))
    live.order_result("b", "unknown")
    live.order_submitted(order("c", "sell", "1", "250"))
    live.order_result("c", "resting")
    live.fill(fill(2, "c", "sell", "0.4", "250", fee="0.05"))
    rows = [
        OrderRecord("a", "ETH", "buy", D(2), D(200), False, "filled", D(2)),
        OrderRecord("b", "ETH", "buy", D(5), D(190), False, "unknown"),
        OrderRecord("c", "ETH", "sell", D(1), D(250), False, "resting"),
    ]
    fills = [
        fill(2, "c", "sell", "0.4", "250", fee="0.05"),
        fill(1, "a", "buy", "2", "200", fee="0.18"),
        fill(2, "c", "sell", "0.4", "250", fee="0.05"),
    ]
    rebuilt = CapitalBook.rebuild(D(1000), D(2), rows, fills, marks={"ETH": D(200)})
    assert rebuilt.snapshot() == live.snapshot()


@pytest.mark.parametrize(
    "bad",
    [
        order("n", "buy", "-1", "100"),
        order("n", "buy", "0", "100"),
        order("n", "buy", "1", "NaN"),
        order("n", "buy", "Infinity", "100"),
        OrderIntent("n", "ETH", "hold", D(1), D(100)),  # type: ignore[arg-type]
    ],
)
def test_nonsense_orders_raise_and_reserve_nothing(bad: OrderIntent) -> None:
    book = CapitalBook(D(1000))
    with pytest.raises(ValueError, match="must be"):
        book.order_submitted(bad)
    assert book.snapshot().orders == {}


def test_a_late_answer_does_not_revive_a_settled_order() -> None:
    book = CapitalBook(D(1000))
    book.mark("ETH", D(100))
    book.order_submitted(order("r", "buy", "6", "100"))
    book.cancel_confirmed("r", filled_size=D(1))
    book.order_result("r", "resting")  # the placing answer, overtaken by the cancel
    assert book.snapshot().used == D(100)
    book.unknown_resolved("r", "resting")
    assert book.snapshot().used == D(100)
