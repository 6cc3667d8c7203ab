"""Reading the trade history: filters, cursor paging, CSV rows and summaries."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.exchange.models import plain_decimal
from hyperdesk.persistence.models import Fill

MAX_PAGE = 500
CSV_COLUMNS = (
    "id",
    "time",
    "wallet_id",
    "bot_id",
    "source",
    "coin",
    "side",
    "price",
    "size",
    "fee",
    "fee_token",
    "closed_pnl",
    "direction",
    "tid",
    "oid",
    "cloid",
    "hash",
)


@dataclass(frozen=True)
class TradeFilter:
    user_id: int
    wallet_id: int | None = None
    bot_id: int | None = None
    coin: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True)
class TradeSummary:
    trades: int
    volume: Decimal
    fees: Decimal
    realized_pnl: Decimal
    net_pnl: Decimal


class TradeHistory:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def page(
        self, flt: TradeFilter, *, limit: int, cursor: int | None
    ) -> tuple[list[Fill], int | None]:
        """Newest first; `cursor` is the id below which the next page starts."""
        limit = max(1, min(limit, MAX_PAGE))
        query = _query(flt).order_by(Fill.id.desc()).limit(limit + 1)
        if cursor is not None:
            query = query.where(Fill.id < cursor)
        with self._sessions() as session:
            rows = list(session.scalars(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (rows[-1].id if more and rows else None)

    def csv_chunks(self, flt: TradeFilter, *, batch: int = 1000) -> Iterator[str]:
        """The whole filtered history as CSV, read in batches so memory stays flat."""
        yield _csv_line(CSV_COLUMNS)
        cursor: int | None = None
        while True:
            rows, cursor = self.page(flt, limit=min(batch, MAX_PAGE), cursor=cursor)
            yield "".join(_csv_line(_csv_values(row)) for row in rows)
            if cursor is None:
                return

    def summary(self, flt: TradeFilter) -> TradeSummary:
        # Summed in Python: SQLite keeps money as text, and SQL SUM would go through floats.
        columns = select(Fill.price, Fill.size, Fill.fee, Fill.closed_pnl)
        query = columns.where(*_conditions(flt))
        volume = fees = pnl = Decimal(0)
        count = 0
        with self._sessions() as session:
            for price, size, fee, closed in session.execute(query):
                count += 1
                volume += price * size
                fees += fee
                pnl += closed
        return TradeSummary(count, volume, fees, pnl, pnl - fees)


def _conditions(flt: TradeFilter) -> list:
    conditions = [Fill.user_id == flt.user_id]
    if flt.wallet_id is not None:
        conditions.append(Fill.wallet_id == flt.wallet_id)
    if flt.bot_id is not None:
        conditions.append(Fill.bot_id == flt.bot_id)
    if flt.coin is not None:
        conditions.append(Fill.coin == flt.coin)
    if flt.start_ms is not None:
        conditions.append(Fill.time_ms >= flt.start_ms)
    if flt.end_ms is not None:
        conditions.append(Fill.time_ms <= flt.end_ms)
    return conditions


def _query(flt: TradeFilter) -> Select[Fill]:
    return select(Fill).where(*_conditions(flt))


def _csv_values(row: Fill) -> tuple:
    from datetime import UTC, datetime

    time = datetime.fromtimestamp(row.time_ms / 1000, UTC).isoformat()
    return (
        row.id,
        time,
        row.wallet_id,
        row.bot_id or "",
        _text(row.source),
        _text(row.coin),
        _text(row.side),
        plain_decimal(row.price),
        plain_decimal(row.size),
        plain_decimal(row.fee),
        _text(row.fee_token),
        plain_decimal(row.closed_pnl),
        _text(row.direction),
        row.tid,
        row.oid,
        _text(row.cloid or ""),
        _text(row.hash),
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    """A text cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`…) gets a leading `'`.

    Only text columns: numbers such as a negative PnL must stay numbers."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_line(values: tuple) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()
