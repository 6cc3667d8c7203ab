"""The bot routes as the end-to-end bot tests call them: each asserts its status and returns JSON."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.fixtures.app import PASSWORD, LoggedIn


def create_bot(client: TestClient, user: LoggedIn, wallet_id: int, code: str, **fields: Any):
    body = {
        "name": fields.pop("name", "bot"),
        "code": code,
        "wallet_id": wallet_id,
        "capital": "1000",
        "tick_seconds": "60",
        **fields,
    }
    response = client.post("/api/bots", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    return response.json()


def get_bot(client: TestClient, user: LoggedIn, bot_id: int) -> dict[str, Any]:
    response = client.get(f"/api/bots/{bot_id}", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


def bot_action(client: TestClient, user: LoggedIn, bot_id: int, action: str) -> dict[str, Any]:
    """`start`, `stop` or `restart`."""
    response = client.post(f"/api/bots/{bot_id}/{action}", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


def start_bot(client: TestClient, user: LoggedIn, bot_id: int) -> dict[str, Any]:
    return bot_action(client, user, bot_id, "start")


def bot_logs(client: TestClient, user: LoggedIn, bot_id: int) -> list[str]:
    response = client.get(f"/api/bots/{bot_id}/logs", headers=user.headers)
    assert response.status_code == 200, response.text
    return [line["message"] for line in response.json()["items"]]


def bot_trades(client: TestClient, user: LoggedIn, bot_id: int) -> list[dict[str, Any]]:
    response = client.get("/api/trades", params={"bot_id": bot_id}, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def log_in_again(client: TestClient, username: str) -> LoggedIn:
    """The same user on a restarted server (its tokens are signed with the same secret)."""
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    me = client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    return LoggedIn(me.json()["id"], username, response.json()["access_token"])
