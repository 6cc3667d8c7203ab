from __future__ import annotations

from pathlib import Path

import pytest

from hyperdesk.errors import ConfigurationError
from hyperdesk.secret_files import load_or_create_jwt_secret
from hyperdesk.settings import Network, Settings


def test_defaults_need_nothing(monkeypatch):
    for name in ("HYPERDESK_DATABASE_URL", "HYPERDESK_NETWORK", "HYPERDESK_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.network is Network.PAPER
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.generates_secrets


def test_settings_come_from_prefixed_environment_variables(monkeypatch):
    monkeypatch.setenv("HYPERDESK_NETWORK", "testnet")
    monkeypatch.setenv("HYPERDESK_DATABASE_URL", "postgresql://u@db/hyperdesk")
    settings = Settings()
    assert settings.network is Network.TESTNET
    assert settings.resolved_database_url == "postgresql+psycopg2://u@db/hyperdesk"
    assert not settings.generates_secrets


def test_an_unknown_network_is_refused(monkeypatch):
    monkeypatch.setenv("HYPERDESK_NETWORK", "moon")
    with pytest.raises(ValueError, match="network"):
        Settings()


def test_the_paper_network_generates_a_private_jwt_secret_once(tmp_path: Path):
    path = tmp_path / "jwt.secret"
    first = load_or_create_jwt_secret(path, create=True)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_jwt_secret(path, create=True) == first
    assert len(first) == 64


def test_a_missing_secret_on_a_real_network_says_what_to_do(tmp_path: Path):
    with pytest.raises(ConfigurationError, match="token_hex"):
        load_or_create_jwt_secret(tmp_path / "jwt.secret", create=False)


def test_a_short_secret_is_refused(tmp_path: Path):
    path = tmp_path / "jwt.secret"
    path.write_text("short")
    with pytest.raises(ConfigurationError, match="fewer than 32 bytes"):
        load_or_create_jwt_secret(path, create=False)


def test_real_networks_spend_hyperliquids_weight_budget_and_paper_does_not_throttle(monkeypatch):
    monkeypatch.delenv("HYPERDESK_NETWORK", raising=False)
    assert Settings().resolved_exchange_weight_per_minute > 100_000
    monkeypatch.setenv("HYPERDESK_NETWORK", "mainnet")
    assert Settings().resolved_exchange_weight_per_minute == 1200
    monkeypatch.setenv("HYPERDESK_EXCHANGE_WEIGHT_PER_MINUTE", "600")
    assert Settings().resolved_exchange_weight_per_minute == 600
