"""CapitalManagerActor: the thread that owns one running bot's `CapitalBook`.

Place in the tree (architecture.md)::

    BotSupervisor
      └── BotProcessActor ──ask──► CapitalManagerActor   (submit before signing, results after)
            └── FillListenerActor ──ask──► CapitalManagerActor   (fills of the bot's orders)

The book decides (hyperdesk/bots_engine/capital.py, pure and unit-tested); this actor only
serialises access to it, so an order check and a fill never interleave. It is built from the
database when it starts — the bot's orders and fills, including fills that happened while the bot
or the server was down — so a restarted bot resumes with the exposure it really has.

Every method is an ask (callers pass a timeout); a capital refusal is a `Refusal` reply, not an
exception. A `ValueError` (malformed input) goes back to the caller and the actor lives on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal

import pykka
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.bots_engine.capital import (
    BotFill,
    CapitalBook,
    CapitalSnapshot,
    OrderIntent,
    OrderRecord,
    Refusal,
    ResultStatus,
)
from hyperdesk.persistence.models import Fill, Order

_BOOK_STATUSES = frozenset(
    ("pending", "resting", "unknown", "filled", "partially_filled", "canceled", "error", "rejected")
)

log = logging.getLogger(__name__)


def load_book(
    sessions: sessionmaker[Session], bot_id: int, allocation: Decimal, leverage: Decimal
) -> CapitalBook:
    """The bot's book rebuilt from its persisted orders and fills."""
    with sessions() as session:
        orders = session.scalars(select(Order).where(Order.bot_id == bot_id)).all()
        fills = session.scalars(select(Fill).where(Fill.bot_id == bot_id)).all()
        records = [
            OrderRecord(
                cloid=o.cloid,
                coin=o.coin,
                side=o.side,  # type: ignore[arg-type]
                size=o.size,
                limit_price=o.price,
                reduce_only=o.reduce_only,
                status=o.status if o.status in _BOOK_STATUSES else "error",  # type: ignore[arg-type]
                filled_size=o.filled_size or Decimal(0),
            )
            for o in orders
            if o.price is not None and o.price > 0 and o.size > 0
        ]
        booked = [
            BotFill(
                tid=f.tid,
                cloid=f.cloid,
                coin=f.coin,
                side=f.side,  # type: ignore[arg-type]
                price=f.price,
                size=f.size,
                fee=f.fee,
                time_ms=f.time_ms,
            )
            for f in fills
        ]
    return CapitalBook.rebuild(allocation, leverage, records, booked)


class CapitalManagerActor(pykka.ThreadingActor):
    def __init__(self, book: CapitalBook) -> None:
        super().__init__()
        self._book = book

    def submit(self, order: OrderIntent) -> Refusal | None:
        """Reserve for `order` before it is signed, or refuse it (then nothing may be sent)."""
        return self._book.order_submitted(order)

    def order_result(self, cloid: str, status: ResultStatus, filled_size: Decimal) -> None:
        """Told by the bot's process actor (nobody waits for the answer): a failure is logged
        here."""
        try:
            self._book.order_result(cloid, status, filled_size)
        except Exception:
            log.exception("could not book the result of %s", cloid)

    def cancel_confirmed(self, cloid: str, filled_size: Decimal) -> None:
        self._book.cancel_confirmed(cloid, filled_size=filled_size)

    def fill(self, fill: BotFill) -> bool:
        """Book one fill; False when it was booked already (replays are no-ops)."""
        return self._book.fill(fill)

    def mark(self, coin: str, price: Decimal) -> None:
        self._book.mark(coin, price)

    def refresh_marks(self, mids: Mapping[str, Decimal]) -> None:
        """Mark every coin the bot holds a position or an order in. Sent before each order
        check and each snapshot, so the rule and the reported PnL use today's prices, not the
        entry prices a book has to fall back on."""
        for coin in self._book.coins():
            price = mids.get(coin)
            if price is not None and price > 0:
                self._book.mark(coin, price)

    def snapshot(self) -> CapitalSnapshot:
        return self._book.snapshot()
