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

from sqlalchemy import bindparam, select
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
            wallets = session.execute(_VERIFIED_WALLETS, {"account": account}).all()
            if not wallets:
                return []
            known = set(session.scalars(_KNOWN_TIDS, {"account": account, "tids": list(batch)}))
            fresh = [f for tid, f in sorted(batch.items()) if tid not in known]
            if not fresh:
                return []
            order_wallets = _ids_by(session, _ORDER_WALLETS, {f.cloid for f in fresh})
            bot_owners = _ids_by(session, _BOT_OWNERS, {bot_id_of(f.cloid) for f in fresh})
            # A fill no order of ours explains goes to a wallet that holds the account's own key:
            # anyone can name any (public) address as the account of an agent wallet, but only
            # its owner can import its key. Failing that, the oldest wallet.
            default = next((w for w in wallets if not w.is_agent), wallets[0])
            insert_fill = _INSERT_FILL[session.get_bind().dialect.name]
            recorded: list[RecordedFill] = []
            for fill in fresh:
                order_wallet = order_wallets.get(fill.cloid or "")
                wallet = next((w for w in wallets if w.id == order_wallet), default)
                bot_id = bot_id_of(fill.cloid)
                # Anyone can put any bot id into a cloid: only the wallet owner's bots count.
                if bot_id is None or bot_owners.get(bot_id) != wallet.user_id:
                    bot_id = None
                source = "bot" if bot_id else ("manual" if is_ours(fill.cloid) else "external")
                # A concurrent path may have stored this fill since we looked: then it is a no-op.
                row = _row(fill, wallet.id, wallet.user_id, bot_id, source)
                if session.connection().execute(insert_fill, row).rowcount == 1:
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
        with transaction(self._sessions) as session:
            session.connection().execute(
                _ADVANCE_CURSOR[session.get_bind().dialect.name],
                {"account": account.lower(), "time_ms": time_ms, "now": utcnow()},
            )

    def last_fill_time_ms(self, account: str) -> int | None:
        with self._sessions() as session:
            return session.scalar(
                select(Fill.time_ms)
                .where(Fill.account_address == account.lower())
                .order_by(Fill.time_ms.desc())
                .limit(1)
            )


# Every fill of every account passes here, on the stream's thread, often just as an order's
# answer comes in: the statements are built once (SQLAlchemy then reuses their compiled form)
# and read only the columns needed, not whole ORM objects.

_VERIFIED_WALLETS = (
    select(Wallet.id, Wallet.user_id, Wallet.is_agent)
    .where(Wallet.account_address == bindparam("account"), Wallet.verified.is_(True))
    .order_by(Wallet.id)
)
_KNOWN_TIDS = select(Fill.tid).where(
    Fill.account_address == bindparam("account"), Fill.tid.in_(bindparam("tids", expanding=True))
)
_ORDER_WALLETS = select(Order.cloid, Order.wallet_id).where(
    Order.cloid.in_(bindparam("keys", expanding=True))
)
_BOT_OWNERS = select(Bot.id, Bot.user_id).where(Bot.id.in_(bindparam("keys", expanding=True)))


def _fill_insert(insert: Any) -> Any:
    return insert(Fill).on_conflict_do_nothing(index_elements=["account_address", "tid"])


def _cursor_advance(insert: Any) -> Any:
    """Insert the account's mark, or move it forward; never back."""
    statement = insert(FillCursor).values(
        account_address=bindparam("account"),
        time_ms=bindparam("time_ms"),
        updated_at=bindparam("now"),
    )
    return statement.on_conflict_do_update(
        index_elements=["account_address"],
        set_={"time_ms": statement.excluded.time_ms, "updated_at": statement.excluded.updated_at},
        where=FillCursor.time_ms < statement.excluded.time_ms,
    )


_INSERT_FILL = {
    "sqlite": _fill_insert(sqlite.insert),
    "postgresql": _fill_insert(postgresql.insert),
}
_ADVANCE_CURSOR = {
    "sqlite": _cursor_advance(sqlite.insert),
    "postgresql": _cursor_advance(postgresql.insert),
}


def _ids_by(session: Session, statement: Any, keys: set[Any]) -> dict[Any, int]:
    """``{key: id}`` from a two-column `statement` over the non-empty `keys`."""
    wanted = [k for k in keys if k]
    if not wanted:
        return {}
    return {key: value for key, value in session.execute(statement, {"keys": wanted})}


def _row(fill: WireFill, wallet_id: int, user_id: int, bot_id: int | None, source: str) -> dict:
    return {
        "user_id": user_id,
        "wallet_id": wallet_id,
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
