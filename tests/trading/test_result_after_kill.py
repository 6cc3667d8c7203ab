"""An order's result is stored off the request's path; a server killed before storing it loses
nothing: the order row written before sending is settled by its cloid when the server restarts.

The app runs as a real OS process (``python main.py``) against this test's paper exchange. The
moment the paper exchange receives the order — after the app committed the order's row, before the
exchange answers — the test takes the database's write lock, so the app can hear the answer but
cannot store it. The client gets its answer, the app is killed with SIGKILL, the lock is released:
the row still says ``pending``. The restarted app asks the exchange by cloid before serving.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from hyperdesk.persistence.models import Order
from tests.fixtures.desk import DeskProcess
from tests.fixtures.paper import PaperHandle

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


@contextmanager
def _write_lock(database_url: str) -> Iterator[None]:
    """Hold the lock every write to ``orders`` needs (reads go on)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")  # the one writer's lock, in WAL mode
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(text("LOCK TABLE orders IN EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


class LockOnOrder:
    """Takes the database's write lock when the paper exchange receives the next order, and keeps
    it until ``release()``: the exchange answers, the app cannot store the answer."""

    def __init__(self, paper: PaperHandle, database_url: str) -> None:
        self._execute = paper.exchange.execute
        self._database_url = database_url
        self._locked = threading.Event()
        self._release = threading.Event()
        self._thread: threading.Thread | None = None
        paper.exchange.execute = self._intercept  # type: ignore[method-assign]

    def _intercept(self, **kwargs: Any) -> dict:
        if kwargs["action"].get("type") == "order" and self._thread is None:
            self._thread = threading.Thread(target=self._hold, daemon=True)
            self._thread.start()
            assert self._locked.wait(timeout=30), "could not lock the database"
        return self._execute(**kwargs)

    def _hold(self) -> None:
        with _write_lock(self._database_url):
            self._locked.set()
            self._release.wait(timeout=120)

    def release(self) -> None:
        self._release.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def _end_the_killed_apps_statements(database_url: str) -> None:
    """PostgreSQL: end the server-side sessions still waiting for the lock on the killed app's
    behalf. The app's writes commit as they run (autocommit, `make_unflushed_engine`), so a
    statement the app sent before it died would otherwise still run once the lock is released;
    that is harmless (it stores the exchange's true answer) but is not the case under test: a
    result that never reached the database."""
    if make_url(database_url).get_backend_name() != "postgresql":
        return
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    " AND pid <> pg_backend_pid()"
                )
            )
    finally:
        engine.dispose()


def _row(database_url: str, cloid: str) -> Order | None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(select(Order).where(Order.cloid == cloid)).first()
            return found  # type: ignore[return-value]
    finally:
        engine.dispose()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_an_order_answered_but_not_stored_when_the_server_is_killed_is_settled_by_cloid(
    database_url: str, data_dir: Path, paper_server: PaperHandle
):
    app = DeskProcess(data_dir, database_url, paper_server.base_url)
    try:
        app.api("POST", "/api/auth/register", username="alice", password=PASSWORD)
        token = app.api("POST", "/api/auth/login", username="alice", password=PASSWORD)
        token = token["access_token"]
        wallet = app.api("POST", "/api/wallets", token, label="main")
        app.api("POST", f"/api/wallets/{wallet['id']}/faucet", token, amount="100000")
        price = str(int(paper_server.exchange.mid("ETH") * Decimal("0.8")))
        lock = LockOnOrder(paper_server, database_url)
        try:
            placed = app.api("POST", "/api/orders", token, wallet_id=wallet["id"], coin="ETH",
                              side="buy", size="0.1", price=price)  # fmt: skip
            assert placed["status"] == "resting", placed
            app.kill()  # the answer was given; its write is still waiting for the lock
            _end_the_killed_apps_statements(database_url)
        finally:
            lock.release()
        row = _row(database_url, placed["cloid"])
        assert row is not None, "the order row is written before the order is sent"
        assert (row.status, row.oid) == ("pending", None)  # killed before the result was stored
    finally:
        app.terminate(check=False)  # killed above; this only cleans up after a failure

    app = DeskProcess(data_dir, database_url, paper_server.base_url)  # reconciles before serving
    try:
        row = _row(database_url, placed["cloid"])
        assert row is not None
        assert (row.status, row.oid) == ("resting", placed["oid"])
        token = app.api("POST", "/api/auth/login", username="alice", password=PASSWORD)
        listed = app.api("GET", f"/api/orders?wallet_id={wallet['id']}", token["access_token"])
        assert [o["cloid"] for o in listed] == [placed["cloid"]]  # settled, never sent again
    finally:
        app.terminate()
