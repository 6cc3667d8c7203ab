"""Bot definitions through the REST API: validation with per-field errors, versions, ownership."""

from __future__ import annotations

import pytest

SCHEMA = {
    "type": "object",
    "properties": {
        "coin": {"type": "string", "enum": ["BTC", "ETH"]},
        "levels": {"type": "integer", "minimum": 1, "maximum": 20},
    },
    "required": ["coin", "levels"],
    "additionalProperties": False,
}
CODE = "class Bot:\n    def __init__(self, api, config):\n        self.api = api\n"


@pytest.fixture
def wallet(client, alice):
    response = client.post("/api/wallets", json={"label": "bots"}, headers=alice.headers)
    assert response.status_code == 201, response.text
    return response.json()


def _create(client, user, wallet_id, **fields):
    body = {
        "name": "grid",
        "code": CODE,
        "input_schema": SCHEMA,
        "config": {"coin": "ETH", "levels": 5},
        "wallet_id": wallet_id,
        "capital": "1000",
        **fields,
    }
    return client.post("/api/bots", json=body, headers=user.headers)


def test_a_bot_is_created_stopped_with_its_settings(client, alice, wallet):
    response = _create(client, alice, wallet["id"], leverage="2", tick_seconds="0.5")
    assert response.status_code == 201, response.text
    bot = response.json()
    assert bot["status"] == "stopped"
    assert bot["desired_state"] == "stopped"
    assert bot["restart_policy"] == "transient"
    assert (bot["capital"], bot["leverage"], bot["tick_seconds"]) == ("1000", "2", "0.5")
    assert bot["version"] == 1
    assert bot["code"] == CODE
    listed = client.get("/api/bots", headers=alice.headers).json()
    assert [b["id"] for b in listed] == [bot["id"]]
    assert listed[0]["code"] is None  # lists stay small; the code comes with the single bot


def test_code_that_does_not_compile_is_refused_and_nothing_is_stored(client, alice, wallet):
    response = _create(client, alice, wallet["id"], code="class Bot:\n    def x(:\n")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["code"] == "CODE_SYNTAX"
    assert "line 2" in detail["message"]
    assert client.get("/api/bots", headers=alice.headers).json() == []


def test_code_is_compiled_never_run(client, alice, wallet, tmp_path):
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('x')\nclass Bot:\n    pass\n"
    assert _create(client, alice, wallet["id"], code=code).status_code == 201
    assert not marker.exists()


def test_oversized_code_is_refused(client, alice, wallet):
    code = CODE + "#" * (300 * 1024)
    response = _create(client, alice, wallet["id"], code=code)
    assert response.status_code in (413, 422)


def test_an_invalid_json_schema_is_refused(client, alice, wallet):
    response = _create(
        client, alice, wallet["id"], input_schema={"type": "object", "properties": {"a": 3}}
    )
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "INVALID_SCHEMA"


def test_a_remote_schema_reference_is_refused(client, alice, wallet):
    schema = {"type": "object", "properties": {"a": {"$ref": "http://127.0.0.1:9/x.json"}}}
    response = _create(client, alice, wallet["id"], input_schema=schema, config={})
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "INVALID_SCHEMA"


def test_config_errors_are_reported_per_field(client, alice, wallet):
    response = _create(client, alice, wallet["id"], config={"coin": "DOGE"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail["code"] == "INVALID_CONFIG"
    fields = {e["field"] for e in detail["errors"]}
    assert fields == {"config.coin", "config.levels"}


def test_editing_code_keeps_versions_and_revalidates_config(client, alice, wallet):
    bot = _create(client, alice, wallet["id"]).json()
    changed = client.patch(
        f"/api/bots/{bot['id']}", json={"code": CODE + "# v2\n"}, headers=alice.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    bad = client.patch(
        f"/api/bots/{bot['id']}",
        json={"config": {"coin": "ETH", "levels": 99}},
        headers=alice.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["detail"]["errors"][0]["field"] == "config.levels"
    again = client.get(f"/api/bots/{bot['id']}", headers=alice.headers).json()
    assert again["config"] == {"coin": "ETH", "levels": 5}
    assert again["version"] == 2


def test_names_are_unique_per_user(client, alice, bob, wallet):
    assert _create(client, alice, wallet["id"]).status_code == 201
    again = _create(client, alice, wallet["id"])
    assert again.status_code == 409
    assert again.json()["detail"]["code"] == "BOT_NAME_TAKEN"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capital", "0"),
        ("capital", "-5"),
        ("capital", "NaN"),
        ("leverage", "51"),
        ("tick_seconds", "0.01"),
        ("restart_policy", "sometimes"),
        ("owner_id", 2),
    ],
)
def test_bad_settings_are_refused(client, alice, wallet, field, value):
    response = _create(client, alice, wallet["id"], **{field: value})
    assert response.status_code == 422, response.text
    assert client.get("/api/bots", headers=alice.headers).json() == []


def test_another_users_bot_and_wallet_are_not_found(client, alice, bob, wallet):
    bot = _create(client, alice, wallet["id"]).json()
    for method, path, body in [
        ("get", f"/api/bots/{bot['id']}", None),
        ("patch", f"/api/bots/{bot['id']}", {"name": "mine"}),
        ("delete", f"/api/bots/{bot['id']}", None),
        ("get", f"/api/bots/{bot['id']}/trades", None),
    ]:
        kwargs = {"json": body} if body is not None else {}
        response = client.request(method, path, headers=bob.headers, **kwargs)
        assert response.status_code == 404, (method, path, response.text)
    assert client.get("/api/bots", headers=bob.headers).json() == []
    # Bob cannot point a bot of his at Alice's wallet either.
    response = _create(client, bob, wallet["id"], name="theirs")
    assert response.status_code == 404


def test_a_stopped_bot_can_be_deleted(client, alice, wallet):
    bot = _create(client, alice, wallet["id"]).json()
    assert client.delete(f"/api/bots/{bot['id']}", headers=alice.headers).status_code == 204
    assert client.get(f"/api/bots/{bot['id']}", headers=alice.headers).status_code == 404
