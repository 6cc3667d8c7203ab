"""Marks, funding and liquidations survive a save and a reload (state_codec round trip)."""

from __future__ import annotations

import json
from decimal import Decimal

from hyperdesk.paper.clock import ManualClock
from hyperdesk.paper.exchange import PaperExchange
from tests.paper.engine.conftest import ALICE, BOB, BTC, ETH, Desk

HOUR = 3_600_000


def _busy(desk: Desk) -> None:
    desk.order(BOB, BTC, False, "100000", "0.5")
    desk.order(ALICE, BTC, True, "100000", "0.5", tif="Ioc")
    desk.ex.set_basis("BTC", Decimal("0.002"))
    desk.clock.advance(ms=HOUR + HOUR // 2)  # one payment, and half an interval sampled
    desk.ex.tick()
    liquidated = "0x" + "e5" * 20
    desk.ex.faucet(liquidated, Decimal(1_000))
    desk.order(liquidated, ETH, True, "3600", "5", tif="Ioc")
    desk.ex.set_price("ETH", Decimal(3_100))  # backstopped
    assert desk.position(liquidated, "ETH") is None


def _answers(ex: PaperExchange) -> list:
    questions = [
        {"type": "userFunding", "user": ALICE, "startTime": 0},
        {"type": "fundingHistory", "coin": "BTC", "startTime": 0},
        {"type": "predictedFundings"},
        {"type": "metaAndAssetCtxs"},
        {"type": "clearinghouseState", "user": ALICE},
        {"type": "userNonFundingLedgerUpdates", "user": "0x" + "e5" * 20, "startTime": 0},
    ]
    return [ex.info(q) for q in questions]


def test_marks_funding_and_liquidations_round_trip_through_the_state_codec(desk: Desk):
    _busy(desk)
    saved = json.loads(json.dumps(desk.ex.export_state()))
    assert saved["risk"]["user_fundings"][ALICE]
    assert saved["risk"]["funding_acc"]["BTC"][1] > 0  # the current interval's samples
    clock = ManualClock(desk.clock.now_ms())
    fresh = PaperExchange(desk.ex.config, clock)
    fresh.restore_state(saved)
    assert fresh.export_state() == desk.ex.export_state()
    assert _answers(fresh) == _answers(desk.ex)
    assert fresh.mark("BTC") == desk.ex.mark("BTC")
    # Both carry on identically: the next payment uses the samples taken before the save.
    for ex, c in ((desk.ex, desk.clock), (fresh, clock)):
        c.advance(ms=HOUR // 2)
        ex.tick()
    assert _answers(fresh) == _answers(desk.ex)
    assert len(fresh.info({"type": "userFunding", "user": ALICE, "startTime": 0})) == 2


def test_a_state_saved_before_funding_existed_still_loads(desk: Desk):
    _busy(desk)
    saved = json.loads(json.dumps(desk.ex.export_state()))
    del saved["risk"]
    fresh = PaperExchange(desk.ex.config, ManualClock(desk.clock.now_ms()))
    fresh.restore_state(saved)
    assert fresh.mark("BTC") > 0
    assert fresh.info({"type": "userFunding", "user": ALICE, "startTime": 0}) == []
