"""The unmodified official SDK trades on the paper exchange over real HTTP and websockets."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hyperliquid.utils.types import Cloid

from tests.fixtures.paper import PaperHandle, paper_test_config
from tests.helpers import wait_until
from tests.paper.rawsign import c_deposit_envelope


def _mid(paper: PaperHandle, coin: str = "ETH") -> Decimal:
    return Decimal(paper.info().all_mids()[coin])


def _passive_buy_px(paper: PaperHandle, coin: str = "ETH") -> float:
    """A whole-dollar price 10% under the mid: valid tick, never crosses."""
    return float(int(_mid(paper, coin) * Decimal("0.9")))


def _open_oids(paper: PaperHandle, address: str) -> set[int]:
    return {o["oid"] for o in paper.info().open_orders(address)}


def test_limit_order_rests_and_shows_in_open_orders(paper_server, funded_wallet):
    exchange = paper_server.sdk_exchange(funded_wallet)
    px = _passive_buy_px(paper_server)

    result = exchange.order("ETH", True, 0.1, px, {"limit": {"tif": "Gtc"}})

    assert result["status"] == "ok", result
    status = result["response"]["data"]["statuses"][0]
    oid = status["resting"]["oid"]
    orders = paper_server.info().open_orders(funded_wallet.address)
    assert [(o["oid"], o["coin"], o["side"], Decimal(o["limitPx"]), Decimal(o["sz"])) for o in orders] == [
        (oid, "ETH", "B", Decimal(str(px)), Decimal("0.1"))
    ]  # fmt: skip


def test_market_open_fills_and_user_state_shows_position_margin_and_pnl(
    paper_server, funded_wallet
):
    exchange = paper_server.sdk_exchange(funded_wallet)
    info = paper_server.info()

    result = exchange.market_open("ETH", True, 0.5)

    assert result["status"] == "ok", result
    filled = result["response"]["data"]["statuses"][0]["filled"]
    assert Decimal(filled["totalSz"]) == Decimal("0.5")
    state = info.user_state(funded_wallet.address)
    [position] = [p["position"] for p in state["assetPositions"]]
    assert position["coin"] == "ETH"
    assert Decimal(position["szi"]) == Decimal("0.5")
    assert Decimal(position["marginUsed"]) > 0
    assert Decimal(state["marginSummary"]["totalMarginUsed"]) > 0

    # Price up 10%: a long gains.
    paper_server.set_price("ETH", (Decimal(filled["avgPx"]) * Decimal("1.1")).quantize(Decimal(1)))
    paper_server.tick()
    position = info.user_state(funded_wallet.address)["assetPositions"][0]["position"]
    assert Decimal(position["unrealizedPnl"]) > 0

    fills = info.user_fills(funded_wallet.address)
    assert {(f["coin"], f["side"], f["oid"]) for f in fills} == {("ETH", "B", filled["oid"])}
    assert sum(Decimal(f["sz"]) for f in fills) == Decimal("0.5")


def test_cancel_and_cancel_by_cloid_remove_resting_orders(paper_server, funded_wallet):
    exchange = paper_server.sdk_exchange(funded_wallet)
    px = _passive_buy_px(paper_server)
    cloid = Cloid.from_int(7)
    first = exchange.order("ETH", True, 0.1, px, {"limit": {"tif": "Gtc"}})
    second = exchange.order("ETH", True, 0.1, px - 1, {"limit": {"tif": "Gtc"}}, cloid=cloid)
    oid = first["response"]["data"]["statuses"][0]["resting"]["oid"]
    assert len(_open_oids(paper_server, funded_wallet.address)) == 2, second

    cancelled = exchange.cancel("ETH", oid)
    assert cancelled["response"]["data"]["statuses"] == ["success"], cancelled
    by_cloid = exchange.cancel_by_cloid("ETH", cloid)
    assert by_cloid["response"]["data"]["statuses"] == ["success"], by_cloid

    assert _open_oids(paper_server, funded_wallet.address) == set()
    again = exchange.cancel("ETH", oid)
    assert "error" in again["response"]["data"]["statuses"][0]


def test_modify_order_changes_price_and_size(paper_server, funded_wallet):
    exchange = paper_server.sdk_exchange(funded_wallet)
    px = _passive_buy_px(paper_server)
    placed = exchange.order("ETH", True, 0.1, px, {"limit": {"tif": "Gtc"}})
    oid = placed["response"]["data"]["statuses"][0]["resting"]["oid"]

    modified = exchange.modify_order(oid, "ETH", True, 0.2, px - 5, {"limit": {"tif": "Gtc"}})

    assert modified["status"] == "ok", modified
    [order] = paper_server.info().open_orders(funded_wallet.address)
    assert (Decimal(order["limitPx"]), Decimal(order["sz"])) == (
        Decimal(str(px - 5)),
        Decimal("0.2"),
    )


def test_update_leverage_applies_to_the_next_position(paper_server, funded_wallet):
    exchange = paper_server.sdk_exchange(funded_wallet)

    result = exchange.update_leverage(5, "ETH", is_cross=True)
    assert result == {"status": "ok", "response": {"type": "default"}}
    exchange.market_open("ETH", True, 0.2)

    position = paper_server.info().user_state(funded_wallet.address)["assetPositions"][0][
        "position"
    ]
    assert position["leverage"]["type"] == "cross"
    assert position["leverage"]["value"] == 5


def test_user_fills_subscription_delivers_snapshot_then_live_fills(paper_server, funded_wallet):
    exchange = paper_server.sdk_exchange(funded_wallet)
    exchange.market_open("ETH", True, 0.1)
    info = paper_server.info(skip_ws=False)
    messages: list[dict] = []

    info.subscribe({"type": "userFills", "user": funded_wallet.address}, messages.append)

    wait_until(lambda: messages, message="no userFills snapshot")
    snapshot = messages[0]["data"]
    assert snapshot["isSnapshot"] is True
    assert snapshot["user"].lower() == funded_wallet.address.lower()
    assert len(snapshot["fills"]) >= 1
    snapshot_tids = {f["tid"] for f in snapshot["fills"]}

    exchange.market_open("ETH", False, 0.1)

    def live_fills():
        return [
            f
            for m in messages[1:]
            if not m["data"].get("isSnapshot")
            for f in m["data"]["fills"]
            if f["tid"] not in snapshot_tids
        ]

    fills = wait_until(live_fills, message="no live userFills message")
    assert {f["side"] for f in fills} == {"A"}


def test_vault_deposit_and_withdrawal_after_the_lock_up(paper_server_factory):
    paper = paper_server_factory(paper_test_config(vault_lockup_s=60))
    vault = paper.exchange.config.vaults[1].address
    wallet = paper.new_wallet(1_000)
    exchange = paper.sdk_exchange(wallet)
    info = paper.info()

    deposit = exchange.vault_usd_transfer(vault, True, 100_000_000)  # $100 in micro-USD
    assert deposit == {"status": "ok", "response": {"type": "default"}}
    equities = info.user_vault_equities(wallet.address)
    assert [e["vaultAddress"].lower() for e in equities] == [vault]
    account_value = Decimal(info.user_state(wallet.address)["marginSummary"]["accountValue"])
    assert account_value == Decimal(900)

    early = exchange.vault_usd_transfer(vault, False, 50_000_000)
    assert early["status"] == "err"
    assert "lock" in early["response"].lower()
    assert Decimal(info.user_state(wallet.address)["marginSummary"]["accountValue"]) == Decimal(900)

    paper.advance(seconds=61)
    late = exchange.vault_usd_transfer(vault, False, 50_000_000)
    assert late == {"status": "ok", "response": {"type": "default"}}
    assert Decimal(info.user_state(wallet.address)["marginSummary"]["accountValue"]) > 900


def test_token_delegate_delegates_staked_hype(paper_server):
    wallet = paper_server.new_wallet(100)
    paper_server.fund(wallet.address, 0, hype=10)
    validator = paper_server.exchange.config.validators[0].address
    staked = paper_server.post("/exchange", c_deposit_envelope(wallet, 5 * 10**8)).json()
    assert staked == {"status": "ok", "response": {"type": "default"}}, staked

    result = paper_server.sdk_exchange(wallet).token_delegate(validator, 2 * 10**8, False)

    assert result == {"status": "ok", "response": {"type": "default"}}
    delegations = paper_server.info().user_staking_delegations(wallet.address)
    assert [(d["validator"].lower(), Decimal(d["amount"])) for d in delegations] == [
        (validator, Decimal(2))
    ]


def test_agent_trades_for_its_master_but_cannot_transfer(paper_server, funded_wallet):
    import eth_account

    master = paper_server.sdk_exchange(funded_wallet)
    approved, agent_key = master.approve_agent("bot")
    assert approved == {"status": "ok", "response": {"type": "default"}}
    agent = paper_server.sdk_exchange(
        eth_account.Account.from_key(agent_key), account_address=funded_wallet.address
    )

    placed = agent.order("ETH", True, 0.1, _passive_buy_px(paper_server), {"limit": {"tif": "Gtc"}})
    oid = placed["response"]["data"]["statuses"][0]["resting"]["oid"]
    assert _open_oids(paper_server, funded_wallet.address) == {oid}

    before = paper_server.info().user_state(funded_wallet.address)["withdrawable"]
    transfer = agent.usd_transfer(10, "0x000000000000000000000000000000000000dead")
    assert transfer["status"] == "err", transfer
    assert paper_server.info().user_state(funded_wallet.address)["withdrawable"] == before


@pytest.mark.parametrize("tif", ["Ioc"])
def test_ioc_that_cannot_match_is_rejected(paper_server, funded_wallet, tif):
    exchange = paper_server.sdk_exchange(funded_wallet)
    result = exchange.order(
        "ETH", True, 0.1, _passive_buy_px(paper_server), {"limit": {"tif": tif}}
    )
    error = result["response"]["data"]["statuses"][0]["error"]
    assert error.startswith("Order could not immediately match against any resting orders.")
    assert _open_oids(paper_server, funded_wallet.address) == set()
