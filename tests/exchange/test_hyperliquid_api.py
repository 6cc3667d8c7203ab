"""HyperliquidAPI against the paper exchange: real HTTP, the unmodified SDK underneath."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from hyperdesk.exchange.errors import ErrorCode, ExchangeRejected, OrderNotFound
from hyperdesk.exchange.hyperliquid import HyperliquidAPI, SigningWallet, decimal_to_wire
from hyperdesk.exchange.models import Fill, OrderRequest
from hyperdesk.keystore import generate_private_key
from hyperdesk.protocol import rules
from hyperdesk.protocol.rules import is_cloid
from tests.exchange.lossy_proxy import LossyProxy

D = Decimal


@pytest.fixture
def api(paper_server):
    client = HyperliquidAPI(paper_server.base_url, timeout=5)
    yield client
    client.close()


@pytest.fixture
def wallet(paper_server) -> SigningWallet:
    key, address = generate_private_key()
    paper_server.fund(address, 100_000)
    return SigningWallet(key)


def passive_bid(api: HyperliquidAPI, coin: str = "BTC") -> Decimal:
    market = api.market(coin)
    return rules.nearest_valid_price(api.mid(coin) * D("0.9"), market.sz_decimals, is_spot=False)


def limit(price: Decimal, size: str = "0.01", **kw) -> OrderRequest:
    return OrderRequest(coin="BTC", is_buy=True, size=D(size), price=price, **kw)


# -- unit ------------------------------------------------------------------------------------


def test_numbers_go_on_the_wire_like_the_sdk_sends_them():
    assert decimal_to_wire(D("1100.0")) == "1100"
    assert decimal_to_wire(D("0.20")) == "0.2"
    assert decimal_to_wire(D("1E+3")) == "1000"
    assert decimal_to_wire(D("-0")) == "0"
    assert decimal_to_wire(D("0.00001")) == "0.00001"


def test_network_is_mainnet_only_for_the_exact_mainnet_url():
    assert HyperliquidAPI("https://api.hyperliquid.xyz").is_mainnet
    assert not HyperliquidAPI("https://api.hyperliquid-testnet.xyz").is_mainnet
    assert not HyperliquidAPI("http://127.0.0.1:9").is_mainnet


def test_signing_wallet_never_shows_its_key():
    key, address = generate_private_key()
    wallet = SigningWallet(key, None)
    for text in (repr(wallet), str(wallet)):
        assert key not in text
        assert key[2:] not in text
        assert address in text
    with pytest.raises(ValueError, match="private key") as info:
        SigningWallet("0xdeadbeef-secret")
    assert "secret" not in str(info.value)


def test_fill_parses_the_wire_fill_object():
    raw = {
        "coin": "AVAX", "px": "18.435", "sz": "93.53", "side": "B", "time": 1681222254710,
        "startPosition": "26.86", "dir": "Open Long", "closedPnl": "0.0", "hash": "0xa1",
        "oid": 90542681, "crossed": False, "fee": "0.01", "feeToken": "USDC",
        "builderFee": "0.01", "tid": 118906512037719,
    }  # fmt: skip
    fill = Fill.from_wire("0xABC", raw)
    assert fill.account == "0xabc"
    assert fill.side == "buy"
    assert fill.price == D("18.435")
    assert fill.size == D("93.53")
    assert fill.tid == 118906512037719
    assert fill.cloid is None
    assert fill.start_position == D("26.86")
    assert not fill.crossed


# -- reads -----------------------------------------------------------------------------------


def test_markets_carry_size_decimals_leverage_and_mids(api):
    markets = {m.coin: m for m in api.markets()}
    btc = markets["BTC"]
    assert btc.asset == 0
    assert btc.sz_decimals >= 0
    assert btc.max_leverage > 1
    assert btc.mid is not None
    assert btc.mid > 0
    assert any(m.is_spot for m in markets.values())


def test_book_and_candles(api):
    book = api.l2_book("BTC")
    assert book.bids
    assert book.asks
    assert book.bids[0].price < book.asks[0].price
    now = int(time.time() * 1000)
    candles = api.candles("BTC", "1m", now - 3_600_000, now + 60_000)
    assert all(c.low <= c.close <= c.high for c in candles)


def test_unknown_coin_is_a_typed_error(api):
    with pytest.raises(ExchangeRejected) as info:
        api.l2_book("NOPE")
    assert info.value.code is ErrorCode.UNKNOWN_COIN


def test_faucet_funds_an_account(api):
    _, address = generate_private_key()
    api.faucet(address, D(1234))
    assert api.account_summary(address).account_value == D(1234)


def test_faucet_refuses_real_networks():
    with pytest.raises(ExchangeRejected):
        HyperliquidAPI("https://api.hyperliquid.xyz").faucet("0x" + "1" * 40, D(1))


# -- orders ----------------------------------------------------------------------------------


def test_limit_order_rests_can_be_modified_and_cancelled(api, wallet):
    price = passive_bid(api)
    placed = api.place_order(wallet, limit(price))
    assert placed.status == "resting"
    assert placed.oid is not None
    assert is_cloid(placed.cloid)
    (resting,) = api.open_orders(wallet.address)
    assert resting.oid == placed.oid
    assert resting.cloid == placed.cloid

    modified = api.modify_order(wallet, placed.oid, limit(price, "0.02"))
    assert modified.status == "resting"
    (resting,) = api.open_orders(wallet.address)
    assert resting.size == D("0.02")

    assert api.cancel(wallet, "BTC", resting.oid).ok
    assert api.open_orders(wallet.address) == ()
    with pytest.raises(OrderNotFound):
        api.cancel(wallet, "BTC", resting.oid)


def test_market_order_fills_and_shows_up_in_fills_and_positions(api, wallet):
    start = int(time.time() * 1000) - 60_000
    result = api.place_order(
        wallet, OrderRequest(coin="BTC", is_buy=True, size=D("0.01"), order_type="market")
    )
    assert result.status == "filled"
    assert result.filled_size == D("0.01")
    assert result.avg_price > 0
    fills = api.fills_since(wallet.address, start)
    assert {f.cloid for f in fills} == {result.cloid}
    assert sum(f.size for f in fills) == D("0.01")
    assert api.account_summary(wallet.address).position("BTC").size == D("0.01")


def test_exchange_refusals_are_results_with_stable_codes(api, wallet):
    price = passive_bid(api)
    too_small = api.place_order(wallet, limit(price, "0.00001"))
    assert too_small.status == "error"
    assert too_small.error_code == "MIN_NOTIONAL"
    off_tick = api.place_order(wallet, limit(price + D("0.5")))
    assert off_tick.error_code == "TICK_SIZE"
    unknown = api.place_order(wallet, OrderRequest(coin="NOPE", is_buy=True, size=D(1), price=D(1)))
    assert unknown.error_code == "UNKNOWN_COIN"


def test_unfunded_signer_is_account_not_found(api):
    key, _ = generate_private_key()
    result = api.place_order(SigningWallet(key), limit(passive_bid(api)))
    assert result.status == "error"
    assert result.error_code == "ACCOUNT_NOT_FOUND"


def test_agent_wallet_trades_for_its_master(paper_server, api):
    master = paper_server.new_wallet()
    approval, agent_key = paper_server.sdk_exchange(master).approve_agent("desk")
    assert approval["status"] == "ok"
    agent = SigningWallet(agent_key, master.address)
    assert agent.is_agent
    assert agent.account_address == master.address.lower()

    result = api.place_order(agent, limit(passive_bid(api)))
    assert result.status == "resting"
    assert [o.cloid for o in api.open_orders(master.address)] == [result.cloid]
    assert api.open_orders(agent.address) == ()
    with pytest.raises(ExchangeRejected) as info:
        api.vault_transfer(agent, "0x" + "1" * 40, D(10), is_deposit=True)
    assert info.value.code is ErrorCode.NOT_PERMITTED


def test_update_leverage(api, wallet):
    assert api.update_leverage(wallet, "BTC", 5, is_cross=True).ok
    with pytest.raises(ExchangeRejected):
        api.update_leverage(wallet, "BTC", 10_000)


def test_lost_order_answer_is_resolved_by_cloid_and_not_resent(paper_server, wallet):
    with LossyProxy(paper_server.base_url) as proxy:
        api = HyperliquidAPI(proxy.base_url, timeout=5, sleep=lambda s: None)
        try:
            proxy.lose_next_order_answer = True
            result = api.place_order(wallet, limit(passive_bid(api)))
            assert result.status == "resting"
            assert result.oid is not None
            assert proxy.forwarded_orders == 1  # sent once, never again
            orders = api.open_orders(wallet.address)
            assert [o.cloid for o in orders] == [result.cloid]

            proxy.lose_next_order_answer = True
            market = api.place_order(
                wallet, OrderRequest(coin="BTC", is_buy=True, size=D("0.01"), order_type="market")
            )
            assert market.status == "filled"
            assert market.filled_size == D("0.01")
            assert market.avg_price is not None
            assert proxy.forwarded_orders == 2
        finally:
            api.close()


def test_order_lost_before_the_exchange_is_unknown_with_its_cloid(paper_server, wallet):
    with LossyProxy(paper_server.base_url) as proxy:
        api = HyperliquidAPI(proxy.base_url, timeout=5, resolve_attempts=2, sleep=lambda s: None)
        try:
            proxy.blackhole_next_order = True
            request = limit(passive_bid(api), cloid="0x" + "ab" * 16)
            result = api.place_order(wallet, request)
            assert result.status == "unknown"
            assert result.cloid == request.cloid
            assert proxy.forwarded_orders == 0
            assert api.open_orders(wallet.address) == ()
        finally:
            api.close()


def test_vault_deposit_then_locked_withdrawal(paper_server, api, wallet):
    vault = paper_server.exchange.config.vaults[0].address
    listed = api.vaults([vault])
    assert listed[0].address == vault.lower()
    assert api.vault_transfer(wallet, vault, D(100), is_deposit=True).ok
    (equity,) = api.vault_equities(wallet.address)
    assert equity.equity == D(100)
    assert equity.locked_until_ms
    assert api.vault_details(vault, wallet.address).follower_state.equity == D(100)
    with pytest.raises(ExchangeRejected) as info:
        api.vault_transfer(wallet, vault, D(50), is_deposit=False)
    assert info.value.code is ErrorCode.VAULT_LOCKED


def test_delegation_moves_spot_hype_to_staking_first(paper_server, api, wallet):
    paper_server.fund(wallet.address, 0, hype=50)
    validator = api.validators()[0].validator
    assert api.delegate(wallet, validator, D(10)).ok
    (delegation,) = api.delegations(wallet.address)
    assert delegation.validator == validator
    assert delegation.amount == D(10)
    assert api.staking_summary(wallet.address).delegated == D(10)
    with pytest.raises(ExchangeRejected) as info:
        api.undelegate(wallet, validator, D(5))
    assert info.value.code is ErrorCode.STAKING_LOCKED
