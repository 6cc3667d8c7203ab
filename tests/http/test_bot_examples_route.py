"""`GET /api/bots/examples`: the shipped example bots as starting points for a new bot."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from hyperdesk.bots_engine import examples
from hyperdesk.errors import ServiceUnavailable


def test_every_shipped_example_comes_with_code_schema_and_a_valid_config(client, alice):
    response = client.get("/api/bots/examples", headers=alice.headers)
    assert response.status_code == 200, response.text
    listed = response.json()
    assert [e["name"] for e in listed] == ["grid", "market_maker", "trend"]
    for example in listed:
        assert "class Bot" in example["code"]
        assert example["title"]
        assert example["description"]
        Draft202012Validator(example["input_schema"]).validate(example["config"])
    assert listed[1]["title"] == "Market maker"
    assert listed[0]["description"].startswith("Grid bot: a ladder of resting buys")


def test_a_bot_made_from_an_example_as_served_is_accepted(client, alice):
    wallet = client.post("/api/wallets", json={"label": "w"}, headers=alice.headers).json()
    for example in client.get("/api/bots/examples", headers=alice.headers).json():
        body = {
            "name": example["name"],
            "code": example["code"],
            "input_schema": example["input_schema"],
            "config": example["config"],
            "wallet_id": wallet["id"],
            "capital": "500",
        }
        response = client.post("/api/bots", json=body, headers=alice.headers)
        assert response.status_code == 201, response.text


def test_examples_need_a_login(client):
    assert client.get("/api/bots/examples").status_code == 401


def test_a_server_without_the_examples_says_so(client, alice, monkeypatch, tmp_path):
    monkeypatch.setattr(examples, "EXAMPLES_DIR", tmp_path / "absent")
    response = client.get("/api/bots/examples", headers=alice.headers)
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert detail["code"] == "EXAMPLES_MISSING"
    assert "examples/bots" in detail["message"]


def test_incomplete_examples_are_skipped_and_an_empty_directory_is_missing(tmp_path):
    (tmp_path / "half.py").write_text('"""Half: no schema."""\nclass Bot: pass\n')
    with pytest.raises(ServiceUnavailable) as missing:
        examples.load_examples(tmp_path)
    assert missing.value.code == "EXAMPLES_MISSING"
    (tmp_path / "half.schema.json").write_text('{"type": "object"}')
    (tmp_path / "half.config.json").write_text("{}")
    [only] = examples.load_examples(tmp_path)
    assert (only.name, only.title, only.description) == ("half", "Half", "Half: no schema.")
