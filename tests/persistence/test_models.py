from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hyperdesk.persistence.database import make_session_factory, transaction
from hyperdesk.persistence.models import Fill, User
from tests.fixtures.database import add_user_and_wallet


def _fill(user, wallet, tid, price="12345.678901234567890123"):
    return Fill(
        user_id=user.id,
        wallet_id=wallet.id,
        source="manual",
        account_address=wallet.account_address,
        tid=tid,
        oid=7,
        coin="BTC",
        side="buy",
        price=Decimal(price),
        size=Decimal("0.00001"),
        fee=Decimal("0.000055"),
        closed_pnl=Decimal(0),
        start_position=Decimal(0),
        direction="Open Long",
        crossed=True,
        hash="0x" + "a" * 64,
        time_ms=1_700_000_000_000,
    )


def test_money_round_trips_as_exact_decimal(db_engine):
    sessions = make_session_factory(db_engine)
    with transaction(sessions) as session:
        user, wallet = add_user_and_wallet(session)
        session.add(_fill(user, wallet, tid=1, price="98765.123456789012345678"))
    with sessions() as session:
        price = session.scalar(select(Fill.price))
    assert isinstance(price, Decimal)
    assert price == Decimal("98765.123456789012345678")


def test_a_fill_is_stored_once_per_account_and_tid(db_engine):
    sessions = make_session_factory(db_engine)
    with transaction(sessions) as session:
        user, wallet = add_user_and_wallet(session)
        session.add(_fill(user, wallet, tid=42))
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        session.add(_fill(user, wallet, tid=42))
    with sessions() as session:
        assert len(session.scalars(select(Fill)).all()) == 1


def test_naive_datetimes_are_refused(db_engine):
    from datetime import datetime

    sessions = make_session_factory(db_engine)
    with pytest.raises(Exception, match="naive"), transaction(sessions) as session:
        session.add(User(username="dave", password_hash="x", created_at=datetime(2026, 1, 1)))
