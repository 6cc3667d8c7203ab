"""HTTP envelope behaviour of the protocol server: 422s, 429s, faucet and admin hooks."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from hyperliquid.utils.error import ClientError

from tests.fixtures.paper import paper_test_config
from tests.paper.rawsign import l1_envelope, order_action

UNPROCESSABLE = "Failed to deserialize the JSON body into the target type"


def _assert_422(response: requests.Response) -> None:
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith(UNPROCESSABLE)


@pytest.mark.parametrize("body", [{"type": "noSuchType"}, {"user": "0x0"}, [], "allMids"], ids=repr)
def test_malformed_info_request_is_422_text(paper_server, body):
    _assert_422(paper_server.post("/info", body))


def test_info_body_that_is_not_json_is_422(paper_server):
    response = requests.post(paper_server.base_url + "/info", data=b"{nope", timeout=10)
    _assert_422(response)


def test_sdk_surfaces_422_as_client_error(paper_server):
    with pytest.raises(ClientError) as raised:
        paper_server.info().post("/info", {"type": "noSuchType"})
    assert raised.value.status_code == 422


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.pop("nonce"),
        lambda e: e.pop("signature"),
        lambda e: e["signature"].update(v=29),
        lambda e: e["signature"].update(r="not hex"),
        lambda e: e["action"].pop("type"),
        lambda e: e.update(vaultAddress="0x1234"),
        lambda e: e.update(nonce="1"),
    ],
    ids=["no nonce", "no signature", "bad v", "bad r", "no type", "bad vault", "string nonce"],
)
def test_malformed_exchange_request_is_422_text(paper_server, funded_wallet, mutate):
    envelope = l1_envelope(funded_wallet, order_action(1, True, "1000", "0.1"))
    mutate(envelope)
    _assert_422(paper_server.post("/exchange", envelope))
    assert paper_server.info().open_orders(funded_wallet.address) == []


def test_envelope_without_optional_keys_is_accepted(paper_server, funded_wallet):
    envelope = l1_envelope(funded_wallet, {"type": "noop"})
    del envelope["vaultAddress"], envelope["expiresAfter"]
    assert paper_server.post("/exchange", envelope).json()["status"] == "ok"


def test_rest_weight_budget_answers_429_null(paper_server_factory):
    paper = paper_server_factory(paper_test_config(rest_weight_per_minute=10))
    statuses = [paper.post("/info", {"type": "allMids"}).status_code for _ in range(6)]
    assert statuses[:5] == [200] * 5  # weight 2 each
    limited = paper.post("/info", {"type": "allMids"})
    assert (limited.status_code, limited.text) == (429, "null")
    with pytest.raises(ClientError) as raised:
        paper.info()  # SDK startup: spotMeta (20) is over budget
    assert raised.value.status_code == 429


@pytest.mark.parametrize("kind", [["allMids"], {"a": 1}, 7])
def test_a_non_string_info_type_is_422_even_under_a_weight_budget(paper_server_factory, kind):
    paper = paper_server_factory(paper_test_config(rest_weight_per_minute=1000))
    _assert_422(paper.post("/info", {"type": kind}))


def test_faucet_credits_usdc(paper_server, sdk_wallet):
    response = paper_server.post("/faucet", {"user": sdk_wallet.address, "usd": "1234.5"})
    assert response.json() == {"status": "ok"}
    state = paper_server.info().user_state(sdk_wallet.address)
    assert Decimal(state["marginSummary"]["accountValue"]) == Decimal("1234.5")
    _assert_422(paper_server.post("/faucet", {"user": "nobody", "usd": "1"}))
    _assert_422(paper_server.post("/faucet", {"user": sdk_wallet.address, "usd": "-1"}))


def test_admin_hooks(paper_server):
    health = requests.get(paper_server.base_url + "/_paper/health", timeout=10).json()
    assert health["status"] == "ok"
    assert health["network"] == "Testnet"

    before = paper_server.clock.now_ms()
    ticked = paper_server.post("/_paper/tick", {"ms": 1500}).json()
    assert ticked == {"status": "ok", "time": before + 1500}

    assert paper_server.post("/_paper/price", {"coin": "ETH", "px": "4000"}).json() == {
        "status": "ok"
    }
    assert Decimal(paper_server.info().all_mids()["ETH"]) == pytest.approx(
        Decimal(4000), rel=Decimal("0.01")
    )
