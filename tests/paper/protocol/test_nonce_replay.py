"""A recorded nonce is never given back, so a captured old action cannot be replayed (finding 8).

The old server recorded the nonce, then released it when the engine called the action
undecodable. Recording had pushed the smallest nonce out of the full set; releasing left the set
one short, so that pushed-out nonce was acceptable again and the action signed with it could be
replayed by anyone who had captured it.
"""

from __future__ import annotations

import pytest

from tests.fixtures.paper import paper_test_config
from tests.paper.rawsign import l1_envelope, now_ms, order_action

ETH = 1
SET_SIZE = 3


@pytest.fixture
def paper_config():
    return paper_test_config(nonce_set_size=SET_SIZE)


def _post(paper_server, envelope):
    return paper_server.post("/exchange", envelope)


def _fill_the_nonce_set(paper_server, wallet, first: int) -> None:
    for nonce in range(first, first + SET_SIZE - 1):
        answer = _post(paper_server, l1_envelope(wallet, {"type": "noop"}, nonce=nonce)).json()
        assert answer["status"] == "ok", answer


MALFORMED = [
    {"type": "cancel", "cancels": [{"a": ETH}]},
    {"type": "order", "orders": [{"a": ETH, "b": True}], "grouping": "na"},
    {"type": "order", "orders": [order_action(ETH, True, "1000", "1e-999999999")["orders"][0]]},
    {"type": "updateLeverage", "asset": ETH, "isCross": "yes", "leverage": 5},
    {"type": "vaultTransfer", "vaultAddress": "0x" + "1" * 40, "isDeposit": True, "usd": "100"},
]


@pytest.mark.parametrize("malformed", MALFORMED, ids=lambda a: a["type"])
def test_an_undecodable_action_cannot_reopen_a_pushed_out_nonce(
    paper_server, funded_wallet, malformed
):
    base = now_ms()
    captured = l1_envelope(funded_wallet, order_action(ETH, True, "1000", "0.1"), nonce=base)
    assert _post(paper_server, captured).json()["response"]["data"]["statuses"][0]["resting"]
    _fill_the_nonce_set(paper_server, funded_wallet, base + 1)  # set: base .. base + 2

    rejected = _post(paper_server, l1_envelope(funded_wallet, malformed, nonce=base + SET_SIZE))
    assert rejected.status_code == 422, rejected.text

    replay = _post(paper_server, captured).json()
    assert replay["status"] == "err"
    assert replay["response"].startswith("Invalid nonce")
    assert len(paper_server.info().open_orders(funded_wallet.address)) == 1


def test_an_undecodable_action_records_nothing_so_its_nonce_stays_usable(
    paper_server, funded_wallet
):
    nonce = now_ms()
    malformed = l1_envelope(funded_wallet, MALFORMED[0], nonce=nonce)
    assert _post(paper_server, malformed).status_code == 422
    assert paper_server.server.app.state.core.nonces.highest(funded_wallet.address) == []
    good = l1_envelope(funded_wallet, {"type": "noop"}, nonce=nonce)
    assert _post(paper_server, good).json()["status"] == "ok"


def test_a_recorded_nonce_stays_recorded_whatever_the_engine_answers(paper_server, funded_wallet):
    nonce = now_ms()
    refused = l1_envelope(
        funded_wallet, {"type": "order", "orders": [], "grouping": "na"}, nonce=nonce
    )
    assert _post(paper_server, refused).json() == {
        "status": "err",
        "response": "Order batch is empty.",
    }
    again = _post(paper_server, l1_envelope(funded_wallet, {"type": "noop"}, nonce=nonce)).json()
    assert again == {"status": "err", "response": f"Invalid nonce: duplicate nonce {nonce}"}
