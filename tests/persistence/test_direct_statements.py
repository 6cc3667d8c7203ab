"""`DirectStatement`: SQLAlchemy's SQL run straight on the driver, with the same values, column
defaults, errors and events as SQLAlchemy's own execution, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from hyperdesk.persistence.database import make_session_factory, make_unflushed_engine
from hyperdesk.persistence.direct import DirectStatement, direct_transaction
from hyperdesk.persistence.models import Order
from tests.fixtures.database import add_user_and_wallet

INSERT = DirectStatement(
    insert(Order).returning(Order.id),
    column_keys=(
        "user_id",
        "wallet_id",
        "account_address",
        "cloid",
        "coin",
        "side",
        "order_type",
        "size",
        "price",
        "status",
    ),
)
CANCEL = DirectStatement(
    update(Order).values(status="canceled").where(Order.cloid == bindparam("ref_cloid"))
)
RESIZE = DirectStatement(
    update(Order)
    .values(size=bindparam("new_size", type_=Order.__table__.c.size.type))
    .where(Order.cloid == bindparam("ref_cloid"))
)


@pytest.fixture
def wallet(db_engine) -> tuple[int, int]:
    with make_session_factory(db_engine)() as session, session.begin():
        user, row = add_user_and_wallet(session, "dora", "0x" + "2" * 40)
        return user.id, row.id


def _order(wallet: tuple[int, int], cloid: str, **overrides: Any) -> dict[str, Any]:
    user_id, wallet_id = wallet
    return {
        "user_id": user_id,
        "wallet_id": wallet_id,
        "account_address": "0x" + "2" * 40,
        "cloid": cloid,
        "coin": "ETH",
        "side": "buy",
        "order_type": "limit",
        "size": Decimal("0.123456789012345678"),
        "price": Decimal("2500.5"),
        "status": "pending",
        **overrides,
    }


def _row(db_engine, cloid: str) -> Order:
    with make_session_factory(db_engine)() as session:
        return session.scalars(select(Order).where(Order.cloid == cloid)).one()


def test_an_insert_returns_its_id_and_stores_exact_money_and_python_defaults(db_engine, wallet):
    before = datetime.now(UTC) - timedelta(seconds=1)
    with direct_transaction(db_engine, wait_for_flush=True) as connection:
        order_id = connection.run(INSERT, _order(wallet, "0x" + "a" * 32))
    row = _row(db_engine, "0x" + "a" * 32)
    assert row.id == order_id
    assert row.size == Decimal("0.123456789012345678")  # a decimal, not a float
    assert row.price == Decimal("2500.5")
    assert row.filled_size == Decimal(0)  # the column's Python-side default
    assert row.reduce_only is False
    assert before < row.created_at <= datetime.now(UTC)


def test_an_update_sets_the_values_it_carries_and_its_on_update_column(db_engine, wallet):
    with direct_transaction(db_engine, wait_for_flush=True) as connection:
        connection.run(INSERT, _order(wallet, "0x" + "b" * 32))
    created = _row(db_engine, "0x" + "b" * 32).updated_at
    with direct_transaction(db_engine, wait_for_flush=False) as connection:
        connection.run_many(CANCEL, [{"ref_cloid": "0x" + "b" * 32}])
        connection.run(RESIZE, {"ref_cloid": "0x" + "b" * 32, "new_size": Decimal("2")})
    row = _row(db_engine, "0x" + "b" * 32)
    assert (row.status, row.size) == ("canceled", Decimal("2"))
    assert row.updated_at > created


def test_a_failed_statement_raises_as_sqlalchemy_does_and_rolls_back_the_transaction(
    db_engine, wallet
):
    def twice() -> None:
        with direct_transaction(db_engine, wait_for_flush=True) as connection:
            connection.run(INSERT, _order(wallet, "0x" + "c" * 32))
            connection.run(INSERT, _order(wallet, "0x" + "c" * 32))  # the cloid is unique

    with pytest.raises(IntegrityError):
        twice()
    with make_session_factory(db_engine)() as session:
        assert session.scalars(select(Order)).all() == []  # the first insert went with it


def test_the_engines_cursor_events_see_each_statement_and_may_fail_it(db_engine, wallet):
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement.split()[0])
        if statement.startswith("UPDATE"):
            raise _conn.dialect.loaded_dbapi.OperationalError("refused by a listener")

    event.listen(db_engine, "before_cursor_execute", before)
    try:
        with direct_transaction(db_engine, wait_for_flush=True) as connection:
            connection.run(INSERT, _order(wallet, "0x" + "d" * 32))
        with (
            pytest.raises(OperationalError),
            direct_transaction(db_engine, wait_for_flush=True) as connection,
        ):
            connection.run_many(CANCEL, [{"ref_cloid": "0x" + "d" * 32}])
    finally:
        event.remove(db_engine, "before_cursor_execute", before)
    assert seen == ["INSERT", "UPDATE"]
    assert _row(db_engine, "0x" + "d" * 32).status == "pending"


def test_expanding_parameters_are_refused_not_guessed_at(db_engine):
    listed = DirectStatement(
        select(Order.id).where(Order.cloid.in_(bindparam("c", expanding=True)))
    )
    with pytest.raises(ValueError, match="expanding"):
        listed.compiled(db_engine.dialect)


def test_an_unflushed_engine_stores_through_direct_statements_too(db_engine, wallet):
    unflushed = make_unflushed_engine(db_engine)
    try:
        with direct_transaction(unflushed, wait_for_flush=False) as connection:
            connection.run(INSERT, _order(wallet, "0x" + "e" * 32))
            connection.run(DirectStatement(text("SELECT 1")), {})
    finally:
        if unflushed is not db_engine:
            unflushed.dispose()
    assert _row(db_engine, "0x" + "e" * 32).status == "pending"


def test_sqlite_writes_on_one_kept_connection_replaced_when_lost_and_closed_with_the_engine(
    tmp_path,
):
    """On SQLite the direct statements keep one connection instead of a checkout per write: it
    must survive a failed transaction, be replaced once invalidated, serve a transaction opened
    inside another through the pool, and not outlive the engine."""
    from hyperdesk.persistence.database import make_engine
    from hyperdesk.persistence.migrate import upgrade_to_head

    engine = make_engine(f"sqlite:///{tmp_path / 'kept.db'}")
    upgrade_to_head(engine)
    with make_session_factory(engine)() as session, session.begin():
        user, row = add_user_and_wallet(session, "dora", "0x" + "2" * 40)
        ids = (user.id, row.id)

    def connection_of_one_write(cloid: str) -> Any:
        with direct_transaction(engine, wait_for_flush=True) as connection:
            connection.run(INSERT, _order(ids, cloid))
            return connection._connection

    first = connection_of_one_write("0x" + "1" * 32)
    assert connection_of_one_write("0x" + "2" * 32) is first
    with pytest.raises(IntegrityError):
        connection_of_one_write("0x" + "2" * 32)  # rolled back, the connection kept
    assert connection_of_one_write("0x" + "3" * 32) is first

    first.invalidate()
    second = connection_of_one_write("0x" + "4" * 32)
    assert second is not first

    with direct_transaction(engine, wait_for_flush=True) as outer:
        outer.run(INSERT, _order(ids, "0x" + "5" * 32))
        assert outer._connection is second
        # (SQLite would make a second writer wait for this one; a nested transaction that only
        # reads shows which connection it was given: not the kept one, busy with `outer`.)
        with direct_transaction(engine, wait_for_flush=True) as inner:
            assert inner._connection is not second
    with make_session_factory(engine)() as session:
        count = session.scalar(text("SELECT count(*) FROM orders"))
    assert count == 5

    engine.dispose()
    assert second.closed
