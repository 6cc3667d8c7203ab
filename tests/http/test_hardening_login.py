"""Login hardening over HTTP: no lock-out of a chosen user, real clients behind a trusted proxy,
per-source limits, and a hard bound on password hashes computed at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

import hyperdesk.accounts.passwords as passwords
from hyperdesk.http.app import create_app
from hyperdesk.runtime import Runtime
from hyperdesk.services import Services
from hyperdesk.settings import Settings
from tests.fixtures.app import PASSWORD
from tests.helpers import wait_until

ATTACKER = "203.0.113.5"
OWNER = "198.51.100.7"
PROXY = "10.9.0.2"
WRONG = {"username": "alice", "password": "not the password"}
RIGHT = {"username": "alice", "password": PASSWORD}


@pytest.fixture
def desk(settings_factory: Callable[..., Settings]) -> Iterator[Callable[..., Services]]:
    """Start the real runtime with these settings overrides; stopped at the end."""
    runtimes: list[Runtime] = []

    def start(**overrides: object) -> Services:
        runtime = Runtime(settings_factory(**overrides))
        runtimes.append(runtime)
        return runtime.start()

    yield start
    for runtime in runtimes:
        runtime.stop()


@contextmanager
def connect(services: Services, peer: str) -> Iterator[TestClient]:
    """A client whose TCP peer address, as the app sees it, is `peer`."""
    with TestClient(create_app(services), client=(peer, 40000)) as client:
        yield client


def _register_alice(client: TestClient) -> None:
    response = client.post("/api/auth/register", json=RIGHT)
    assert response.status_code == 201, response.text


def _code(response: Any) -> str:
    return response.json()["detail"]["code"]


# -- finding 2: nobody can lock a chosen user out ----------------------------------------------


def test_ten_wrong_passwords_from_one_ip_leave_the_right_password_working_from_another(desk):
    services = desk()
    with connect(services, ATTACKER) as attacker, connect(services, OWNER) as owner:
        _register_alice(owner)
        for _ in range(10):
            assert attacker.post("/api/auth/login", json=WRONG).status_code == 401
        response = owner.post("/api/auth/login", json=RIGHT)
        assert response.status_code == 200, response.text
        # the guessing source itself stays locked out, even with the right password
        refused = attacker.post("/api/auth/login", json=RIGHT)
        assert refused.status_code == 429
        assert _code(refused) == "LOGIN_THROTTLED"
        assert int(refused.headers["retry-after"]) > 0


def test_behind_a_trusted_proxy_each_forwarded_client_is_throttled_on_its_own(desk):
    services = desk(trusted_proxies=("10.9.0.0/24",))
    with connect(services, PROXY) as proxy:
        _register_alice(proxy)
        for _ in range(10):
            response = proxy.post(
                "/api/auth/login", json=WRONG, headers={"X-Forwarded-For": ATTACKER}
            )
            assert response.status_code == 401
        response = proxy.post("/api/auth/login", json=RIGHT, headers={"X-Forwarded-For": OWNER})
        assert response.status_code == 200, response.text


def test_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_is_ignored(desk):
    services = desk(trusted_proxies=("10.9.0.0/24",))
    with connect(services, ATTACKER) as attacker:
        _register_alice(attacker)
        for n in range(10):  # a fresh forged address every time
            response = attacker.post(
                "/api/auth/login", json=WRONG, headers={"X-Forwarded-For": f"192.0.2.{n}"}
            )
            assert response.status_code == 401
        refused = attacker.post(
            "/api/auth/login", json=RIGHT, headers={"X-Forwarded-For": "192.0.2.99"}
        )
        assert refused.status_code == 429
        assert _code(refused) == "LOGIN_THROTTLED"


def test_registrations_are_limited_per_real_client_behind_the_proxy(desk):
    services = desk(trusted_proxies=("10.9.0.0/24",), registrations_per_hour=2)
    with connect(services, PROXY) as proxy:
        for n in range(2):
            body = {"username": f"user{n}", "password": PASSWORD}
            response = proxy.post(
                "/api/auth/register", json=body, headers={"X-Forwarded-For": ATTACKER}
            )
            assert response.status_code == 201
        refused = proxy.post(
            "/api/auth/register",
            json={"username": "onemore", "password": PASSWORD},
            headers={"X-Forwarded-For": ATTACKER},
        )
        assert refused.status_code == 429
        response = proxy.post("/api/auth/register", json=RIGHT, headers={"X-Forwarded-For": OWNER})
        assert response.status_code == 201, response.text


def test_one_source_guessing_many_usernames_is_stopped_and_others_are_not(desk):
    services = desk(login_failures_per_ip=5)
    with connect(services, ATTACKER) as attacker, connect(services, OWNER) as owner:
        _register_alice(owner)
        for n in range(5):
            body = {"username": f"guess{n}", "password": PASSWORD}
            assert attacker.post("/api/auth/login", json=body).status_code == 401
        refused = attacker.post(
            "/api/auth/login", json={"username": "guess9", "password": "x" * 10}
        )
        assert refused.status_code == 429
        assert owner.post("/api/auth/login", json=RIGHT).status_code == 200


# -- finding 6: logins cannot exhaust memory and threads ---------------------------------------


def test_successful_logins_are_rate_limited_per_source_too(desk):
    services = desk(login_requests_per_minute=3)
    with connect(services, ATTACKER) as attacker, connect(services, OWNER) as owner:
        _register_alice(attacker)
        for _ in range(3):
            assert attacker.post("/api/auth/login", json=RIGHT).status_code == 200
        refused = attacker.post("/api/auth/login", json=RIGHT)
        assert refused.status_code == 429
        assert _code(refused) == "RATE_LIMITED"
        assert int(refused.headers["retry-after"]) > 0
        assert owner.post("/api/auth/login", json=RIGHT).status_code == 200


class CountingHasher:
    """Stands in for passlib's context: counts hashes in progress and holds each one until
    released (or its deadline passes), so concurrency is observed, not timed."""

    def __init__(self, real: Any, *, hold_seconds: float) -> None:
        self._real = real
        self._hold_seconds = hold_seconds
        self.release = threading.Event()
        self.in_flight = 0
        self.peak = 0
        self._lock = threading.Lock()

    def _run(self, work: Callable[[], Any]) -> Any:
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            self.release.wait(timeout=self._hold_seconds)
            return work()
        finally:
            with self._lock:
                self.in_flight -= 1

    def hash(self, password: str) -> str:
        return self._run(lambda: self._real.hash(password))

    def verify_and_update(self, password: str, stored: str) -> tuple[bool, str | None]:
        return self._run(lambda: self._real.verify_and_update(password, stored))


def _waiting_for_a_slot(services: Services) -> int:
    gate = getattr(services.accounts, "hash_gate", None)
    return gate.waiting if gate is not None else 0


def test_concurrent_logins_never_hash_more_passwords_at_once_than_the_bound(desk, monkeypatch):
    services = desk(password_hash_slots=2, password_hash_queue=10, password_hash_wait_seconds=60)
    logins = 6
    with connect(services, OWNER) as client:
        _register_alice(client)
        hasher = CountingHasher(passwords._context, hold_seconds=30)
        monkeypatch.setattr(passwords, "_context", hasher)
        statuses: list[int] = []

        def login() -> None:
            statuses.append(client.post("/api/auth/login", json=RIGHT).status_code)

        threads = [threading.Thread(target=login) for _ in range(logins)]
        for thread in threads:
            thread.start()
        try:
            # Either more than the bound got in (the fault), or the bound is full and every other
            # login is queued at the gate.
            wait_until(
                lambda: (
                    hasher.peak > 2
                    or (hasher.in_flight == 2 and _waiting_for_a_slot(services) == logins - 2)
                ),
                timeout=60,
                message="every login is hashing or queued",
            )
        finally:
            hasher.release.set()
            for thread in threads:
                thread.join(timeout=60)
    assert hasher.peak == 2
    assert statuses == [200] * logins


def test_when_hashing_is_at_capacity_a_login_gets_503_with_retry_after(desk, monkeypatch):
    services = desk(password_hash_slots=1, password_hash_queue=0)
    with connect(services, OWNER) as owner, connect(services, ATTACKER) as other:
        _register_alice(owner)
        hasher = CountingHasher(passwords._context, hold_seconds=10)
        monkeypatch.setattr(passwords, "_context", hasher)
        first: list[int] = []
        thread = threading.Thread(
            target=lambda: first.append(owner.post("/api/auth/login", json=RIGHT).status_code)
        )
        thread.start()
        try:
            wait_until(lambda: hasher.in_flight == 1, timeout=30, message="first login hashing")
            busy = other.post("/api/auth/login", json=RIGHT)
        finally:
            hasher.release.set()
            thread.join(timeout=30)
    assert busy.status_code == 503, busy.text
    assert _code(busy) == "SERVER_BUSY"
    assert int(busy.headers["retry-after"]) >= 1
    assert hasher.peak == 1
    assert first == [200]


def test_new_hashes_use_the_documented_argon2_parameters(desk):
    services = desk()
    with connect(services, OWNER) as client:
        _register_alice(client)
    from sqlalchemy import select

    from hyperdesk.persistence.models import User

    with services.sessions() as session:
        stored = session.scalars(select(User.password_hash)).one()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
