"""The order routes wait for the exchange on the event loop, not in a worker thread.

Every trip through the worker thread pool is a hand-over between the event loop and a thread, and
on a busy machine each costs about a millisecond of an order's latency. Placing, modifying and
cancelling an order the app already knows (its wallet, the order's coin and cloid) take none: the
signer actor writes the order row just before signing and replies to the loop. What needs a read
takes one trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio.to_thread
import pytest

from tests.fixtures.app import new_funded_wallet


@contextmanager
def _worker_trips(client, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Trips taken by the app under test: the in-process paper exchange has its own loop."""
    trips: list[str] = []
    app_loop = client.portal.call(asyncio.get_running_loop)
    run_sync = anyio.to_thread.run_sync

    async def counted(func: Any, *args: Any, **kwargs: Any) -> Any:
        if asyncio.get_running_loop() is app_loop:  # not the paper exchange's own server
            trips.append(repr(func)[:80])
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    yield trips


def test_known_orders_take_no_worker_trip_and_a_read_takes_one(client, alice, monkeypatch):
    wallet = new_funded_wallet(client, alice)
    body = {"wallet_id": wallet["id"], "coin": "ETH", "side": "buy", "size": "0.1"}
    with _worker_trips(client, monkeypatch) as trips:
        first = client.post("/api/orders", json={**body, "price": "1500"}, headers=alice.headers)
        assert first.status_code == 200, first.text
        assert len(trips) == 1, trips  # the wallet's owner is read once
        placed = client.post("/api/orders", json={**body, "price": "1500"}, headers=alice.headers)
        assert placed.status_code == 200, placed.text
        assert len(trips) == 1, trips
        oid = placed.json()["oid"]
        moved = client.patch(
            f"/api/orders/{oid}",
            json={"wallet_id": wallet["id"], "price": "1450", "size": "0.1"},
            headers=alice.headers,
        )
        assert moved.status_code == 200, moved.text
        assert len(trips) == 1, trips  # price and size given: the rest of the order is known
        oid = moved.json()["oid"]
        modified = client.patch(
            f"/api/orders/{oid}",
            json={"wallet_id": wallet["id"], "price": "1400"},
            headers=alice.headers,
        )
        assert modified.status_code == 200, modified.text
        assert len(trips) == 2, trips  # the remaining size is the exchange's to tell
        listed = client.get(
            "/api/orders", params={"wallet_id": wallet["id"]}, headers=alice.headers
        )
        assert listed.status_code == 200, listed.text
        assert sorted(o["price"] for o in listed.json()) == ["1400", "1500"]
        assert len(trips) == 3, trips
        canceled = client.delete(
            f"/api/orders/{modified.json()['oid']}",
            params={"wallet_id": wallet["id"]},
            headers=alice.headers,
        )
        assert canceled.status_code == 204, canceled.text
        assert len(trips) == 3, trips


def test_the_order_answer_keeps_its_documented_shape(client, alice):
    wallet = new_funded_wallet(client, alice)
    body = {"wallet_id": wallet["id"], "coin": "ETH", "side": "buy", "size": "0.1", "price": "1500"}
    placed = client.post("/api/orders", json=body, headers=alice.headers)
    assert placed.status_code == 200, placed.text
    assert set(placed.json()) == {"id", "status", "oid", "cloid", "filled_size", "avg_price"}
    assert placed.json()["status"] == "resting"
    schema = client.get("/api/openapi.json").json()
    answer = schema["paths"]["/api/orders"]["post"]["responses"]["200"]["content"]
    assert answer["application/json"]["schema"] == {"$ref": "#/components/schemas/OrderOut"}


def test_a_refused_order_is_still_a_machine_readable_4xx(client, alice):
    wallet = new_funded_wallet(client, alice)
    body = {"wallet_id": wallet["id"], "coin": "NOPE", "side": "buy", "size": "0.1", "price": "1"}
    refused = client.post("/api/orders", json=body, headers=alice.headers)
    assert 400 <= refused.status_code < 500, refused.text
    assert refused.json()["detail"]["code"], refused.text
