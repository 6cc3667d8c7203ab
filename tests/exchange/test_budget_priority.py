"""Orders go ahead of reads in the one exchange weight budget, and reads are shed, never queued.

Before: every call waited in one first-come queue for weight, so a crowd of reads (anyone can
trigger market reads) made orders wait behind them, and reads queued in the reader pool kept
spending the budget long after the crowd had gone.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import pytest

from hyperdesk.actors.exchange import ExchangeClient
from hyperdesk.exchange.errors import ErrorCode, RateLimited
from hyperdesk.exchange.hyperliquid import HyperliquidAPI, SigningWallet
from hyperdesk.exchange.models import OrderRequest
from hyperdesk.exchange.ratelimit import Priority, WeightedRateLimiter
from hyperdesk.keystore import generate_private_key
from hyperdesk.protocol import rules
from tests.helpers import wait_until

D = Decimal


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


# -- the limiter -------------------------------------------------------------------------------


def test_reads_leave_the_write_reserve_that_writes_may_spend():
    clock = FakeClock()
    limiter = WeightedRateLimiter(1200, 60, write_reserve=0.25, clock=clock, wait=clock.wait)
    for _ in range(45):  # 45 reads of 20 = 900: down to the reserve of 300
        limiter.acquire(20, timeout=0, priority=Priority.READ)
    with pytest.raises(RateLimited) as refused:
        limiter.acquire(2, timeout=0, priority=Priority.READ)
    assert refused.value.code is ErrorCode.RATE_LIMITED
    assert refused.value.detail["retry_after_seconds"] > 0
    for _ in range(300):  # the orders still have their 300
        limiter.acquire(1, timeout=0, priority=Priority.WRITE)
    assert limiter.available == 0
    assert clock.waits == []


def test_a_read_waits_only_as_long_as_it_is_allowed_then_is_shed():
    clock = FakeClock()
    limiter = WeightedRateLimiter(1200, 60, write_reserve=0.25, clock=clock, wait=clock.wait)
    limiter.acquire(1200, timeout=0)
    with pytest.raises(RateLimited):
        limiter.acquire(20, timeout=2.0, priority=Priority.READ)  # needs 300 + 20 tokens: 16 s
    assert clock.waits == []  # refused at once, not after sleeping


def test_a_waiting_write_goes_before_reads_that_could_have_gone():
    limiter = WeightedRateLimiter(100, 1.0, write_reserve=0.0)  # 100 tokens a second
    limiter.acquire(100)
    writer_done = threading.Event()

    def write() -> None:
        limiter.acquire(60, timeout=5, priority=Priority.WRITE)  # waits about 0.6 s
        writer_done.set()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        wait_until(lambda: limiter.writers_waiting == 1, timeout=5, message="the write to wait")
        # Two tokens refill within 0.02 s, but a write is waiting: the read must give way.
        with pytest.raises(RateLimited):
            limiter.acquire(2, timeout=0.1, priority=Priority.READ)
        wait_until(writer_done.is_set, timeout=5, message="the write to get its weight")
    finally:
        thread.join(timeout=10)
    assert limiter.writers_waiting == 0


# -- through the API and the actors, against the paper exchange --------------------------------


@pytest.fixture
def wallet(paper_server) -> SigningWallet:
    key, address = generate_private_key()
    paper_server.fund(address, 100_000)
    return SigningWallet(key)


def test_with_reads_shed_orders_and_their_cloid_lookups_still_go_through(paper_server, wallet):
    limiter = WeightedRateLimiter(1200, 60, write_reserve=0.25)
    api = HyperliquidAPI(paper_server.base_url, timeout=5, rate_limiter=limiter, read_wait=0.2)
    try:
        market = api.market("BTC")
        price = rules.nearest_valid_price(
            api.mid("BTC") * D("0.9"), market.sz_decimals, is_spot=False
        )
        # A crowd of reads spends everything reads may spend...
        limiter.charge(int(limiter.available) - limiter.write_reserve + 50)  # 2.5 s of refill
        with pytest.raises(RateLimited):
            api.l2_book("BTC")
        # ...yet a signer's thread still orders and looks its orders up by cloid.
        outcome: dict[str, object] = {}

        def signer_thread() -> None:
            api.mark_write_lane()
            placed = api.place_order(
                wallet, OrderRequest(coin="BTC", is_buy=True, size=D("0.01"), price=price)
            )
            outcome["placed"] = placed
            outcome["looked_up"] = api.order_status(wallet.address, placed.cloid)

        thread = threading.Thread(target=signer_thread)
        thread.start()
        thread.join(timeout=30)
        assert outcome["placed"].status == "resting"  # type: ignore[attr-defined]
        assert outcome["looked_up"].found  # type: ignore[attr-defined]
        with pytest.raises(RateLimited):  # while reads on other threads are still shed
            api.order_status(wallet.address, outcome["placed"].cloid)  # type: ignore[attr-defined]
    finally:
        api.close()


class BlockingAPI:
    """A minimal HyperliquidAPI stand-in whose ``mids`` read blocks until released."""

    timeout = 1.0
    rate_limit_wait = 0.0
    resolve_attempts = 1
    meta_loaded = True
    rate_limiter = WeightedRateLimiter()

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0
        self.lock = threading.Lock()

    def mark_write_lane(self) -> None:
        """Nothing to mark: this stand-in has no budget lanes."""

    def mids(self) -> dict[str, Decimal]:
        with self.lock:
            self.calls += 1
        assert self.release.wait(10), "the test never released the read"
        return {"BTC": D(1)}

    def close(self) -> None:
        """No sessions to close."""


def test_reads_beyond_the_pending_limit_are_refused_at_once_not_queued():
    api = BlockingAPI()
    client = ExchangeClient.start(
        api,  # type: ignore[arg-type]
        lambda _wallet_id: ("", None),
        timeout=20,
        readers=2,
        max_pending_reads=2,
        read_queue_wait=0.1,
    )
    threads = [threading.Thread(target=client.mids) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        wait_until(lambda: api.calls == 2, timeout=5, message="two reads under way")
        started = time.monotonic()
        with pytest.raises(RateLimited) as refused:
            client.mids()
        assert time.monotonic() - started < 5  # refused, not queued behind the blocked reads
        assert refused.value.detail["retry_after_seconds"] >= 1
        api.release.set()
        for thread in threads:
            thread.join(timeout=10)
        assert client.mids() == {"BTC": D(1)}  # the places are free again
        assert api.calls == 3  # the refused read never reached the exchange
    finally:
        api.release.set()
        client.stop()


def test_a_shed_read_is_not_retried_by_the_reader(paper_server):
    limiter = WeightedRateLimiter(1200, 60, write_reserve=0.5)
    api = HyperliquidAPI(paper_server.base_url, timeout=5, rate_limiter=limiter, read_wait=0.0)
    client = ExchangeClient.start(api, lambda _wallet_id: ("", None), read_backoff=5.0)
    try:
        client.market("BTC")  # metadata loaded
        limiter.charge(int(limiter.available))
        started = time.monotonic()
        with pytest.raises(RateLimited):
            client.l2_book("BTC")
        assert time.monotonic() - started < 4  # a retry would have slept 5 s first
    finally:
        client.stop()
