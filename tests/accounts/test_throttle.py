from __future__ import annotations

import pytest

from hyperdesk.accounts.throttle import LoginThrottle
from hyperdesk.errors import TooManyRequests


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _throttle(max_failures: int, window: float, clock: FakeClock, per_source: int = 100):
    return LoginThrottle(
        max_failures=max_failures,
        max_failures_per_source=per_source,
        window_seconds=window,
        clock=clock,
    )


def test_failures_past_the_limit_lock_the_account_for_that_source_until_the_window_passes():
    clock = FakeClock()
    throttle = _throttle(3, 60, clock)
    for _ in range(3):
        throttle.check("1.1.1.1", "alice")
        throttle.record_failure("1.1.1.1", "alice")
    with pytest.raises(TooManyRequests) as refused:
        throttle.check("1.1.1.1", "alice")
    assert refused.value.retry_after > 0
    throttle.check("2.2.2.2", "alice")  # another address is not locked out of the account
    clock.now += 61
    throttle.check("1.1.1.1", "alice")


def test_one_address_guessing_many_accounts_is_stopped():
    throttle = _throttle(100, 60, FakeClock(), per_source=3)
    for name in ("a", "b", "c"):
        throttle.record_failure("9.9.9.9", name)
    with pytest.raises(TooManyRequests):
        throttle.check("9.9.9.9", "d")


def test_the_lockout_grows_with_persistent_failures():
    clock = FakeClock()
    throttle = _throttle(2, 10, clock)
    for _ in range(6):
        throttle.record_failure("1.1.1.1", "alice")
    clock.now += 11  # past one window, but six failures triple the limit: still locked
    with pytest.raises(TooManyRequests):
        throttle.check("1.1.1.1", "alice")


def test_success_clears_the_account_counter_of_that_source():
    throttle = _throttle(2, 60, FakeClock())
    throttle.record_failure("1.1.1.1", "alice")
    throttle.record_success("1.1.1.1", "alice")
    throttle.record_failure("1.1.1.1", "alice")
    throttle.check("1.1.1.1", "alice")


def test_events_past_the_limit_are_refused_until_the_window_slides():
    from hyperdesk.accounts.throttle import EventRateLimit

    clock = FakeClock()
    limit = EventRateLimit(max_events=2, window_seconds=60, clock=clock)
    limit.hit("1.1.1.1")
    limit.hit("1.1.1.1")
    with pytest.raises(TooManyRequests) as refused:
        limit.hit("1.1.1.1")
    assert 0 < refused.value.retry_after <= 61
    limit.hit("2.2.2.2")  # another address is not affected
    clock.now += 61
    limit.hit("1.1.1.1")


def test_failures_that_aged_out_are_forgotten(monkeypatch):
    import hyperdesk.accounts.throttle as throttle_module

    monkeypatch.setattr(throttle_module, "MAX_TRACKED_KEYS", 10)
    clock = FakeClock()
    throttle = _throttle(3, 60, clock)
    for n in range(20):
        throttle.record_failure(f"10.0.0.{n}", f"user{n}")
    clock.now += 61
    throttle.record_failure("10.0.1.1", "fresh")
    assert len(throttle._failures) == 2  # only the fresh ip and account keys remain
