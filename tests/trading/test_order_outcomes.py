"""Once the exchange has answered, the caller hears that answer — whatever the database does next.

Each test makes a real database write fail (the driver's own error, through SQLAlchemy) right after
the paper exchange accepted, filled or cancelled something, through the REST API with the
unmodified SDK on the exchange side. Before the fix these answered 503 "try again" for an order
that had filled, inviting a second one.
"""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from hyperdesk.http.app import create_app
from hyperdesk.persistence.models import Fill, Order, StakingAction
from hyperdesk.runtime import Runtime
from tests.fixtures.app import import_funded_key, register_and_login
from tests.helpers import wait_until
from tests.trading.db_faults import DatabaseFault

VALIDATOR = "0x5ac99df645f3414876c816caa18b2d234024b487"


def _funded_wallet(client, user, usd="100000", hype="0"):
    wallet = client.post("/api/wallets", json={"label": "main"}, headers=user.headers)
    assert wallet.status_code == 201, wallet.text
    wallet = wallet.json()
    funded = client.post(
        f"/api/wallets/{wallet['id']}/faucet",
        json={"amount": usd, "hype": hype},
        headers=user.headers,
    )
    assert funded.status_code == 200, funded.text
    return wallet


def _order(client, user, wallet, **fields):
    body = {"wallet_id": wallet["id"], "coin": "ETH", "side": "buy", "type": "limit", **fields}
    return client.post("/api/orders", json=body, headers=user.headers)


def _order_row(services, cloid):
    with services.sessions() as session:
        return session.scalar(select(Order).where(Order.cloid == cloid))


def test_an_order_that_filled_is_reported_filled_even_when_the_result_update_fails(
    client, alice, runtime, services
):
    wallet = _funded_wallet(client, alice)
    with DatabaseFault(runtime.unflushed_engine, "UPDATE", "orders") as fault:
        placed = _order(client, alice, wallet, type="market", size="0.5")
        assert placed.status_code == 200, placed.text  # not 503 "try again"
        body = placed.json()
        assert body["status"] == "filled"
        assert Decimal(body["filled_size"]) == Decimal("0.5")
        wait_until(lambda: fault.failures >= 1, message="the result write tried (off the path)")
        assert _order_row(services, body["cloid"]).status == "pending"  # owed, not lost
    # The database is back: the owed write is stored in the background, no restart needed.
    row = wait_until(
        lambda: (
            (r := _order_row(services, body["cloid"])) is not None and r.status == "filled" and r
        ),
        message="order result stored",
    )
    assert row.oid == body["oid"]
    assert row.filled_size == Decimal("0.5")


def test_cancel_and_modify_report_the_exchange_answer_when_the_update_fails(
    client, alice, runtime, services
):
    wallet = _funded_wallet(client, alice)
    placed = _order(client, alice, wallet, size="0.1", price="3000").json()
    assert placed["status"] == "resting"
    with DatabaseFault(runtime.unflushed_engine, "UPDATE", "orders") as fault:
        modified = client.patch(
            f"/api/orders/{placed['oid']}",
            json={"wallet_id": wallet["id"], "price": "3100"},
            headers=alice.headers,
        )
        assert modified.status_code == 200, modified.text
        new_oid = modified.json()["oid"] or placed["oid"]
        canceled = client.delete(
            f"/api/orders/{new_oid}", params={"wallet_id": wallet["id"]}, headers=alice.headers
        )
        assert canceled.status_code == 204, canceled.text
        wait_until(lambda: fault.failures >= 2, message="both writes tried (off the path)")
    open_orders = client.get(
        "/api/orders", params={"wallet_id": wallet["id"]}, headers=alice.headers
    )
    assert open_orders.json() == []  # the exchange did what we said it did
    row = wait_until(
        lambda: (
            (r := _order_row(services, placed["cloid"])).status == "canceled"
            and r.price == Decimal(3100)
            and r
        ),
        message="cancel and change stored",
    )
    assert row.oid == new_oid


def test_a_polled_accounts_fills_are_fetched_right_after_the_answer_not_at_the_next_poll(
    settings_factory, paper_server
):
    runtime = Runtime(settings_factory(stream_max_users=0, stream_poll_seconds=3600))
    services = runtime.start()
    try:
        with TestClient(create_app(services)) as client:
            alice = register_and_login(client, "alice")
            wallet = _funded_wallet(client, alice)
            account = wallet["account_address"]
            first = _order(client, alice, wallet, type="market", size="0.2")
            assert first.status_code == 200, first.text
            # The stream's first poll of the account has run once it reports a high-water mark;
            # the next one is an hour away.
            wait_until(lambda: services.fills.cursor_ms(account) is not None, message="a poll")
            placed = _order(client, alice, wallet, type="market", size="0.2", side="sell")
            assert placed.status_code == 200, placed.text
            assert placed.json()["status"] == "filled"
            expected = {f["tid"] for f in paper_server.info().user_fills(account)}
            assert len(expected) >= 2

            def recorded() -> set[int]:
                with services.sessions() as session:
                    return set(session.scalars(select(Fill.tid)))

            wait_until(lambda: recorded() == expected, message="fills fetched after the answer")
    finally:
        runtime.stop()


def test_a_failed_fill_fetch_after_a_fill_is_not_the_orders_failure(settings_factory, paper_server):
    """A polled account fetches its fills right after a fill (off the answer's path); if storing
    them fails, the order is still reported filled and the fills come by the next poll."""
    runtime = Runtime(settings_factory(stream_max_users=0))
    services = runtime.start()
    try:
        with TestClient(create_app(services)) as client:
            alice = register_and_login(client, "alice")
            wallet = _funded_wallet(client, alice)
            with DatabaseFault(runtime.engine, "INSERT", "fills") as fault:
                placed = _order(client, alice, wallet, type="market", size="0.2")
                assert placed.status_code == 200, placed.text
                assert placed.json()["status"] == "filled"
                wait_until(lambda: fault.failures >= 1, message="the fetch after the fill tried")
            expected = {f["tid"] for f in paper_server.info().user_fills(wallet["account_address"])}
            assert expected

            def recorded() -> list[int]:
                with services.sessions() as session:
                    return list(session.scalars(select(Fill.tid)))

            wait_until(lambda: set(recorded()) == expected, message="fills recorded by poll")
            assert sorted(recorded()) == sorted(expected)  # once each
    finally:
        runtime.stop()


def test_an_order_whose_result_was_never_stored_is_settled_by_cloid_after_a_restart(
    settings_factory, paper_server
):
    first = Runtime(settings_factory())
    services = first.start()
    with TestClient(create_app(services)) as client:
        alice = register_and_login(client, "alice")
        _key, wallet = import_funded_key(client, alice, paper_server)
        with DatabaseFault(first.unflushed_engine, "UPDATE", "orders"):
            placed = _order(client, alice, wallet, type="market", size="0.3")
            assert placed.status_code == 200, placed.text
            assert placed.json()["status"] == "filled"
            first.stop()  # dies owing the write: the row still says pending
    with services.sessions() as session:
        assert session.scalar(select(Order.status)) == "pending"

    second = Runtime(settings_factory())
    services = second.start()
    try:
        row = _order_row(services, placed.json()["cloid"])
        assert row.status == "filled"  # asked the exchange by cloid before serving
        assert row.oid == placed.json()["oid"]
    finally:
        second.stop()


def test_a_delegation_the_exchange_made_is_reported_even_when_its_record_fails(
    client, alice, runtime, services
):
    wallet = _funded_wallet(client, alice, usd="100", hype="50")
    body = {"wallet_id": wallet["id"], "validator": VALIDATOR, "amount": "10"}
    with DatabaseFault(runtime.engine, "INSERT", "staking_actions") as fault:
        response = client.post("/api/staking/delegate", json=body, headers=alice.headers)
        assert response.status_code == 200, response.text
        assert fault.failures >= 1
    staking = client.get(f"/api/wallets/{wallet['id']}/staking", headers=alice.headers).json()
    assert [Decimal(d["amount"]) for d in staking["delegations"]] == [Decimal(10)]

    def kinds() -> list[tuple[str, str]]:
        with services.sessions() as session:
            return [(a.kind, a.status) for a in session.scalars(select(StakingAction))]

    assert wait_until(kinds, message="delegation recorded") == [("delegate", "ok")]
