"""Crash-only restarts: what happened on the exchange while we were down is recorded at start."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import select

from hyperdesk.http.app import create_app
from hyperdesk.persistence.models import Fill, Order
from hyperdesk.runtime import Runtime
from tests.fixtures.app import import_funded_key, register_and_login


def test_fills_and_orders_from_while_the_server_was_down_are_reconciled_before_serving(
    settings_factory, paper_server
):
    first = Runtime(settings_factory())
    services = first.start()
    with TestClient(create_app(services)) as client:
        alice = register_and_login(client, "alice")
        key, wallet = import_funded_key(client, alice, paper_server)
        resting = client.post(
            "/api/orders",
            json={
                "wallet_id": wallet["id"],
                "coin": "ETH",
                "side": "buy",
                "size": "0.1",
                "price": "3000",
            },
            headers=alice.headers,
        ).json()
        assert resting["status"] == "resting"
    first.stop()

    # While we are down: the account trades elsewhere, and our resting order fills.
    sdk = paper_server.sdk_exchange(key)
    assert sdk.market_open("ETH", False, 0.2)["status"] == "ok"
    paper_server.set_price("ETH", "2900")
    expected = {f["tid"] for f in paper_server.info().user_fills(key.address)}
    assert len(expected) >= 2

    second = Runtime(settings_factory())
    services = second.start()
    try:
        with services.sessions() as session:
            recorded = set(session.scalars(select(Fill.tid)))
            order = session.scalar(select(Order).where(Order.cloid == resting["cloid"]))
        assert recorded == expected  # before the first request is served
        assert order.status == "filled"
        with services.sessions() as session:
            own = session.execute(
                select(Fill.size, Fill.price).where(Fill.cloid == resting["cloid"])
            ).all()
        assert order.filled_size == sum((f.size for f in own), Decimal(0)) == Decimal("0.1")
        assert order.avg_price == sum(f.size * f.price for f in own) / Decimal("0.1")
        with services.sessions() as session:
            sources = {f.cloid: f.source for f in session.scalars(select(Fill))}
        assert sources[resting["cloid"]] == "manual"
        assert "external" in sources.values()
    finally:
        second.stop()

    third = Runtime(settings_factory())  # and a restart with nothing new records nothing twice
    services = third.start()
    try:
        with services.sessions() as session:
            assert sorted(session.scalars(select(Fill.tid))) == sorted(expected)
            sizes = list(session.scalars(select(Fill.size)))
        assert sum(sizes, Decimal(0)) == Decimal("0.3")
    finally:
        third.stop()
