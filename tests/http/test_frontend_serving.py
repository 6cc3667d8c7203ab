"""How the built browser app is served: cache lifetimes, gzip, the client-route fallback, and a
clear message when the operator has not built it. Uses a small stand-in for `frontend/dist`."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hyperdesk.http.errors import install_error_handlers
from hyperdesk.http.frontend import IMMUTABLE, install_frontend
from hyperdesk.http.security_headers import SecurityHeadersMiddleware

SCRIPT = "export const greeting = 'hello';\n" * 200  # large enough to be worth compressing
INDEX = '<!doctype html><title>Hyperdesk</title><script type="module" src="/assets/app-1a2b.js">'


def _app(dist: Path) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(SecurityHeadersMiddleware)

    @app.get("/api/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    install_frontend(app, dist)
    return TestClient(app)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "app-1a2b.js").write_text(SCRIPT)
    (root / "robots.txt").write_text("User-agent: *\n")
    (tmp_path / "secret.txt").write_text("outside dist")
    return root


def test_hashed_assets_are_cached_for_a_year_and_gzipped(dist):
    client = _app(dist)
    response = client.get("/assets/app-1a2b.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.headers["content-encoding"] == "gzip"
    assert "javascript" in response.headers["content-type"]
    assert response.text == SCRIPT  # the client undid the gzip
    raw = client.get("/assets/app-1a2b.js", headers={"Accept-Encoding": "gzip"})
    assert int(raw.headers["content-length"]) < len(SCRIPT) // 10


def test_without_gzip_the_asset_is_sent_plain(dist):
    response = _app(dist).get("/assets/app-1a2b.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in response.headers
    assert int(response.headers["content-length"]) == len(SCRIPT)


def test_index_and_client_routes_get_index_html_revalidated_with_the_csp(dist):
    client = _app(dist)
    for path in ("/", "/trade", "/wallets", "/history?coin=ETH", "/some/deep/route"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.text == INDEX
        assert response.headers["cache-control"] == "no-cache"
        assert "script-src 'self'" in response.headers["content-security-policy"]


def test_other_files_in_dist_are_served_but_revalidated(dist):
    response = _app(dist).get("/robots.txt")
    assert response.text == "User-agent: *\n"
    assert response.headers["cache-control"] == "no-cache"


def test_a_missing_asset_is_404_not_index_html(dist):
    response = _app(dist).get("/assets/app-old.js")
    assert response.status_code == 404
    assert response.json()["detail"]["code"] == "NOT_FOUND"


def test_api_paths_never_fall_back_to_the_app(dist):
    client = _app(dist)
    assert client.get("/api/health").json() == {"status": "ok"}
    for path in ("/api/nope", "/api", "/api/wallets/1/nothing"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["detail"]["code"] == "NOT_FOUND"


def test_paths_outside_dist_are_not_served(dist):
    client = _app(dist)
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
        response = client.get(path)
        assert "outside dist" not in response.text, path


def test_an_unbuilt_app_tells_the_operator_how_to_build_it(tmp_path):
    response = _app(tmp_path / "missing").get("/")
    assert response.status_code == 500
    assert "npm ci &amp;&amp; npm run build" in response.text
    assert "frontend/dist" in response.text
