from __future__ import annotations

import pytest
from sqlalchemy import select

from hyperdesk.persistence.models import User
from tests.fixtures.app import PASSWORD, register_and_login


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert detail["code"] == code
    assert detail["message"]
    return detail


def test_register_login_me(client):
    user = register_and_login(client, "alice")
    me = client.get("/api/auth/me", headers=user.headers)
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.json()["id"] == user.id
    assert me.json()["created_at"].endswith(("+00:00", "Z"))


def test_login_answers_a_bearer_token_with_its_lifetime(client):
    register_and_login(client, "alice")
    body = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "alice", "password": "short"}, "password"),
        ({"username": "alice", "password": "x" * 257}, "password"),
        ({"username": "al", "password": PASSWORD}, "username"),
        ({"username": "bad name", "password": PASSWORD}, "username"),
        ({"username": "a" * 33, "password": PASSWORD}, "username"),
        ({"username": "-alice", "password": PASSWORD}, "username"),
        ({"username": "alice"}, "password"),
        ({"username": "alice", "password": PASSWORD, "is_admin": True}, "is_admin"),
    ],
)
def test_bad_registrations_get_422_naming_the_field_and_create_nothing(
    client, services, body, field
):
    detail = _error(client.post("/api/auth/register", json=body), 422, "VALIDATION_ERROR")
    assert field in [error["field"] for error in detail["errors"]]
    with services.sessions() as session:
        assert session.scalars(select(User)).all() == []


def test_a_body_that_is_not_json_gets_422(client):
    response = client.post(
        "/api/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    _error(response, 422, "VALIDATION_ERROR")


def test_a_taken_username_gets_409(client):
    register_and_login(client, "alice")
    response = client.post("/api/auth/register", json={"username": "alice", "password": PASSWORD})
    _error(response, 409, "USERNAME_TAKEN")


def test_wrong_password_and_unknown_user_get_the_same_generic_401(client):
    register_and_login(client, "alice")
    wrong = client.post("/api/auth/login", json={"username": "alice", "password": "wrong password"})
    unknown = client.post("/api/auth/login", json={"username": "nobody", "password": PASSWORD})
    assert _error(wrong, 401, "BAD_CREDENTIALS") == _error(unknown, 401, "BAD_CREDENTIALS")


def test_repeated_failed_logins_are_throttled(client, services):
    register_and_login(client, "alice")
    limit = services.settings.login_attempts_per_window
    for _ in range(limit):
        client.post("/api/auth/login", json={"username": "alice", "password": "wrong password"})
    response = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    _error(response, 429, "LOGIN_THROTTLED")
    assert int(response.headers["retry-after"]) > 0


def test_me_without_or_with_a_bad_token_is_401(client):
    _error(client.get("/api/auth/me"), 401, "NOT_AUTHENTICATED")
    response = client.get("/api/auth/me", headers={"Authorization": "Bearer garbage"})
    _error(response, 401, "INVALID_TOKEN")


def test_a_token_of_a_deleted_user_is_rejected(client, services):
    user = register_and_login(client, "alice")
    with services.sessions() as session:
        session.delete(session.get(User, user.id))
        session.commit()
    _error(client.get("/api/auth/me", headers=user.headers), 401, "INVALID_TOKEN")


def test_changing_the_password_revokes_earlier_tokens(client):
    user = register_and_login(client, "alice")
    response = client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "an even better passphrase"},
        headers=user.headers,
    )
    assert response.status_code == 204
    _error(client.get("/api/auth/me", headers=user.headers), 401, "INVALID_TOKEN")
    _error(
        client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}),
        401,
        "BAD_CREDENTIALS",
    )
    fresh = client.post(
        "/api/auth/login", json={"username": "alice", "password": "an even better passphrase"}
    )
    token = fresh.json()["access_token"]
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


def test_password_change_needs_the_current_password_and_a_valid_new_one(client):
    user = register_and_login(client, "alice")
    wrong = client.post(
        "/api/auth/password",
        json={"current_password": "not it at all", "new_password": "an even better passphrase"},
        headers=user.headers,
    )
    _error(wrong, 401, "BAD_CREDENTIALS")
    weak = client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=user.headers,
    )
    _error(weak, 422, "VALIDATION_ERROR")
    assert client.get("/api/auth/me", headers=user.headers).status_code == 200


def test_no_plaintext_password_is_stored(client, services):
    register_and_login(client, "alice")
    with services.sessions() as session:
        user = session.scalars(select(User)).one()
        assert PASSWORD not in user.password_hash
        assert user.password_hash.startswith("$argon2")
    engine = services.sessions.kw["bind"]
    with engine.connect() as connection:
        for table in ("users",):
            for row in connection.exec_driver_sql(f"SELECT * FROM {table}"):  # noqa: S608
                assert all(PASSWORD not in str(value) for value in row)


def test_legacy_bcrypt_hashes_verify_and_are_upgraded_on_login(client, services):
    from passlib.hash import bcrypt

    register_and_login(client, "alice")
    with services.sessions() as session:
        user = session.scalars(select(User)).one()
        user.password_hash = bcrypt.hash(PASSWORD)
        session.commit()
    assert (
        client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code
        == 200
    )
    with services.sessions() as session:
        assert session.scalars(select(User)).one().password_hash.startswith("$argon2")


def test_registrations_from_one_address_are_rate_limited(client, services):
    limit = services.settings.registrations_per_hour
    for n in range(limit):
        body = {"username": f"user{n}", "password": PASSWORD}
        assert client.post("/api/auth/register", json=body).status_code == 201
    refused = client.post("/api/auth/register", json={"username": "onemore", "password": PASSWORD})
    _error(refused, 429, "RATE_LIMITED")
    assert int(refused.headers["retry-after"]) > 0
