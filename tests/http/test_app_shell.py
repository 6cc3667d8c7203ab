from __future__ import annotations


def test_health_reports_network_database_sandbox_and_exchange(client):
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["network"] == "paper"
    assert body["database"] == "ok"
    assert body["sandbox"] in {"bubblewrap", "process"}
    assert "exchange_url" in body


def test_openapi_and_docs_are_served(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/auth/register" in schema["paths"]
    assert client.get("/api/docs").status_code == 200


def test_every_response_carries_the_security_headers(client):
    for path in ("/", "/api/health", "/api/nope"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"


def test_the_frontend_is_served_at_the_root(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "<title>Hyperdesk</title>" in response.text


def test_unknown_api_routes_answer_the_error_shape(client):
    response = client.get("/api/nope")
    assert response.status_code == 404
    assert response.json()["detail"]["code"] == "NOT_FOUND"


def test_wrong_method_answers_the_error_shape(client):
    # The frontend is mounted at "/", so Starlette answers 404 rather than 405 here; either way
    # the body keeps the api.md shape.
    response = client.get("/api/auth/register")
    assert response.status_code in {404, 405}
    assert response.json()["detail"]["code"] in {"NOT_FOUND", "METHOD_NOT_ALLOWED"}


def test_a_lost_database_answers_503_with_retry_after(client, services):
    from sqlalchemy import create_engine

    url = services.sessions.kw["bind"].url
    if url.get_backend_name() == "sqlite":
        unreachable = url.set(database="/nonexistent-dir/hyperdesk.db")
    else:
        unreachable = url.set(port=1)  # nothing listens there
    services.sessions.configure(bind=create_engine(unreachable))
    response = client.post(
        "/api/auth/register", json={"username": "carol", "password": "correct horse battery"}
    )
    assert response.status_code == 503, response.text
    assert response.json()["detail"]["code"] == "DATABASE_UNAVAILABLE"
    assert response.headers["retry-after"] == "1"
