"""One upstream read serves everyone who asks for the same public data at the same time."""

from __future__ import annotations

import threading

import pytest

from hyperdesk.exchange.errors import ErrorCode, ExchangeRejected, RateLimited
from hyperdesk.trading.single_flight import SingleFlightCache
from tests.helpers import wait_until


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_concurrent_askers_share_one_read():
    cache: SingleFlightCache[str] = SingleFlightCache(follower_wait=10)
    release = threading.Event()
    calls: list[int] = []

    def fetch() -> str:
        calls.append(1)
        assert release.wait(10)
        return "answer"

    answers: list[str] = []
    threads = [
        threading.Thread(target=lambda: answers.append(cache.get("k", fetch, ttl=5)))
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    wait_until(lambda: calls, timeout=5, message="the one read to start")
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert answers == ["answer"] * 20
    assert len(calls) == 1


def test_an_expired_answer_is_served_while_the_budget_refuses_a_refresh():
    clock = Clock()
    cache: SingleFlightCache[str] = SingleFlightCache(follower_wait=1, clock=clock)
    assert cache.get("k", lambda: "old", ttl=2, stale_for=20) == "old"
    clock.now = 3.0

    def shed() -> str:
        raise RateLimited("budget", detail={"retry_after_seconds": 2})

    assert cache.get("k", shed, ttl=2, stale_for=20) == "old"
    clock.now = 30.0  # too old to serve: the refusal reaches the caller
    with pytest.raises(RateLimited):
        cache.get("k", shed, ttl=2, stale_for=20)


def test_lasting_refusals_are_remembered_transient_ones_are_not():
    clock = Clock()
    cache: SingleFlightCache[str] = SingleFlightCache(follower_wait=1, clock=clock)
    calls: list[str] = []

    def unknown() -> str:
        calls.append("unknown")
        raise ExchangeRejected(ErrorCode.VAULT_NOT_FOUND, "no vault")

    for _ in range(3):
        with pytest.raises(ExchangeRejected):
            cache.get("vault", unknown, ttl=10)
    assert calls == ["unknown"]

    def shed() -> str:
        calls.append("shed")
        raise RateLimited("budget")

    for _ in range(2):
        with pytest.raises(RateLimited):
            cache.get("book", shed, ttl=10)
    assert calls == ["unknown", "shed", "shed"]


def test_the_cache_holds_a_bounded_number_of_keys():
    clock = Clock()
    cache: SingleFlightCache[int] = SingleFlightCache(follower_wait=1, max_entries=10, clock=clock)
    for i in range(1000):
        cache.get(("vault", i), lambda i=i: i, ttl=60)
    assert len(cache) == 10
