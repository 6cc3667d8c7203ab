"""Streamed order updates find their owner without a database read per update.

The market stream hands every order update of every followed account to `on_stream_orders`; the
owner of a desk order (its cloid's row) is fixed, so it is read once and then kept, and a cloid
the desk never gave out is never looked up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy import event

from hyperdesk.persistence.models import Order
from hyperdesk.trading.cloids import new_cloid

FOREIGN_CLOID = "0x" + "ab" * 16


@contextmanager
def _selects_on_orders(services) -> Iterator[list[str]]:
    engine = services.sessions.kw["bind"]
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "orders" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _order_row(services, user_id: int, wallet: dict, cloid: str) -> None:
    with services.sessions() as session:
        session.add(
            Order(
                user_id=user_id,
                wallet_id=wallet["id"],
                account_address=wallet["account_address"],
                cloid=cloid,
                coin="ETH",
                side="buy",
                order_type="limit",
                tif="Gtc",
                price=Decimal(3000),
                size=Decimal("0.1"),
                status="resting",
            )
        )
        session.commit()


def test_an_orders_owner_is_read_once_then_kept(client, services, alice):
    wallet = client.post("/api/wallets", json={"label": "main"}, headers=alice.headers).json()
    cloid = new_cloid()
    _order_row(services, alice.id, wallet, cloid)
    with _selects_on_orders(services) as seen:
        assert services._order_owners({cloid}) == {cloid: alice.id}
        assert len(seen) == 1
        assert services._order_owners({cloid}) == {cloid: alice.id}
        assert len(seen) == 1, seen


def test_a_cloid_the_desk_never_gave_out_is_not_looked_up(services):
    with _selects_on_orders(services) as seen:
        assert services._order_owners({FOREIGN_CLOID}) == {}
        assert seen == []


def test_an_unknown_desk_cloid_is_asked_again(client, services, alice):
    """Not finding a row is not remembered: the row may be written after the first update."""
    wallet = client.post("/api/wallets", json={"label": "main"}, headers=alice.headers).json()
    cloid = new_cloid()
    assert services._order_owners({cloid}) == {}
    _order_row(services, alice.id, wallet, cloid)
    assert services._order_owners({cloid}) == {cloid: alice.id}


def test_an_order_placed_through_the_api_is_owned_before_its_first_update(client, services, alice):
    wallet = client.post("/api/wallets", json={"label": "main"}, headers=alice.headers).json()
    funded = client.post(
        f"/api/wallets/{wallet['id']}/faucet", json={"amount": "100000"}, headers=alice.headers
    )
    assert funded.status_code == 200, funded.text
    body = {"wallet_id": wallet["id"], "coin": "ETH", "side": "buy", "size": "0.1", "price": "1500"}
    placed = client.post("/api/orders", json=body, headers=alice.headers)
    assert placed.status_code == 200, placed.text
    cloid = placed.json()["cloid"]
    with _selects_on_orders(services) as seen:
        assert services._order_owners({cloid}) == {cloid: alice.id}
        assert seen == []
