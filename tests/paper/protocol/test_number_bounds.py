"""The paper exchange refuses hostile numbers at /exchange, /faucet and the admin hooks (finding 7).

``1e-999990`` used to be credited by the faucet and then written out in full — about a megabyte —
by every later ``/info`` view of that address; ``1e-999999999`` passed as a positive order size.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from hyperliquid.utils import signing as sdk_signing

from tests.paper.rawsign import l1_envelope, now_ms, order_action, user_envelope

ETH = 1
UNPROCESSABLE = "Failed to deserialize the JSON body into the target type"
HOSTILE = ["1e-999999999", "1e-999990", "1e-31", "1e30"]


def _assert_undecodable(response: requests.Response, *words: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith(UNPROCESSABLE)
    assert len(response.text) < 300  # the refused value is not echoed back in full
    for word in words:
        assert word in response.text


def _state_text(paper_server, address: str) -> str:
    body = {"type": "clearinghouseState", "user": address.lower()}
    return paper_server.post("/info", body).text


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("field", ["usd", "hype"])
def test_the_faucet_refuses_hostile_amounts_and_credits_nothing(
    paper_server, sdk_wallet, field, text
):
    body = {"user": sdk_wallet.address, "usd": "0", field: text}
    _assert_undecodable(paper_server.post("/faucet", body), f"`{field}`")
    state = _state_text(paper_server, sdk_wallet.address)
    assert len(state) < 2000
    assert '"accountValue":"0.0"' in state


def test_the_faucet_refuses_an_integer_too_long_for_json_and_a_float_out_of_bounds(
    paper_server, sdk_wallet
):
    raw = '{"user": "%s", "usd": %s}' % (sdk_wallet.address, "1" * 5000)  # noqa: UP031
    response = requests.post(paper_server.base_url + "/faucet", data=raw, timeout=10)
    _assert_undecodable(response)
    _assert_undecodable(paper_server.post("/faucet", {"user": sdk_wallet.address, "usd": 1e300}))
    for path in ("/info", "/exchange"):  # used to escape as HTTP 500
        huge = '{"type": "l2Book", "nSigFigs": ' + "9" * 5000 + "}"
        _assert_undecodable(requests.post(paper_server.base_url + path, data=huge, timeout=10))


def test_the_faucet_still_takes_ordinary_amounts(paper_server, sdk_wallet):
    body = {"user": sdk_wallet.address, "usd": "1234.567891", "hype": "0.00000001"}
    assert paper_server.post("/faucet", body).json() == {"status": "ok"}
    state = paper_server.info().user_state(sdk_wallet.address)
    assert Decimal(state["marginSummary"]["accountValue"]) == Decimal("1234.567891")


@pytest.mark.parametrize("text", HOSTILE)
def test_the_price_hook_refuses_hostile_prices(paper_server, text):
    before = paper_server.info().all_mids()["ETH"]
    _assert_undecodable(paper_server.post("/_paper/price", {"coin": "ETH", "px": text}), "`px`")
    assert paper_server.info().all_mids()["ETH"] == before


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("field", ["p", "s"])
@pytest.mark.parametrize("reduce_only", [False, True])
def test_an_order_with_a_hostile_number_is_undecodable_and_leaves_no_trace(
    paper_server, funded_wallet, text, field, reduce_only
):
    action = order_action(ETH, False, "4000", "0.1")
    action["orders"][0][field] = text
    action["orders"][0]["r"] = reduce_only
    nonce = now_ms()
    response = paper_server.post("/exchange", l1_envelope(funded_wallet, action, nonce=nonce))
    _assert_undecodable(response, f"`{field}`")
    assert paper_server.info().open_orders(funded_wallet.address) == []
    noop = paper_server.post("/exchange", l1_envelope(funded_wallet, {"type": "noop"}, nonce=nonce))
    assert noop.json()["status"] == "ok"  # the nonce was not used up


def _usd_send(wallet, amount: str) -> dict:
    nonce = now_ms()
    action = {
        "type": "usdSend",
        "destination": "0x" + "2" * 40,
        "amount": amount,
        "time": nonce,
        "signatureChainId": "0x66eee",
        "hyperliquidChain": "Testnet",
    }
    return user_envelope(
        wallet,
        action,
        sdk_signing.USD_SEND_SIGN_TYPES,
        "HyperliquidTransaction:UsdSend",
        nonce=nonce,
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_a_transfer_of_a_hostile_amount_is_undecodable(paper_server, funded_wallet, text):
    _assert_undecodable(paper_server.post("/exchange", _usd_send(funded_wallet, text)), "`amount`")
    state = paper_server.info().user_state(funded_wallet.address)
    assert Decimal(state["marginSummary"]["accountValue"]) == Decimal(100_000)


BAD_SIGNATURE = {"r": "0x1", "s": "0x1", "v": 27}


@pytest.mark.parametrize(
    "action",
    [
        {"type": "vaultTransfer", "vaultAddress": "0x" + "1" * 40, "isDeposit": True, "usd": 2**64},
        {"type": "cDeposit", "wei": 2**64, "hyperliquidChain": "Testnet", "nonce": 1},
        {"type": "cWithdraw", "wei": -1, "hyperliquidChain": "Testnet", "nonce": 1},
        {"type": "updateIsolatedMargin", "asset": ETH, "isBuy": True, "ntli": 2**70},
    ],
    ids=lambda a: a["type"],
)
def test_integers_outside_their_wire_range_are_undecodable(paper_server, action):
    """Decoding comes first, like Hyperliquid's deserializer: no signature is even needed."""
    envelope = {"action": action, "nonce": 1, "signature": BAD_SIGNATURE, "vaultAddress": None}
    _assert_undecodable(paper_server.post("/exchange", envelope))
