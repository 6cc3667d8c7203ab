"""The database password comes from a file, never from the environment (compose included)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.engine import make_url

from hyperdesk.errors import ConfigurationError
from hyperdesk.persistence.database import make_engine
from hyperdesk.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ODD_PASSWORD = "p@ss:w/rd?#%"


def _password_file(tmp_path: Path, password: str = ODD_PASSWORD) -> Path:
    path = tmp_path / "db_password"
    path.write_text(password + "\n")
    return path


def test_the_password_file_is_merged_into_the_database_url(tmp_path):
    settings = Settings(
        database_url="postgresql://hyperdesk@db:5432/hyperdesk",
        database_password_file=_password_file(tmp_path),
    )
    url = make_url(settings.resolved_database_url)
    assert url.password == ODD_PASSWORD  # escaped in the URL, intact once parsed
    assert (url.username, url.host, url.port, url.database) == (
        "hyperdesk",
        "db",
        5432,
        "hyperdesk",
    )
    assert ODD_PASSWORD not in repr(settings)


def test_the_password_file_setting_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HYPERDESK_DATABASE_URL", "postgresql://hyperdesk@db/hyperdesk")
    monkeypatch.setenv("HYPERDESK_DATABASE_PASSWORD_FILE", str(_password_file(tmp_path, "s3cret")))
    assert make_url(Settings().resolved_database_url).password == "s3cret"


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("postgresql://hyperdesk:inline@db/hyperdesk", "already holds a password"),
        (None, "SQLite"),
    ],
)
def test_a_password_in_two_places_or_for_sqlite_is_a_configuration_error(tmp_path, url, match):
    settings = Settings(
        data_dir=tmp_path, database_url=url, database_password_file=_password_file(tmp_path)
    )
    with pytest.raises(ConfigurationError, match=match):
        _ = settings.resolved_database_url


@pytest.mark.parametrize("content", [None, ""])
def test_a_missing_or_empty_password_file_is_a_configuration_error(tmp_path, content):
    path = tmp_path / "db_password"
    if content is not None:
        path.write_text(content)
    settings = Settings(database_url="postgresql://u@db/x", database_password_file=path)
    with pytest.raises(ConfigurationError, match="database password"):
        _ = settings.resolved_database_url


def test_postgres_accepts_the_url_with_a_password_from_a_file(postgres_url, tmp_path):
    """Against the real server: the merged URL is well formed even for an awkward password."""
    base = make_url(postgres_url)
    if base.password is not None:
        pytest.skip("the test server's URL already carries a password")
    settings = Settings(database_url=postgres_url, database_password_file=_password_file(tmp_path))
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


# -- docker-compose.yml ------------------------------------------------------------------------


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_keeps_every_password_out_of_the_environment():
    compose = _compose()
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) for item in environment)
        for key, value in environment.items():
            if "PASSWORD" in key.upper():
                assert key.upper().endswith("_FILE"), f"{name}: {key} is a password value"
                assert str(value).startswith("/run/secrets/"), f"{name}: {key}={value}"
        url = environment.get("HYPERDESK_DATABASE_URL")
        if url is not None:
            assert make_url(url).password is None, f"{name}: the database URL holds a password"
            assert "change-me" not in url


def test_compose_gives_app_and_database_the_same_password_secret():
    compose = _compose()
    app, db = compose["services"]["app"], compose["services"]["db"]
    assert app["environment"]["HYPERDESK_DATABASE_PASSWORD_FILE"] == "/run/secrets/db_password"
    assert db["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db_password"
    assert "db_password" in app["secrets"]
    assert "db_password" in db["secrets"]
    assert compose["secrets"]["db_password"]["file"]


def test_compose_names_its_proxy_gateway_as_the_trusted_proxy():
    compose = _compose()
    proxies = compose["services"]["app"]["environment"]["HYPERDESK_TRUSTED_PROXIES"]
    default = proxies.split(":-", 1)[1].rstrip("}") if proxies.startswith("${") else proxies
    gateways = [c["gateway"] for c in compose["networks"]["default"]["ipam"]["config"]]
    assert default in gateways
