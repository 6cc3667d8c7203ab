"""The outbox stores owed bookkeeping writes off the request's path; statements that wait together
are stored in one transaction, and one that cannot be stored holds up no other."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event, text

from hyperdesk.persistence.database import make_engine
from hyperdesk.persistence.direct import DirectStatement
from hyperdesk.trading.outbox import Outbox
from tests.helpers import wait_until

INSERT = DirectStatement(text("INSERT INTO outbox_probe (v) VALUES (:v)"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE outbox_probe (v INTEGER PRIMARY KEY)"))
    try:
        yield engine
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE outbox_probe"))
        engine.dispose()


def _stored(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return sorted(connection.execute(text("SELECT v FROM outbox_probe")).scalars())


def _transactions(engine: Engine) -> list[int]:
    """One entry per connection taken from the pool: the outbox takes one per transaction."""
    taken: list[int] = []
    event.listen(engine.pool, "checkout", lambda *_args: taken.append(1))
    return taken


def _held(outbox: Outbox) -> threading.Event:
    """Keep the outbox thread busy until the returned event is set, so writes queue up."""
    release, busy = threading.Event(), threading.Event()

    def hold() -> None:
        busy.set()
        assert release.wait(10)

    outbox.defer("a slow write", hold)
    assert busy.wait(10)
    return release


def test_statements_that_wait_together_are_stored_in_one_transaction(engine):
    outbox = Outbox()
    release = _held(outbox)
    transactions = _transactions(engine)
    for v in range(20):
        outbox.defer_statement(f"probe {v}", engine, INSERT, {"v": v})
    release.set()
    wait_until(lambda: outbox.pending() == 0, message="every write stored")
    taken = len(transactions)
    assert _stored(engine) == list(range(20))
    assert taken == 1
    outbox.stop()


def test_a_statement_that_cannot_be_stored_holds_up_no_other(engine):
    outbox = Outbox(retry_base=60)
    release = _held(outbox)
    outbox.defer_statement("probe 1", engine, INSERT, {"v": 1})
    outbox.defer_statement("probe 1 again", engine, INSERT, {"v": 1})  # duplicate key: refused
    outbox.defer_statement("probe 2", engine, INSERT, {"v": 2})
    release.set()
    wait_until(lambda: _stored(engine) == [1, 2], message="the good writes stored")
    wait_until(lambda: outbox.pending() == 1, message="only the refused one still owed")
    outbox.stop(timeout=1)


def test_a_deferred_statement_lingers_and_takes_those_deferred_meanwhile_along(engine):
    outbox = Outbox(linger=0.3)
    transactions = _transactions(engine)
    for v in range(10):  # well inside the first one's linger
        outbox.defer_statement(f"probe {v}", engine, INSERT, {"v": v})
    wait_until(lambda: outbox.pending() == 0, message="every write stored")
    taken = len(transactions)
    assert _stored(engine) == list(range(10))
    assert taken == 1
    outbox.stop()


def test_a_stop_stores_what_still_lingers(engine):
    outbox = Outbox(linger=60)
    outbox.defer_statement("probe 7", engine, INSERT, {"v": 7})
    outbox.stop(timeout=5)
    assert _stored(engine) == [7]
