"""ExchangeActor: one door, per-signer serialization, reader pool, pykka failure semantics."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pykka
import pytest

from hyperdesk.actors.exchange import ExchangeClient
from hyperdesk.exchange.errors import ExchangeRejected, ExchangeUnavailable
from hyperdesk.exchange.hyperliquid import HyperliquidAPI
from hyperdesk.exchange.models import Market, OrderRequest, OrderResult
from hyperdesk.keystore import ensure_keyring, generate_private_key
from hyperdesk.protocol import rules

D = Decimal
BTC = Market(coin="BTC", asset=0, sz_decimals=5, max_leverage=50)


@pytest.fixture(autouse=True)
def _no_leftover_actors():
    yield
    pykka.ActorRegistry.stop_all(block=True, timeout=10)


# -- an in-memory fake of our own exchange interface (unit tests of the actor only) -----------


class FakeAPI:
    timeout = 1.0
    rate_limit_wait = 0.0
    resolve_attempts = 1
    meta_loaded = True  # market metadata answers from memory

    def mark_write_lane(self) -> None:
        """Signer threads announce themselves; the fake has no budget to order."""

    def __init__(self) -> None:
        self.gates: dict[str, threading.Event] = defaultdict(threading.Event)
        self.started: dict[str, list[str]] = defaultdict(list)
        self.entered = threading.Condition()
        self.active: dict[str, int] = defaultdict(int)
        self.max_active: dict[str, int] = defaultdict(int)
        self.read_failures = 0
        self.read_calls = 0
        self.forgotten: list[str] = []
        self.closed = False

    def market(self, coin):
        return BTC if coin == "BTC" else None

    def mid(self, coin):
        return D(60000)

    def place_order(self, wallet, request):
        signer = wallet.address
        with self.entered:
            self.active[signer] += 1
            self.max_active[signer] = max(self.max_active[signer], self.active[signer])
            self.started[signer].append(request.cloid)
            self.entered.notify_all()
        try:
            assert self.gates[signer].wait(10), "test never released the gate"
        finally:
            with self.entered:
                self.active[signer] -= 1
        return OrderResult(status="resting", cloid=request.cloid, oid=len(self.started[signer]))

    def mids(self):
        self.read_calls += 1
        if self.read_failures:
            self.read_failures -= 1
            raise ExchangeUnavailable()
        return {"BTC": D(60000)}

    def forget_signer(self, address):
        self.forgotten.append(address)

    def close(self):
        self.closed = True


KEYS = {wallet_id: generate_private_key() for wallet_id in range(1, 4)}


def provider(wallet_id: int):
    return KEYS[wallet_id][0], None


def order(cloid=None) -> OrderRequest:
    return OrderRequest(coin="BTC", is_buy=True, size=D("0.001"), price=D(60000), cloid=cloid)


def wait_for(cond: threading.Condition, predicate, timeout=5.0) -> None:
    with cond:
        assert cond.wait_for(predicate, timeout), "condition not met in time"


def test_signed_calls_are_serialized_per_signer_but_parallel_across_signers():
    api = FakeAPI()
    client = ExchangeClient.start(api, provider, timeout=10, readers=1)
    a, b = KEYS[1][1], KEYS[2][1]
    with ThreadPoolExecutor(4) as pool:
        first_a = pool.submit(client.place_order, 1, order())
        second_a = pool.submit(client.place_order, 1, order())
        only_b = pool.submit(client.place_order, 2, order())
        # B runs while A's first order is still in flight: signers do not wait for each other.
        wait_for(api.entered, lambda: len(api.started[a]) == 1 and len(api.started[b]) == 1)
        api.gates[b].set()
        assert only_b.result(5).status == "resting"
        assert len(api.started[a]) == 1  # A's second order waits for A's first
        api.gates[a].set()
        assert first_a.result(5).status == second_a.result(5).status == "resting"
    assert api.max_active[a] == 1
    client.stop()


def test_an_order_whose_ask_times_out_is_unknown_with_its_cloid():
    api = FakeAPI()
    client = ExchangeClient.start(api, provider, timeout=0.2, readers=1)
    cloid = "0x" + "12" * 16
    result = client.place_order(1, order(cloid))
    assert result.status == "unknown"
    assert result.cloid == cloid
    api.gates[KEYS[1][1]].set()
    client.stop()


def test_the_pre_trade_gate_refuses_before_signing():
    api = FakeAPI()
    client = ExchangeClient.start(api, provider, timeout=5, readers=1)
    bad = OrderRequest(coin="BTC", is_buy=True, size=D("0.0000001"), price=D(60000))
    result = client.place_order(1, bad)
    assert result.status == "error"
    assert result.error_code == "LOT_SIZE"
    unknown = client.place_order(1, OrderRequest(coin="X", is_buy=True, size=D(1), price=D(1)))
    assert unknown.error_code == "UNKNOWN_COIN"
    assert api.started == {}
    client.stop()


def test_reads_are_retried_with_backoff_then_succeed():
    api = FakeAPI()
    api.read_failures = 2
    delays: list[float] = []
    client = ExchangeClient.start(
        api, provider, timeout=5, readers=2, read_retries=2, read_backoff=0.1, sleep=delays.append
    )
    assert client.mids() == {"BTC": D(60000)}
    assert delays == [0.1, 0.2]
    api.read_failures = 5
    with pytest.raises(ExchangeUnavailable):
        client.mids()
    client.stop()


def test_key_provider_errors_go_back_to_the_caller_and_the_actor_lives_on():
    def failing(wallet_id):
        raise LookupError(f"no wallet {wallet_id}")

    client = ExchangeClient.start(FakeAPI(), failing, timeout=5, readers=1)
    with pytest.raises(LookupError):
        client.place_order(9, order())
    assert client.actor_ref.is_alive()
    client.stop()


def test_stop_cascades_to_signers_and_readers_and_forgets_keys():
    api = FakeAPI()
    client = ExchangeClient.start(api, provider, timeout=5, readers=2)
    api.gates[KEYS[1][1]].set()
    client.place_order(1, order())
    route = client.route(1)
    readers = client._readers
    client.stop()
    assert not client.actor_ref.is_alive()
    assert not route.signer.actor_ref.is_alive()
    assert not any(r.actor_ref.is_alive() for r in readers)
    assert api.forgotten == [KEYS[1][1]]
    assert api.closed


def test_forget_wallet_stops_its_signer():
    api = FakeAPI()
    client = ExchangeClient.start(api, provider, timeout=5, readers=1)
    route = client.route(1)
    client.forget_wallet(1)
    assert not route.signer.actor_ref.is_alive()
    assert api.forgotten == [KEYS[1][1]]
    client.stop()


# -- against the paper exchange -----------------------------------------------------------------


@pytest.fixture
def desk(paper_server, tmp_path):
    """Wallet keys encrypted at rest, a key provider that decrypts them, an ExchangeClient."""
    keyring = ensure_keyring(tmp_path / "master.json", create=True)
    rows: dict[int, tuple[str, str, str | None]] = {}
    nonces: dict[str, list[int]] = defaultdict(list)
    lock = threading.Lock()

    def record(signer: str, nonce: int, action_type: str) -> None:
        with lock:
            nonces[signer].append(nonce)

    def add_wallet(wallet_id: int, key_hex: str, address: str, account: str | None = None):
        rows[wallet_id] = (
            keyring.encrypt(
                key_hex.encode(), user_id=1, wallet_id=wallet_id, address=address
            ).serialize(),
            address,
            account,
        )

    def key_provider(wallet_id: int):
        column, address, account = rows[wallet_id]
        key = keyring.decrypt(column, user_id=1, wallet_id=wallet_id, address=address)
        return key.decode(), account

    api = HyperliquidAPI(paper_server.base_url, timeout=5, on_signed_action=record)
    client = ExchangeClient.start(api, key_provider, readers=3)

    class Desk:
        pass

    desk = Desk()
    desk.client, desk.api, desk.add_wallet, desk.nonces = client, api, add_wallet, nonces
    yield desk
    client.stop()


def bid(client: ExchangeClient) -> Decimal:
    mid = client.mids()["BTC"]
    return rules.nearest_valid_price(mid * D("0.9"), 5, is_spot=False)


def test_place_cancel_and_modify_through_the_actor(paper_server, desk, caplog):
    caplog.set_level(logging.DEBUG)
    key, address = generate_private_key()
    paper_server.fund(address)
    desk.add_wallet(1, key, address)
    price = bid(desk.client)

    placed = desk.client.place_order(1, OrderRequest("BTC", True, D("0.01"), price))
    assert placed.status == "resting"
    modified = asyncio.run(
        desk.client.modify_order_async(1, placed.oid, OrderRequest("BTC", True, D("0.02"), price))
    )
    assert modified.status == "resting"
    (resting,) = desk.client.open_orders(address)
    assert resting.size == D("0.02")
    assert desk.client.cancel(1, "BTC", resting.oid).ok
    assert desk.client.open_orders(address) == ()

    market = desk.client.place_order(1, OrderRequest("BTC", False, D("0.01"), order_type="market"))
    assert market.status == "filled"
    assert desk.client.account_summary(address).position("BTC").size == D("-0.01")
    assert key not in caplog.text
    assert key[2:] not in caplog.text


def test_agent_wallet_trades_for_its_master_through_the_actor(paper_server, desk):
    master = paper_server.new_wallet()
    _, agent_key = paper_server.sdk_exchange(master).approve_agent("bot")
    from eth_account import Account

    desk.add_wallet(7, agent_key, Account.from_key(agent_key).address.lower(), master.address)
    result = desk.client.place_order(7, OrderRequest("BTC", True, D("0.01"), bid(desk.client)))
    assert result.status == "resting"
    assert [o.cloid for o in desk.client.open_orders(master.address)] == [result.cloid]
    route = desk.client.route(7)
    assert route.account_address == master.address.lower() != route.signer_address


def test_many_signers_trading_at_once_all_succeed_with_increasing_nonces(paper_server, desk):
    wallets = {}
    for wallet_id in range(1, 9):
        key, address = generate_private_key()
        paper_server.fund(address)
        desk.add_wallet(wallet_id, key, address)
        wallets[wallet_id] = address
    price = bid(desk.client)
    per_wallet = 6
    jobs = [w for w in wallets for _ in range(per_wallet)]
    with ThreadPoolExecutor(16) as pool:
        results = list(
            pool.map(
                lambda w: desk.client.place_order(w, OrderRequest("BTC", True, D("0.001"), price)),
                jobs,
            )
        )
    assert [r.status for r in results] == ["resting"] * len(jobs)
    assert len({r.cloid for r in results}) == len(jobs)
    nonce_tracker = paper_server.server.app.state.core.nonces
    for address in wallets.values():
        sent = desk.nonces[address]
        assert len(sent) == per_wallet
        assert sent == sorted(sent)
        assert len(set(sent)) == len(sent)
        assert set(sent) <= set(nonce_tracker.highest(address))
        assert len(desk.client.open_orders(address)) == per_wallet
    assert desk.client.route(1).signer.actor_ref.is_alive()


def test_exchange_refusal_of_a_signed_action_is_a_typed_error(paper_server, desk):
    key, address = generate_private_key()
    paper_server.fund(address)
    desk.add_wallet(1, key, address)
    with pytest.raises(ExchangeRejected) as info:
        desk.client.cancel(1, "BTC", 123456)
    assert info.value.code == "ORDER_NOT_FOUND"


# -- callers on an event loop: the signer replies to the loop ---------------------------------


def test_an_event_loop_caller_gets_the_answer_and_the_hooks_run_on_the_signer_in_order():
    api = FakeAPI()
    client = ExchangeClient.start(api, provider, timeout=10, readers=1)
    api.gates[KEYS[1][1]].set()
    seen: list[tuple[str, str]] = []

    async def place() -> OrderResult:
        return await client.place_order_async(
            1,
            order(),
            before_send=lambda: seen.append(("before", threading.current_thread().name)),
            on_answer=lambda r: seen.append((r.status, threading.current_thread().name)),
        )

    result = asyncio.run(place())
    assert result.status == "resting"
    assert [step for step, _ in seen] == ["before", "resting"]
    assert {thread for _, thread in seen} == {seen[0][1]}
    assert seen[0][1].startswith("SignerActor")
    client.stop()


def test_a_failing_before_send_sends_nothing_and_reaches_the_caller():
    api = FakeAPI()
    client = ExchangeClient.start(api, provider, timeout=10, readers=1)

    def refuse() -> None:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError, match="database down"):
        asyncio.run(client.place_order_async(1, order(), before_send=refuse))
    assert api.started[KEYS[1][1]] == []
    client.stop()


def test_the_answer_is_booked_even_when_the_loop_caller_gave_up_waiting():
    api = FakeAPI()
    client = ExchangeClient.start(api, provider, timeout=0.2, readers=1)
    cloid = "0x" + "34" * 16
    booked = threading.Event()
    answers: list[OrderResult] = []

    def book(result: OrderResult) -> None:
        answers.append(result)
        booked.set()

    result = asyncio.run(client.place_order_async(1, order(cloid), on_answer=book))
    assert result.status == "unknown"
    assert result.cloid == cloid
    assert not booked.is_set()
    api.gates[KEYS[1][1]].set()  # the exchange answers after all
    assert booked.wait(5), "the late answer was never booked"
    assert answers[0].status == "resting"
    assert answers[0].cloid == cloid
    client.stop()
