"""The manual clock: ``POST /_paper/tick`` runs the engine through time, nonces stay usable,
snapshots and resets put state back, and ``python -m hyperdesk.paper --clock manual`` serves it."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from hyperdesk.paper import manual_time
from hyperdesk.paper.clock import SystemClock
from hyperdesk.paper.events import Event
from hyperdesk.paper.nonces import DAY_MS, NonceError, NonceTracker
from tests.fixtures.paper import PaperHandle
from tests.helpers import free_port, wait_until
from tests.paper.rawsign import l1_envelope, now_ms, order_action

ROOT = Path(__file__).resolve().parents[3]
ETH = 1
SIGNER = "0x14791697260e4c9a71f18484c9f997b308e59325"


def _tick_times(paper: PaperHandle) -> list[int]:
    """Engine time of every tick from now on (each tick publishes one ``allMids``)."""
    times: list[int] = []

    def on_event(event: Event) -> None:
        if event.channel == "allMids":
            times.append(paper.clock.now_ms())

    paper.exchange.add_listener(on_event)
    return times


def test_tick_with_ms_runs_one_engine_tick_per_interval_on_the_way(paper_server):
    times = _tick_times(paper_server)
    before = paper_server.clock.now_ms()

    answer = paper_server.post("/_paper/tick", {"ms": 5_500}, timeout=60).json()

    assert answer == {"status": "ok", "time": before + 5_500}
    assert times == [before + 1_000 * k for k in range(1, 6)] + [before + 5_500]


def test_a_long_jump_is_cut_into_at_most_max_steps_ticks(paper_server):
    times = _tick_times(paper_server)
    before = paper_server.clock.now_ms()

    answer = paper_server.post("/_paper/tick", {"ms": 7 * DAY_MS}, timeout=60).json()

    assert answer["time"] == before + 7 * DAY_MS
    assert len(times) == manual_time.MAX_STEPS
    assert times[-1] == before + 7 * DAY_MS


def test_the_sdk_keeps_trading_after_the_clock_moved_days_ahead(paper_server, funded_wallet):
    paper_server.post("/_paper/tick", {"ms": 3 * DAY_MS}, timeout=60)  # past the 2-day nonce window

    result = paper_server.sdk_exchange(funded_wallet).market_open("ETH", True, 0.1)

    assert result["status"] == "ok", result
    assert "filled" in result["response"]["data"]["statuses"][0]


def test_a_nonce_old_by_both_clocks_is_still_refused(paper_server, funded_wallet):
    paper_server.post("/_paper/tick", {"ms": DAY_MS}, timeout=60)
    stale = now_ms() - 3 * DAY_MS
    envelope = l1_envelope(funded_wallet, order_action(ETH, True, "1000", "0.1"), nonce=stale)

    answer = paper_server.post("/exchange", envelope).json()

    assert answer["status"] == "err"
    assert "too far in the past" in answer["response"]


def test_tick_with_ms_on_the_real_clock_is_refused(paper_server_factory):
    paper = paper_server_factory(clock=SystemClock(), ticker=False)
    response = paper.post("/_paper/tick", {"ms": 1000}, timeout=60)
    assert response.status_code == 422
    assert "ManualClock" in response.text
    assert (
        paper.post("/_paper/tick", {}, timeout=60).json()["status"] == "ok"
    )  # one tick now is fine


def test_tick_refuses_a_negative_or_absurd_jump(paper_server):
    for ms in (-1, "5", 10 * 366 * DAY_MS):
        assert paper_server.post("/_paper/tick", {"ms": ms}, timeout=60).status_code == 422


def test_reset_to_a_snapshot_puts_the_account_back(paper_server, funded_wallet):
    info = paper_server.info()
    snapshot = paper_server.post("/_paper/snapshot", {}).json()
    assert snapshot["status"] == "ok"
    before = info.user_state(funded_wallet.address)
    assert paper_server.sdk_exchange(funded_wallet).market_open("ETH", True, 1.0)["status"] == "ok"
    assert info.user_state(funded_wallet.address)["assetPositions"]

    answer = paper_server.post("/_paper/reset", {"snapshot": snapshot["snapshot"]}).json()

    assert answer["status"] == "ok"
    after = info.user_state(funded_wallet.address)
    assert after["assetPositions"] == []
    assert after["marginSummary"] == before["marginSummary"]
    assert info.user_fills(funded_wallet.address) == []
    # The same snapshot can be restored again, and trading carries on from it.
    assert paper_server.sdk_exchange(funded_wallet).market_open("ETH", True, 0.5)["status"] == "ok"
    paper_server.post("/_paper/reset", {"snapshot": snapshot["snapshot"]})
    assert info.user_fills(funded_wallet.address) == []


def test_reset_without_a_snapshot_starts_a_fresh_exchange(paper_server, funded_wallet):
    paper_server.post("/_paper/tick", {"ms": 60_000}, timeout=60)
    now = paper_server.clock.now_ms()

    answer = paper_server.post("/_paper/reset", None).json()

    assert answer == {"status": "ok", "time": now}  # time never goes back
    info = paper_server.info()
    assert info.user_state(funded_wallet.address)["marginSummary"]["accountValue"] == "0.0"
    assert info.user_role(funded_wallet.address) == {"role": "missing"}


def test_reset_to_an_unknown_snapshot_changes_nothing(paper_server, funded_wallet):
    answer = paper_server.post("/_paper/reset", {"snapshot": "99"}).json()
    assert answer == {"status": "err", "response": "Unknown snapshot '99'."}
    assert paper_server.post("/_paper/reset", {"snapshot": 1}).status_code == 422
    state = paper_server.info().user_state(funded_wallet.address)
    assert Decimal(state["marginSummary"]["accountValue"]) == Decimal(100_000)


def test_standalone_server_with_a_manual_clock(tmp_path):
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "hyperdesk.paper", "--port", str(port), "--clock", "manual",
         "--log-level", "warning"],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:

        def health() -> dict | None:
            if process.poll() is not None:
                raise AssertionError(process.communicate()[0])
            try:
                return requests.get(base_url + "/_paper/health", timeout=2).json()
            except requests.ConnectionError:
                return None

        start = wait_until(health, timeout=60, message="paper exchange health")["time"]
        ticked = requests.post(base_url + "/_paper/tick", json={"ms": 90_000}, timeout=30).json()
        assert ticked == {"status": "ok", "time": start + 90_000}
        assert requests.get(base_url + "/_paper/health", timeout=2).json()["time"] == start + 90_000
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "manual clock" in output
    assert process.returncode == 0


def test_a_nonce_in_time_by_the_wall_reference_is_accepted_and_still_unique():
    engine_now = 1_700_000_000_000 + 3 * DAY_MS  # a manual clock three days ahead
    wall = 1_700_000_000_000
    tracker = NonceTracker()
    with pytest.raises(NonceError, match=f"must be after {engine_now - 2 * DAY_MS}"):
        tracker.reserve(SIGNER, wall, engine_now)  # engine window alone: too old

    tracker.reserve(SIGNER, wall, engine_now, wall_ms=wall)

    with pytest.raises(NonceError, match="duplicate"):
        tracker.reserve(SIGNER, wall, engine_now, wall_ms=wall)
    with pytest.raises(NonceError, match=f"must be after {engine_now - 2 * DAY_MS}"):
        tracker.reserve(SIGNER, wall - 3 * DAY_MS, engine_now, wall_ms=wall)
