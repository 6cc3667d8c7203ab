"""The schema, as typed SQLAlchemy 2.0 models. Alembic migrations are the only thing that creates it.

Money columns are Numeric and map to Decimal. Times are UTC. Every row a person owns carries its
`user_id`, so ownership checks are one indexed comparison.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names keep migrations identical on SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY_SCALE = 18
MONEY_PRECISION = 38
# Quantizing to 18 places needs the column's 38 digits; the default context's 28 would refuse
# any amount from 10^10 up.
_MONEY_CONTEXT = Context(prec=MONEY_PRECISION)


class Money(TypeDecorator[Decimal]):
    """Exact decimal money: NUMERIC(38, 18) on PostgreSQL, a decimal string on SQLite.

    SQLite has no decimal type — its NUMERIC affinity stores a float — so there the value is kept
    as text and turned back into a Decimal on the way out. Sums are done in Python, never in SQL.
    """

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError(f"money must be a finite number, not {value!r}")
        amount = amount.quantize(Decimal(1).scaleb(-MONEY_SCALE), context=_MONEY_CONTEXT)
        return format(amount, "f") if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """SQLite forgets time zones; this brings every value back as aware UTC on both databases."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped on password change: every token carries the version it was issued under.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Wallet(Base):
    __tablename__ = "wallets"
    __table_args__ = (UniqueConstraint("user_id", "address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(42), doc="the signing key's address")
    account_address: Mapped[str] = mapped_column(
        String(42), index=True, doc="the Hyperliquid account it trades for (itself unless agent)"
    )
    is_agent: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(
        Boolean,
        default=True,
        server_default=true(),
        doc="holds the account's own key, or the exchange confirmed the agent's approval",
    )
    verified_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, doc="when the exchange last confirmed the agent's approval"
    )
    verification_checked_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), nullable=True, doc="when the exchange was last asked about this agent"
    )
    verification_error: Mapped[str | None] = mapped_column(
        Text, nullable=True, doc="why it is not (or no longer) trusted, or the last check failed"
    )
    encrypted_key: Mapped[str] = mapped_column(Text, doc="envelope-encrypted private key")
    key_id: Mapped[str] = mapped_column(String(64), doc="master key that wraps the data key")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:  # never show key material, even encrypted
        return f"Wallet(id={self.id}, user_id={self.user_id}, address={self.address!r})"


class Bot(Base):
    __tablename__ = "bots"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    wallet_id: Mapped[int] = mapped_column(
        ForeignKey("wallets.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(Text)
    input_schema: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    capital: Mapped[Decimal] = mapped_column(Money())
    leverage: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal(1))
    restart_policy: Mapped[str] = mapped_column(String(16), default="transient")
    tick_seconds: Mapped[Decimal] = mapped_column(Numeric(10, 3), default=Decimal("5"))
    keep_orders_on_stop: Mapped[bool] = mapped_column(Boolean, default=False)
    desired_state: Mapped[str] = mapped_column(String(16), default="stopped")
    status: Mapped[str] = mapped_column(String(16), default="stopped")
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, doc="bot's key-value store")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class BotVersion(Base):
    """Every code upload is kept, so a run can always say exactly what code it ran."""

    __tablename__ = "bot_versions"
    __table_args__ = (UniqueConstraint("bot_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(Text)
    input_schema: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BotRun(Base):
    __tablename__ = "bot_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    exit_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class BotEvent(Base):
    """Lifecycle facts (started, crashed, killed for abuse, backoff, failed) shown to the owner."""

    __tablename__ = "bot_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("bot_runs.id", ondelete="SET NULL"), nullable=True
    )
    time: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class BotLog(Base):
    __tablename__ = "bot_logs"
    __table_args__ = (Index("ix_bot_logs_bot_id_id", "bot_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("bot_runs.id", ondelete="SET NULL"), nullable=True
    )
    time: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    level: Mapped[str] = mapped_column(String(10), default="info")
    message: Mapped[str] = mapped_column(Text)


class Order(Base):
    """Every order we sent, keyed by the cloid we gave it, so an unknown outcome can be resolved."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id", ondelete="CASCADE"), index=True)
    bot_id: Mapped[int | None] = mapped_column(
        ForeignKey("bots.id", ondelete="SET NULL"), nullable=True, index=True
    )
    account_address: Mapped[str] = mapped_column(String(42))
    cloid: Mapped[str] = mapped_column(String(34), unique=True)
    oid: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    coin: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    order_type: Mapped[str] = mapped_column(String(16))
    tif: Mapped[str | None] = mapped_column(String(8), nullable=True)
    price: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    size: Mapped[Decimal] = mapped_column(Money())
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(24))
    filled_size: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    avg_price: Mapped[Decimal | None] = mapped_column(Money(), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Fill(Base):
    """One execution, recorded exactly once per (account, tid) however often it is reported."""

    __tablename__ = "fills"
    __table_args__ = (
        UniqueConstraint("account_address", "tid"),
        Index("ix_fills_user_id_time_ms", "user_id", "time_ms"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id", ondelete="CASCADE"), index=True)
    bot_id: Mapped[int | None] = mapped_column(
        ForeignKey("bots.id", ondelete="SET NULL"), nullable=True, index=True
    )
    source: Mapped[str] = mapped_column(String(10), doc="manual, bot or external")
    account_address: Mapped[str] = mapped_column(String(42))
    tid: Mapped[int] = mapped_column(BigInteger)
    oid: Mapped[int] = mapped_column(BigInteger)
    cloid: Mapped[str | None] = mapped_column(String(34), nullable=True)
    coin: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    price: Mapped[Decimal] = mapped_column(Money())
    size: Mapped[Decimal] = mapped_column(Money())
    fee: Mapped[Decimal] = mapped_column(Money())
    fee_token: Mapped[str] = mapped_column(String(16), default="USDC")
    closed_pnl: Mapped[Decimal] = mapped_column(Money())
    start_position: Mapped[Decimal] = mapped_column(Money())
    direction: Mapped[str] = mapped_column(String(32))
    crossed: Mapped[bool] = mapped_column(Boolean)
    hash: Mapped[str] = mapped_column(String(66))
    time_ms: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FillCursor(Base):
    """How far an account's fills are known to be stored, so start-up backfill resumes there.

    It only ever moves past a time point once every fill seen at or before it was recorded; a
    batch that failed to record holds it back until the batch is retried or fetched again.
    """

    __tablename__ = "fill_cursors"

    account_address: Mapped[str] = mapped_column(String(42), primary_key=True)
    time_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class VaultAction(Base):
    __tablename__ = "vault_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id", ondelete="CASCADE"), index=True)
    vault_address: Mapped[str] = mapped_column(String(42))
    kind: Mapped[str] = mapped_column(String(10), doc="deposit or withdraw")
    amount: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(10), doc="ok or error")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StakingAction(Base):
    __tablename__ = "staking_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    wallet_id: Mapped[int] = mapped_column(ForeignKey("wallets.id", ondelete="CASCADE"), index=True)
    validator: Mapped[str] = mapped_column(String(42))
    kind: Mapped[str] = mapped_column(String(12), doc="delegate or undelegate")
    amount: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
