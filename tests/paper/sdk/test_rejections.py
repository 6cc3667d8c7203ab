"""Bad requests get Hyperliquid's error shape and change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.fixtures.paper import PaperHandle
from tests.paper.rawsign import l1_envelope, now_ms, order_action

ETH = 1  # asset id of ETH in the default paper meta


def _snapshot(paper: PaperHandle, address: str) -> tuple:
    info = paper.info()
    state = info.user_state(address)
    return (
        state["marginSummary"]["accountValue"],
        state["withdrawable"],
        len(state["assetPositions"]),
        len(info.open_orders(address)),
        len(info.user_fills(address)),
    )


def _order_error(result: dict) -> str:
    assert result["status"] == "ok", result
    return result["response"]["data"]["statuses"][0]["error"]


def _passive_px(paper: PaperHandle) -> int:
    return int(Decimal(paper.info().all_mids()["ETH"]) * Decimal("0.9"))


def test_tampered_action_recovers_another_signer_that_does_not_exist(paper_server, funded_wallet):
    before = _snapshot(paper_server, funded_wallet.address)
    envelope = l1_envelope(
        funded_wallet, order_action(ETH, True, str(_passive_px(paper_server)), "0.1")
    )
    envelope["action"]["orders"][0]["s"] = "0.2"  # changed after signing

    result = paper_server.post("/exchange", envelope).json()

    assert result["status"] == "err"
    assert result["response"].startswith("User or API Wallet 0x")
    assert result["response"].endswith(" does not exist.")
    assert funded_wallet.address.lower() not in result["response"].lower()
    assert _snapshot(paper_server, funded_wallet.address) == before


def test_reused_nonce_is_rejected(paper_server, funded_wallet):
    px = _passive_px(paper_server)
    nonce = now_ms()
    first = paper_server.post(
        "/exchange",
        l1_envelope(funded_wallet, order_action(ETH, True, str(px), "0.1"), nonce=nonce),
    ).json()
    assert "resting" in first["response"]["data"]["statuses"][0]
    before = _snapshot(paper_server, funded_wallet.address)

    replay = paper_server.post(
        "/exchange",
        l1_envelope(funded_wallet, order_action(ETH, True, str(px - 1), "0.1"), nonce=nonce),
    ).json()

    assert replay == {"status": "err", "response": f"Invalid nonce: duplicate nonce {nonce}"}
    assert _snapshot(paper_server, funded_wallet.address) == before


def test_stale_nonce_is_rejected(paper_server, funded_wallet):
    before = _snapshot(paper_server, funded_wallet.address)
    stale = paper_server.clock.now_ms() - 3 * 86_400_000
    envelope = l1_envelope(
        funded_wallet, order_action(ETH, True, str(_passive_px(paper_server)), "0.1"), nonce=stale
    )

    result = paper_server.post("/exchange", envelope).json()

    assert result["status"] == "err"
    assert result["response"].startswith(f"Invalid nonce: nonce {stale} is too far in the past")
    assert _snapshot(paper_server, funded_wallet.address) == before


def test_invalid_signature_does_not_consume_the_nonce(paper_server, funded_wallet):
    nonce = now_ms()
    action = order_action(ETH, True, str(_passive_px(paper_server)), "0.1")
    forged = l1_envelope(funded_wallet, action, nonce=nonce)
    forged["signature"]["s"] = hex(int(forged["signature"]["s"], 16) ^ 1)
    assert paper_server.post("/exchange", forged).json()["status"] == "err"

    genuine = paper_server.post("/exchange", l1_envelope(funded_wallet, action, nonce=nonce)).json()

    assert "resting" in genuine["response"]["data"]["statuses"][0], genuine


def test_expired_action_is_rejected(paper_server, funded_wallet):
    exchange = paper_server.sdk_exchange(funded_wallet)
    exchange.set_expires_after(paper_server.clock.now_ms() - 1)

    result = exchange.order("ETH", True, 0.1, _passive_px(paper_server), {"limit": {"tif": "Gtc"}})

    assert result["status"] == "err"
    assert result["response"].startswith("Action expired")
    assert paper_server.info().open_orders(funded_wallet.address) == []


@pytest.mark.parametrize(
    ("sz", "px_factor", "expected"),
    [
        (0.1, "0.900005", "Price must be divisible by tick size."),  # 7 significant figures
        (0.12345, "0.9", "Order has invalid size."),  # ETH has 4 size decimals
        (0.001, "0.9", "Order must have minimum value of $10."),
    ],
    ids=["off-tick price", "too many size decimals", "notional under $10"],
)
def test_invalid_order_is_rejected_per_order(paper_server, funded_wallet, sz, px_factor, expected):
    mid = Decimal(paper_server.info().all_mids()["ETH"])
    px = float((mid * Decimal(px_factor)).quantize(Decimal("0.001")))
    if expected != "Price must be divisible by tick size.":
        px = float(int(px))
    before = _snapshot(paper_server, funded_wallet.address)

    result = paper_server.sdk_exchange(funded_wallet).order(
        "ETH", True, sz, px, {"limit": {"tif": "Gtc"}}
    )

    assert _order_error(result).startswith(expected)
    assert _snapshot(paper_server, funded_wallet.address) == before


def test_order_beyond_margin_is_rejected(paper_server):
    wallet = paper_server.new_wallet(100)
    before = _snapshot(paper_server, wallet.address)

    result = paper_server.sdk_exchange(wallet).order(
        "ETH", True, 1.0, _passive_px(paper_server), {"limit": {"tif": "Gtc"}}
    )

    assert _order_error(result).startswith("Insufficient margin to place order.")
    assert _snapshot(paper_server, wallet.address) == before


def test_unknown_asset_is_rejected(paper_server, funded_wallet):
    before = _snapshot(paper_server, funded_wallet.address)
    envelope = l1_envelope(funded_wallet, order_action(999, True, "100", "1"))

    result = paper_server.post("/exchange", envelope).json()

    if result["status"] == "ok":
        assert "error" in result["response"]["data"]["statuses"][0]
    else:
        assert result["status"] == "err"
        assert result["response"]
    assert _snapshot(paper_server, funded_wallet.address) == before


def test_unfunded_user_does_not_exist(paper_server, sdk_wallet):
    result = paper_server.sdk_exchange(sdk_wallet).order(
        "ETH", True, 0.1, _passive_px(paper_server), {"limit": {"tif": "Gtc"}}
    )
    assert result == {
        "status": "err",
        "response": f"User or API Wallet {sdk_wallet.address.lower()} does not exist.",
    }


def test_user_signed_action_for_the_wrong_network_is_rejected(paper_server, funded_wallet):
    from hyperliquid.utils import signing as sdk_signing

    from tests.paper.rawsign import user_envelope

    nonce = now_ms()
    action = {"destination": "0x000000000000000000000000000000000000dEaD", "amount": "1", "time": nonce, "type": "usdSend"}  # fmt: skip
    envelope = user_envelope(
        funded_wallet, action, sdk_signing.USD_SEND_SIGN_TYPES, "HyperliquidTransaction:UsdSend",
        nonce=nonce, is_mainnet=True,
    )  # fmt: skip
    before = _snapshot(paper_server, funded_wallet.address)

    result = paper_server.post("/exchange", envelope).json()

    assert result["status"] == "err"
    assert "hyperliquidChain" in result["response"]
    assert _snapshot(paper_server, funded_wallet.address) == before
