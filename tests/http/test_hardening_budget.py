"""The shared exchange budget under an anonymous flood, with the real networks' 1200 weight a minute.

The app is served by a real uvicorn on a loopback port, against this test's paper exchange; the
flood is a separate OS process (``tests/http/flood_client.py``) with many threads, bounded in time
and count. A logged-in victim places orders and asks ``/api/auth/me`` before and during the
flood. Before the fix, 60 threads looping on ``/api/staking/validators`` spent the one budget
through the reader pool and filled the server's worker threads: the victim's calls took tens of
seconds, and queued reads went on spending after the flood stopped.
"""

from __future__ import annotations

import json
import queue
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from fastapi.testclient import TestClient

from hyperdesk.http.app import create_app
from hyperdesk.runtime import Runtime
from hyperdesk.services import Services
from hyperdesk.settings import Settings
from tests.fixtures.app import PASSWORD, register_and_login
from tests.helpers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
REAL_WEIGHT_PER_MINUTE = 1200
FLOOD_SECONDS = 6.0
VICTIM_TIMEOUT = 30.0  # per call; the old code needed longer than this under the flood
SAMPLES = 5


@dataclass
class Served:
    base_url: str
    services: Services


@pytest.fixture
def served(settings_factory: Callable[..., Settings]) -> Iterator[Served]:
    """The app as production runs it (Runtime + uvicorn), with Hyperliquid's real budget."""
    runtime = Runtime(settings_factory(exchange_weight_per_minute=REAL_WEIGHT_PER_MINUTE))
    services = runtime.start()
    port = free_port()
    config = uvicorn.Config(
        create_app(services),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-under-test", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=30, message="uvicorn to start")
        yield Served(f"http://127.0.0.1:{port}", services)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        runtime.stop()


class Victim:
    """A logged-in user with a funded wallet, timing each call."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.http = requests.Session()
        credentials = {"username": "victim", "password": PASSWORD}
        assert self.http.post(f"{self.base}/api/auth/register", json=credentials).status_code == 201
        token = self.http.post(f"{self.base}/api/auth/login", json=credentials).json()
        self.http.headers["Authorization"] = f"Bearer {token['access_token']}"
        wallet = self.http.post(f"{self.base}/api/wallets", json={"label": "main"})
        assert wallet.status_code == 201, wallet.text
        self.wallet_id = wallet.json()["id"]
        funded = self.http.post(
            f"{self.base}/api/wallets/{self.wallet_id}/faucet", json={"amount": "100000"}
        )
        assert funded.status_code == 200, funded.text

    def _timed(self, method: str, path: str, **kwargs: Any) -> float:
        started = time.monotonic()
        try:
            response = self.http.request(method, self.base + path, timeout=VICTIM_TIMEOUT, **kwargs)
        except requests.Timeout:
            return float("inf")
        elapsed = time.monotonic() - started
        assert response.status_code == 200, (path, response.status_code, response.text)
        return elapsed

    def me(self) -> float:
        return self._timed("GET", "/api/auth/me")

    def order(self) -> float:
        """A limit buy far below the market: it rests, costing the exchange budget weight 1."""
        body = {
            "wallet_id": self.wallet_id,
            "coin": "ETH",
            "side": "buy",
            "type": "limit",
            "size": "0.01",
            "price": "3000",
        }
        return self._timed("POST", "/api/orders", json=body)


class Flood:
    """The flood process; its stdout is read on a thread so waiting never blocks on a pipe."""

    def __init__(self, base_url: str, paths: list[str], *args: str) -> None:
        command = [sys.executable, "-m", "tests.http.flood_client", base_url, *paths, *args]
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.seen: list[str] = []

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())

    def _drain(self) -> list[str]:
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except queue.Empty:
                return self.seen

    def wait_started(self) -> None:
        wait_until(lambda: "started" in self._drain(), timeout=30, message="the flood to start")

    def summary(self) -> dict[str, Any]:
        self.process.wait(timeout=FLOOD_SECONDS + 60)
        self._reader.join(timeout=10)
        for line in reversed(self._drain()):
            if line.startswith("{"):
                return json.loads(line)
        raise AssertionError(f"the flood printed no summary: {self.seen}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def _median(samples: list[float]) -> float:
    return statistics.median(samples)


def _bound(unloaded: float, slack: float = 0.25) -> float:
    """ "Within a small multiple of the unloaded figure": five times it, plus a little for a
    shared two-core machine (the flood runs on it too). The old code took tens of seconds."""
    return 5 * unloaded + slack


def test_a_flood_of_anonymous_market_reads_leaves_a_users_orders_fast(served: Served) -> None:
    victim = Victim(served.base_url)
    victim.order(), victim.me()  # warm: metadata, the signer, the database
    unloaded_orders = [victim.order() for _ in range(SAMPLES)]
    unloaded_me = [victim.me() for _ in range(SAMPLES)]

    flood = Flood(
        served.base_url,
        ["/api/staking/validators"],
        "--threads",
        "60",
        "--seconds",
        str(FLOOD_SECONDS),
    )
    try:
        flood.wait_started()
        flooded_orders, flooded_me = [], []
        for _ in range(SAMPLES):
            flooded_orders.append(victim.order())
            flooded_me.append(victim.me())
        still_flooding = flood.process.poll() is None
        summary = flood.summary()
    finally:
        flood.kill()

    report = (
        f"unloaded orders {unloaded_orders}, flooded orders {flooded_orders}; "
        f"unloaded me {unloaded_me}, flooded me {flooded_me}; flood {summary}"
    )
    print(report)  # shown with -s: the figures behind the bounds
    assert still_flooding, "the victim's calls outlasted the flood: " + report
    assert _median(flooded_orders) <= _bound(_median(unloaded_orders)), report
    assert _median(flooded_me) <= _bound(_median(unloaded_me)), report
    assert max(flooded_orders + flooded_me) <= _bound(max(unloaded_orders + unloaded_me), 1.0), (
        report
    )
    # The flood was refused politely, not queued: 429 with Retry-After, no errors, no stalls.
    refused = summary["statuses"].get("429", 0)
    assert refused > 0, report
    assert summary["retry_after"] == refused, report
    assert set(summary["statuses"]) <= {"200", "429"}, report
    assert summary["slowest"] < 5.0, report

    # Nothing queued keeps spending once the flood has stopped: the budget refills.
    limiter = served.services.exchange.rate_limiter
    after = limiter.available
    wait_until(
        lambda: limiter.available >= min(limiter.capacity, after + 30),
        timeout=10,
        message=f"the budget to refill after the flood (was {after:.0f})",
    )


# -- request budgets, caches and shedding, one at a time ----------------------------------------


@pytest.fixture
def app_with(settings_factory: Callable[..., Settings]) -> Iterator[Callable[..., Any]]:
    """``app_with(**settings) -> (TestClient, Services)``: the app with these settings."""
    runtimes: list[Runtime] = []
    clients: list[TestClient] = []

    def make(**overrides: Any) -> tuple[TestClient, Services]:
        runtime = Runtime(settings_factory(**overrides))
        runtimes.append(runtime)
        services = runtime.start()
        client = TestClient(create_app(services))
        clients.append(client)
        return client.__enter__(), services

    try:
        yield make
    finally:
        for client in clients:
            client.__exit__(None, None, None)
        for runtime in runtimes:
            runtime.stop()


def _refused(response: Any) -> int:
    """The Retry-After of a 429 in the standard error shape (fails on anything else)."""
    assert response.status_code == 429, response.text
    assert response.json()["detail"]["code"] == "RATE_LIMITED"
    assert response.json()["detail"]["message"]
    retry_after = int(response.headers["Retry-After"])
    assert retry_after >= 1
    return retry_after


def _until_refused(call: Callable[[], Any], limit: int = 50) -> tuple[int, Any]:
    for granted in range(limit):
        response = call()
        if response.status_code == 429:
            return granted, response
        assert response.status_code == 200, response.text
    raise AssertionError(f"still granted after {limit} requests")


def test_an_anonymous_client_gets_its_own_budget_and_a_logged_in_user_is_not_charged_to_it(
    app_with,
):
    client, _services = app_with(
        requests_per_ip_burst=8, requests_per_ip_per_second=0.01, request_refusal_delay_seconds=0
    )
    alice = register_and_login(client, "alice")  # two anonymous requests
    granted, refusal = _until_refused(lambda: client.get("/api/health"))
    assert granted == 6
    _refused(refusal)
    assert client.get("/api/auth/me", headers=alice.headers).status_code == 200
    # A forged or expired token is anonymous: it does not reach a user's budget.
    forged = {"Authorization": "Bearer " + alice.token[:-4] + "AAAA"}
    _refused(client.get("/api/auth/me", headers=forged))


def test_a_user_over_their_budget_is_refused_and_another_user_is_not(app_with):
    client, _services = app_with(
        requests_per_user_burst=5,
        requests_per_user_per_second=0.01,
        request_refusal_delay_seconds=0,
    )
    alice = register_and_login(client, "alice")
    bob = register_and_login(client, "bob")
    granted, refusal = _until_refused(lambda: client.get("/api/auth/me", headers=alice.headers))
    assert granted == 5
    _refused(refusal)
    assert client.get("/api/auth/me", headers=bob.headers).status_code == 200


def test_wallet_verification_weighs_on_a_small_budget_of_its_own(app_with):
    client, _services = app_with(
        exchange_weight_per_minute=REAL_WEIGHT_PER_MINUTE,
        heavy_requests_per_user_burst=3,
        heavy_requests_per_user_per_minute=0.1,
        request_refusal_delay_seconds=0,
    )
    alice = register_and_login(client, "alice")
    agent_of = "0x" + "ab" * 20  # an agent wallet naming some account: verify asks userRole
    created = client.post(
        "/api/wallets",
        json={"label": "agent", "private_key": "0x" + "11" * 32, "account_address": agent_of},
        headers=alice.headers,
    )
    assert created.status_code == 201, created.text
    verify = f"/api/wallets/{created.json()['id']}/verify"
    granted, refusal = _until_refused(lambda: client.post(verify, headers=alice.headers))
    assert granted == 2
    _refused(refusal)
    assert client.get("/api/auth/me", headers=alice.headers).status_code == 200


def test_public_market_data_costs_about_one_exchange_read_however_many_ask(app_with):
    client, services = app_with(
        exchange_weight_per_minute=REAL_WEIGHT_PER_MINUTE, requests_per_ip_burst=10_000
    )
    limiter = services.exchange.rate_limiter
    vault = services.known_vaults[0]
    paths = [
        "/api/markets",
        "/api/markets/ETH/book",
        "/api/markets/ETH/trades",
        "/api/markets/ETH/candles",
        "/api/vaults",
        f"/api/vaults/{vault}",
        "/api/staking/validators",
    ]
    before = limiter.available
    for _ in range(30):
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (path, response.text)
    spent = before - limiter.available
    # One read of each is about 150 weight; asking 30 times each without a cache was ~4000.
    assert spent < 300, spent


def test_a_cache_miss_with_the_read_budget_spent_is_a_prompt_429_and_orders_still_go(app_with):
    client, services = app_with(exchange_weight_per_minute=REAL_WEIGHT_PER_MINUTE)
    alice = register_and_login(client, "alice")
    wallet = client.post("/api/wallets", json={"label": "main"}, headers=alice.headers).json()
    assert (
        client.post(
            f"/api/wallets/{wallet['id']}/faucet", json={"amount": "100000"}, headers=alice.headers
        ).status_code
        == 200
    )
    limiter = services.exchange.rate_limiter
    limiter.charge(int(limiter.available) - limiter.write_reserve + 200)  # reads: 10 s away
    started = time.monotonic()
    _refused(client.get("/api/staking/validators"))
    assert time.monotonic() - started < 5  # shed, not queued
    order = client.post(
        "/api/orders",
        json={
            "wallet_id": wallet["id"],
            "coin": "ETH",
            "side": "buy",
            "type": "limit",
            "size": "0.01",
            "price": "3000",
        },
        headers=alice.headers,
    )
    assert order.status_code == 200, order.text
    assert order.json()["status"] == "resting"
