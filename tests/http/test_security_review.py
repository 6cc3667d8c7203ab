"""An attacker's view of the platform: two users, hostile input, and what must never leak.

Each test fails if the weakness it names exists. Requests go through a client that answers 500s
instead of raising, so "no 500" is what is asserted.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from decimal import Decimal

import eth_account
import pytest
from fastapi.testclient import TestClient

from hyperdesk.exchange.models import OrderRequest
from hyperdesk.http.app import create_app
from hyperdesk.http.routes import live
from hyperdesk.persistence.models import Bot, Fill
from tests.fixtures.app import PASSWORD
from tests.helpers import wait_until

HUGE = 2**70
VAULT = "0x1111111111111111111111111111111111111111"
VALIDATOR = "0x5ac99df645f3414876c816caa18b2d234024b487"


@pytest.fixture
def api(services) -> Iterator[TestClient]:
    """Like `client`, but a server error comes back as a 500 answer rather than an exception."""
    with TestClient(create_app(services), raise_server_exceptions=False) as test_client:
        yield test_client


def _wallet(client, user, **body):
    response = client.post("/api/wallets", json={"label": "main", **body}, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _funded_wallet(client, user, usd="100000"):
    wallet = _wallet(client, user)
    response = client.post(
        f"/api/wallets/{wallet['id']}/faucet", json={"amount": usd}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    return wallet


def _order(client, user, wallet_id, **fields):
    body = {"wallet_id": wallet_id, "coin": "ETH", "side": "buy", "type": "limit", **fields}
    return client.post("/api/orders", json=body, headers=user.headers)


def _next_on(ws, channel):
    while True:
        message = ws.receive_json()
        if message["channel"] == channel:
            return message


# -- input that used to answer 500 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("get", f"/api/wallets/{HUGE}", {}),
        ("patch", f"/api/wallets/{HUGE}", {"json": {"label": "x"}}),
        ("delete", f"/api/wallets/{HUGE}", {}),
        ("get", f"/api/wallets/{HUGE}/account", {}),
        ("get", f"/api/wallets/{HUGE}/staking", {}),
        ("get", "/api/orders", {"params": {"wallet_id": HUGE}}),
        ("delete", f"/api/orders/{HUGE}", {"params": {"wallet_id": 1}}),
        ("delete", f"/api/orders/{2**63}", {"params": {"wallet_id": 1}}),
        ("delete", "/api/orders/1", {"params": {"wallet_id": HUGE}}),
        ("patch", f"/api/orders/{HUGE}", {"json": {"wallet_id": HUGE, "price": "3000"}}),
        (
            "post",
            "/api/orders",
            {"json": {"wallet_id": HUGE, "coin": "ETH", "side": "buy", "size": "1", "price": "1"}},
        ),
        ("post", f"/api/vaults/{VAULT}/deposit", {"json": {"wallet_id": HUGE, "amount": "1"}}),
        (
            "post",
            "/api/staking/delegate",
            {"json": {"wallet_id": HUGE, "validator": VALIDATOR, "amount": "1"}},
        ),
        ("get", "/api/trades", {"params": {"wallet_id": HUGE}}),
        ("get", "/api/trades", {"params": {"bot_id": HUGE}}),
        ("get", "/api/trades", {"params": {"cursor": HUGE}}),
        ("get", "/api/trades", {"params": {"start": 2**63}}),
        ("get", "/api/trades", {"params": {"end": HUGE}}),
        ("get", "/api/trades/summary", {"params": {"end": HUGE}}),
        ("get", "/api/trades.csv", {"params": {"end": HUGE}}),
    ],
)
def test_out_of_range_ids_and_times_are_a_clear_4xx_not_a_500(api, alice, method, path, kwargs):
    _wallet(api, alice)  # wallet 1 is hers, so the oid itself is looked up
    response = getattr(api, method)(path, headers=alice.headers, **kwargs)
    assert response.status_code in (404, 422), (response.status_code, response.text)
    assert response.json()["detail"]["code"] in ("VALIDATION_ERROR", "NOT_FOUND")


@pytest.mark.parametrize(
    "fields",
    [
        {"size": "0.1", "price": "99999999999999"},
        {"size": "999999999999", "price": "3000"},
        {"size": "0.1", "price": "3000", "trigger_price": "99999999999999", "trigger_kind": "tp"},
    ],
)
def test_large_but_accepted_numbers_reach_the_exchange_not_a_500(api, alice, fields):
    wallet = _funded_wallet(api, alice, usd="1000")
    response = _order(api, alice, wallet["id"], **fields)
    assert response.status_code in (200, 422), response.text  # the exchange's answer, either way


def test_a_large_fill_is_recorded_exactly(services, api, alice):
    """A fill of 10^10 units or more (cheap spot tokens) must be stored, not lost to an error."""
    from hyperdesk.exchange.models import Fill as WireFill

    wallet = _wallet(api, alice)
    fill = WireFill(
        account=wallet["account_address"],
        coin="PUMP",
        side="buy",
        price=Decimal("0.000001234"),
        size=Decimal("12345678901234"),
        time_ms=int(time.time() * 1000),
        start_position=Decimal(0),
        direction="Buy",
        closed_pnl=Decimal(0),
        hash="0x" + "ab" * 32,
        oid=1,
        crossed=True,
        fee=Decimal("0.01"),
        tid=987654321,
        fee_token="USDC",
        cloid=None,
    )
    assert len(services.fills.record(wallet["account_address"], [fill])) == 1
    [trade] = api.get("/api/trades", headers=alice.headers).json()["items"]
    assert Decimal(trade["size"]) == Decimal("12345678901234")


# -- resource limits ------------------------------------------------------------------------------


def test_an_oversized_body_is_refused_before_it_is_parsed(api):
    body = b'{"username": "alice", "password": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = api.post(
        "/api/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert response.json()["detail"]["code"] == "TOO_LARGE"


def test_an_oversized_body_without_a_length_is_refused_too(api):
    def chunks():
        yield b'{"username": "alice", "password": "'
        for _ in range(64):
            yield b"x" * 32 * 1024
        yield b'"}'

    response = api.post(
        "/api/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert response.json()["detail"]["code"] == "TOO_LARGE"


def test_ordinary_bodies_still_pass_the_size_limit(api, alice):
    assert _wallet(api, alice)["label"] == "main"


# -- the live socket ------------------------------------------------------------------------------


def test_an_open_socket_stops_when_the_password_changes(api, alice, monkeypatch):
    monkeypatch.setattr(live, "REAUTH_SECONDS", 0.2)
    with api.websocket_connect(f"/api/ws?token={alice.token}") as ws:
        assert ws.receive_json()["channel"] == "ready"
        changed = api.post(
            "/api/auth/password",
            json={"current_password": PASSWORD, "new_password": "another horse battery"},
            headers=alice.headers,
        )
        assert changed.status_code == 204
        time.sleep(1.0)
        ws.send_json({"op": "ping"})
        message = ws.receive_json()
        assert message["channel"] == "error", message  # not a pong: the socket was still live
        assert message["data"]["code"] == "INVALID_TOKEN"


def test_an_open_socket_stops_when_its_token_expires(api, services, alice, monkeypatch):
    monkeypatch.setattr(live, "REAUTH_SECONDS", 0.2)
    tokens = services.accounts._tokens
    short = tokens.issue(alice.id, 0, now=time.time() - tokens.lifetime_seconds + 1)
    with api.websocket_connect(f"/api/ws?token={short}") as ws:
        assert ws.receive_json()["channel"] == "ready"
        time.sleep(3.5)  # exp has whole seconds, and is "past" only once the next second begins
        ws.send_json({"op": "ping"})
        message = ws.receive_json()
        assert message["channel"] == "error", message
        assert message["data"]["code"] == "INVALID_TOKEN"


def test_binary_frames_get_an_error_reply_not_a_crash(client, alice):
    with client.websocket_connect("/api/ws") as ws:
        ws.send_bytes(b"\x00\x01")
        assert ws.receive_json()["data"]["code"] == "NOT_AUTHENTICATED"
    with client.websocket_connect(f"/api/ws?token={alice.token}") as ws:
        assert ws.receive_json()["channel"] == "ready"
        ws.send_bytes(b"\x80\x81")
        assert ws.receive_json()["data"]["code"] == "BAD_MESSAGE"
        ws.send_json({"op": "ping"})
        assert ws.receive_json() == {"channel": "pong"}


def test_the_unauthenticated_first_message_is_size_capped(client, alice):
    with client.websocket_connect("/api/ws") as ws:
        ws.send_json({"token": alice.token, "padding": "x" * 100_000})
        message = ws.receive_json()
        assert message["channel"] == "error", message
        assert message["data"]["code"] == "TOO_LARGE"


def test_subscriptions_per_socket_are_capped(client, alice, monkeypatch):
    # Only real markets can be subscribed (hardening finding 5), and the paper exchange lists
    # fewer than 50: a lower cap shows the same rule.
    monkeypatch.setattr(live, "MAX_TOPICS", 3)
    with client.websocket_connect(f"/api/ws?token={alice.token}") as ws:
        assert ws.receive_json()["channel"] == "ready"

        def answer():
            while (reply := ws.receive_json())["channel"] == "book":  # subscribed books' frames
                pass
            return reply

        codes = []
        for coin in ("BTC", "ETH", "SOL", "HYPE"):
            ws.send_json({"op": "subscribe", "channel": "book", "coin": coin})
            codes.append(answer()["data"].get("code"))
        assert codes == [None, None, None, "TOO_MANY"]
        ws.send_text("x" * (live.MAX_CLIENT_MESSAGE + 1))
        assert answer()["data"]["code"] == "TOO_LARGE"


# -- someone else's account -----------------------------------------------------------------------


def test_claiming_anothers_account_does_not_stream_their_orders(client, alice, bob):
    mine = _funded_wallet(client, alice)
    # Bob generates a key and names alice's (public) account address as the account it trades for.
    _wallet(client, bob, label="spy", account_address=mine["account_address"])
    with (
        client.websocket_connect(f"/api/ws?token={alice.token}") as alice_ws,
        client.websocket_connect(f"/api/ws?token={bob.token}") as bob_ws,
    ):
        assert alice_ws.receive_json()["channel"] == "ready"
        assert bob_ws.receive_json()["channel"] == "ready"
        placed = _order(client, alice, mine["id"], size="0.1", price="3000").json()

        def alice_heard() -> bool:
            update = _next_on(alice_ws, "orders")["data"]
            oids = [u["order"]["oid"] for u in update["updates"]]
            return placed["oid"] in oids + [o["oid"] for o in update["snapshot"]]

        wait_until(alice_heard, message="alice's own order update")
        bob_ws.send_json({"op": "ping"})
        heard = bob_ws.receive_json()
        assert heard == {"channel": "pong"}, heard  # bob got nothing of alice's order


def test_claiming_anothers_account_does_not_reveal_their_bot_ids(client, services, alice, bob):
    mine = _funded_wallet(client, alice)
    with services.sessions() as session:
        bot = Bot(
            user_id=alice.id, wallet_id=mine["id"], name="grid", code="", capital=Decimal(100)
        )
        session.add(bot)
        session.commit()
        bot_id = bot.id
    request = OrderRequest(coin="ETH", is_buy=True, size=Decimal("0.1"), price=Decimal(3000))
    services.orders.place(alice.id, mine["id"], request, bot_id=bot_id)
    theirs = _wallet(client, bob, label="spy", account_address=mine["account_address"])
    as_alice = client.get("/api/orders", params={"wallet_id": mine["id"]}, headers=alice.headers)
    assert [o["bot_id"] for o in as_alice.json()] == [bot_id]
    as_bob = client.get("/api/orders", params={"wallet_id": theirs["id"]}, headers=bob.headers)
    # An unverified claim on the account sees none of its orders at all (hardening finding 9).
    assert as_bob.status_code == 409, as_bob.text
    assert as_bob.json()["detail"]["code"] == "WALLET_NOT_VERIFIED"


def test_claiming_an_account_first_does_not_take_its_owners_fills(client, alice, bob, paper_server):
    owner = eth_account.Account.create()
    paper_server.fund(owner.address, 100_000)
    # Bob registers the account before its owner does (addresses are public on the chain).
    spy = _wallet(client, bob, label="spy", account_address=owner.address)
    mine = _wallet(client, alice, label="own key", private_key=owner.key.hex())
    assert spy["id"] < mine["id"]
    sdk = paper_server.sdk_exchange(owner)
    assert sdk.market_open("ETH", True, 0.1)["status"] == "ok"  # traded outside the desk

    def alice_trades():
        response = client.get(
            "/api/trades", params={"wallet_id": mine["id"]}, headers=alice.headers
        )
        return response.json()["items"]

    assert wait_until(alice_trades, message="the owner's external fill")[0]["source"] == "external"
    assert client.get("/api/trades", headers=bob.headers).json()["items"] == []


def test_a_forged_cloid_cannot_attribute_fills_to_anothers_bot(
    client, services, alice, bob, paper_server
):
    from hyperliquid.utils.types import Cloid

    mine = _wallet(client, alice)
    with services.sessions() as session:
        bot = Bot(user_id=alice.id, wallet_id=mine["id"], name="grid", code="", capital=Decimal(1))
        session.add(bot)
        session.commit()
        bot_id = bot.id
    # Bob trades his own account with a script, naming alice's bot in a cloid of our layout.
    key = eth_account.Account.create()
    paper_server.fund(key.address, 100_000)
    theirs = _wallet(client, bob, label="script", private_key=key.key.hex())
    forged = Cloid.from_str(f"0x686401{bot_id:08x}" + "00" * 9)
    sdk = paper_server.sdk_exchange(key)
    assert sdk.market_open("ETH", True, 0.1, cloid=forged)["status"] == "ok"

    def bobs_trades():
        response = client.get(
            "/api/trades", params={"wallet_id": theirs["id"]}, headers=bob.headers
        )
        return response.json()["items"]

    [trade] = wait_until(bobs_trades, message="bob's fill")
    assert trade["bot_id"] is None
    assert trade["source"] != "bot"


# -- guessing other people's ids ------------------------------------------------------------------


def test_guessing_anothers_oid_answers_exactly_like_a_missing_one(client, alice, bob):
    theirs = _funded_wallet(client, alice)
    oid = _order(client, alice, theirs["id"], size="0.1", price="3000").json()["oid"]
    mine = _funded_wallet(client, bob)
    for verb, kwargs in [
        ("delete", {"params": {"wallet_id": mine["id"]}}),
        ("patch", {"json": {"wallet_id": mine["id"], "price": "3100"}}),
    ]:
        guessed = getattr(client, verb)(f"/api/orders/{oid}", headers=bob.headers, **kwargs)
        missing = getattr(client, verb)(f"/api/orders/{oid + 999}", headers=bob.headers, **kwargs)
        assert guessed.status_code == missing.status_code == 404
        assert guessed.json() == missing.json()
    still = client.get("/api/orders", params={"wallet_id": theirs["id"]}, headers=alice.headers)
    assert [o["oid"] for o in still.json()] == [oid]


def test_anothers_wallet_and_a_missing_one_answer_the_same(client, alice, bob):
    theirs = _wallet(client, alice)
    for path in ("/api/wallets/{}", "/api/wallets/{}/account", "/api/wallets/{}/vaults"):
        other = client.get(path.format(theirs["id"]), headers=bob.headers)
        missing = client.get(path.format(theirs["id"] + 1000), headers=bob.headers)
        assert other.status_code == missing.status_code == 404
        assert other.json() == missing.json()
    for params in ({"wallet_id": theirs["id"]}, {"bot_id": 1}):
        other = client.get("/api/trades", params=params, headers=bob.headers)
        assert other.status_code == 404
        assert other.json()["detail"]["code"] == "NOT_FOUND"


def test_a_cursor_never_pages_into_anothers_trades(client, alice, bob):
    wallet = _funded_wallet(client, alice)
    assert _order(client, alice, wallet["id"], type="market", size="0.01").status_code == 200
    wait_until(lambda: client.get("/api/trades", headers=alice.headers).json()["items"])
    for cursor in (1, 2, 10**6):
        page = client.get("/api/trades", params={"cursor": cursor}, headers=bob.headers).json()
        assert page["items"] == []
    assert "ETH" not in client.get("/api/trades.csv", headers=bob.headers).text
    assert client.get("/api/trades/summary", headers=bob.headers).json()["trades"] == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/wallets", {"label": "x", "user_id": 2}),
        ("/api/wallets", {"label": "x", "is_agent": True}),
        ("/api/orders", {"wallet_id": 1, "coin": "ETH", "side": "buy", "size": "1", "bot_id": 1}),
        ("/api/orders", {"wallet_id": 1, "coin": "ETH", "side": "buy", "size": "1", "cloid": "0x"}),
        (f"/api/vaults/{VAULT}/deposit", {"wallet_id": 1, "amount": "1", "user_id": 2}),
        ("/api/staking/delegate", {"wallet_id": 1, "validator": VALIDATOR, "amount": "1", "x": 1}),
        ("/api/auth/password", {"current_password": "x", "new_password": "y" * 12, "ver": 0}),
    ],
)
def test_unknown_body_fields_are_refused(client, alice, path, body):
    response = client.post(path, json=body, headers=alice.headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["code"] == "VALIDATION_ERROR"


# -- secrets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "private_key",
    [
        ["0x" + "ab" * 32],
        {"key": "0x" + "ab" * 32},
        "0x" + "ab" * 31 + "zz",
        "0x" + "ab" * 33,
        "0x" + "00" * 32,
    ],
)
def test_a_refused_key_is_never_echoed(api, alice, caplog, private_key):
    caplog.set_level("DEBUG")
    response = api.post(
        "/api/wallets", json={"label": "x", "private_key": private_key}, headers=alice.headers
    )
    assert response.status_code == 422, response.text
    for fragment in ("ab" * 31, "00" * 32):
        assert fragment not in response.text
        assert fragment not in caplog.text


def test_guessing_the_current_password_is_throttled(client, services, alice):
    limit = services.settings.login_attempts_per_window
    codes = []
    for _ in range(limit + 1):
        response = client.post(
            "/api/auth/password",
            json={"current_password": "wrong password!", "new_password": "another horse"},
            headers=alice.headers,
        )
        codes.append(response.json()["detail"]["code"])
    assert codes[-1] == "LOGIN_THROTTLED", codes


# -- CSV export -----------------------------------------------------------------------------------


def test_csv_cells_cannot_start_a_spreadsheet_formula(client, services, alice):
    wallet = _wallet(client, alice)
    hostile = {
        "coin": '=HYPERLINK("http://evil","x")',
        "direction": "+cmd|' /C calc'!A0",
        "fee_token": "@SUM(1+1)",
        "hash": "-2+3+cmd|' /C calc'!A0",
        "source": "\t=1+1",
    }
    with services.sessions() as session:
        session.add(
            Fill(
                user_id=alice.id,
                wallet_id=wallet["id"],
                bot_id=None,
                account_address=wallet["account_address"],
                tid=1,
                oid=1,
                cloid=None,
                side="sell",
                price=Decimal(3000),
                size=Decimal("0.5"),
                fee=Decimal("0.1"),
                closed_pnl=Decimal("-12.5"),
                start_position=Decimal(0),
                crossed=True,
                time_ms=int(time.time() * 1000),
                **hostile,
            )
        )
        session.commit()
    text = client.get("/api/trades.csv", headers=alice.headers).text
    [row] = list(csv.DictReader(io.StringIO(text)))
    for column, value in hostile.items():
        assert row[column] == "'" + value, (column, row[column])
    assert row["closed_pnl"] == "-12.5"  # numbers stay numbers
    assert row["price"] == "3000"
