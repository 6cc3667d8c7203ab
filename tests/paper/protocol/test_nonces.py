"""Nonce rules of the paper exchange (protocol reference §6)."""

from __future__ import annotations

import threading

import pytest

from hyperdesk.paper.nonces import DAY_MS, NonceError, NonceTracker

NOW = 1_700_000_000_000
SIGNER = "0x14791697260e4c9a71f18484c9f997b308e59325"


def test_fresh_nonce_is_accepted_and_recorded():
    tracker = NonceTracker()
    tracker.reserve(SIGNER, NOW, NOW)
    assert tracker.highest(SIGNER) == [NOW]


def test_duplicate_nonce_is_rejected_with_hyperliquids_text():
    tracker = NonceTracker()
    tracker.reserve(SIGNER, NOW, NOW)
    with pytest.raises(NonceError, match=f"^Invalid nonce: duplicate nonce {NOW}$"):
        tracker.reserve(SIGNER, NOW, NOW)


def test_nonces_are_per_signer_and_case_insensitive():
    tracker = NonceTracker()
    tracker.reserve(SIGNER, NOW, NOW)
    tracker.reserve("0x" + "1" * 40, NOW, NOW)
    with pytest.raises(NonceError, match="duplicate"):
        tracker.reserve(SIGNER.upper().replace("0X", "0x"), NOW, NOW)


def test_out_of_order_nonces_are_fine_until_the_set_is_full():
    tracker = NonceTracker(set_size=3)
    for nonce in (NOW + 5, NOW + 1, NOW + 3):
        tracker.reserve(SIGNER, nonce, NOW)
    # Full: anything not above the smallest retained nonce is too low.
    with pytest.raises(NonceError, match=rf"^Invalid nonce: nonce too low {NOW} < {NOW + 1}$"):
        tracker.reserve(SIGNER, NOW, NOW)
    tracker.reserve(SIGNER, NOW + 2, NOW)  # above the smallest: accepted, evicts NOW + 1
    assert tracker.highest(SIGNER) == [NOW + 2, NOW + 3, NOW + 5]
    with pytest.raises(NonceError, match="too low"):
        tracker.reserve(SIGNER, NOW + 1, NOW)


def test_nonce_outside_the_time_window_is_rejected():
    tracker = NonceTracker(window_past_ms=2 * DAY_MS, window_future_ms=DAY_MS)
    with pytest.raises(NonceError, match="too far in the past"):
        tracker.reserve(SIGNER, NOW - 2 * DAY_MS, NOW)
    with pytest.raises(NonceError, match="too far in the future"):
        tracker.reserve(SIGNER, NOW + DAY_MS, NOW)
    tracker.reserve(SIGNER, NOW - 2 * DAY_MS + 1, NOW)
    tracker.reserve(SIGNER, NOW + DAY_MS - 1, NOW)


def test_check_records_nothing():
    tracker = NonceTracker()
    tracker.check(SIGNER, NOW, NOW)
    tracker.check(SIGNER, NOW, NOW)
    assert tracker.highest(SIGNER) == []


def test_concurrent_reservations_of_one_nonce_admit_exactly_one():
    tracker = NonceTracker()
    barrier = threading.Barrier(8)
    accepted: list[int] = []

    def attempt() -> None:
        barrier.wait()
        try:
            tracker.reserve(SIGNER, NOW, NOW)
            accepted.append(1)
        except NonceError:
            pass

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert accepted == [1]
