"""Login throttling keyed on sources, never on an account alone; and the bound on hashing."""

from __future__ import annotations

import threading

import pytest

from hyperdesk.accounts.hash_gate import HashGate, HashingBusy
from hyperdesk.accounts.throttle import LoginThrottle, source_key
from hyperdesk.errors import TooManyRequests
from tests.helpers import wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _throttle(clock: FakeClock, *, per_pair: int = 10, per_source: int = 50) -> LoginThrottle:
    return LoginThrottle(
        max_failures=per_pair, max_failures_per_source=per_source, window_seconds=300, clock=clock
    )


def test_ten_failures_from_one_source_lock_that_source_out_of_the_account_only():
    throttle = _throttle(FakeClock())
    for _ in range(10):
        throttle.check("203.0.113.5", "alice")
        throttle.record_failure("203.0.113.5", "alice")
    with pytest.raises(TooManyRequests) as refused:
        throttle.check("203.0.113.5", "alice")
    assert refused.value.code == "LOGIN_THROTTLED"
    throttle.check("198.51.100.7", "alice")  # the owner, elsewhere, can still log in
    throttle.check("203.0.113.5", "bob")  # and the guesser's other accounts are not locked


def test_one_source_guessing_many_usernames_hits_the_per_source_limit():
    throttle = _throttle(FakeClock(), per_source=5)
    for n in range(5):
        throttle.record_failure("203.0.113.5", f"user{n}")
    with pytest.raises(TooManyRequests):
        throttle.check("203.0.113.5", "someone-new")
    throttle.check("198.51.100.7", "someone-new")


def test_a_success_clears_only_its_own_source_for_that_account():
    throttle = _throttle(FakeClock(), per_pair=3)
    for _ in range(3):
        throttle.record_failure("203.0.113.5", "alice")
    throttle.record_success("198.51.100.7", "alice")  # the owner logs in from home
    with pytest.raises(TooManyRequests):
        throttle.check("203.0.113.5", "alice")  # the guesser is still locked out


def test_logging_into_ones_own_account_does_not_reset_the_per_source_budget():
    throttle = _throttle(FakeClock(), per_source=3)
    for n in range(3):
        throttle.record_failure("203.0.113.5", f"victim{n}")
    throttle.record_success("203.0.113.5", "attacker")
    with pytest.raises(TooManyRequests):
        throttle.check("203.0.113.5", "victim9")


def test_a_persistent_guesser_is_locked_out_for_longer():
    clock = FakeClock()
    throttle = _throttle(clock, per_pair=2)
    for _ in range(6):
        throttle.record_failure("203.0.113.5", "alice")
    clock.now += 301  # past one window, but three times the limit: still locked
    with pytest.raises(TooManyRequests):
        throttle.check("203.0.113.5", "alice")
    throttle.check("198.51.100.7", "alice")


def test_usernames_are_counted_case_insensitively():
    throttle = _throttle(FakeClock(), per_pair=2)
    throttle.record_failure("203.0.113.5", "Alice")
    throttle.record_failure("203.0.113.5", "ALICE")
    with pytest.raises(TooManyRequests):
        throttle.check("203.0.113.5", "alice")


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("unknown", "unknown"),
    ],
)
def test_an_ipv6_source_is_its_64_bit_prefix(ip, key):
    assert source_key(ip) == key


# -- the hash gate ---------------------------------------------------------------------------


def _hold_slots(gate: HashGate, count: int) -> tuple[threading.Event, list[threading.Thread]]:
    """`count` threads that each take a slot and keep it until the event is set."""
    release = threading.Event()
    entered = threading.Semaphore(0)

    def hold() -> None:
        with gate.slot():
            entered.release()
            release.wait(timeout=30)

    threads = [threading.Thread(target=hold) for _ in range(count)]
    for thread in threads:
        thread.start()
    for _ in range(count):
        assert entered.acquire(timeout=30)
    return release, threads


def test_when_every_slot_is_held_and_the_queue_is_full_the_next_is_refused_at_once():
    gate = HashGate(slots=2, queue=0, wait_seconds=60)
    release, threads = _hold_slots(gate, 2)
    try:
        with pytest.raises(HashingBusy) as refused, gate.slot():
            pass
        assert refused.value.status == 503
        assert refused.value.retry_after >= 1
        assert refused.value.code == "SERVER_BUSY"
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)
    with gate.slot():  # slots come back once released
        pass


def test_a_queued_request_gets_the_slot_that_comes_free():
    gate = HashGate(slots=1, queue=1, wait_seconds=60)
    release, threads = _hold_slots(gate, 1)
    got_slot = threading.Event()

    def queued() -> None:
        with gate.slot():
            got_slot.set()

    waiter = threading.Thread(target=queued)
    waiter.start()
    wait_until(lambda: gate.waiting == 1, timeout=30, message="the request queues")
    with pytest.raises(HashingBusy), gate.slot():  # the queue (1) is full too
        pass
    release.set()
    waiter.join(timeout=30)
    for thread in threads:
        thread.join(timeout=30)
    assert got_slot.is_set()
    assert gate.waiting == 0


def test_a_request_that_waited_its_time_is_refused():
    gate = HashGate(slots=1, queue=4, wait_seconds=0)
    release, threads = _hold_slots(gate, 1)
    try:
        with pytest.raises(HashingBusy), gate.slot():
            pass
        assert gate.waiting == 0
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)
