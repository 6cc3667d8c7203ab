"""The browser app end to end: accounts, wallets, trading, history, the phone layout; on every
screen no console error and no serious accessibility violation."""

from __future__ import annotations

import itertools
from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

import eth_account
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, Api, check_accessibility, log_in, screenshot
from tests.browser.served import Served

_names = itertools.count(1)


def _user(served: Served) -> Api:
    return Api(served.base_url, f"user{next(_names)}")


def _eth(served: Served) -> tuple[Decimal, int]:
    market = next(m for m in requests_json(served, "/api/markets") if m["coin"] == "ETH")
    return Decimal(market["mid"]), market["sz_decimals"]


def requests_json(served: Served, path: str) -> Any:
    import requests

    return requests.get(served.base_url + path, timeout=10).json()


def _size_worth(usd: int, price: Decimal, sz_decimals: int) -> str:
    return str((Decimal(usd) / price).quantize(Decimal(1).scaleb(-sz_decimals), ROUND_CEILING))


def test_register_log_out_log_in_and_change_password(page, served):
    page.goto("/register")
    expect(page.get_by_test_id("paper-banner")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "register")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_test_id("live-status")).to_have_text("Live")
    check_accessibility(page)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "login")

    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")

    log_in(page, "alice", path="/settings")
    expect(page.get_by_role("heading", name="Account")).to_be_visible()  # came back to /settings
    check_accessibility(page)
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill("an even longer passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Password changed")
    log_in(page, "alice", "an even longer passphrase")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_an_ended_session_asks_to_log_in_again(page, served):
    user = _user(served)
    log_in(page, user.username, path="/wallets")
    expect(page.get_by_role("heading", name="Wallets", exact=True)).to_be_visible()
    user.call(
        "POST", "/auth/password", json={"current_password": PASSWORD, "new_password": "x" * 20}
    )
    page.get_by_role("link", name="History").click()  # its first request answers 401
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("log in again")


def test_generate_a_wallet_get_paper_funds_and_see_the_account(page, served):
    user = _user(served)
    log_in(page, user.username, path="/wallets")
    check_accessibility(page)
    page.get_by_label("Label").first.fill("paper one")
    page.get_by_role("button", name="Generate").click()
    card = page.get_by_test_id("wallet").filter(has_text="paper one")
    expect(card).to_be_visible()
    expect(card.get_by_text("verified", exact=True)).to_be_visible()
    card.get_by_label("Paper USDC").fill("12345")
    card.get_by_role("button", name="Get paper funds").click()
    expect(card.get_by_test_id("account-value")).to_have_text("$12,345.00")
    check_accessibility(page)
    screenshot(page, "wallets")


def test_importing_a_master_key_shows_the_apis_warning(page, served):
    user = _user(served)
    key = eth_account.Account.create()
    served.paper.fund(key.address, 1000)
    log_in(page, user.username, path="/wallets")
    page.get_by_label("Label").nth(1).fill("master")
    page.get_by_label("Private key").fill(key.key.hex())
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("wallet").filter(has_text="master")).to_be_visible()
    expect(page.get_by_test_id("wallet-warnings")).to_be_visible()


def test_importing_a_bad_key_shows_the_error_in_words(page, served):
    user = _user(served)
    log_in(page, user.username, path="/wallets")
    page.get_by_label("Label").nth(1).fill("imported")
    page.get_by_label("Private key").fill("0x1234")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("private key is not valid")


def test_place_and_cancel_a_limit_order(page, served):
    user = _user(served)
    wallet = user.funded_wallet()
    mid, sz_decimals = _eth(served)
    price = int(mid * Decimal("0.8"))
    log_in(page, user.username, path="/trade?coin=ETH")
    form = page.get_by_role("region", name="Place an order")
    form.get_by_label("Size (ETH)").fill("0.123456789")
    form.get_by_role("button", name="Buy ETH").click()
    expect(form.locator("[data-code=LOT_SIZE]")).to_be_visible()  # caught before sending

    form.get_by_label("Size (ETH)").fill(_size_worth(20, Decimal(price), sz_decimals))
    form.get_by_label("Price (USD)").fill(str(price))
    form.get_by_role("button", name="Buy ETH").click()
    expect(page.get_by_test_id("order-result")).to_contain_text("resting")
    orders = page.get_by_test_id("open-orders")
    expect(orders).to_contain_text(str(price))
    expect(page.get_by_test_id("chart").locator("canvas").first).to_be_visible()
    expect(page.get_by_test_id("book").locator("tr.bid").first).to_be_visible()
    check_accessibility(page)
    screenshot(page, "trade")

    orders.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("No open orders.")).to_be_visible()
    assert user.call("GET", "/orders", params={"wallet_id": wallet["id"]}) == []


def test_a_market_order_shows_in_positions_history_csv_and_dashboard(page, served, tmp_path: Path):
    user = _user(served)
    user.funded_wallet("trader")
    mid, sz_decimals = _eth(served)
    size = _size_worth(50, mid, sz_decimals)
    log_in(page, user.username, path="/trade?coin=ETH")
    form = page.get_by_role("region", name="Place an order")
    form.get_by_label("Type").select_option("market")
    form.get_by_label("Size (ETH)").fill(size)
    form.get_by_role("button", name="Buy ETH").click()
    expect(page.get_by_test_id("order-result")).to_contain_text("filled")
    expect(page.get_by_test_id("positions")).to_contain_text(size)

    page.get_by_role("link", name="History").click()
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("ETH", timeout=20_000)  # recorded from the exchange's fills
    expect(page.get_by_test_id("summary")).to_contain_text("1")
    check_accessibility(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / "trades.csv"
    download.value.save_as(saved)
    lines = saved.read_text().strip().splitlines()
    assert len(lines) == 2
    assert "ETH" in lines[1]
    screenshot(page, "history")

    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_test_id("positions")).to_contain_text("trader")
    expect(page.get_by_test_id("equity")).not_to_have_text("$0.00")
    check_accessibility(page)
    screenshot(page, "dashboard")


def test_the_trade_screen_fits_a_phone_in_the_dark_theme(new_page, served):
    user = _user(served)
    user.funded_wallet()
    page = new_page(360, 740, color_scheme="dark")
    log_in(page, user.username, path="/trade?coin=ETH")
    expect(page.get_by_test_id("chart").locator("canvas").first).to_be_visible()
    expect(page.get_by_role("button", name="Buy ETH")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways: {width}px wide"
    check_accessibility(page)


def test_the_navigation_reaches_every_screen(page, served):
    user = _user(served)
    log_in(page, user.username)
    for name in ("Trade", "Wallets", "History", "Bots", "Vaults", "Staking", "Dashboard"):
        page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()
        expect(page.get_by_role("heading", name=name, exact=True)).to_be_attached()
        expect(page).to_have_title(f"{name} · Hyperdesk")


def test_live_data_shows_offline_and_reconnects(page, served, problems):
    user = _user(served)
    log_in(page, user.username)
    status = page.get_by_test_id("live-status")
    expect(status).to_have_text("Live")
    page.context.set_offline(True)  # new connections fail from here on
    _drop_live_sockets(served)  # the server ends the open one, as a restart would
    expect(status).to_have_text("Offline — reconnecting")
    page.context.set_offline(False)
    expect(status).to_have_text("Live", timeout=30_000)  # the backoff is 0.5 s, 1 s, 2 s, …
    # Chromium logs each refused reconnection attempt; those are this test's doing.
    problems[:] = [p for p in problems if "WebSocket connection to" not in p]


def _drop_live_sockets(served: Served) -> None:
    hub = served.services.hub
    loop = hub._loop
    assert loop is not None
    for connection in list(hub._connections.values()):
        # the close marker the hub itself uses for a client that cannot keep up
        loop.call_soon_threadsafe(connection.queue.put_nowait, None)
