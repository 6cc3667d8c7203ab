"""A fill counts as seen only once it is recorded: a failed recording is retried, and a restart
resumes from a high-water mark that never moved past a fill that was not stored.

The database failures are real (the driver's error on the fills insert, see `db_faults`); the
fills come from the paper exchange over the real websocket, traded by the unmodified SDK.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pykka
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hyperdesk.actors.market_stream import MarketStreamActor
from hyperdesk.http.app import create_app
from hyperdesk.persistence.database import make_session_factory, transaction
from hyperdesk.persistence.models import Fill
from hyperdesk.runtime import Runtime
from hyperdesk.trading.fills import FillRecorder
from tests.actors.test_market_stream import FAST, FakeInfo, raw_fill
from tests.exchange.test_ws_client import FakeHyperliquidWs
from tests.fixtures.app import import_funded_key, register_and_login
from tests.fixtures.database import add_user_and_wallet
from tests.helpers import wait_until
from tests.trading.db_faults import DatabaseFault


def _recorded(services) -> list[int]:
    with services.sessions() as session:
        return list(session.scalars(select(Fill.tid)))


def _server_tids(paper_server, address: str) -> set[int]:
    return {int(f["tid"]) for f in paper_server.info().user_fills(address)}


def _follow_external_account(client, user, paper_server):
    """An account traded by an outside SDK script: we learn of its fills only by the stream."""
    key, wallet = import_funded_key(client, user, paper_server, label="script")
    wait_until(
        lambda: (
            client.get(f"/api/wallets/{wallet['id']}/account", headers=user.headers).json()[
                "stream_mode"
            ]
            == "websocket"
        ),
        message="wallet streamed",
    )
    return key, paper_server.sdk_exchange(key)


def test_a_fill_whose_recording_fails_once_is_recorded_after_the_retry(
    client, alice, runtime, services, paper_server
):
    key, sdk = _follow_external_account(client, alice, paper_server)
    with DatabaseFault(runtime.engine, "INSERT", "fills", times=1) as fault:
        assert sdk.market_open("ETH", True, 0.1)["status"] == "ok"
        expected = _server_tids(paper_server, key.address)
        assert expected
        wait_until(lambda: set(_recorded(services)) == expected, message="fill recorded on retry")
        assert fault.failures == 1
    assert sorted(_recorded(services)) == sorted(expected)  # once


def test_a_fill_that_could_not_be_recorded_is_recorded_after_a_restart_despite_later_fills(
    settings_factory, paper_server
):
    """Fill 1 cannot be stored until the server stops; fill 2, two minutes later, can be. The
    restart must fetch fill 1 again: from the high-water mark, not from the newest stored fill
    minus a minute."""
    first = Runtime(settings_factory())
    services = first.start()
    with TestClient(create_app(services)) as client:
        alice = register_and_login(client, "alice")
        key, sdk = _follow_external_account(client, alice, paper_server)
        assert sdk.market_open("ETH", True, 0.1)["status"] == "ok"
        wait_until(lambda: len(_recorded(services)) == 1, message="fill 0 recorded")

        paper_server.advance(seconds=1)
        poisoned_time = paper_server.clock.now_ms()
        with DatabaseFault(
            first.engine, "INSERT", "fills", when=lambda row: row.get("time_ms") == poisoned_time
        ) as fault:
            assert sdk.market_open("ETH", True, 0.1)["status"] == "ok"
            wait_until(lambda: fault.failures >= 1, message="fill 1 refused")
            paper_server.advance(seconds=120)
            assert sdk.market_open("ETH", False, 0.1)["status"] == "ok"
            later = max(_server_tids(paper_server, key.address))
            # The stream has fill 2: stored (if offered alone) or refused with fill 1.
            wait_until(
                lambda: later in _recorded(services) or fault.failures >= 2,
                message="fill 2 handled",
            )
            first.stop()
    expected = _server_tids(paper_server, key.address)
    assert len(expected) == 3
    assert set(_recorded(services)) != expected  # fill 1 really was lost by the first run

    second = Runtime(settings_factory())
    services = second.start()
    try:
        tids = _recorded(services)
        assert set(tids) == expected  # before serving
        assert Counter(tids).most_common(1)[0][1] == 1  # each once
    finally:
        second.stop()


# --- the stream's high-water mark, against a protocol double and a real database ------------

ACCOUNT = "0x" + "ab" * 20


@pytest.fixture
def fake_ws() -> Iterator[FakeHyperliquidWs]:
    server = FakeHyperliquidWs()
    yield server
    pykka.ActorRegistry.stop_all()  # before the server goes, so nobody reconnects to nothing
    server.close()


@pytest.fixture
def recorder(db_engine) -> FillRecorder:
    sessions = make_session_factory(db_engine)
    with transaction(sessions) as session:
        add_user_and_wallet(session, "alice", ACCOUNT)
    return FillRecorder(sessions)


def _push(fake_ws, *fills) -> None:
    fake_ws.broadcast({"channel": "userFills", "data": {"user": ACCOUNT, "fills": list(fills)}})


def test_the_high_water_mark_waits_for_a_refused_fill_and_moves_once_it_is_stored(
    fake_ws, recorder, db_engine
):
    stream = MarketStreamActor.start(
        fake_ws.base_url, FakeInfo(), fills_sink=recorder.record,
        fills_stored_through=recorder.advance_cursor, poll_interval=60,
        sink_retry_base=0.05, sink_retry_cap=0.2, **FAST,
    ).proxy()  # fmt: skip
    stream.track_user(ACCOUNT, priority=1).get(timeout=5)
    wait_until(lambda: f"userFills:{ACCOUNT}" in stream.status().get(timeout=5)["acked"])
    _push(fake_ws, raw_fill(1, 40_000))
    wait_until(lambda: recorder.cursor_ms(ACCOUNT) == 40_000, message="mark at fill 1")

    with DatabaseFault(db_engine, "INSERT", "fills") as fault:
        _push(fake_ws, raw_fill(2, 45_000))
        wait_until(lambda: fault.failures >= 1)
        _push(fake_ws, raw_fill(3, 46_000), raw_fill(4, 46_000))
        wait_until(lambda: fault.failures >= 3, message="retried with the later fills")
        assert recorder.cursor_ms(ACCOUNT) == 40_000  # never past the refused fill 2
        assert recorder.last_fill_time_ms(ACCOUNT) == 40_000
    wait_until(lambda: recorder.cursor_ms(ACCOUNT) == 46_000, message="mark after the retry")
    with recorder._sessions() as session:
        rows = list(session.scalars(select(Fill.tid).order_by(Fill.tid)))
    assert rows == [1, 2, 3, 4]
