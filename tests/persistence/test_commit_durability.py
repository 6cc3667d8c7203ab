"""The order path's commits: which wait for PostgreSQL's WAL flush, and that the choice stays
inside its own transaction."""

from __future__ import annotations

from hyperdesk.persistence.database import connection_transaction, make_engine


def test_a_transaction_waits_for_the_flush_only_when_asked_and_only_itself(postgres_url):
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            default = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
        assert default == "on"
        for wait, expected in ((True, "on"), (False, "off")):
            with connection_transaction(engine, wait_for_flush=wait) as connection:
                shown = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
                assert shown == expected
        with engine.connect() as connection:  # the pooled connection is back to the default
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    finally:
        engine.dispose()
