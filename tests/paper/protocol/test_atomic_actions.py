"""A batch action is decoded whole before any of it is applied (finding 8).

The old cancel handler applied the earlier cancels of a batch, then failed on a malformed later
item, answered 422 and gave the nonce back: the caller saw "nothing happened" while orders were
gone. Now a malformed item refuses the whole batch, nothing changes, and nothing is recorded.
"""

from __future__ import annotations

import pytest

from tests.paper.rawsign import l1_envelope, now_ms, order_action

ETH = 1
CLOID = "0x" + "ab" * 16
UNPROCESSABLE = "Failed to deserialize the JSON body into the target type"


def _rest(paper_server, wallet, px: str = "1000", cloid: str | None = None) -> int:
    action = order_action(ETH, True, px, "0.1")
    if cloid is not None:
        action["orders"][0]["c"] = cloid
    answer = paper_server.post("/exchange", l1_envelope(wallet, action)).json()
    return answer["response"]["data"]["statuses"][0]["resting"]["oid"]


def _open_oids(paper_server, wallet) -> list[int]:
    return sorted(o["oid"] for o in paper_server.info().open_orders(wallet.address))


def _order_wire(px: str, sz: str) -> dict:
    return order_action(ETH, True, px, sz)["orders"][0]


def _assert_undecodable(response) -> None:
    assert response.status_code == 422, response.text
    assert response.text.startswith(UNPROCESSABLE)


@pytest.mark.parametrize(
    "bad_item",
    [{"a": ETH}, {"o": 1}, {"a": ETH, "o": "12"}, {"a": True, "o": 1}, "junk"],
    ids=["no oid", "no asset", "string oid", "bool asset", "not an object"],
)
def test_a_malformed_later_cancel_leaves_the_earlier_ones_unapplied(
    paper_server, funded_wallet, bad_item
):
    first = _rest(paper_server, funded_wallet, "1000")
    second = _rest(paper_server, funded_wallet, "1001")
    nonce = now_ms()
    batch = {"type": "cancel", "cancels": [{"a": ETH, "o": first}, {"a": ETH, "o": second}]}
    batch["cancels"].append(bad_item)

    _assert_undecodable(
        paper_server.post("/exchange", l1_envelope(funded_wallet, batch, nonce=nonce))
    )
    assert _open_oids(paper_server, funded_wallet) == sorted([first, second])

    batch["cancels"].pop()  # corrected, same nonce: it was never recorded
    answer = paper_server.post("/exchange", l1_envelope(funded_wallet, batch, nonce=nonce)).json()
    assert answer["response"]["data"]["statuses"] == ["success", "success"]
    assert _open_oids(paper_server, funded_wallet) == []


def test_a_malformed_later_cancel_by_cloid_leaves_the_earlier_ones_unapplied(
    paper_server, funded_wallet
):
    oid = _rest(paper_server, funded_wallet, cloid=CLOID)
    batch = {
        "type": "cancelByCloid",
        "cancels": [{"asset": ETH, "cloid": CLOID}, {"asset": ETH, "cloid": "not-a-cloid"}],
    }
    _assert_undecodable(paper_server.post("/exchange", l1_envelope(funded_wallet, batch)))
    assert _open_oids(paper_server, funded_wallet) == [oid]


@pytest.mark.parametrize(
    "bad_order",
    [
        _order_wire("1000", "1e-999999999"),
        _order_wire("1e-999990", "0.1"),
        {
            **_order_wire("1000", "0.1"),
            "t": {"trigger": {"isMarket": True, "tpsl": "sl", "triggerPx": "1e-999990"}},
        },
        {"a": ETH, "b": True},
    ],
    ids=["tiny size", "tiny price", "tiny trigger", "missing fields"],
)
def test_a_malformed_later_order_places_none_of_the_batch(paper_server, funded_wallet, bad_order):
    batch = order_action(ETH, True, "1000", "0.1")
    batch["orders"].append(bad_order)
    _assert_undecodable(paper_server.post("/exchange", l1_envelope(funded_wallet, batch)))
    assert _open_oids(paper_server, funded_wallet) == []


def test_a_malformed_later_modify_applies_no_modify(paper_server, funded_wallet):
    oid = _rest(paper_server, funded_wallet, "1000")
    batch = {
        "type": "batchModify",
        "modifies": [
            {"oid": oid, "order": _order_wire("1100", "0.1")},
            {"oid": oid, "order": _order_wire("1000", "1e-999999999")},
        ],
    }
    _assert_undecodable(paper_server.post("/exchange", l1_envelope(funded_wallet, batch)))
    [order] = paper_server.info().open_orders(funded_wallet.address)
    assert (order["oid"], order["limitPx"]) == (oid, "1000.0")


def test_a_modify_of_a_missing_order_with_an_unknown_asset_is_a_per_order_error(
    paper_server, funded_wallet
):
    """It used to escape as an uncaught rejection (HTTP 500) after the first modify applied."""
    oid = _rest(paper_server, funded_wallet, "1000")
    unknown_asset = {**_order_wire("1000", "0.1"), "a": 9999}
    batch = {
        "type": "batchModify",
        "modifies": [
            {"oid": oid, "order": _order_wire("1100", "0.1")},
            {"oid": 424242, "order": unknown_asset},
        ],
    }
    response = paper_server.post("/exchange", l1_envelope(funded_wallet, batch))
    assert response.status_code == 200, response.text
    first, second = response.json()["response"]["data"]["statuses"]
    assert "resting" in first
    assert "Cannot modify canceled or filled order" in second["error"]
