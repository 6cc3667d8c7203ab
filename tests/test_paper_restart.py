"""Restart survival of the paper exchange (issue 14, item 0), with real processes and the app.

* ``python -m hyperdesk.paper --state FILE`` as a real OS process, traded with the unmodified SDK
  over loopback, killed with SIGKILL and stopped with SIGTERM, restarted each time: balances,
  positions, open orders and fills are as they were, and a replayed signed action is refused.
* The app's ``Runtime`` with its embedded paper exchange (its own OS process, reached over HTTP
  like any exchange): an order placed through the REST API is still resting on the exchange after
  a restart, and reconciliation leaves it ``resting``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import eth_account
import requests
from fastapi.testclient import TestClient
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from sqlalchemy import select

from hyperdesk.http.app import create_app
from hyperdesk.persistence.models import Order
from hyperdesk.runtime import Runtime
from hyperdesk.settings import Settings
from tests.fixtures.app import register_and_login
from tests.fixtures.desk import DeskProcess
from tests.helpers import free_port, wait_until
from tests.paper.rawsign import l1_envelope, now_ms, order_action

ROOT = Path(__file__).resolve().parents[1]
ETH = 1


class PaperProcess:
    """``python -m hyperdesk.paper`` on a loopback port, as an operator would run it."""

    def __init__(self, state: Path, *extra: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hyperdesk.paper", "--port", str(self.port),
             "--state", str(state), "--log-level", "warning", *extra],
            cwd=ROOT,
            env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        wait_until(self._healthy, timeout=60, message="paper exchange health")

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"paper exchange exited: {self.process.communicate()[0]}")
        try:
            return requests.get(self.base_url + "/_paper/health", timeout=2).ok
        except requests.ConnectionError:
            return False

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=30)

    def terminate(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        output, _ = self.process.communicate(timeout=30)
        assert self.process.returncode == 0, output
        return output


def test_a_burst_of_stop_signals_still_stops_the_exchange_cleanly(tmp_path):
    """A second SIGTERM that arrived while the first one's handler held the stop event's lock
    deadlocked the exchange forever (its state file locked, the next start refused): seen after
    `kill -9` of the app, under load. However many signals come, it stops, saving its state."""
    state = tmp_path / "paper-state.json"
    for _ in range(3):
        paper = PaperProcess(state)
        try:
            for _ in range(200):
                paper.process.send_signal(signal.SIGTERM)
                paper.process.send_signal(signal.SIGINT)
            output, _ = paper.process.communicate(timeout=30)
        finally:
            if paper.process.poll() is None:  # deadlocked: do not leave it holding the state
                paper.process.kill()
                paper.process.communicate(timeout=30)
        assert paper.process.returncode == 0, output
        assert "paper exchange stopped" in output


def _saved_state(path: Path) -> dict[str, Any]:
    """The body of the state file as it is on disk right now."""
    return json.loads(path.read_bytes().split(b"\n", 1)[1])


def _picture(info: Info, address: str) -> dict[str, Any]:
    """What must survive: cash, positions, open orders and fills (mark-independent parts)."""
    state = info.user_state(address)
    return {
        "raw_usd": state["marginSummary"]["totalRawUsd"],
        "positions": [
            (p["position"]["coin"], p["position"]["szi"], p["position"]["entryPx"])
            for p in state["assetPositions"]
        ],
        "open_orders": info.open_orders(address),
        "fills": info.user_fills(address),
    }


def test_the_standalone_exchange_survives_kill_9_and_a_clean_stop(tmp_path):
    state = tmp_path / "paper-state.json"
    wallet = eth_account.Account.create()
    first = PaperProcess(state, "--fund", f"{wallet.address}=100000")
    try:
        sdk = Exchange(wallet, first.base_url, timeout=10)
        assert sdk.market_open("ETH", True, 0.5)["status"] == "ok"
        mid = Decimal(Info(first.base_url, skip_ws=True).all_mids()["ETH"])
        resting_px = str(int(mid * Decimal("0.8")))
        captured = l1_envelope(wallet, order_action(ETH, True, resting_px, "0.1"), nonce=now_ms())
        answer = requests.post(first.base_url + "/exchange", json=captured, timeout=10).json()
        oid = answer["response"]["data"]["statuses"][0]["resting"]["oid"]
        info = Info(first.base_url, skip_ws=True)
        before = _picture(info, wallet.address)
        assert before["positions"]
        assert before["fills"]
        assert before["open_orders"]
        # "Within the last moment": wait until the snapshot on disk has the order, then crash.
        wait_until(
            lambda: oid in _saved_state(state)["open_orders"].get(wallet.address.lower(), []),
            timeout=30,
            message="the resting order in the state file",
        )
    finally:
        first.kill()

    second = PaperProcess(state, "--fund", f"{wallet.address}=100000")
    try:
        info = Info(second.base_url, skip_ws=True)
        assert _picture(info, wallet.address) == before  # and --fund did not pay twice
        replay = requests.post(second.base_url + "/exchange", json=captured, timeout=10).json()
        assert replay["status"] == "err"
        assert replay["response"].startswith("Invalid nonce"), replay
        # Trade once more and stop cleanly right away: the final snapshot has it.
        sdk = Exchange(wallet, second.base_url, timeout=10)
        assert sdk.cancel("ETH", oid)["status"] == "ok"
        assert sdk.market_close("ETH")["status"] == "ok"
        after = _picture(info, wallet.address)
        assert after["open_orders"] == []
        assert after["positions"] == []
    finally:
        second.terminate()

    third = PaperProcess(state)
    try:
        assert _picture(Info(third.base_url, skip_ws=True), wallet.address) == after
    finally:
        third.terminate()
    assert state.stat().st_mode & 0o777 == 0o600


def test_a_damaged_state_file_stops_the_standalone_exchange_with_a_message(tmp_path):
    state = tmp_path / "paper-state.json"
    state.write_text("not a state\n{}")
    process = subprocess.run(
        [sys.executable, "-m", "hyperdesk.paper", "--port", "0", "--state", str(state)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 2
    assert "not a paper exchange state file" in process.stderr
    assert state.read_text() == "not a state\n{}"  # left for the operator, not overwritten


def test_the_apps_embedded_exchange_keeps_orders_and_balances_across_a_restart(
    tmp_path, database_url
):
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, stream_poll_seconds=0.2
    )  # no exchange_url: the embedded paper exchange, as `python main.py` runs it
    key = eth_account.Account.create()
    first = Runtime(settings)
    services = first.start()
    try:
        exchange = _Remote(services.exchange_url)
        exchange.faucet(key.address, 100_000)
        with TestClient(create_app(services)) as client:
            alice = register_and_login(client, "alice")
            wallet = client.post(
                "/api/wallets",
                json={"label": "main", "private_key": key.key.hex()},
                headers=alice.headers,
            ).json()
            price = str(int(exchange.mid("ETH") * Decimal("0.8")))
            placed = client.post(
                "/api/orders",
                json={"wallet_id": wallet["id"], "coin": "ETH", "side": "buy", "size": "0.1",
                      "price": price},
                headers=alice.headers,
            )  # fmt: skip
            assert placed.status_code in (200, 201), placed.text
            resting = placed.json()
            assert resting["status"] == "resting"
        before = exchange.info({"type": "clearinghouseState", "user": key.address})
        orders_before = exchange.info({"type": "openOrders", "user": key.address})
        assert len(orders_before) == 1
    finally:
        first.stop()
    assert (tmp_path / "data" / "paper-state.json").stat().st_mode & 0o777 == 0o600

    second = Runtime(settings)
    services = second.start()  # reconciliation runs in here, against the restored exchange
    try:
        exchange = _Remote(services.exchange_url)
        assert exchange.info({"type": "openOrders", "user": key.address}) == orders_before
        after = exchange.info({"type": "clearinghouseState", "user": key.address})
        assert after["marginSummary"]["totalRawUsd"] == before["marginSummary"]["totalRawUsd"]
        assert Decimal(after["marginSummary"]["accountValue"]) == Decimal(100_000)
        with services.sessions() as session:
            order = session.scalar(select(Order).where(Order.cloid == resting["cloid"]))
        assert order is not None
        assert order.status == "resting"
    finally:
        second.stop()


class _Remote:
    """The embedded exchange as the app sees it: another process, over HTTP."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def faucet(self, address: str, usd: int) -> None:
        body = {"user": address, "usd": str(usd)}
        requests.post(self.base_url + "/faucet", json=body, timeout=10).raise_for_status()

    def mid(self, coin: str) -> Decimal:
        return Decimal(Info(self.base_url, skip_ws=True).all_mids()[coin])

    def info(self, body: dict[str, Any]) -> Any:
        response = requests.post(self.base_url + "/info", json=body, timeout=10)
        response.raise_for_status()
        return response.json()


def _order_status(database_url: str, cloid: str) -> str:
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(Order.status).where(Order.cloid == cloid)).scalar_one()
    finally:
        engine.dispose()


def test_main_py_keeps_the_paper_world_across_kill_9_and_a_clean_stop(tmp_path, database_url):
    data_dir = tmp_path / "data"
    state = data_dir / "paper-state.json"
    key = eth_account.Account.create()
    credentials = {"username": "alice", "password": "correct horse battery"}
    desk = DeskProcess(data_dir, database_url)
    try:
        desk.api("POST", "/api/auth/register", **credentials)
        token = desk.api("POST", "/api/auth/login", **credentials)["access_token"]
        requests.post(desk.paper_url + "/faucet", json={"user": key.address, "usd": "100000"},
                      timeout=10).raise_for_status()  # fmt: skip
        wallet = desk.api("POST", "/api/wallets", token, label="main", private_key=key.key.hex())
        desk.api("POST", "/api/orders", token, wallet_id=wallet["id"], coin="ETH", side="buy",
                 type="market", size="0.5")  # fmt: skip
        mid = Decimal(Info(desk.paper_url, skip_ws=True).all_mids()["ETH"])
        resting = desk.api("POST", "/api/orders", token, wallet_id=wallet["id"], coin="ETH",
                           side="buy", size="0.1", price=str(int(mid * Decimal("0.8"))))  # fmt: skip
        assert resting["status"] == "resting", resting
        before = _picture(Info(desk.paper_url, skip_ws=True), key.address)
        assert before["positions"]
        assert before["fills"]
        assert len(before["open_orders"]) == 1
        wait_until(
            lambda: _saved_state(state)["open_orders"].get(key.address.lower()),
            timeout=30,
            message="the resting order in the state file",
        )
    finally:
        desk.kill()

    desk = DeskProcess(data_dir, database_url)
    try:
        assert _picture(Info(desk.paper_url, skip_ws=True), key.address) == before
        token = desk.api("POST", "/api/auth/login", **credentials)["access_token"]
        listed = desk.api("GET", f"/api/orders?wallet_id={wallet['id']}", token)
        assert [o["cloid"] for o in listed] == [resting["cloid"]]
        assert _order_status(database_url, resting["cloid"]) == "resting"
        second = desk.api("POST", "/api/orders", token, wallet_id=wallet["id"], coin="ETH",
                          side="buy", size="0.1", price=str(int(mid * Decimal("0.7"))))  # fmt: skip
        assert second["status"] == "resting", second
        before = _picture(Info(desk.paper_url, skip_ws=True), key.address)
    finally:
        desk.terminate()  # right away: the clean stop's final snapshot must have `second`

    desk = DeskProcess(data_dir, database_url)
    try:
        assert _picture(Info(desk.paper_url, skip_ws=True), key.address) == before
        for order in (resting, second):
            assert _order_status(database_url, order["cloid"]) == "resting"
    finally:
        desk.terminate()
