"""An actor that does not answer in time is a busy server (503), not an internal error (500)."""

from __future__ import annotations

import pykka
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hyperdesk.http.errors import install_error_handlers


def test_an_actor_timeout_answers_503_server_busy_with_retry_after():
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/slow")
    def slow() -> None:
        raise pykka.Timeout("the supervisor did not answer within 60s")

    response = TestClient(app, raise_server_exceptions=False).get("/slow")
    assert response.status_code == 503
    assert response.json()["detail"]["code"] == "SERVER_BUSY"
    assert response.headers["Retry-After"] == "5"
