"""Fills are recorded exactly once and attributed by the cloid that placed them."""

from __future__ import annotations

import threading
from decimal import Decimal

from sqlalchemy import select

from hyperdesk.exchange.models import Fill as WireFill
from hyperdesk.persistence.database import make_session_factory, transaction
from hyperdesk.persistence.models import Bot, Fill
from hyperdesk.trading.cloids import bot_id_of, is_ours, new_cloid
from hyperdesk.trading.fills import FillRecorder
from tests.fixtures.database import add_user_and_wallet

ACCOUNT = "0x" + "ab" * 20


def _setup(sessions):
    with transaction(sessions) as session:
        user, wallet = add_user_and_wallet(session, "alice", ACCOUNT)
        bot = Bot(user_id=user.id, wallet_id=wallet.id, name="grid", code="", capital=Decimal(100))
        session.add(bot)
        session.flush()
        return user.id, wallet.id, bot.id


def _fill(tid: int, cloid: str | None = None, size: str = "0.1") -> WireFill:
    return WireFill(
        account=ACCOUNT,
        coin="ETH",
        side="buy",
        price=Decimal("3000.5"),
        size=Decimal(size),
        time_ms=1_700_000_000_000 + tid,
        tid=tid,
        oid=tid * 10,
        cloid=cloid,
        fee=Decimal("0.13"),
        fee_token="USDC",
        closed_pnl=Decimal(0),
        hash="0x" + "c" * 64,
        direction="Open Long",
        start_position=Decimal(0),
        crossed=True,
    )


def test_cloids_say_who_placed_the_order():
    assert bot_id_of(new_cloid(42)) == 42
    assert bot_id_of(new_cloid()) is None
    assert is_ours(new_cloid())
    assert not is_ours("0x" + "0" * 32)
    assert bot_id_of(None) is None
    assert len({new_cloid(7) for _ in range(100)}) == 100


def test_replays_snapshots_and_backfills_record_each_fill_once(db_engine):
    sessions = make_session_factory(db_engine)
    _setup(sessions)
    recorder = FillRecorder(sessions)
    first = recorder.record(ACCOUNT, [_fill(1), _fill(2)])
    assert [r.fill.tid for r in first] == [1, 2]
    assert recorder.record(ACCOUNT, [_fill(2), _fill(1)]) == []  # a snapshot replay
    assert [r.fill.tid for r in recorder.record(ACCOUNT, [_fill(2), _fill(3)])] == [3]
    with sessions() as session:
        assert sorted(session.scalars(select(Fill.tid))) == [1, 2, 3]
    assert recorder.last_fill_time_ms(ACCOUNT) == 1_700_000_000_003


def test_fills_are_attributed_to_their_bot_manual_trading_or_outside(db_engine):
    sessions = make_session_factory(db_engine)
    _, wallet_id, bot_id = _setup(sessions)
    recorded = FillRecorder(sessions).record(
        ACCOUNT,
        [_fill(1, new_cloid(bot_id)), _fill(2, new_cloid()), _fill(3), _fill(4, new_cloid(999))],
    )
    by_tid = {r.fill.tid: (r.source, r.bot_id, r.wallet_id) for r in recorded}
    assert by_tid == {
        1: ("bot", bot_id, wallet_id),
        2: ("manual", None, wallet_id),
        3: ("external", None, wallet_id),
        4: ("manual", None, wallet_id),  # a cloid naming a bot that does not exist is not trusted
    }


def test_fills_of_an_account_nobody_keeps_are_ignored(db_engine):
    sessions = make_session_factory(db_engine)
    _setup(sessions)
    stranger = _fill(1)
    object.__setattr__(stranger, "account", "0x" + "99" * 20)
    assert FillRecorder(sessions).record("0x" + "99" * 20, [stranger]) == []


def test_concurrent_paths_recording_the_same_fills_store_them_once(db_engine):
    sessions = make_session_factory(db_engine)
    _setup(sessions)
    recorder = FillRecorder(sessions)
    fills = [_fill(tid) for tid in range(1, 21)]
    results: list[int] = []
    errors: list[BaseException] = []

    def record() -> None:
        try:
            results.append(len(recorder.record(ACCOUNT, fills)))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sum(results) == 20
    with sessions() as session:
        assert len(session.scalars(select(Fill.tid)).all()) == 20
