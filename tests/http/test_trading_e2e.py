"""Trading through the REST API end to end: our app and actors, the unmodified SDK, real HTTP and
websockets to a running paper exchange whose clock and prices the test moves."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import eth_account
import pytest

from tests.fixtures.paper import paper_test_config
from tests.helpers import wait_until

VAULT = "0x1111111111111111111111111111111111111111"
VALIDATOR = "0x5ac99df645f3414876c816caa18b2d234024b487"


@pytest.fixture
def paper_config():
    return paper_test_config(vault_lockup_s=60, staking_delegation_lockup_s=60)


def _wallet(client, user, **body):
    response = client.post("/api/wallets", json={"label": "main", **body}, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _funded_wallet(client, user, usd="100000", hype="0"):
    wallet = _wallet(client, user)
    response = client.post(
        f"/api/wallets/{wallet['id']}/faucet",
        json={"amount": usd, "hype": hype},
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    return wallet


def _order(client, user, wallet, **fields):
    body = {"wallet_id": wallet["id"], "coin": "ETH", "side": "buy", "type": "limit", **fields}
    return client.post("/api/orders", json=body, headers=user.headers)


def _error_code(response, status):
    assert response.status_code == status, response.text
    return response.json()["detail"]["code"]


def _trades(client, user, **params):
    response = client.get("/api/trades", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


# -- wallets --------------------------------------------------------------------------------


def test_generating_and_importing_wallets_never_returns_key_material(client, alice, paper_server):
    generated = _wallet(client, alice)
    assert generated["address"] == generated["account_address"]
    assert not generated["is_agent"]
    assert generated["verified"]

    master = paper_server.new_wallet()
    approval, agent_key = paper_server.sdk_exchange(master).approve_agent()
    assert approval["status"] == "ok"
    imported = _wallet(
        client, alice, label="agent", private_key=agent_key, account_address=master.address
    )
    agent = eth_account.Account.from_key(agent_key)
    assert imported["is_agent"]
    assert imported["verified"]
    assert imported["address"] == agent.address.lower()
    assert imported["account_address"] == master.address.lower()
    assert imported["warnings"] == []

    plain = eth_account.Account.create()
    response = client.post(
        "/api/wallets",
        json={"label": "plain", "private_key": plain.key.hex()},
        headers=alice.headers,
    )
    assert response.status_code == 201
    assert "API wallet" in response.json()["warnings"][0]

    listing = client.get("/api/wallets", headers=alice.headers).text
    for key in (agent.key.hex(), plain.key.hex(), agent.key.hex()[2:], agent_key):
        assert key not in listing
        assert key not in response.text


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"label": "x", "private_key": "0x1234"}, "INVALID_KEY"),
        ({"label": "x", "private_key": "zz" * 32}, "INVALID_KEY"),
        ({"label": "x", "account_address": "0x123"}, "VALIDATION_ERROR"),
        ({"label": ""}, "VALIDATION_ERROR"),
        ({"label": "x", "user_id": 2}, "VALIDATION_ERROR"),
    ],
)
def test_bad_wallet_input_is_refused_and_stores_nothing(client, alice, body, code):
    response = client.post("/api/wallets", json=body, headers=alice.headers)
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == code
    assert "0x1234" not in response.text or code != "INVALID_KEY"
    assert client.get("/api/wallets", headers=alice.headers).json() == []


def test_importing_the_same_key_twice_is_a_conflict(client, alice):
    key = eth_account.Account.create().key.hex()
    _wallet(client, alice, private_key=key)
    response = client.post(
        "/api/wallets", json={"label": "again", "private_key": key}, headers=alice.headers
    )
    assert _error_code(response, 409) == "WALLET_EXISTS"


def test_rename_and_delete_a_wallet(client, alice):
    wallet = _wallet(client, alice)
    renamed = client.patch(
        f"/api/wallets/{wallet['id']}", json={"label": "renamed"}, headers=alice.headers
    )
    assert renamed.json()["label"] == "renamed"
    assert client.delete(f"/api/wallets/{wallet['id']}", headers=alice.headers).status_code == 204
    assert (
        _error_code(client.get(f"/api/wallets/{wallet['id']}", headers=alice.headers), 404)
        == "NOT_FOUND"
    )


# -- trading --------------------------------------------------------------------------------


def test_faucet_funds_the_account_view(client, alice):
    wallet = _funded_wallet(client, alice, usd="2500")
    account = client.get(f"/api/wallets/{wallet['id']}/account", headers=alice.headers).json()
    assert Decimal(account["account_value"]) == Decimal("2500")
    assert Decimal(account["withdrawable"]) == Decimal("2500")
    assert account["positions"] == []


def test_markets_book_and_candles(client):
    markets = {m["coin"]: m for m in client.get("/api/markets").json()}
    assert markets["ETH"]["sz_decimals"] == 4
    assert Decimal(markets["ETH"]["mid"]) > 0
    book = client.get("/api/markets/ETH/book").json()
    assert Decimal(book["bids"][0]["price"]) < Decimal(book["asks"][0]["price"])
    candles = client.get("/api/markets/ETH/candles", params={"interval": "1m"}).json()
    assert candles
    assert {"open", "high", "low", "close", "volume", "time"} <= set(candles[0])
    assert _error_code(client.get("/api/markets/NOPE/book"), 404) == "UNKNOWN_COIN"


def test_a_limit_order_rests_is_modified_and_canceled(client, alice):
    wallet = _funded_wallet(client, alice)
    placed = _order(client, alice, wallet, size="0.1", price="3000")
    assert placed.status_code == 200, placed.text
    body = placed.json()
    assert body["status"] == "resting"
    assert body["cloid"].startswith("0x6864")
    oid = body["oid"]

    open_orders = client.get(
        "/api/orders", params={"wallet_id": wallet["id"]}, headers=alice.headers
    ).json()
    assert [(o["oid"], o["price"], o["size"]) for o in open_orders] == [(oid, "3000", "0.1")]

    modified = client.patch(
        f"/api/orders/{oid}",
        json={"wallet_id": wallet["id"], "price": "3100"},
        headers=alice.headers,
    )
    assert modified.status_code == 200, modified.text
    open_orders = client.get(
        "/api/orders", params={"wallet_id": wallet["id"]}, headers=alice.headers
    ).json()
    assert [o["price"] for o in open_orders] == ["3100"]
    new_oid = open_orders[0]["oid"]

    canceled = client.delete(
        f"/api/orders/{new_oid}", params={"wallet_id": wallet["id"]}, headers=alice.headers
    )
    assert canceled.status_code == 204
    assert (
        client.get("/api/orders", params={"wallet_id": wallet["id"]}, headers=alice.headers).json()
        == []
    )


def test_a_market_order_fills_shows_a_position_and_is_recorded_once(client, alice, paper_server):
    wallet = _funded_wallet(client, alice)
    placed = _order(client, alice, wallet, type="market", size="0.5")
    assert placed.status_code == 200, placed.text
    assert placed.json()["status"] == "filled"
    assert Decimal(placed.json()["filled_size"]) == Decimal("0.5")

    account = client.get(f"/api/wallets/{wallet['id']}/account", headers=alice.headers).json()
    [position] = account["positions"]
    assert (position["coin"], Decimal(position["size"])) == ("ETH", Decimal("0.5"))

    paper_server.set_price("ETH", "3600")
    account = client.get(f"/api/wallets/{wallet['id']}/account", headers=alice.headers).json()
    assert Decimal(account["positions"][0]["unrealized_pnl"]) > 0

    # The order's own response, the stream and its snapshot all report these fills: once each.
    trades = wait_until(lambda: _trades(client, alice, wallet_id=wallet["id"]), message="trades")
    wait_until(
        lambda: (
            client.get(
                "/api/wallets/" + str(wallet["id"]) + "/account", headers=alice.headers
            ).json()["stream_mode"]
            == "websocket"
        )
    )
    assert sum(Decimal(t["size"]) for t in _trades(client, alice)) == Decimal("0.5")
    tids = [t["tid"] for t in _trades(client, alice)]
    assert len(tids) == len(set(tids))
    assert all(t["source"] == "manual" and t["bot_id"] is None for t in trades)
    assert all(t["cloid"] == placed.json()["cloid"] for t in trades)

    exported = client.get("/api/trades.csv", headers=alice.headers)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert sorted(int(r["tid"]) for r in rows) == sorted(tids)

    summary = client.get("/api/trades/summary", headers=alice.headers).json()
    assert summary["trades"] == len(tids)
    assert Decimal(summary["fees"]) > 0


def test_closing_a_position_realizes_pnl(client, alice, paper_server):
    wallet = _funded_wallet(client, alice)
    assert _order(client, alice, wallet, type="market", size="1").status_code == 200
    paper_server.set_price("ETH", "3700")
    closed = _order(client, alice, wallet, type="market", side="sell", size="1", reduce_only=True)
    assert closed.json()["status"] == "filled", closed.text
    # The answer says what filled; its fills are recorded just after it (stream or fetch).
    wait_until(
        lambda: (
            Decimal(client.get("/api/trades/summary", headers=alice.headers).json()["realized_pnl"])
            > 0
        ),
        message="the closing fill's profit in the summary",
    )
    account = client.get(f"/api/wallets/{wallet['id']}/account", headers=alice.headers).json()
    assert account["positions"] == []


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"size": "0.1", "price": "3000.123"}, "TICK_SIZE"),
        ({"size": "0.00001", "price": "3000"}, "LOT_SIZE"),
        ({"size": "0.001", "price": "3000"}, "MIN_NOTIONAL"),
        ({"coin": "NOPE", "size": "1", "price": "1"}, "UNKNOWN_COIN"),
        ({"size": "100", "price": "3000"}, "INSUFFICIENT_MARGIN"),
    ],
)
def test_bad_orders_get_a_clear_code_and_open_nothing(client, alice, fields, code):
    wallet = _funded_wallet(client, alice, usd="1000")
    response = _order(client, alice, wallet, **fields)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["code"] == code
    assert response.json()["detail"]["message"]
    assert (
        client.get("/api/orders", params={"wallet_id": wallet["id"]}, headers=alice.headers).json()
        == []
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"size": "-1", "price": "3000"},
        {"size": "NaN", "price": "3000"},
        {"size": "1e309", "price": "3000"},
        {"size": "1", "price": "3000", "side": "up"},
    ],
)
def test_nonsense_numbers_are_validation_errors(client, alice, fields):
    wallet = _wallet(client, alice)
    assert _error_code(_order(client, alice, wallet, **fields), 422) == "VALIDATION_ERROR"


def test_tick_size_errors_suggest_the_nearest_valid_price(client, alice):
    wallet = _funded_wallet(client, alice)
    detail = _order(client, alice, wallet, size="0.1", price="3000.123").json()["detail"]
    assert detail.get("nearest") in {"3000.1", "3000"}


# -- vaults and staking ---------------------------------------------------------------------


def test_vault_deposit_is_locked_then_withdrawn_after_the_lockup(
    client, alice, paper_server, services
):
    wallet = _funded_wallet(client, alice, usd="5000")
    listing = client.get("/api/vaults").json()
    assert VAULT in [v["address"] for v in listing]
    details = client.get(f"/api/vaults/{VAULT}").json()
    assert details["name"]
    assert details["allow_deposits"]

    body = {"wallet_id": wallet["id"], "amount": "1000"}
    deposit = client.post(f"/api/vaults/{VAULT}/deposit", json=body, headers=alice.headers)
    assert deposit.status_code == 200, deposit.text
    equities = client.get(f"/api/wallets/{wallet['id']}/vaults", headers=alice.headers).json()
    assert [Decimal(e["equity"]) for e in equities if e["vault_address"] == VAULT] == [
        Decimal(1000)
    ]

    locked = client.post(f"/api/vaults/{VAULT}/withdraw", json=body, headers=alice.headers)
    assert _error_code(locked, 422) == "VAULT_LOCKED"
    assert "locked until" in locked.json()["detail"]["message"]
    assert locked.json()["detail"]["unlocks_at"]

    paper_server.advance(seconds=61)
    withdraw = client.post(
        f"/api/vaults/{VAULT}/withdraw",
        json={"wallet_id": wallet["id"], "amount": "500"},
        headers=alice.headers,
    )
    assert withdraw.status_code == 200, withdraw.text

    from sqlalchemy import select

    from hyperdesk.persistence.models import VaultAction

    with services.sessions() as session:
        attempts = [
            (a.kind, a.amount, a.status, a.user_id)
            for a in session.scalars(select(VaultAction).order_by(VaultAction.id))
        ]
    assert attempts == [
        ("deposit", Decimal(1000), "ok", alice.id),
        ("withdraw", Decimal(1000), "error", alice.id),
        ("withdraw", Decimal(500), "ok", alice.id),
    ]


def test_delegate_and_undelegate(client, alice, paper_server):
    wallet = _funded_wallet(client, alice, usd="100", hype="50")
    validators = client.get("/api/staking/validators").json()
    stakes = {v["validator"]: Decimal(v["stake"]) for v in validators}
    # In HYPE, as every amount the desk shows: the paper's first validator holds 40M of its own.
    assert Decimal(40_000_000) <= stakes[VALIDATOR] < Decimal(41_000_000)

    body = {"wallet_id": wallet["id"], "validator": VALIDATOR, "amount": "10"}
    assert client.post("/api/staking/delegate", json=body, headers=alice.headers).status_code == 200
    staking = client.get(f"/api/wallets/{wallet['id']}/staking", headers=alice.headers).json()
    assert [(d["validator"], Decimal(d["amount"])) for d in staking["delegations"]] == [
        (VALIDATOR, Decimal(10))
    ]
    assert Decimal(staking["summary"]["delegated"]) == Decimal(10)

    early = client.post("/api/staking/undelegate", json=body, headers=alice.headers)
    assert early.status_code == 422
    paper_server.advance(seconds=61)
    later = client.post("/api/staking/undelegate", json=body, headers=alice.headers)
    assert later.status_code == 200, later.text
    staking = client.get(f"/api/wallets/{wallet['id']}/staking", headers=alice.headers).json()
    assert staking["delegations"] == [] or all(
        Decimal(d["amount"]) == 0 for d in staking["delegations"]
    )


# -- two users --------------------------------------------------------------------------------


def test_neither_user_can_see_or_touch_the_others_objects(client, alice, bob):
    wallet = _funded_wallet(client, alice)
    oid = _order(client, alice, wallet, size="0.1", price="3000").json()["oid"]
    _order(client, alice, wallet, type="market", size="0.1")
    wid = wallet["id"]
    as_bob = bob.headers
    attempts = [
        client.get(f"/api/wallets/{wid}", headers=as_bob),
        client.patch(f"/api/wallets/{wid}", json={"label": "mine"}, headers=as_bob),
        client.delete(f"/api/wallets/{wid}", headers=as_bob),
        client.get(f"/api/wallets/{wid}/account", headers=as_bob),
        client.post(f"/api/wallets/{wid}/faucet", json={"amount": "1"}, headers=as_bob),
        client.post(
            f"/api/wallets/{wid}/leverage", json={"coin": "ETH", "leverage": 3}, headers=as_bob
        ),
        client.get("/api/orders", params={"wallet_id": wid}, headers=as_bob),
        _order(client, bob, wallet, size="0.1", price="3000"),
        client.patch(
            f"/api/orders/{oid}", json={"wallet_id": wid, "price": "3100"}, headers=as_bob
        ),
        client.delete(f"/api/orders/{oid}", params={"wallet_id": wid}, headers=as_bob),
        client.get("/api/trades", params={"wallet_id": wid}, headers=as_bob),
        client.get("/api/trades.csv", params={"wallet_id": wid}, headers=as_bob),
        client.post(
            f"/api/vaults/{VAULT}/deposit", json={"wallet_id": wid, "amount": "10"}, headers=as_bob
        ),
        client.post(
            f"/api/vaults/{VAULT}/withdraw", json={"wallet_id": wid, "amount": "10"}, headers=as_bob
        ),
        client.get(f"/api/wallets/{wid}/vaults", headers=as_bob),
        client.get(f"/api/wallets/{wid}/staking", headers=as_bob),
        client.post(
            "/api/staking/delegate",
            json={"wallet_id": wid, "validator": VALIDATOR, "amount": "1"},
            headers=as_bob,
        ),
        client.post(
            "/api/staking/undelegate",
            json={"wallet_id": wid, "validator": VALIDATOR, "amount": "1"},
            headers=as_bob,
        ),
    ]
    for response in attempts:
        assert response.status_code == 404, (response.request.url, response.text)
        assert response.json()["detail"]["code"] == "NOT_FOUND"
    assert _trades(client, bob) == []
    assert client.get("/api/wallets", headers=as_bob).json() == []
    # and alice's order is still there, untouched
    open_orders = client.get("/api/orders", params={"wallet_id": wid}, headers=alice.headers).json()
    assert [(o["oid"], o["price"]) for o in open_orders] == [(oid, "3000")]


def test_every_trading_route_needs_a_login(client):
    for method, path in [
        ("get", "/api/wallets"),
        ("post", "/api/wallets"),
        ("get", "/api/orders?wallet_id=1"),
        ("post", "/api/orders"),
        ("get", "/api/trades"),
        ("post", "/api/staking/delegate"),
    ]:
        assert getattr(client, method)(path).status_code == 401


# -- the stream ------------------------------------------------------------------------------


def test_fills_made_while_the_stream_is_down_are_backfilled_once(client, alice, paper_server):
    wallet = _funded_wallet(client, alice)
    wid = wallet["id"]
    wait_until(
        lambda: (
            client.get(f"/api/wallets/{wid}/account", headers=alice.headers).json()["stream_mode"]
            == "websocket"
        ),
        message="wallet streamed",
    )
    # An outside script trades the same account with the raw SDK: we learn of it only by stream.
    key = eth_account.Account.create()
    paper_server.fund(key.address, 100_000)
    sdk = paper_server.sdk_exchange(key)
    approve, _agent_key = sdk.approve_agent()
    assert approve["status"] == "ok"
    # (the approved agent is not used; the external trades below are the funded account's own)
    imported = client.post(
        "/api/wallets",
        json={"label": "script", "private_key": key.key.hex()},
        headers=alice.headers,
    ).json()
    wait_until(
        lambda: (
            client.get(f"/api/wallets/{imported['id']}/account", headers=alice.headers).json()[
                "stream_mode"
            ]
            == "websocket"
        ),
        message="imported wallet streamed",
    )
    assert sdk.market_open("ETH", True, 0.1)["status"] == "ok"
    wait_until(
        lambda: len(_trades(client, alice, wallet_id=imported["id"])) >= 1, message="first fill"
    )

    assert paper_server.post("/_paper/drop_connections", {}).status_code == 200
    for _ in range(3):
        assert sdk.market_open("ETH", True, 0.1)["status"] == "ok"
    assert _order(client, alice, wallet, type="market", size="0.2").json()["status"] == "filled"

    expected = paper_server.info().user_fills(key.address)
    wait_until(
        lambda: len(_trades(client, alice, wallet_id=imported["id"])) == len(expected),
        timeout=20,
        message="backfilled fills",
    )
    trades = _trades(client, alice, wallet_id=imported["id"])
    assert sorted(t["tid"] for t in trades) == sorted(f["tid"] for f in expected)
    assert all(t["source"] == "external" for t in trades)
    all_tids = [t["tid"] for t in _trades(client, alice, limit=500)]
    assert len(all_tids) == len(set(all_tids))


def test_the_browser_socket_needs_a_token_and_pushes_mids_and_own_fills(
    client, alice, bob, paper_server
):
    with client.websocket_connect("/api/ws") as ws:
        ws.send_json({"token": "nonsense"})
        assert ws.receive_json()["data"]["code"] == "INVALID_TOKEN"

    wallet = _funded_wallet(client, alice)
    with (
        client.websocket_connect(f"/api/ws?token={alice.token}") as ws,
        client.websocket_connect("/api/ws") as bob_ws,
    ):
        assert ws.receive_json()["channel"] == "ready"
        bob_ws.send_json({"token": bob.token})
        assert bob_ws.receive_json()["channel"] == "ready"
        ws.send_json({"op": "subscribe", "channel": "mids"})
        assert ws.receive_json()["channel"] == "subscribed"
        paper_server.set_price("ETH", "3400")

        def next_on(channel):
            while True:
                message = ws.receive_json()
                if message["channel"] == channel:
                    return message

        assert "ETH" in next_on("mids")["data"]["mids"]
        assert _order(client, alice, wallet, type="market", size="0.1").json()["status"] == "filled"
        fills = next_on("fills")["data"]
        assert fills[0]["wallet_id"] == wallet["id"]
        bob_ws.send_json({"op": "ping"})
        assert bob_ws.receive_json() == {"channel": "pong"}  # bob got no fill of alice's


# -- keys ---------------------------------------------------------------------------------------


def test_key_material_is_never_stored_in_plaintext_or_logged(client, alice, services, caplog):
    caplog.set_level("DEBUG")
    account = eth_account.Account.create()
    key = account.key.hex()
    wallet = _wallet(client, alice, private_key=key)
    client.post(
        f"/api/wallets/{wallet['id']}/faucet", json={"amount": "1000"}, headers=alice.headers
    )
    _order(client, alice, wallet, type="market", size="0.01")
    engine = services.sessions.kw["bind"]
    with engine.connect() as connection:
        for table in ("wallets", "orders", "fills"):
            for row in connection.exec_driver_sql(f"SELECT * FROM {table}"):  # noqa: S608
                text = " ".join(str(v) for v in row)
                assert key[2:] not in text
    assert key[2:] not in caplog.text


def test_a_wallet_row_copied_to_another_user_fails_to_decrypt(client, alice, bob, services):
    from hyperdesk.keystore import DecryptionError
    from hyperdesk.persistence.models import Wallet

    mine = _wallet(client, alice)
    theirs = _wallet(client, bob)
    with services.sessions() as session:
        source = session.get(Wallet, mine["id"])
        target = session.get(Wallet, theirs["id"])
        target.encrypted_key, target.key_id = source.encrypted_key, source.key_id
        target.address = source.address
        session.commit()
    with pytest.raises(DecryptionError):
        services.wallets.key_for(theirs["id"])
    assert services.wallets.key_for(mine["id"])[0].startswith("0x")


def test_recent_trades_show_the_markets_prints(client, alice):
    wallet = _funded_wallet(client, alice)
    assert _order(client, alice, wallet, type="market", size="0.2").status_code == 200
    prints = client.get("/api/markets/ETH/trades").json()
    assert prints
    assert prints[0]["side"] == "buy"
    assert sum(Decimal(p["size"]) for p in prints) >= Decimal("0.2")
    assert _error_code(client.get("/api/markets/NOPE/trades"), 404) == "UNKNOWN_COIN"


def test_the_browser_socket_pushes_books_and_own_order_updates(client, alice, paper_server):
    wallet = _funded_wallet(client, alice)
    with client.websocket_connect(f"/api/ws?token={alice.token}") as ws:
        assert ws.receive_json()["channel"] == "ready"
        ws.send_json({"op": "subscribe", "channel": "book", "coin": "ETH"})

        def next_on(channel):
            while True:
                message = ws.receive_json()
                if message["channel"] == channel:
                    return message

        assert next_on("subscribed")["data"]["topic"] == "book:ETH"
        paper_server.set_price("ETH", "3450")
        book = next_on("book")["data"]
        assert book["coin"] == "ETH"
        assert book["levels"][0]
        placed = _order(client, alice, wallet, size="0.1", price="3000").json()
        update = next_on("orders")["data"]
        assert update["account"] == wallet["account_address"]
        oids = [u["order"]["oid"] for u in update["updates"]] + [
            o["oid"] for o in update["snapshot"]
        ]
        assert placed["oid"] in oids
        ws.send_json({"op": "subscribe", "channel": "nonsense"})
        assert next_on("error")["data"]["code"] == "BAD_MESSAGE"


def test_a_stop_loss_rests_as_a_trigger_and_fires_when_the_price_falls(client, alice, paper_server):
    wallet = _funded_wallet(client, alice)
    assert _order(client, alice, wallet, type="market", size="0.5").json()["status"] == "filled"
    stop = _order(
        client,
        alice,
        wallet,
        side="sell",
        size="0.5",
        price="3000",
        reduce_only=True,
        trigger_price="3200",
        trigger_kind="sl",
    )
    assert stop.status_code == 200, stop.text
    [trigger] = client.get(
        "/api/orders", params={"wallet_id": wallet["id"]}, headers=alice.headers
    ).json()
    assert trigger["is_trigger"]
    assert Decimal(trigger["trigger_price"]) == Decimal(3200)

    paper_server.set_price("ETH", "3150")
    account = client.get(f"/api/wallets/{wallet['id']}/account", headers=alice.headers).json()
    assert account["positions"] == []
    assert (
        client.get("/api/orders", params={"wallet_id": wallet["id"]}, headers=alice.headers).json()
        == []
    )


def test_a_stop_loss_is_not_turned_into_a_plain_limit_by_a_modify(client, alice):
    wallet = _funded_wallet(client, alice)
    assert _order(client, alice, wallet, type="market", size="0.5").json()["status"] == "filled"
    stop = _order(client, alice, wallet, side="sell", size="0.5", price="3000",
                  reduce_only=True, trigger_price="3200", trigger_kind="sl")  # fmt: skip
    assert stop.status_code == 200, stop.text
    for change in ({"price": "2900"}, {"price": "2900", "size": "0.4"}):
        refused = client.patch(
            f"/api/orders/{stop.json()['oid']}",
            json={"wallet_id": wallet["id"], **change},
            headers=alice.headers,
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"]["code"] == "TRIGGER_NOT_MODIFIABLE"
    [kept] = client.get(
        "/api/orders", params={"wallet_id": wallet["id"]}, headers=alice.headers
    ).json()
    assert kept["is_trigger"]
    assert (Decimal(kept["price"]), Decimal(kept["trigger_price"])) == (3000, 3200)


def test_leverage_is_set_per_coin(client, alice):
    wallet = _funded_wallet(client, alice)
    response = client.post(
        f"/api/wallets/{wallet['id']}/leverage",
        json={"coin": "ETH", "leverage": 3, "cross": False},
        headers=alice.headers,
    )
    assert response.status_code == 204, response.text
    _order(client, alice, wallet, type="market", size="0.1")
    [position] = client.get(f"/api/wallets/{wallet['id']}/account", headers=alice.headers).json()[
        "positions"
    ]
    assert (position["leverage"], position["leverage_type"]) == (3, "isolated")
    too_high = client.post(
        f"/api/wallets/{wallet['id']}/leverage",
        json={"coin": "ETH", "leverage": 99},
        headers=alice.headers,
    )
    assert too_high.status_code == 422


def test_trade_history_pages_and_filters(client, alice, paper_server):
    wallet = _funded_wallet(client, alice)
    other = _funded_wallet(client, alice)
    for _ in range(3):
        assert _order(client, alice, wallet, type="market", size="0.01").status_code == 200
    assert _order(client, alice, other, coin="BTC", type="market", size="0.001").status_code == 200

    def all_fills_recorded():
        trades = _trades(client, alice, limit=500)
        sizes = {
            c: sum(Decimal(t["size"]) for t in trades if t["coin"] == c) for c in ("ETH", "BTC")
        }
        return trades if sizes == {"ETH": Decimal("0.03"), "BTC": Decimal("0.001")} else None

    # Fills an answer did not carry (an order may fill at several levels) are recorded just after.
    everything = wait_until(all_fills_recorded, 20, interval=0.2, message="every fill recorded")
    ids = [t["id"] for t in everything]
    assert ids == sorted(ids, reverse=True)

    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/trades", params=params, headers=alice.headers).json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [t["id"] for page in pages for t in page] == ids
    assert all(len(page) <= 2 for page in pages)

    assert {t["coin"] for t in _trades(client, alice, coin="BTC")} == {"BTC"}
    assert {t["wallet_id"] for t in _trades(client, alice, wallet_id=other["id"])} == {other["id"]}
    newest = everything[0]["time"]
    assert all(t["time"] >= newest for t in _trades(client, alice, start=newest))
    assert _trades(client, alice, end=everything[-1]["time"] - 1) == []
    too_big = client.get("/api/trades", params={"limit": 10_000}, headers=alice.headers)
    assert _error_code(too_big, 422) == "VALIDATION_ERROR"


def test_an_agent_wallet_is_trusted_only_once_the_exchange_lists_its_approval(
    client, alice, paper_server
):
    master = paper_server.new_wallet()
    agent = eth_account.Account.create()
    body = {"label": "agent", "private_key": agent.key.hex(), "account_address": master.address}
    wallet = client.post("/api/wallets", json=body, headers=alice.headers).json()
    assert not wallet["verified"]
    assert "approve" in wallet["warnings"][0].lower()
    # The account trades elsewhere; an unverified claim on it learns nothing private.
    assert paper_server.sdk_exchange(master).market_open("ETH", True, 0.1)["status"] == "ok"
    account = client.get(f"/api/wallets/{wallet['id']}/account", headers=alice.headers)
    assert _error_code(account, 409) == "WALLET_NOT_VERIFIED"
    still = client.post(f"/api/wallets/{wallet['id']}/verify", headers=alice.headers).json()
    assert not still["verified"]
    assert _trades(client, alice) == []

    # The master approves exactly this key (the SDK signs an approveAgent for its address).
    from hyperliquid.utils.signing import get_timestamp_ms, sign_agent

    sdk = paper_server.sdk_exchange(master)
    nonce = get_timestamp_ms()
    action = {
        "type": "approveAgent",
        "agentAddress": agent.address,
        "agentName": "",
        "nonce": nonce,
    }
    signature = sign_agent(master, action, sdk.base_url == "https://api.hyperliquid.xyz")
    del action["agentName"]  # an unnamed approval is posted without the field
    assert sdk._post_action(action, signature, nonce)["status"] == "ok"

    verified = client.post(f"/api/wallets/{wallet['id']}/verify", headers=alice.headers).json()
    assert verified["verified"]
    assert verified["warnings"] == []
    trades = wait_until(lambda: _trades(client, alice), message="the account's fills, backfilled")
    assert {t["source"] for t in trades} == {"external"}
