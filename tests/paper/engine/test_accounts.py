"""Margin, transfers, agents, vaults, staking, events and determinism."""

from decimal import Decimal

from hyperdesk.paper.clock import ManualClock
from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.exchange import PaperExchange
from tests.paper.engine.conftest import ALICE, BOB, ETH, Desk, config_with

AGENT = "0x" + "c3" * 20
HLP = "0xa15099a30bbf2e68942d6f4c43d70d04faeab0a0"
VALIDATOR = "0x5ac99df645f3414876c816caa18b2d234024b487"


def _buy_one_eth_at_3500(desk: Desk) -> None:
    desk.order(BOB, ETH, False, "3500", "1")
    assert desk.order(ALICE, ETH, True, "3500", "1", tif="Ioc")["filled"]["avgPx"] == "3500.0"


def test_cross_position_numbers_after_a_price_move(desk: Desk):
    _buy_one_eth_at_3500(desk)
    desk.ex.set_price("ETH", Decimal(3600))
    # The mark is the median of (oracle 3600, median(bid 3599.6, ask 3600.4, last trade 3500),
    # the 30 s EMA of that median, still 3500): 3599.6, not the mid.
    assert desk.ex.mark("ETH") == Decimal("3599.6")
    state = desk.state(ALICE)
    pos = state["assetPositions"][0]["position"]
    assert pos["entryPx"] == "3500.0"
    assert pos["unrealizedPnl"] == "99.6"
    assert pos["positionValue"] == "3599.6"
    assert pos["marginUsed"] == "179.98"  # 20x default cross
    assert pos["leverage"] == {"type": "cross", "value": 20}
    assert pos["liquidationPx"] is None  # fully collateralised
    assert state["marginSummary"]["accountValue"] == "100098.025"  # 100000 - 1.575 fee + 99.6
    assert state["marginSummary"]["totalRawUsd"] == "96498.425"
    assert state["crossMaintenanceMarginUsed"] == "71.992"
    assert state["withdrawable"] == "99918.045"


def test_isolated_position_liquidation_price(desk: Desk):
    leverage = {"type": "updateLeverage", "asset": ETH, "isCross": False, "leverage": 10}
    assert desk.act(ALICE, leverage)["status"] == "ok"
    _buy_one_eth_at_3500(desk)
    desk.ex.set_price("ETH", Decimal(3600))
    pos = desk.position(ALICE, "ETH")
    assert pos["leverage"] == {"type": "isolated", "value": 10, "rawUsd": "-3150.0"}
    assert pos["marginUsed"] == "449.6"  # 350 margin + 99.6 PnL at the mark 3599.6
    assert pos["returnOnEquity"] == "0.28457143"
    assert pos["liquidationPx"] == "3214.28571429"
    add = {"type": "updateIsolatedMargin", "asset": ETH, "isBuy": True, "ntli": 50_000_000}
    assert desk.act(ALICE, add)["status"] == "ok"
    assert desk.position(ALICE, "ETH")["marginUsed"] == "499.6"


def test_leverage_limits_and_insufficient_margin(desk: Desk):
    too_high = {"type": "updateLeverage", "asset": ETH, "isCross": True, "leverage": 26}
    assert desk.act(ALICE, too_high)["status"] == "err"
    small = "0x" + "d4" * 20
    desk.ex.faucet(small, Decimal(100))
    assert desk.order(small, ETH, True, "3490", "0.6")["error"].startswith("Insufficient margin")
    assert (
        desk.act(small, {"type": "updateLeverage", "asset": ETH, "isCross": True, "leverage": 25})[
            "status"
        ]
        == "ok"
    )
    assert "resting" in desk.order(small, ETH, True, "3490", "0.6")
    assert desk.order(small, ETH, True, "3490", "0.6")["error"].startswith("Insufficient margin")


def test_closing_realises_pnl_without_the_fee(desk: Desk):
    _buy_one_eth_at_3500(desk)
    desk.ex.set_price("ETH", Decimal(3600))
    desk.order(BOB, ETH, True, "3600", "1")
    desk.order(ALICE, ETH, False, "3600", "1", tif="Ioc")
    close = desk.info(type="userFills", user=ALICE)[0]
    assert close["closedPnl"] == "100.0"
    assert close["dir"] == "Close Long"
    assert close["fee"] == "1.62"


def test_usd_send_and_class_transfer_errors_change_nothing(desk: Desk):
    send = {"type": "usdSend", "destination": "0x" + "e5" * 20, "amount": "200000", "time": 1}
    assert desk.act(ALICE, send) == {
        "status": "err",
        "response": "Insufficient balance for token transfer.",
    }
    assert desk.state(ALICE)["withdrawable"] == "100000.0"
    assert desk.ex.resolve_signer("0x" + "e5" * 20) is None
    send["amount"] = "10"
    assert desk.act(ALICE, send)["status"] == "ok"
    assert desk.ex.resolve_signer("0x" + "e5" * 20) == "0x" + "e5" * 20


def test_agent_acts_for_master_but_cannot_move_funds(desk: Desk):
    assert desk.ex.resolve_signer(AGENT) is None
    approve = {
        "type": "approveAgent",
        "agentAddress": AGENT.upper().replace("0X", "0x"),
        "agentName": "bot",
        "nonce": 1,
    }
    assert desk.act(ALICE, approve)["status"] == "ok"
    assert desk.ex.resolve_signer(AGENT) == ALICE
    assert desk.ex.is_agent(AGENT)
    assert desk.info(type="extraAgents", user=ALICE) == [
        {"name": "bot", "address": AGENT, "validUntil": None}
    ]
    assert desk.info(type="userRole", user=AGENT) == {"role": "agent", "data": {"user": ALICE}}
    response = desk.act(
        ALICE,
        {
            "type": "order",
            "orders": [
                {
                    "a": ETH,
                    "b": True,
                    "p": "3400",
                    "s": "0.1",
                    "r": False,
                    "t": {"limit": {"tif": "Gtc"}},
                }
            ],
            "grouping": "na",
        },
        signer=AGENT,
    )
    assert "resting" in response["response"]["data"]["statuses"][0]
    for action in (
        {"type": "withdraw3", "destination": AGENT, "amount": "10", "time": 1},
        {"type": "usdSend", "destination": AGENT, "amount": "10", "time": 1},
        {"type": "vaultTransfer", "vaultAddress": HLP, "isDeposit": True, "usd": 10_000_000},
    ):
        assert desk.act(ALICE, action, signer=AGENT)["status"] == "err"
    assert desk.state(ALICE)["withdrawable"] == "100000.0"


def test_vault_deposit_lockup_and_withdraw():
    desk = Desk(config_with(vault_lockup_s=60))
    desk.ex.faucet(ALICE, Decimal(1000))
    deposit = {"type": "vaultTransfer", "vaultAddress": HLP, "isDeposit": True, "usd": 100_000_000}
    assert desk.act(ALICE, dict(deposit, usd=1_000_000))["status"] == "err"  # below the minimum
    assert desk.act(ALICE, deposit)["status"] == "ok"
    assert desk.state(ALICE)["withdrawable"] == "900.0"
    [equity] = desk.info(type="userVaultEquities", user=ALICE)
    assert equity == {
        "vaultAddress": HLP,
        "equity": "100.0",
        "lockedUntilTimestamp": desk.clock.now_ms() + 60_000,
    }
    details = desk.info(type="vaultDetails", vaultAddress=HLP, user=ALICE)
    assert details["followerState"]["vaultEquity"] == "100.0"
    assert details["followers"][0]["user"] == "Leader"
    withdraw = dict(deposit, isDeposit=False, usd=50_000_000)
    refused = desk.act(ALICE, withdraw)
    assert refused["status"] == "err"
    assert "lock-up" in refused["response"]
    assert desk.state(ALICE)["withdrawable"] == "900.0"
    desk.clock.advance(seconds=61)
    desk.ex.tick()
    assert desk.act(ALICE, withdraw)["status"] == "ok"
    # volatility 0 leaves only the strategy's drift: a few micro-dollars of profit in 61 s
    assert abs(Decimal(desk.state(ALICE)["withdrawable"]) - 950) < Decimal("0.01")


def test_vault_equity_moves_with_its_strategy():
    desk = Desk(PaperConfig(candle_history_minutes=0))
    desk.ex.faucet(ALICE, Decimal(1000))
    desk.act(
        ALICE, {"type": "vaultTransfer", "vaultAddress": HLP, "isDeposit": True, "usd": 100_000_000}
    )
    desk.clock.advance(seconds=3600)
    desk.ex.tick()
    [equity] = desk.info(type="userVaultEquities", user=ALICE)
    assert equity["equity"] != "100.0"


def test_staking_deposit_delegate_lockup_and_undelegate():
    desk = Desk(config_with(staking_delegation_lockup_s=30, staking_withdrawal_delay_s=100))
    desk.ex.faucet(ALICE, Decimal(0), hype=Decimal(10))
    assert desk.act(ALICE, {"type": "cDeposit", "wei": 5 * 10**8, "nonce": 1})["status"] == "ok"
    delegate = {
        "type": "tokenDelegate",
        "validator": VALIDATOR,
        "wei": 3 * 10**8,
        "isUndelegate": False,
        "nonce": 2,
    }
    assert desk.act(ALICE, delegate)["status"] == "ok"
    assert desk.info(type="delegations", user=ALICE) == [
        {
            "validator": VALIDATOR,
            "amount": "3.0",
            "lockedUntilTimestamp": desk.clock.now_ms() + 30_000,
        }
    ]
    assert desk.info(type="delegatorSummary", user=ALICE) == {
        "delegated": "3.0",
        "undelegated": "2.0",
        "totalPendingWithdrawal": "0.0",
        "nPendingWithdrawals": 0,
    }
    undelegate = dict(delegate, isUndelegate=True)
    assert desk.act(ALICE, undelegate)["status"] == "err"
    assert desk.info(type="delegatorSummary", user=ALICE)["delegated"] == "3.0"
    desk.clock.advance(seconds=31)
    assert desk.act(ALICE, undelegate)["status"] == "ok"
    assert desk.act(ALICE, {"type": "cWithdraw", "wei": 5 * 10**8, "nonce": 3})["status"] == "ok"
    assert desk.info(type="delegatorSummary", user=ALICE)["nPendingWithdrawals"] == 1
    desk.clock.advance(seconds=101)
    desk.ex.tick()
    balances = desk.info(type="spotClearinghouseState", user=ALICE)["balances"]
    assert {"coin": "HYPE", "total": "10.0"}.items() <= balances[0].items()
    validators = desk.info(type="validatorSummaries")
    assert {v["validator"] for v in validators} >= {VALIDATOR}


def test_events_carry_the_routing_keys_the_sdk_uses(desk: Desk):
    desk.order(BOB, ETH, False, "3500", "1")
    desk.order(ALICE, ETH, True, "3500", "1", tif="Ioc")
    desk.clock.advance(seconds=1)
    desk.ex.tick()
    keys = {(e.channel, e.key) for e in desk.events}
    assert ("allMids", None) in keys
    assert {("l2Book", "ETH"), ("trades", "ETH"), ("userFills", ALICE), ("user", ALICE)} <= keys
    assert ("orderUpdates", BOB) in keys
    assert ("candle", "ETH:1m") in keys
    fills = next(e for e in desk.events if e.channel == "userFills" and e.key == ALICE)
    assert fills.data["user"] == ALICE
    assert fills.data["fills"]
    candle = next(e for e in desk.events if e.channel == "candle" and e.key == "ETH:1m")
    assert candle.data["s"] == "ETH"
    assert candle.data["i"] == "1m"
    bbo = next(e for e in desk.events if e.channel == "bbo")
    assert bbo.data["coin"] == bbo.key
    assert len(bbo.data["bbo"]) == 2


def test_listener_errors_are_swallowed(desk: Desk):
    def broken(event):
        raise RuntimeError("boom")

    desk.ex.add_listener(broken)
    desk.ex.tick()
    assert desk.channel("allMids")


def _run(seed: int) -> list:
    clock = ManualClock()
    ex = PaperExchange(PaperConfig(seed=seed, candle_history_minutes=10), clock)
    mids = []
    for _ in range(5):
        clock.advance(seconds=30)
        ex.tick()
        mids.append(ex.info({"type": "allMids"}))
    return mids


def test_same_seed_same_prices_and_different_seed_differs():
    assert _run(7) == _run(7)
    assert _run(7) != _run(8)


def test_info_shapes_the_sdk_needs_at_startup(desk: Desk):
    spot = desk.info(type="spotMeta")
    indices = {t["index"] for t in spot["tokens"]}
    assert all(set(u["tokens"]) <= indices for u in spot["universe"])
    assert spot["tokens"][0]["name"] == "USDC"
    assert spot["tokens"][0]["index"] == 0
    names = [u["name"] for u in desk.info(type="meta", dex="")["universe"]]
    mids = desk.info(type="allMids", dex="")
    assert set(names) | {u["name"] for u in spot["universe"]} <= set(mids)
    assert desk.info(type="perpDexs") == [None]
    meta, ctxs = desk.info(type="metaAndAssetCtxs")
    assert len(ctxs) == len(meta["universe"])
    candles = desk.info(
        type="candleSnapshot",
        req={"coin": "BTC", "interval": "1m", "startTime": 0, "endTime": desk.clock.now_ms()},
    )
    assert candles
    assert candles[-1]["s"] == "BTC"
    assert desk.info(type="userRateLimit", user=ALICE)["nRequestsCap"] == 10000


def test_unknown_info_type_raises_info_error(desk: Desk):
    import pytest

    from hyperdesk.paper.exchange import InfoError

    with pytest.raises(InfoError, match="Failed to deserialize the JSON body into the target type"):
        desk.info(type="nope")
    with pytest.raises(InfoError):
        desk.info(type="clearinghouseState")
