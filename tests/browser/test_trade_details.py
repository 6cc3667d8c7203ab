"""The trade screen's details end to end: fills and open orders on the chart (live), the order
form's nearest-valid-value fixes and TP/SL, modifying an order, closing a position, and History's
cursor paging, time and bot filters; no console error, axe clean in light and dark."""

from __future__ import annotations

import itertools
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from playwright.sync_api import expect

from hyperdesk.protocol import rules
from tests.browser.conftest import Api, check_accessibility, log_in
from tests.browser.served import Served
from tests.helpers import wait_until

_names = itertools.count(1)


def _user(served: Served) -> Api:
    return Api(served.base_url, f"details{next(_names)}")


def _eth(user: Api) -> tuple[Decimal, int]:
    market = next(m for m in user.call("GET", "/markets") if m["coin"] == "ETH")
    return Decimal(market["mid"]), market["sz_decimals"]


def _size_worth(usd: int, price: Decimal, sz_decimals: int) -> str:
    return str((Decimal(usd) / price).quantize(Decimal(1).scaleb(-sz_decimals), ROUND_CEILING))


def _order(user: Api, wallet: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"wallet_id": wallet["id"], "coin": "ETH", **fields}
    placed = user.call("POST", "/orders", json=body)
    assert placed["status"] in ("filled", "resting"), placed
    return placed


def _fills(user: Api, wallet: dict[str, Any], count: int) -> None:
    wait_until(
        lambda: (
            len(user.call("GET", "/trades", params={"wallet_id": wallet["id"]})["items"]) >= count
        ),
        20,
        message=f"{count} recorded fills",
    )


def _bid(mid: Decimal, fraction: str) -> str:
    return str(int(mid * Decimal(fraction)))


def _a_fill_and_a_resting_bid(served):
    """A new user whose ETH chart has one fill (a market buy) and one open order (a bid at 80 %
    of the mid); returns the user, the wallet and the bid's price."""
    user = _user(served)
    wallet = user.funded_wallet()
    mid, sz = _eth(user)
    _order(user, wallet, side="buy", type="market", size=_size_worth(30, mid, sz))
    price = _bid(mid, "0.8")
    size = _size_worth(20, mid * Decimal("0.8"), sz)
    _order(user, wallet, side="buy", type="limit", size=size, price=price)
    _fills(user, wallet, 1)
    return user, wallet, price


def test_fills_and_open_orders_show_on_the_chart_and_follow_live(page, served):
    user, wallet, resting = _a_fill_and_a_resting_bid(served)
    mid, sz = _eth(user)

    log_in(page, user.username, path="/trade?coin=ETH")
    marks = page.get_by_test_id("chart-marks")
    expect(marks.locator("li[data-kind=fill][data-side=buy]")).to_have_count(1)
    expect(marks.locator(f"li[data-kind=order][data-price='{resting}']")).to_have_count(1)
    chart = page.get_by_test_id("chart")
    expect(chart).to_have_attribute("data-markers", "1")  # handed to the canvas, not only listed
    expect(chart).to_have_attribute("data-price-lines", "1")

    # Live: a fill and an order made elsewhere (the API) arrive over /api/ws without a reload.
    _order(user, wallet, side="sell", type="market", size=_size_worth(15, mid, sz))
    other = _bid(mid, "0.7")
    _order(
        user,
        wallet,
        side="buy",
        type="limit",
        size=_size_worth(20, mid * Decimal("0.7"), sz),
        price=other,
    )
    expect(marks.locator("li[data-kind=fill][data-side=sell]")).to_have_count(1, timeout=20_000)
    expect(chart).to_have_attribute("data-markers", "2")
    expect(marks.locator(f"li[data-kind=order][data-price='{other}']")).to_have_count(1)
    expect(chart).to_have_attribute("data-price-lines", "2")

    # The periodic candle refresh updates the bar before the newest too, without an error.
    expect(chart).not_to_have_attribute("data-refreshes", "0")
    expect(page.get_by_role("alert")).to_have_count(0)


def test_off_grid_values_get_the_nearest_valid_one_and_the_fix_goes_through(page, served):
    user = _user(served)
    wallet = user.funded_wallet()
    mid, sz = _eth(user)
    log_in(page, user.username, path="/trade?coin=ETH")
    form = page.get_by_role("region", name="Place an order")

    form.get_by_label("Size (ETH)").fill("0.123456789")
    form.get_by_label("Price (USD)").fill(_bid(mid, "0.8"))
    form.get_by_role("button", name="Buy ETH").click()
    nearest_size = str(rules.round_size_down(Decimal("0.123456789"), sz))
    expect(form.locator("[data-code=LOT_SIZE]")).to_contain_text(f"use {nearest_size}?")
    form.get_by_role("button", name=f"Use {nearest_size}").click()
    expect(form.get_by_label("Size (ETH)")).to_have_value(nearest_size)

    off_tick = f"{_bid(mid, '0.8')}.123456"
    nearest = rules.nearest_valid_price(
        Decimal(off_tick), sz, is_spot=False, rounding=ROUND_FLOOR
    )  # what the server itself would suggest for a bid
    form.get_by_label("Price (USD)").fill(off_tick)
    form.get_by_role("button", name="Buy ETH").click()
    expect(form.locator("[data-code=TICK_SIZE]")).to_contain_text(f"use {nearest}?")
    form.get_by_role("button", name=f"Use {nearest}").click()
    expect(form.get_by_label("Price (USD)")).to_have_value(str(nearest))
    expect(form.locator("[data-code]")).to_have_count(0)
    form.get_by_role("button", name="Buy ETH").click()
    expect(page.get_by_test_id("order-result")).to_contain_text("resting")
    placed = user.call("GET", "/orders", params={"wallet_id": wallet["id"]})
    assert [(Decimal(o["price"]), o["size"]) for o in placed] == [(nearest, nearest_size)]

    form.get_by_label("Size (ETH)").fill("0.0001")  # worth far less than $10
    form.get_by_role("button", name="Buy ETH").click()
    needed = _size_worth(10, nearest, sz)
    expect(form.locator("[data-code=MIN_NOTIONAL]")).to_contain_text(f"use size {needed}?")


def test_a_stop_loss_rests_as_a_trigger_order(page, served):
    user = _user(served)
    wallet = user.funded_wallet()
    mid, sz = _eth(user)
    size = _size_worth(30, mid, sz)
    _order(user, wallet, side="buy", type="market", size=size)
    log_in(page, user.username, path="/trade?coin=ETH")
    form = page.get_by_role("region", name="Place an order")
    form.get_by_role("button", name="Sell / short").click()
    form.get_by_label("Type").select_option("sl")
    expect(form.get_by_label("Reduce only")).to_be_checked()
    form.get_by_label("Size (ETH)").fill(size)
    trigger = f"{_bid(mid, '0.9')}.123456"
    nearest = rules.nearest_valid_price(Decimal(trigger), sz, is_spot=False)
    form.get_by_label("Trigger price (USD)").fill(trigger)
    form.get_by_role("button", name="Sell ETH").click()
    form.get_by_role("button", name=f"Use {nearest}").click()
    form.get_by_role("button", name="Sell ETH").click()
    expect(page.get_by_test_id("order-result")).to_contain_text("resting")
    expect(page.get_by_test_id("open-orders")).to_contain_text(f"trigger {nearest}")
    chart_marks = page.get_by_test_id("chart-marks")
    expect(chart_marks.locator(f"li[data-kind=trigger][data-price='{nearest}']")).to_have_count(1)
    [order] = user.call("GET", "/orders", params={"wallet_id": wallet["id"]})
    assert order["is_trigger"]
    assert Decimal(order["trigger_price"]) == nearest
    assert order["reduce_only"]
    assert order["side"] == "sell"


def test_modify_an_open_orders_price_and_size(page, served):
    user = _user(served)
    wallet = user.funded_wallet()
    mid, sz = _eth(user)
    old_price, new_price = _bid(mid, "0.8"), _bid(mid, "0.75")
    size = _size_worth(20, mid * Decimal("0.75"), sz)
    new_size = str(Decimal(size) * 2)
    _order(user, wallet, side="buy", type="limit", size=size, price=old_price)
    log_in(page, user.username, path="/trade?coin=ETH")
    orders = page.get_by_test_id("open-orders")
    expect(orders).to_contain_text(old_price)
    orders.get_by_role("button", name="Modify").click()
    edit = page.get_by_role("form", name="Modify order")
    edit.get_by_label("New price (USD)").fill(new_price)
    edit.get_by_label("New size (ETH)").fill(new_size)
    edit.get_by_role("button", name="Save").click()
    expect(edit).to_have_count(0)
    expect(orders).to_contain_text(new_price)
    expect(orders).not_to_contain_text(old_price)
    chart_line = page.get_by_test_id("chart-marks").locator("li[data-kind=order]")
    expect(chart_line).to_have_attribute("data-price", new_price)
    [order] = user.call("GET", "/orders", params={"wallet_id": wallet["id"]})
    assert (Decimal(order["price"]), Decimal(order["size"])) == (
        Decimal(new_price),
        Decimal(new_size),
    )


def test_close_a_position_with_a_reduce_only_market_order(page, served):
    user = _user(served)
    wallet = user.funded_wallet()
    mid, sz = _eth(user)
    _order(user, wallet, side="sell", type="market", size=_size_worth(40, mid, sz))  # a short
    log_in(page, user.username, path="/trade?coin=ETH")
    positions = page.get_by_test_id("positions")
    expect(positions).to_contain_text("-")
    positions.get_by_role("button", name="Close").click()
    expect(page.get_by_text("No open positions.")).to_be_visible()
    account = user.call("GET", f"/wallets/{wallet['id']}/account")
    assert account["positions"] == []
    _fills(user, wallet, 2)
    closing = user.call("GET", "/trades", params={"wallet_id": wallet["id"]})["items"][0]
    assert closing["side"] == "buy"


def test_history_pages_with_the_cursor_and_filters_by_time_and_bot(page, served):
    user = _user(served)
    wallet = user.funded_wallet()
    mid, sz = _eth(user)
    size = _size_worth(15, mid, sz)
    for i in range(12):
        _order(user, wallet, side="buy" if i % 2 == 0 else "sell", type="market", size=size)
    _fills(user, wallet, 12)
    bot = user.call(
        "POST",
        "/bots",
        json={
            "name": "idle",
            "code": "class Bot:\n    pass\n",
            "wallet_id": wallet["id"],
            "capital": "100",
        },
    )

    log_in(page, user.username, path="/history")
    rows = page.get_by_test_id("history").locator("tbody tr")
    expect(rows).to_have_count(12)
    page.get_by_label("Per page").select_option("10")
    expect(rows).to_have_count(10)
    expect(page.get_by_test_id("history-count")).to_have_text("Showing 10 of 12 fills.")
    first_page = rows.all_inner_texts()
    page.get_by_role("button", name="Load older trades").click()
    expect(rows).to_have_count(12)
    expect(page.get_by_role("button", name="Load older trades")).to_have_count(0)
    assert rows.all_inner_texts()[:10] == first_page  # older ones appended, none repeated

    page.get_by_label("From").fill("2001-01-01T00:00")
    page.get_by_label("To").fill("2001-01-02T00:00")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No trades match.")).to_be_visible()
    page.get_by_label("To").fill("")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(10)

    page.get_by_label("Bot").select_option(str(bot["id"]))  # the bot has traded nothing
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No trades match.")).to_be_visible()
    expect(page.get_by_test_id("summary")).to_contain_text("0")


def test_the_trade_screen_with_marks_fixes_and_edits_is_accessible_light_and_dark(new_page, served):
    user = _a_fill_and_a_resting_bid(served)[0]
    for scheme in ("light", "dark"):
        page = new_page(1280, 800, color_scheme=scheme)
        log_in(page, user.username, path="/trade?coin=ETH")
        expect(page.get_by_test_id("chart")).to_have_attribute("data-price-lines", "1")
        form = page.get_by_role("region", name="Place an order")
        form.get_by_label("Size (ETH)").fill("0.123456789")
        form.get_by_role("button", name="Buy ETH").click()
        expect(form.locator("[data-code=LOT_SIZE]")).to_be_visible()
        page.get_by_test_id("open-orders").get_by_role("button", name="Modify").click()
        expect(page.get_by_role("form", name="Modify order")).to_be_visible()
        check_accessibility(page)
