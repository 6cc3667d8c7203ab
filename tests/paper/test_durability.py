"""The paper exchange keeps its whole state across a restart (issue 14, item 0).

Engine level: a state with every kind of thing in it is saved to a file and loaded into a brand
new exchange, which must then answer every ``/info`` question exactly as the old one did, refuse
a replayed nonce, and carry on the same price path. Also: the file is private, written
atomically, locked to one process, and a damaged, foreign or mismatched file is refused loudly.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hyperdesk.paper.clock import ManualClock
from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.exchange import PaperExchange
from hyperdesk.paper.nonces import NonceError
from hyperdesk.paper.persistence import (
    Snapshotter,
    StateFile,
    StateFileError,
    open_durable,
    restore,
)

ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20
AGENT = "0x" + "c3" * 20
BTC, ETH, PURR = 0, 1, 10000


def _config() -> PaperConfig:
    return PaperConfig(seed=7, candle_history_minutes=30)


def _act(ex: PaperExchange, user: str, action: dict) -> Any:
    answer = ex.execute(account=user, signer=user, action=action, vault_address=None)
    assert answer["status"] == "ok", answer
    return answer["response"]


def _order(asset: int, is_buy: bool, px: str, sz: str, **kind: Any) -> dict:
    t = (
        {"trigger": kind["trigger"]}
        if "trigger" in kind
        else {"limit": {"tif": kind.get("tif", "Gtc")}}
    )
    return {"a": asset, "b": is_buy, "p": px, "s": sz, "r": kind.get("r", False), "t": t}  # fmt: skip


def _busy_exchange(clock: ManualClock) -> PaperExchange:
    """An exchange holding one of everything the state file has to carry."""
    ex = PaperExchange(_config(), clock)
    ex.faucet(ALICE, Decimal(100_000), hype=Decimal(50))
    ex.faucet(BOB, Decimal(50_000))
    eth = ex.mid("ETH")
    _act(ex, ALICE, {"type": "updateLeverage", "asset": BTC, "isCross": False, "leverage": 5})
    btc = ex.mid("BTC")
    market = str(int(btc * Decimal("1.05")))
    _act(ex, ALICE, {"type": "order", "orders": [_order(BTC, True, market, "0.01", tif="Ioc")],
                     "grouping": "na"})  # fmt: skip
    below = str(int(eth * Decimal("0.9")))
    parent = _order(ETH, True, below, "0.5", tif="Gtc")
    sl = _order(ETH, False, str(int(eth * Decimal("0.8"))), "0.5", r=True,
                trigger={"isMarket": True, "triggerPx": str(int(eth * Decimal("0.8"))), "tpsl": "sl"})  # fmt: skip
    _act(ex, ALICE, {"type": "order", "orders": [parent, sl], "grouping": "normalTpsl"})
    stop = _order(BTC, False, str(int(btc * Decimal("0.7"))), "0.01", r=True,
                  trigger={"isMarket": True, "triggerPx": str(int(btc * Decimal("0.7"))), "tpsl": "sl"})  # fmt: skip
    _act(ex, ALICE, {"type": "order", "orders": [stop], "grouping": "positionTpsl"})
    # Two orders at one price: the queue order must survive.
    _act(ex, BOB, {"type": "order", "orders": [_order(ETH, True, below, "0.2")], "grouping": "na"})
    _act(
        ex, ALICE, {"type": "order", "orders": [_order(ETH, True, below, "0.3")], "grouping": "na"}
    )
    _act(ex, ALICE, {"type": "usdClassTransfer", "amount": "1000", "toPerp": False, "nonce": 1})
    purr = ex.mid("PURR/USDC")
    _act(ex, ALICE, {"type": "order", "orders": [_order(PURR, True, str(purr * 2), "100", tif="Ioc")],
                     "grouping": "na"})  # fmt: skip
    hlp = _config().vaults[0].address
    _act(ex, ALICE, {"type": "vaultTransfer", "vaultAddress": hlp, "isDeposit": True,
                     "usd": 500_000_000})  # fmt: skip
    _act(ex, ALICE, {"type": "cDeposit", "wei": 20 * 10**8})
    validator = next(v.address for v in _config().validators if not v.is_jailed)
    _act(ex, ALICE, {"type": "tokenDelegate", "validator": validator, "isUndelegate": False,
                     "wei": 10 * 10**8})  # fmt: skip
    _act(ex, ALICE, {"type": "cWithdraw", "wei": 5 * 10**8})
    _act(ex, ALICE, {"type": "approveAgent", "agentAddress": AGENT, "agentName": "bot",
                     "nonce": clock.now_ms()})  # fmt: skip
    _act(ex, ALICE, {"type": "scheduleCancel", "time": clock.now_ms() + 3_600_000})
    clock.advance(seconds=5)
    ex.tick()
    ex.nonces.reserve(ALICE, clock.now_ms() - 10, clock.now_ms())
    return ex


def _answers(ex: PaperExchange, clock: ManualClock) -> dict[str, Any]:
    hlp = _config().vaults[0].address
    bodies: list[dict[str, Any]] = [{"type": "allMids"}, {"type": "l2Book", "coin": "ETH"},
                                    {"type": "recentTrades", "coin": "BTC"},
                                    {"type": "candleSnapshot", "req": {"coin": "ETH", "interval": "1m",
                                     "startTime": 0, "endTime": clock.now_ms()}},
                                    {"type": "vaultDetails", "vaultAddress": hlp}]  # fmt: skip
    for user in (ALICE, BOB):
        for kind in ("clearinghouseState", "spotClearinghouseState", "openOrders",
                     "frontendOpenOrders", "userFills", "historicalOrders", "userVaultEquities",
                     "delegations", "delegatorSummary", "delegatorHistory", "extraAgents",
                     "userRateLimit", "portfolio"):  # fmt: skip
            bodies.append({"type": kind, "user": user})
    bodies.append({"type": "userRole", "user": AGENT})
    answers = {json.dumps(b, sort_keys=True): ex.info(b) for b in bodies}
    for answer in answers.values():
        if isinstance(answer, dict):
            answer.pop("time", None)  # clearinghouseState and l2Book stamp the moment of asking
    return answers


def _save_and_reload(ex: PaperExchange, clock: ManualClock, path: Path) -> PaperExchange:
    state_file = StateFile(path)
    Snapshotter(ex, state_file).stop()  # a clean stop writes the final snapshot
    fresh = PaperExchange(_config(), clock)
    second = StateFile(path)
    try:
        assert restore(fresh, second)
    finally:
        second.close()
    return fresh


def test_a_reloaded_exchange_answers_every_question_as_before(tmp_path):
    clock = ManualClock()
    ex = _busy_exchange(clock)
    before = _answers(ex, clock)
    alice_orders = ex.info({"type": "openOrders", "user": ALICE})
    assert len(alice_orders) >= 3, alice_orders  # resting, trigger, position TP/SL
    assert ex.info({"type": "clearinghouseState", "user": ALICE})["assetPositions"]
    assert ex.info({"type": "userVaultEquities", "user": ALICE})
    assert ex.info({"type": "delegations", "user": ALICE})

    fresh = _save_and_reload(ex, clock, tmp_path / "state.json")

    assert _answers(fresh, clock) == before
    assert fresh.info({"type": "userRole", "user": AGENT})["role"] == "agent"
    assert fresh.resolve_signer(AGENT) == ALICE


def test_a_replayed_nonce_stays_refused_after_a_reload(tmp_path):
    clock = ManualClock()
    ex = _busy_exchange(clock)
    used = ex.nonces.highest(ALICE)
    assert used
    fresh = _save_and_reload(ex, clock, tmp_path / "state.json")
    with pytest.raises(NonceError, match="duplicate"):
        fresh.nonces.reserve(ALICE, used[-1], clock.now_ms())


def test_prices_orders_and_timers_carry_on_from_where_they_were(tmp_path):
    clock = ManualClock()
    ex = _busy_exchange(clock)
    fresh = _save_and_reload(ex, clock, tmp_path / "state.json")
    for _ in range(3):  # the same draws of the same generators: the same path
        clock.advance(seconds=1)
        ex.tick()
        fresh.tick()
        assert fresh.info({"type": "allMids"}) == ex.info({"type": "allMids"})
    # The book and the waiting children work after the reload exactly as before it.
    eth = ex.mid("ETH")
    for exchange in (ex, fresh):
        exchange.set_price("ETH", eth * Decimal("0.85"))
    assert fresh.info({"type": "userFills", "user": ALICE}) == ex.info(
        {"type": "userFills", "user": ALICE}
    )
    assert fresh.info({"type": "openOrders", "user": BOB}) == ex.info(
        {"type": "openOrders", "user": BOB}
    )
    assert fresh.info({"type": "openOrders", "user": ALICE}) == ex.info(
        {"type": "openOrders", "user": ALICE}
    )
    clock.advance(seconds=3601)  # the scheduled cancel fires in the reloaded exchange too
    fresh.tick()
    assert fresh.info({"type": "openOrders", "user": ALICE}) == []


def test_the_state_file_is_private_and_written_whole(tmp_path):
    clock = ManualClock()
    ex = _busy_exchange(clock)
    path = tmp_path / "state.json"
    snapshotter, restored = open_durable(ex, path)
    try:
        assert not restored
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        header, body = path.read_bytes().split(b"\n", 1)
        assert json.loads(header)["format"] == "hyperdesk-paper-state"
        assert isinstance(json.loads(body)["accounts"][0]["usdc"], str)  # money is never a float
        assert not snapshotter.save()  # nothing changed, nothing written
        ex.faucet(BOB, Decimal(1))
        assert snapshotter.save()
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    finally:
        snapshotter.stop()


def test_one_state_file_has_one_owner(tmp_path):
    path = tmp_path / "state.json"
    first = StateFile(path)
    try:
        with pytest.raises(StateFileError, match="in use"):
            StateFile(path)
    finally:
        first.close()
    StateFile(path).close()  # free again once the owner is gone


def _saved(tmp_path: Path) -> Path:
    clock = ManualClock()
    path = tmp_path / "state.json"
    snapshotter, _ = open_durable(_busy_exchange(clock), path)
    snapshotter.stop()
    return path


def _load_into_new(path: Path, config: PaperConfig | None = None) -> None:
    state_file = StateFile(path)
    try:
        restore(PaperExchange(config or _config(), ManualClock()), state_file)
    finally:
        state_file.close()


def test_a_damaged_file_is_refused_not_loaded(tmp_path):
    path = _saved(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 0x01  # one flipped bit in the body
    path.write_bytes(bytes(raw))
    with pytest.raises(StateFileError, match="damaged"):
        _load_into_new(path)


def test_a_truncated_file_is_refused(tmp_path):
    path = _saved(tmp_path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(StateFileError, match="damaged"):
        _load_into_new(path)


def test_another_format_version_is_refused_with_a_clear_message(tmp_path):
    path = _saved(tmp_path)
    header, body = path.read_bytes().split(b"\n", 1)
    changed = json.loads(header) | {"version": 99}
    path.write_bytes(json.dumps(changed).encode() + b"\n" + body)
    with pytest.raises(StateFileError, match="version 99"):
        _load_into_new(path)


def test_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("{}\n{}")
    with pytest.raises(StateFileError, match="not a paper exchange state file"):
        _load_into_new(path)


def test_a_state_for_other_instruments_is_refused(tmp_path):
    path = _saved(tmp_path)
    config = _config()
    fewer = replace(config, perps=tuple(p for p in config.perps if p.name != "BTC"))
    with pytest.raises(StateFileError, match="BTC"):
        _load_into_new(path, fewer)


def test_a_crash_while_writing_leaves_the_previous_snapshot(tmp_path, monkeypatch):
    clock = ManualClock()
    ex = _busy_exchange(clock)
    path = tmp_path / "state.json"
    snapshotter, _ = open_durable(ex, path)
    try:
        good = path.read_bytes()
        ex.faucet(BOB, Decimal(1))

        def crash(*_: object) -> None:
            raise OSError("disk gone")

        monkeypatch.setattr(os, "replace", crash)
        with pytest.raises(OSError, match="disk gone"):
            snapshotter.save()
        assert path.read_bytes() == good
        monkeypatch.undo()
    finally:
        snapshotter.stop()
    _load_into_new(path)
