"""Start-up reconciliation: before serving, bring our records in line with the exchange.

For every wallet's account: record the fills made while we were down, then settle every order
whose state we do not know (sent but unanswered, or resting when we stopped) by its cloid.
Missing reports never mean flat: only the exchange's answer changes a record.

Fills are fetched from the account's high-water mark (minus a margin for late or out-of-order
reports), not from the newest stored fill: a batch that failed to record before a later one was
stored lies below the mark, so it is fetched again here. Once the fetched fills are stored, the
mark moves to the newest of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.actors.exchange import ExchangeClient
from hyperdesk.exchange.errors import ExchangeError
from hyperdesk.persistence.database import transaction
from hyperdesk.persistence.models import Fill, Order, Wallet
from hyperdesk.trading.fills import FillRecorder

log = logging.getLogger(__name__)

BACKFILL_MARGIN_MS = 60_000
_UNSETTLED = ("pending", "unknown", "resting", "partially_filled", "open")


@dataclass(frozen=True)
class ReconcileReport:
    accounts: int
    new_fills: int
    orders_settled: int
    failures: int


def reconcile(
    sessions: sessionmaker[Session], exchange: ExchangeClient, fills: FillRecorder
) -> ReconcileReport:
    with sessions() as session:
        accounts = sorted(
            set(session.scalars(select(Wallet.account_address).where(Wallet.verified.is_(True))))
        )
    new_fills = settled = failures = 0
    for account in accounts:
        try:
            cursor = fills.cursor_ms(account)
            since = 0 if cursor is None else max(0, cursor - BACKFILL_MARGIN_MS)
            fetched = [
                f for f in exchange.fills_since(account, since) if f.account == account.lower()
            ]
            new_fills += len(fills.record(account, fetched))
            # Every fill from `since` to the newest fetched one is stored now (oldest first, all
            # pages), and everything before `since` already was.
            if fetched:
                fills.advance_cursor(account, max(f.time_ms for f in fetched))
            settled += _settle_orders(sessions, exchange, account)
        except ExchangeError:
            failures += 1
            log.warning("could not reconcile %s with the exchange", account, exc_info=True)
    report = ReconcileReport(len(accounts), new_fills, settled, failures)
    log.info("reconciled with the exchange: %s", report)
    return report


def _settle_orders(sessions: sessionmaker[Session], exchange: ExchangeClient, account: str) -> int:
    with sessions() as session:
        rows = session.execute(
            select(Order.id, Order.cloid, Order.status).where(
                Order.account_address == account, Order.status.in_(_UNSETTLED)
            )
        ).all()
    if not rows:
        return 0
    open_by_cloid = {o.cloid: o for o in exchange.open_orders(account) if o.cloid}
    settled = 0
    for order_id, cloid, status in rows:
        if cloid in open_by_cloid:
            new_status, oid = "resting", open_by_cloid[cloid].oid
        else:
            info = exchange.order_status(account, cloid)
            if not info.found:
                if status in ("pending", "unknown"):
                    new_status, oid = "rejected", None  # never reached the book
                else:
                    continue
            else:
                new_status, oid = info.status, info.order.oid if info.order else None
        with transaction(sessions) as session:
            row = session.get(Order, order_id)
            if row is not None and row.status != new_status:
                row.status = new_status
                row.oid = oid if oid is not None else row.oid
                row.filled_size, row.avg_price = _filled(session, cloid, row.avg_price)
                settled += 1
    return settled


def _filled(
    session: Session, cloid: str, avg_price: Decimal | None
) -> tuple[Decimal, Decimal | None]:
    """Size and average price of the order's recorded fills (all fetched before settling)."""
    fills = session.execute(select(Fill.size, Fill.price).where(Fill.cloid == cloid)).all()
    size = sum((f.size for f in fills), Decimal(0))
    if not size:
        return size, avg_price
    return size, (sum((f.size * f.price for f in fills), Decimal(0)) / size).normalize()
