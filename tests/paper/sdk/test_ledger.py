"""``userNonFundingLedgerUpdates``: every movement of money that is not a fill or funding, over
``/info`` and the websocket channel of the same name, with the unmodified SDK."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import eth_account
import pytest

from hyperdesk.paper.clock import ManualClock
from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.exchange import PaperExchange
from tests.fixtures.paper import PaperHandle, paper_test_config
from tests.helpers import wait_until

HLP = "0xa15099a30bbf2e68942d6f4c43d70d04faeab0a0"


@pytest.fixture
def paper_config() -> PaperConfig:
    return paper_test_config(vault_lockup_s=60)


def _ledger(paper: PaperHandle, user: str, start: int = 0, end: int | None = None) -> list[dict]:
    return paper.info().user_non_funding_ledger_updates(user, start, end)


def _usdc_token(paper: PaperHandle) -> str:
    token = next(t for t in paper.info().spot_meta()["tokens"] if t["name"] == "USDC")
    return f"USDC:{token['tokenId']}"


def test_faucet_transfers_and_vault_moves_are_in_the_ledger(paper_server, funded_wallet):
    user = funded_wallet.address.lower()
    friend = eth_account.Account.create()
    exchange = paper_server.sdk_exchange(funded_wallet)

    assert exchange.usd_class_transfer(100.0, False)["status"] == "ok"
    assert exchange.usd_transfer(25.0, friend.address)["status"] == "ok"
    assert exchange.spot_transfer(10.0, friend.address, _usdc_token(paper_server))["status"] == "ok"
    assert exchange.vault_usd_transfer(HLP, True, 50_000_000)["status"] == "ok"
    paper_server.post("/_paper/tick", {"ms": 61_000}, timeout=60)  # past the vault lock-up
    assert exchange.vault_usd_transfer(HLP, False, 20_000_000)["status"] == "ok"
    assert exchange.withdraw_from_bridge(30.0, funded_wallet.address)["status"] == "ok"

    deltas = [entry["delta"] for entry in _ledger(paper_server, funded_wallet.address)]

    assert [d["type"] for d in deltas] == [
        "deposit",
        "accountClassTransfer",
        "internalTransfer",
        "spotTransfer",
        "vaultDeposit",
        "vaultWithdraw",
        "withdraw",
    ]
    assert deltas[0] == {"type": "deposit", "usdc": "100000.0"}
    assert deltas[1] == {"type": "accountClassTransfer", "usdc": "100.0", "toPerp": False}
    assert deltas[2] == {
        "type": "internalTransfer",
        "usdc": "25.0",
        "user": user,
        "destination": friend.address.lower(),
        "fee": "0.0",
    }
    assert deltas[3]["token"] == "USDC"
    assert (deltas[3]["amount"], deltas[3]["usdcValue"]) == ("10.0", "10.0")
    assert deltas[4] == {"type": "vaultDeposit", "vault": HLP, "usdc": "50.0"}
    withdrawal = deltas[5]
    assert withdrawal["requestedUsd"] == "20.0"
    assert Decimal(withdrawal["netWithdrawnUsd"]) + Decimal(withdrawal["commission"]) == 20
    assert deltas[6] == {
        "type": "withdraw",
        "usdc": "29.0",
        "nonce": deltas[6]["nonce"],
        "fee": "1.0",
    }
    # Both sides of a transfer see it; the receiver has nothing else.
    friend_kinds = [e["delta"]["type"] for e in _ledger(paper_server, friend.address)]
    assert friend_kinds == ["internalTransfer", "spotTransfer"]


def test_the_ledger_answers_a_time_range(paper_server, funded_wallet):
    first = paper_server.clock.now_ms()
    paper_server.post("/_paper/tick", {"ms": 5_000}, timeout=60)
    paper_server.fund(funded_wallet.address, 7)
    second = paper_server.clock.now_ms()

    assert [e["time"] for e in _ledger(paper_server, funded_wallet.address)] == [first, second]
    assert [e["time"] for e in _ledger(paper_server, funded_wallet.address, first + 1)] == [second]
    assert [e["time"] for e in _ledger(paper_server, funded_wallet.address, 0, second - 1)] == [
        first
    ]


def test_the_ledger_streams_a_snapshot_then_live_entries(paper_server, funded_wallet):
    frames: list[dict[str, Any]] = []
    info = paper_server.info(skip_ws=False)
    subscription = {"type": "userNonFundingLedgerUpdates", "user": funded_wallet.address}
    info.subscribe(subscription, frames.append)  # type: ignore[arg-type]
    wait_until(lambda: frames, message="ledger snapshot")

    exchange = paper_server.sdk_exchange(funded_wallet)
    assert exchange.usd_class_transfer(12.5, False)["status"] == "ok"
    wait_until(lambda: len(frames) >= 2, message="live ledger frame")

    snapshot, live = frames[0]["data"], frames[1]["data"]
    assert frames[0]["channel"] == "userNonFundingLedgerUpdates"
    assert snapshot["isSnapshot"] is True
    assert snapshot["user"] == funded_wallet.address.lower()
    assert [e["delta"]["type"] for e in snapshot["nonFundingLedgerUpdates"]] == ["deposit"]
    assert "isSnapshot" not in live
    assert [e["delta"] for e in live["nonFundingLedgerUpdates"]] == [
        {"type": "accountClassTransfer", "usdc": "12.5", "toPerp": False}
    ]


def test_the_ledger_survives_a_save_and_restore():
    clock = ManualClock()
    config = paper_test_config()
    before = PaperExchange(config, clock)
    user = "0x" + "7" * 40
    before.faucet(user, Decimal(100), hype=Decimal(2))
    body = {"type": "userNonFundingLedgerUpdates", "user": user, "startTime": 0}
    kept = before.info(body)
    assert [e["delta"]["type"] for e in kept] == ["deposit", "spotGenesis"]

    after = PaperExchange(config, clock)
    after.restore_state(json.loads(json.dumps(before.export_state())))  # as the state file does

    assert after.info(body) == kept
