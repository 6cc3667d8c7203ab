"""``twapOrder``/``twapCancel`` signed with the SDK's own signing, executed slice by slice as the
manual clock moves (``POST /_paper/tick``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.fixtures.paper import PaperHandle
from tests.paper.rawsign import l1_envelope

ETH = 1


def _act(paper: PaperHandle, wallet, action: dict[str, Any]) -> dict[str, Any]:
    return paper.post("/exchange", l1_envelope(wallet, action)).json()


def _twap(size: str, minutes: int, *, is_buy: bool = True) -> dict[str, Any]:
    return {
        "type": "twapOrder",
        "twap": {"a": ETH, "b": is_buy, "s": size, "r": False, "m": minutes, "t": False},
    }


def test_a_twap_executes_one_slice_every_30_seconds_until_done(paper_server, funded_wallet):
    user = funded_wallet.address
    info = paper_server.info()

    placed = _act(paper_server, funded_wallet, _twap("1", 5))

    assert placed["status"] == "ok", placed
    twap_id = placed["response"]["data"]["status"]["running"]["twapId"]
    assert placed["response"]["type"] == "twapOrder"
    # 5 minutes = 10 slices of 0.1 ETH; the first runs at once.
    assert Decimal(info.user_state(user)["assetPositions"][0]["position"]["szi"]) == Decimal("0.1")
    paper_server.post("/_paper/tick", {"ms": 60_000}, timeout=60)  # two more slices
    assert Decimal(info.user_state(user)["assetPositions"][0]["position"]["szi"]) == Decimal("0.3")
    paper_server.post("/_paper/tick", {"ms": 10 * 60_000}, timeout=60)

    position = info.user_state(user)["assetPositions"][0]["position"]
    assert Decimal(position["szi"]) == 1
    slice_fills = info.user_twap_slice_fills(user)
    assert {f["twapId"] for f in slice_fills} == {twap_id}
    assert sum(Decimal(f["fill"]["sz"]) for f in slice_fills) == 1
    assert len({f["fill"]["oid"] for f in slice_fills}) == 10
    history = info.post("/info", {"type": "twapHistory", "user": user})
    assert [h["status"]["status"] for h in history] == ["activated", "finished"]
    assert history[-1]["state"]["executedSz"] == "1.0"


def test_a_canceled_twap_stops_executing(paper_server, funded_wallet):
    user = funded_wallet.address
    placed = _act(paper_server, funded_wallet, _twap("1", 5))
    twap_id = placed["response"]["data"]["status"]["running"]["twapId"]

    canceled = _act(paper_server, funded_wallet, {"type": "twapCancel", "a": ETH, "t": twap_id})
    again = _act(paper_server, funded_wallet, {"type": "twapCancel", "a": ETH, "t": twap_id})
    paper_server.post("/_paper/tick", {"ms": 10 * 60_000}, timeout=60)

    assert canceled["response"] == {"type": "twapCancel", "data": {"status": "success"}}
    assert again["response"]["data"] == {
        "status": {"error": "TWAP was never placed, already canceled, or filled."}
    }
    szi = paper_server.info().user_state(user)["assetPositions"][0]["position"]["szi"]
    assert Decimal(szi) == Decimal("0.1")  # only the first slice
    history = paper_server.info().post("/info", {"type": "twapHistory", "user": user})
    assert [h["status"]["status"] for h in history] == ["activated", "terminated"]


def test_a_twap_duration_outside_5_to_1440_minutes_is_refused(paper_server, funded_wallet):
    answer = _act(paper_server, funded_wallet, _twap("1", 1))
    assert answer["response"]["data"] == {"status": {"error": "Invalid TWAP duration: 1 min(s)"}}
    bad = dict(_twap("1", 5), twap={"a": ETH, "b": True, "s": "1", "r": False, "m": "5"})
    assert paper_server.post("/exchange", l1_envelope(funded_wallet, bad)).status_code == 422
