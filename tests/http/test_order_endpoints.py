"""Place, modify and cancel are served outside FastAPI's routing (`OrderEndpoints`) when the
request is exactly what their routes accept; everything else gets FastAPI's own answer, and an
error raised while serving gets the same answer either way."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from hyperdesk.errors import Unauthorized
from hyperdesk.http.deps import current_user
from tests.fixtures.app import new_funded_wallet


def _order_body(wallet_id: int, price: str) -> dict[str, Any]:
    return {"wallet_id": wallet_id, "coin": "ETH", "side": "buy", "size": "0.1", "price": price}


@pytest.fixture
def price(paper_server) -> str:
    return str(int(paper_server.exchange.mid("ETH") * Decimal("0.8")))


def test_well_formed_order_requests_never_enter_fastapis_routing(client, alice, price):
    wallet_id = new_funded_wallet(client, alice)["id"]

    def no_route() -> None:
        raise Unauthorized("FastAPI's route was entered", code="ROUTED")

    client.app.dependency_overrides[current_user] = no_route  # only FastAPI's routes use it
    try:
        placed = client.post(
            "/api/orders", json=_order_body(wallet_id, price), headers=alice.headers
        )
        assert placed.status_code == 200, placed.text
        oid = placed.json()["oid"]
        moved = client.patch(
            f"/api/orders/{oid}",
            json={"wallet_id": wallet_id, "price": str(int(price) - 1), "size": "0.1"},
            headers=alice.headers,
        )
        assert moved.status_code == 200, moved.text
        oid = moved.json()["oid"]
        canceled = client.delete(
            f"/api/orders/{oid}", params={"wallet_id": wallet_id}, headers=alice.headers
        )
        assert canceled.status_code == 204, canceled.text
        listed = client.get("/api/orders", params={"wallet_id": wallet_id}, headers=alice.headers)
        assert listed.json()["detail"]["code"] == "ROUTED"  # the listing is FastAPI's
    finally:
        client.app.dependency_overrides.clear()


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("POST", "/api/orders", b"{not json"),
        ("POST", "/api/orders", b'{"wallet_id": 1, "coin": "ETH"}'),
        ("POST", "/api/orders", b"[]"),
        ("PATCH", f"/api/orders/{2**63}", b'{"wallet_id": 1, "price": "1"}'),
        ("PATCH", "/api/orders/12", b'{"wallet_id": 1, "price": "-1"}'),
        ("DELETE", "/api/orders/12?wallet_id=abc", b""),
        ("DELETE", "/api/orders/12?wallet_id=0", b""),
        ("DELETE", "/api/orders/12", b""),
        ("DELETE", "/api/orders/x?wallet_id=1", b""),
    ],
)
def test_requests_they_do_not_recognise_get_fastapis_canonical_answer(
    client, alice, method, path, content
):
    sent = {**alice.headers, "content-type": "application/json"}
    response = client.request(method, path, content=content, headers=sent)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["code"] == "VALIDATION_ERROR"
    assert detail["errors"]  # field by field, as FastAPI's validation reports them


def test_a_body_that_is_not_json_by_its_content_type_is_left_to_fastapi(client, alice, price):
    wallet_id = new_funded_wallet(client, alice)["id"]
    body = b'{"wallet_id": %d, "coin": "ETH", "side": "buy", "size": "0.1", "price": "%s"}' % (
        wallet_id,
        price.encode(),
    )
    response = client.post(
        "/api/orders", content=body, headers={**alice.headers, "content-type": "text/plain"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["code"] == "VALIDATION_ERROR"


def test_errors_raised_while_serving_are_answered_as_everywhere_else(client, alice, bob, price):
    wallet_id = new_funded_wallet(client, alice)["id"]
    body = _order_body(wallet_id, price)

    anonymous = client.post("/api/orders", json=body)
    assert anonymous.status_code == 401
    assert anonymous.json()["detail"]["code"] == "NOT_AUTHENTICATED"
    forged = client.post("/api/orders", json=body, headers={"authorization": "Bearer nonsense"})
    assert forged.status_code == 401
    assert forged.json()["detail"]["code"] == "INVALID_TOKEN"
    assert forged.headers["www-authenticate"] == "Bearer"

    not_hers = client.post("/api/orders", json=body, headers=bob.headers)
    assert not_hers.status_code == 404
    assert not_hers.json()["detail"]["code"] == "NOT_FOUND"

    off_tick = client.post(
        "/api/orders", json={**body, "price": f"{price}.123456789"}, headers=alice.headers
    )
    assert off_tick.status_code == 422
    assert off_tick.json()["detail"]["code"] not in ("VALIDATION_ERROR", "INTERNAL")

    unknown = client.delete(
        "/api/orders/424242", params={"wallet_id": wallet_id}, headers=alice.headers
    )
    assert unknown.status_code == 404
    assert unknown.json()["detail"]["code"] == "ORDER_NOT_FOUND"
    for response in (anonymous, forged, not_hers, off_tick, unknown):
        assert response.headers["x-content-type-options"] == "nosniff"  # ours wrap theirs
