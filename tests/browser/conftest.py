"""Browser tests: Debian's Chromium (never a downloaded one) driven by Playwright against the
real app. One server and one browser per module; a fresh browser context per test, which fails
the test on any console error or uncaught page error (a CSP violation is one)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.browser.served import (
    CHROMIUM,
    FRONTEND_SOURCES,
    Served,
    ensure_frontend_built,
    serve_app,
    snapshot_frontend,
)

REQUIRE_ENV = "HYPERDESK_REQUIRE_BROWSER"
SCREENSHOTS_ENV = "HYPERDESK_SCREENSHOTS"
AXE = FRONTEND_SOURCES / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery"


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for the browser tests, closed when they are done: Playwright's sync API keeps
    an event loop running on this thread, which would break later tests that use asyncio.run."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: pip install -e '.[test]'")
    ensure_frontend_built()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="package")
def frontend_copy(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot_frontend(tmp_path_factory.mktemp("frontend") / "dist")


@pytest.fixture(scope="module")
def served(frontend_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve_app(tmp_path_factory.mktemp("browser-app"), frontend_copy) as app:
        yield app


class Problems(list[str]):
    """Console errors and page errors seen in one test."""


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.fixture
def page(browser: Any, served: Served, problems: Problems) -> Iterator[Any]:
    context = browser.new_context(
        base_url=served.base_url,
        viewport={"width": 1280, "height": 800},
        color_scheme="light",
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    page = _watched(context.new_page(), problems)
    yield page
    context.close()
    assert list(problems) == [], "the browser reported errors"


def _watched(page: Any, problems: Problems) -> Any:
    def on_console(message: Any) -> None:
        if message.type == "error" and not _expected_refusal(message):
            problems.append(f"console: {message.text} at {message.location.get('url')}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    return page


def _expected_refusal(message: Any) -> bool:
    """Chromium logs every 4xx answer; an API refusing bad input (a wrong password) is a screen
    showing an error, not a broken page. Any other failed load still counts."""
    url = message.location.get("url") or ""
    return (
        message.text.startswith("Failed to load resource: the server responded with a status of 4")
        and "/api/" in url
    )


@pytest.fixture
def new_page(browser: Any, served: Served, problems: Problems) -> Iterator[Any]:
    """Pages of another size (a phone) or colour scheme, watched like `page`."""
    contexts: list[Any] = []

    def make(width: int, height: int, color_scheme: str = "light") -> Any:
        context = browser.new_context(
            base_url=served.base_url,
            viewport={"width": width, "height": height},
            color_scheme=color_scheme,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return _watched(context.new_page(), problems)

    yield make
    for context in contexts:
        context.close()
    assert list(problems) == [], "the browser reported errors"


# -- helpers the tests share ---------------------------------------------------------------------


def check_accessibility(page: Any) -> None:
    """axe-core finds no serious or critical violation on what the page shows now.

    Evaluated through the DevTools protocol rather than `add_script_tag`: the app's CSP rightly
    refuses the inline script tag that would add, and the test must not loosen it."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("async () => (await axe.run(document)).violations")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], "\n".join(bad)


def screenshot(page: Any, name: str) -> None:
    """Saved only when HYPERDESK_SCREENSHOTS names a directory (docs/screenshots)."""
    target = os.environ.get(SCREENSHOTS_ENV)
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(Path(target) / f"{name}.png"))


class Api:
    """The REST API as a test's setup uses it (the browser then logs in by hand)."""

    def __init__(self, base_url: str, username: str) -> None:
        self.base = base_url + "/api"
        self.username = username
        self.http = requests.Session()
        response = self.http.post(
            f"{self.base}/auth/register",
            json={"username": username, "password": PASSWORD},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        self.login(PASSWORD)

    def login(self, password: str) -> None:
        response = self.http.post(
            f"{self.base}/auth/login",
            json={"username": self.username, "password": password},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self.base + path, timeout=20, **kwargs)
        assert response.ok, response.text
        return response.json() if response.content else None

    def funded_wallet(self, label: str = "main") -> dict[str, Any]:
        wallet = self.call("POST", "/wallets", json={"label": label})
        self.call("POST", f"/wallets/{wallet['id']}/faucet", json={"amount": "50000"})
        return wallet


def log_in(page: Any, username: str, password: str = PASSWORD, path: str = "/") -> None:
    page.goto(path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()
