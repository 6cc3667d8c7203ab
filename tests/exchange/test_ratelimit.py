"""The shared weighted token bucket (Hyperliquid: 1200 weight per minute per IP)."""

from __future__ import annotations

import threading

import pytest

from hyperdesk.exchange.errors import ErrorCode, RateLimited
from hyperdesk.exchange.ratelimit import (
    WeightedRateLimiter,
    exchange_weight,
    info_items_weight,
    info_weight,
)


class FakeClock:
    """Monotonic seconds that move only when a waiter 'sleeps' (no real waiting)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, cond: threading.Condition, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def test_weights_follow_the_protocol():
    assert exchange_weight(1) == 1
    assert exchange_weight(39) == 1
    assert exchange_weight(40) == 2
    assert exchange_weight(79) == 2
    assert info_weight("l2Book") == 2
    assert info_weight("allMids") == 2
    assert info_weight("orderStatus") == 2
    assert info_weight("userRole") == 60
    assert info_weight("meta") == 20
    assert info_items_weight("userFillsByTime", 45) == 2
    assert info_items_weight("candleSnapshot", 130) == 2


def test_full_bucket_allows_a_minute_of_budget_then_refuses_without_waiting():
    clock = FakeClock()
    limiter = WeightedRateLimiter(1200, 60, clock=clock, wait=clock.wait)
    for _ in range(600):
        limiter.acquire(2, timeout=0)
    with pytest.raises(RateLimited) as info:
        limiter.acquire(2, timeout=0)
    assert info.value.code is ErrorCode.RATE_LIMITED
    assert info.value.detail["retry_after_seconds"] == pytest.approx(0.1)
    assert clock.waits == []


def test_acquire_waits_for_refill_when_the_deadline_allows():
    clock = FakeClock()
    limiter = WeightedRateLimiter(1200, 60, clock=clock, wait=clock.wait)  # 20 per second
    limiter.acquire(1200, timeout=0)
    limiter.acquire(20, timeout=5)
    assert sum(clock.waits) == pytest.approx(1.0)


def test_acquire_fails_fast_when_the_refill_would_miss_the_deadline():
    clock = FakeClock()
    limiter = WeightedRateLimiter(1200, 60, clock=clock, wait=clock.wait)
    limiter.acquire(1200)
    with pytest.raises(RateLimited):
        limiter.acquire(100, timeout=1)  # needs 5 s
    assert clock.waits == []


def test_refill_never_exceeds_capacity():
    clock = FakeClock()
    limiter = WeightedRateLimiter(100, 10, clock=clock, wait=clock.wait)
    clock.now += 3600
    assert limiter.available == 100


def test_penalty_after_a_429_makes_everyone_back_off():
    clock = FakeClock()
    limiter = WeightedRateLimiter(1200, 60, clock=clock, wait=clock.wait)
    limiter.penalize(2.0)
    assert not limiter.try_acquire(1)
    clock.now += 2.05
    assert limiter.try_acquire(1)


def test_charge_after_the_fact_can_go_negative():
    clock = FakeClock()
    limiter = WeightedRateLimiter(10, 10, clock=clock, wait=clock.wait)
    limiter.charge(15)
    assert limiter.available == pytest.approx(-5)


def test_weights_must_be_positive_and_fit():
    limiter = WeightedRateLimiter(10, 10)
    with pytest.raises(ValueError, match="positive"):
        limiter.acquire(0)
    with pytest.raises(ValueError, match="capacity"):
        limiter.acquire(11)


def test_concurrent_acquires_never_overspend():
    limiter = WeightedRateLimiter(1000, 3600)  # refill negligible during the test
    granted = []
    lock = threading.Lock()

    def worker() -> None:
        while True:
            try:
                limiter.acquire(1, timeout=0)
            except RateLimited:
                return
            with lock:
                granted.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert 1000 <= len(granted) <= 1002  # a token or two may refill during the run


def test_a_blocked_waiter_is_released_by_refill():
    limiter = WeightedRateLimiter(10, 0.1)  # 100 per second, real clock
    limiter.acquire(10)
    done = threading.Event()

    def waiter() -> None:
        limiter.acquire(5, timeout=5)
        done.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    assert done.wait(5)
    thread.join(5)
