"""An order's result is stored off the request's path; a server killed before storing it loses
nothing: the order row written before sending is settled by its cloid when the server restarts.

The app runs as a real OS process (``python main.py``) against this test's paper exchange. The
moment the paper exchange receives the order — after the app committed the order's row, before the
exchange answers — the test takes the database's write lock, so the app can hear the answer but
cannot store it. The client gets its answer, the app is killed with SIGKILL, the lock is released:
the row still says ``pending``. The restarted app asks the exchange by cloid before serving.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from hyperdesk.persistence.models import Order
from tests.fixtures.paper import PaperHandle
from tests.helpers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


class App:
    """``python main.py`` on this test's paper exchange and database."""

    def __init__(self, data_dir: Path, database_url: str, exchange_url: str) -> None:
        self.base_url = f"http://127.0.0.1:{free_port()}"
        self.process = subprocess.Popen(
            [sys.executable, "main.py"],
            cwd=ROOT,
            env={
                "PATH": os.environ.get("PATH", ""),
                "HYPERDESK_PORT": self.base_url.rsplit(":", 1)[1],
                "HYPERDESK_DATA_DIR": str(data_dir),
                "HYPERDESK_DATABASE_URL": database_url,
                "HYPERDESK_EXCHANGE_URL": exchange_url,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._healthy, timeout=90, message="python main.py health")

    def _healthy(self) -> bool:
        assert self.process.poll() is None, "main.py exited"
        try:
            return requests.get(self.base_url + "/api/health", timeout=2).ok
        except requests.ConnectionError:
            return False

    def call(self, method: str, path: str, token: str | None = None, **body: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = requests.request(
            method, self.base_url + path, json=body or None, headers=headers, timeout=20
        )
        assert response.status_code < 300, response.text
        return response.json()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


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
    app = App(data_dir, database_url, paper_server.base_url)
    try:
        app.call("POST", "/api/auth/register", username="alice", password=PASSWORD)
        token = app.call("POST", "/api/auth/login", username="alice", password=PASSWORD)
        token = token["access_token"]
        wallet = app.call("POST", "/api/wallets", token, label="main")
        app.call("POST", f"/api/wallets/{wallet['id']}/faucet", token, amount="100000")
        price = str(int(paper_server.exchange.mid("ETH") * Decimal("0.8")))
        lock = LockOnOrder(paper_server, database_url)
        try:
            placed = app.call("POST", "/api/orders", token, wallet_id=wallet["id"], coin="ETH",
                              side="buy", size="0.1", price=price)  # fmt: skip
            assert placed["status"] == "resting", placed
            app.kill()  # the answer was given; its write is still waiting for the lock
        finally:
            lock.release()
        row = _row(database_url, placed["cloid"])
        assert row is not None, "the order row is written before the order is sent"
        assert (row.status, row.oid) == ("pending", None)  # killed before the result was stored
    finally:
        app.terminate()

    app = App(data_dir, database_url, paper_server.base_url)  # reconciles before serving
    try:
        row = _row(database_url, placed["cloid"])
        assert row is not None
        assert (row.status, row.oid) == ("resting", placed["oid"])
        token = app.call("POST", "/api/auth/login", username="alice", password=PASSWORD)
        listed = app.call("GET", f"/api/orders?wallet_id={wallet['id']}", token["access_token"])
        assert [o["cloid"] for o in listed] == [placed["cloid"]]  # settled, never sent again
    finally:
        app.terminate()
