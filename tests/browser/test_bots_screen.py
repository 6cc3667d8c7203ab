"""The Bots screen end to end: a bot made from an example (code in CodeMirror, configuration from
its JSON Schema, per-field errors from the server), started, its log lines and a fill arriving,
its PnL chart drawn, then stopped; no console error and no serious accessibility violation."""

from __future__ import annotations

import itertools

from playwright.sync_api import expect

from tests.browser.conftest import Api, check_accessibility, log_in, screenshot
from tests.browser.served import Served

_names = itertools.count(1)
FILL_TIMEOUT_MS = 30_000


def _user(served: Served) -> Api:
    return Api(served.base_url, f"botuser{next(_names)}")


def test_create_a_bot_from_an_example_start_it_watch_it_fill_and_stop_it(page, served):
    user = _user(served)
    user.funded_wallet("bot wallet")
    log_in(page, user.username, path="/bots")
    expect(page.get_by_text("No bots yet.")).to_be_visible()
    check_accessibility(page)

    page.get_by_role("link", name="New bot").click()
    page.get_by_label("Start from an example").select_option(label="Trend")
    expect(page.get_by_text("Trend follower: a short/long moving-average")).to_be_visible()
    page.get_by_role("button", name="Use this example").click()
    editor = page.get_by_test_id("code-editor")
    expect(editor.locator(".cm-content")).to_contain_text("class Bot")
    expect(editor.locator(".cm-content [class^='tok-'], .cm-content span").first).to_be_visible()
    form = page.get_by_test_id("config-form")
    expect(form.get_by_label("threshold_bps", exact=True)).to_have_value("5")
    expect(form.get_by_label("interval (optional)")).to_have_value("1m")
    expect(page.get_by_label("Name", exact=True)).to_have_value("trend")

    # The server's per-field errors land beside their fields.
    form.get_by_label("short_window", exact=True).fill("five")
    form.get_by_label("threshold_bps", exact=True).fill("")
    page.get_by_role("button", name="Create bot").click()
    expect(page.get_by_test_id("error-short_window")).to_be_visible()
    expect(page.get_by_test_id("error-threshold_bps")).to_contain_text("required")
    expect(form.get_by_label("short_window", exact=True)).to_have_attribute("aria-invalid", "true")
    check_accessibility(page)
    screenshot(page, "bot-editor")

    form.get_by_label("short_window", exact=True).fill("5")
    form.get_by_label("threshold_bps", exact=True).fill(
        "0"
    )  # any gap is a signal: it trades at once
    page.get_by_label("Tick interval (seconds)").fill("0.5")
    page.get_by_role("button", name="Create bot").click()

    detail = page.get_by_test_id("bot-detail")
    expect(detail.get_by_role("heading", name="trend")).to_be_visible()
    expect(detail.get_by_test_id("bot-status")).to_have_text("stopped")
    [bot] = user.call("GET", "/bots")
    assert bot["config"]["threshold_bps"] == "0"
    assert bot["config"]["short_window"] == 5
    assert bot["tick_seconds"] == "0.5"

    detail.get_by_role("button", name="Start", exact=True).click()
    expect(detail.get_by_test_id("bot-status")).to_have_text("running")
    row = page.get_by_test_id("bot-list").locator(f"tr[data-bot-id='{bot['id']}']")
    expect(row.get_by_test_id("bot-status")).to_have_text("running")  # the list follows live
    logs = page.get_by_test_id("bot-logs")
    expect(logs).to_contain_text("fast ", timeout=FILL_TIMEOUT_MS)
    expect(logs).to_contain_text("fill ", timeout=FILL_TIMEOUT_MS)
    expect(page.get_by_test_id("bot-trades")).to_contain_text("ETH", timeout=FILL_TIMEOUT_MS)
    expect(page.get_by_test_id("bot-capital")).to_be_visible(timeout=FILL_TIMEOUT_MS)
    expect(page.get_by_test_id("pnl-chart").locator("canvas").first).to_be_visible()
    fills = len(user.call("GET", f"/bots/{bot['id']}/trades")["items"])
    expect(page.get_by_test_id("pnl-summary")).to_have_text(
        f"Cumulative realized PnL after fees: {_pnl(user, bot['id'])} USD over {fills} fills."
    )
    check_accessibility(page)
    screenshot(page, "bots")

    detail.get_by_role("button", name="Stop", exact=True).click()
    expect(detail.get_by_test_id("bot-status")).to_have_text("stopped", timeout=FILL_TIMEOUT_MS)
    expect(row.get_by_test_id("bot-status")).to_have_text("stopped")
    assert user.call("GET", f"/bots/{bot['id']}")["desired_state"] == "stopped"

    # Editing: a bad setting is shown beside its field; a good one is saved as a new version.
    detail.get_by_role("button", name="Edit", exact=True).click()
    page.get_by_label("Capital (USD)").fill("lots")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_test_id("error-capital")).to_be_visible()
    page.get_by_label("Capital (USD)").fill("600")
    page.get_by_role("button", name="Save changes").click()
    expect(detail.get_by_text("$600.00 at 1× leverage")).to_be_visible()
    assert user.call("GET", f"/bots/{bot['id']}")["capital"] == "600"


def _pnl(user: Api, bot_id: int) -> str:
    from decimal import Decimal

    trades = user.call("GET", f"/bots/{bot_id}/trades")["items"]
    total = sum((Decimal(t["closed_pnl"]) - Decimal(t["fee"]) for t in trades), Decimal(0))
    return format(total.normalize(), "f") if total else "0"
