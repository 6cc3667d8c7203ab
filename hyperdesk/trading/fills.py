"""Recording fills exactly once, whichever way they arrive.

Fills reach us three ways — an order's own response, the websocket stream (with a snapshot replay
on every reconnect) and backfill after a gap — and every path goes through `FillRecorder.record`.
The unique key (account, tid) plus insert-or-ignore makes every repeat a no-op.

`record` never swallows a failure: a caller that gets no exception knows the fills are stored,
and one that gets an exception must keep them and try again. The per-account high-water mark
(`fill_cursors`) says up to which time every fill we received is stored; start-up backfill
resumes from it, so a batch that failed to record is fetched again, whatever was stored after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.exchange.models import Fill as WireFill
from hyperdesk.exchange.models import plain_decimal
from hyperdesk.persistence.database import transaction
from hyperdesk.persistence.models import Bot, Fill, FillCursor, Order, Wallet, utcnow
from hyperdesk.trading.cloids import bot_id_of, is_ours


@dataclass(frozen=True)
class RecordedFill:
    """A fill that was new to the database, with whom it was attributed to (for fan-out)."""

    fill: WireFill
    user_id: int
    wallet_id: int
    bot_id: int | None
    source: str

    def to_json(self) -> dict[str, Any]:
        """The one shape of a fill the platform pushes: to browsers on /api/ws and to bots."""
        f = self.fill
        return {
            "wallet_id": self.wallet_id,
            "bot_id": self.bot_id,
            "source": self.source,
            "coin": f.coin,
            "side": f.side,
            "price": plain_decimal(f.price),
            "size": plain_decimal(f.size),
            "fee": plain_decimal(f.fee),
            "closed_pnl": plain_decimal(f.closed_pnl),
            "time": f.time_ms,
            "tid": f.tid,
            "oid": f.oid,
            "cloid": f.cloid,
        }


class FillRecorder:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record(self, account: str, fills: Iterable[WireFill]) -> list[RecordedFill]:
        """Store the fills of `account` not stored yet; returns only the new ones."""
        account = account.lower()
        batch = {f.tid: f for f in fills if f.account == account}
        if not batch:
            return []
        with transaction(self._sessions) as session:
            wallets = session.scalars(
                select(Wallet)
                .where(Wallet.account_address == account, Wallet.verified.is_(True))
                .order_by(Wallet.id)
            ).all()
            if not wallets:
                return []
            known = set(
                session.scalars(
                    select(Fill.tid).where(Fill.account_address == account, Fill.tid.in_(batch))
                )
            )
            fresh = [f for tid, f in sorted(batch.items()) if tid not in known]
            if not fresh:
                return []
            orders = _orders_by_cloid(session, {f.cloid for f in fresh if f.cloid})
            bot_owners = _bot_owners(session, {bot_id_of(f.cloid) for f in fresh})
            # A fill no order of ours explains goes to a wallet that holds the account's own key:
            # anyone can name any (public) address as the account of an agent wallet, but only
            # its owner can import its key. Failing that, the oldest wallet.
            default = next((w for w in wallets if not w.is_agent), wallets[0])
            recorded: list[RecordedFill] = []
            for fill in fresh:
                order = orders.get(fill.cloid or "")
                wallet = next((w for w in wallets if order and w.id == order.wallet_id), default)
                bot_id = bot_id_of(fill.cloid)
                # Anyone can put any bot id into a cloid: only the wallet owner's bots count.
                if bot_id is None or bot_owners.get(bot_id) != wallet.user_id:
                    bot_id = None
                source = "bot" if bot_id else ("manual" if is_ours(fill.cloid) else "external")
                # A concurrent path may have stored this fill since we looked: then it is a no-op.
                if _insert_ignoring_duplicate(session, _row(fill, wallet, bot_id, source)):
                    recorded.append(RecordedFill(fill, wallet.user_id, wallet.id, bot_id, source))
            return recorded

    def cursor_ms(self, account: str) -> int | None:
        """Every fill of `account` we received with a time up to this one is stored; None when
        nothing is known yet (backfill then starts from the beginning)."""
        with self._sessions() as session:
            return session.scalar(
                select(FillCursor.time_ms).where(FillCursor.account_address == account.lower())
            )

    def advance_cursor(self, account: str, time_ms: int) -> None:
        """Move `account`'s high-water mark forward to `time_ms`; never back.

        Callers pass a time only once every fill they received at or before it is stored.
        """
        account = account.lower()
        with transaction(self._sessions) as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            session.execute(
                insert(FillCursor)
                .values(account_address=account, time_ms=time_ms, updated_at=utcnow())
                .on_conflict_do_nothing(index_elements=["account_address"])
            )
            session.execute(
                update(FillCursor)
                .where(FillCursor.account_address == account, FillCursor.time_ms < time_ms)
                .values(time_ms=time_ms, updated_at=utcnow())
            )

    def last_fill_time_ms(self, account: str) -> int | None:
        with self._sessions() as session:
            return session.scalar(
                select(Fill.time_ms)
                .where(Fill.account_address == account.lower())
                .order_by(Fill.time_ms.desc())
                .limit(1)
            )


def _orders_by_cloid(session: Session, cloids: set[str | None]) -> dict[str, Order]:
    wanted = {c for c in cloids if c}
    if not wanted:
        return {}
    return {o.cloid: o for o in session.scalars(select(Order).where(Order.cloid.in_(wanted)))}


def _bot_owners(session: Session, ids: set[int | None]) -> dict[int, int]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = session.execute(select(Bot.id, Bot.user_id).where(Bot.id.in_(wanted)))
    return {bot_id: user_id for bot_id, user_id in rows}


def _row(fill: WireFill, wallet: Wallet, bot_id: int | None, source: str) -> dict:
    return {
        "user_id": wallet.user_id,
        "wallet_id": wallet.id,
        "bot_id": bot_id,
        "source": source,
        "account_address": fill.account,
        "tid": fill.tid,
        "oid": fill.oid,
        "cloid": fill.cloid,
        "coin": fill.coin,
        "side": fill.side,
        "price": fill.price,
        "size": fill.size,
        "fee": fill.fee,
        "fee_token": fill.fee_token,
        "closed_pnl": fill.closed_pnl,
        "start_position": fill.start_position,
        "direction": fill.direction,
        "crossed": fill.crossed,
        "hash": fill.hash,
        "time_ms": fill.time_ms,
        "recorded_at": utcnow(),
    }


def _insert_ignoring_duplicate(session: Session, row: dict) -> bool:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Fill).on_conflict_do_nothing(index_elements=["account_address", "tid"])
    return session.connection().execute(statement, row).rowcount == 1
