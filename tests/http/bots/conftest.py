"""Bots end to end: a platform whose supervision runs within seconds (small heartbeat and backoff)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hyperdesk.http.app import create_app
from hyperdesk.runtime import Runtime
from tests.fixtures.app import import_funded_key

FAST_SUPERVISION = {
    "bot_heartbeat_seconds": 1.0,
    "bot_backoff_base_seconds": 0.2,
    "bot_backoff_cap_seconds": 0.5,
    "bot_stop_grace_seconds": 3,
}


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    """Settings overrides for the runtime below; a test module may override this fixture."""
    return dict(FAST_SUPERVISION)


@pytest.fixture
def runtime(settings_factory, bot_settings) -> Iterator[Runtime]:
    rt = Runtime(settings_factory(**bot_settings))
    rt.start()
    yield rt
    rt.stop()


@pytest.fixture
def client(runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime.services)) as test_client:
        yield test_client


@pytest.fixture
def wallet(client, alice, paper_server):
    return import_funded_key(client, alice, paper_server)[1]
