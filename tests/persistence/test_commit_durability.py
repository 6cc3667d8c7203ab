"""The order path's commits: which wait for PostgreSQL's WAL flush, and that the choice stays
inside its own transaction."""

from __future__ import annotations

from sqlalchemy import text

from hyperdesk.persistence.database import make_engine, make_unflushed_engine
from hyperdesk.persistence.direct import DirectStatement, direct_transaction

SHOW = DirectStatement(text("SHOW synchronous_commit"))


def test_a_transaction_waits_for_the_flush_only_when_asked_and_only_itself(postgres_url):
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            default = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
        assert default == "on"
        for wait, expected in ((True, "on"), (False, "off")):
            with direct_transaction(engine, wait_for_flush=wait) as connection:
                assert connection.run(SHOW, {}) == expected
        with engine.connect() as connection:  # the pooled connection is back to the default
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    finally:
        engine.dispose()


def test_an_unflushed_engine_commits_each_write_at_once_without_waiting_for_the_flush(
    postgres_url,
):
    engine = make_engine(postgres_url)
    unflushed = make_unflushed_engine(engine)
    try:
        assert unflushed is not engine
        with direct_transaction(unflushed, wait_for_flush=False) as connection:
            assert connection.run(SHOW, {}) == "off"
            connection.run(DirectStatement(text("CREATE TEMPORARY TABLE probe (v integer)")), {})
            connection.run(DirectStatement(text("DROP TABLE probe")), {})
            same = DirectStatement(text("SELECT now() = statement_timestamp()"))
            assert connection.run(same, {}) is True  # every statement is its own transaction
        with engine.connect() as connection:  # the main pool still waits for the flush
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    finally:
        unflushed.dispose()
        engine.dispose()


def test_sqlite_has_one_engine_for_both(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    try:
        assert make_unflushed_engine(engine) is engine
    finally:
        engine.dispose()
