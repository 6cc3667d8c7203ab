"""Running bots through the REST API: real sandboxed bot processes trading on the paper exchange.

Each test starts real bot processes through `/api/bots/{id}/start` and waits on conditions (never
sleeps); heartbeat and backoff values are small so supervision happens within seconds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hyperdesk.http.app import create_app
from hyperdesk.persistence.models import BotRun, Order
from hyperdesk.runtime import Runtime
from tests.fixtures.app import import_funded_key, register_and_login
from tests.helpers import wait_until
from tests.http.bots.calls import bot_logs, create_bot, get_bot, log_in_again, start_bot
from tests.http.bots.conftest import FAST_SUPERVISION

FAST = {**FAST_SUPERVISION, "bot_restart_intensity": 2, "bot_restart_window_seconds": 120}

ORDER_BOT = """
class Bot:
    def __init__(self, api, config):
        self.api = api
        self.config = config

    def on_start(self):
        try:
            result = self.api.place_order("ETH", "buy", self.config["size"], self.config["price"])
            self.api.log(f"placed {result['status']} {result['oid']}")
        except Exception as exc:
            self.api.log(f"refused {getattr(exc, 'code', '?')}")

    def on_fill(self, fill):
        self.api.log(f"fill {fill['size']}")
"""
IDLE_BOT = "class Bot:\n    def __init__(self, api, config):\n        pass\n"
CRASH_BOT = """
import os

class Bot:
    def __init__(self, api, config):
        pass

    def on_start(self):
        print("about to crash")
        os._exit(3)
"""
HANG_BOT = """
import time

class Bot:
    def __init__(self, api, config):
        pass

    def on_start(self):
        time.sleep(3600)
"""


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    return FAST


def _runs(runtime, bot_id):
    with runtime.services.sessions() as session:
        return session.scalar(select(func.count(BotRun.id)).where(BotRun.bot_id == bot_id))


def test_a_bot_places_a_limit_order_on_start_and_its_fill_is_attributed(client, alice, wallet):
    bot = create_bot(
        client, alice, wallet["id"], ORDER_BOT, config={"size": "0.1", "price": "4000"}
    )
    started = start_bot(client, alice, bot["id"])
    assert (started["status"], started["desired_state"]) == ("running", "running")
    assert started["pid"] > 0

    def bot_trades():
        response = client.get("/api/trades", params={"bot_id": bot["id"]}, headers=alice.headers)
        return response.json()["items"]

    trades = wait_until(bot_trades, 20, message="the bot's fill in /api/trades")
    assert all(t["bot_id"] == bot["id"] for t in trades)
    assert sum(Decimal(t["size"]) for t in trades) == Decimal("0.1")
    wait_until(
        lambda: any(m.startswith("fill 0.1") for m in bot_logs(client, alice, bot["id"])), 20
    )
    view = get_bot(client, alice, bot["id"])
    assert Decimal(view["capital_status"]["used"]) > 0  # the position now counts against it


def test_an_order_over_the_allocation_is_refused_and_never_reaches_the_exchange(
    client, alice, wallet, runtime
):
    bot = create_bot(client, alice, wallet["id"], ORDER_BOT, config={"size": "1", "price": "4000"})
    start_bot(client, alice, bot["id"])
    wait_until(lambda: "refused CAPITAL_LIMIT" in bot_logs(client, alice, bot["id"]), 20)
    with runtime.services.sessions() as session:
        assert session.scalars(select(Order).where(Order.bot_id == bot["id"])).all() == []
    open_orders = runtime.services.exchange.open_orders(wallet["account_address"])
    assert open_orders == ()


def test_a_crashing_bot_is_restarted_then_failed_without_touching_another(
    client, alice, wallet, runtime
):
    idle = create_bot(client, alice, wallet["id"], IDLE_BOT, name="idle")
    idle_pid = start_bot(client, alice, idle["id"])["pid"]
    crashy = create_bot(client, alice, wallet["id"], CRASH_BOT, name="crashy")
    start_bot(client, alice, crashy["id"])

    failed = wait_until(
        lambda: (b := get_bot(client, alice, crashy["id"]))["status"] == "failed" and b, 30
    )
    assert failed["restarts"] == FAST["bot_restart_intensity"]
    assert "exited with code 3" in failed["last_error"]
    assert _runs(runtime, crashy["id"]) == FAST["bot_restart_intensity"] + 1
    assert crashy["id"] not in runtime.services.supervisor.running().get(timeout=10)
    assert "about to crash" in bot_logs(client, alice, crashy["id"])

    survivor = get_bot(client, alice, idle["id"])
    assert (survivor["status"], survivor["pid"]) == ("running", idle_pid)

    again = start_bot(client, alice, crashy["id"])  # the owner's start forgets the failure
    assert again["restarts"] == 0


def test_the_owners_stop_is_final_even_when_the_bot_crashes_while_stopping(
    client, alice, wallet, runtime
):
    code = IDLE_BOT + "\n    def on_stop(self):\n        import os\n        os._exit(9)\n"
    bot = create_bot(client, alice, wallet["id"], code, restart_policy="permanent")
    start_bot(client, alice, bot["id"])
    response = client.post(f"/api/bots/{bot['id']}/stop", headers=alice.headers)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["desired_state"]) == ("stopped", "stopped")
    assert response.json()["pid"] is None

    # Another bot's whole start takes longer than the backoff: a restart would have happened.
    other = create_bot(client, alice, wallet["id"], CRASH_BOT, name="other")
    start_bot(client, alice, other["id"])
    wait_until(lambda: get_bot(client, alice, other["id"])["status"] == "failed", 30)
    assert get_bot(client, alice, bot["id"])["status"] == "stopped"
    assert _runs(runtime, bot["id"]) == 1


def test_a_bot_that_stops_answering_heartbeats_is_killed_with_that_reason(client, alice, wallet):
    bot = create_bot(client, alice, wallet["id"], HANG_BOT, restart_policy="temporary")
    start_bot(client, alice, bot["id"])
    ended = wait_until(
        lambda: (b := get_bot(client, alice, bot["id"]))["status"] == "stopped" and b, 30
    )
    assert ended["last_error"] == "stopped answering heartbeats"


def test_other_users_cannot_start_stop_or_read_logs_of_a_bot(client, alice, wallet):
    bot = create_bot(client, alice, wallet["id"], IDLE_BOT)
    mallory = register_and_login(client, "mallory")
    for path in ("start", "stop", "restart"):
        response = client.post(f"/api/bots/{bot['id']}/{path}", headers=mallory.headers)
        assert response.status_code == 404, response.text
        assert response.json()["detail"]["code"] == "NOT_FOUND"
    response = client.get(f"/api/bots/{bot['id']}/logs", headers=mallory.headers)
    assert response.status_code == 404
    assert get_bot(client, alice, bot["id"])["status"] == "stopped"


def test_a_running_bot_runs_again_after_a_server_restart(settings_factory, paper_server):
    settings = settings_factory(**FAST)
    first = Runtime(settings)
    first.start()
    try:
        with TestClient(create_app(first.services)) as client:
            alice = register_and_login(client, "alice")
            wallet = import_funded_key(client, alice, paper_server)[1]
            bot = create_bot(client, alice, wallet["id"], IDLE_BOT)
            old_pid = start_bot(client, alice, bot["id"])["pid"]
    finally:
        first.stop()

    second = Runtime(settings)
    second.start()
    try:
        with TestClient(create_app(second.services)) as client:
            headers = log_in_again(client, "alice").headers
            view = wait_until(
                lambda: (
                    (r := client.get(f"/api/bots/{bot['id']}", headers=headers).json())["status"]
                    == "running"
                    and r
                ),
                30,
            )
            assert view["desired_state"] == "running"
            assert view["pid"] not in (None, old_pid)
    finally:
        second.stop()


def test_stopping_cancels_the_bots_resting_orders_unless_it_keeps_them(
    client, alice, wallet, runtime
):
    config = {"size": "0.1", "price": "3000"}  # below the market: it rests
    cancels = create_bot(client, alice, wallet["id"], ORDER_BOT, name="cancels", config=config)
    keeps = create_bot(
        client,
        alice,
        wallet["id"],
        ORDER_BOT,
        name="keeps",
        config=config,
        keep_orders_on_stop=True,
    )
    for bot in (cancels, keeps):
        start_bot(client, alice, bot["id"])
        wait_until(
            lambda b=bot: any(
                m.startswith("placed resting") for m in bot_logs(client, alice, b["id"])
            ),
            20,
        )

    def resting_bots():
        orders = runtime.services.exchange.open_orders(wallet["account_address"])
        with runtime.services.sessions() as session:
            rows = session.scalars(select(Order).where(Order.cloid.in_([o.cloid for o in orders])))
            return sorted(row.bot_id for row in rows)

    assert resting_bots() == sorted([cancels["id"], keeps["id"]])
    for bot in (cancels, keeps):
        response = client.post(f"/api/bots/{bot['id']}/stop", headers=alice.headers)
        assert response.status_code == 200, response.text
    assert resting_bots() == [keeps["id"]]


def test_a_bot_hears_of_updates_to_its_orders(client, alice, wallet):
    code = ORDER_BOT + (
        "\n    def on_order_update(self, update):\n"
        "        self.api.log(f\"update {update['status']} {update['order']['oid']}\")\n"
    )
    bot = create_bot(client, alice, wallet["id"], code, config={"size": "0.1", "price": "3000"})
    start_bot(client, alice, bot["id"])
    placed = wait_until(
        lambda: [m for m in bot_logs(client, alice, bot["id"]) if m.startswith("placed resting")],
        20,
    )
    oid = int(placed[0].split()[-1])
    response = client.delete(
        f"/api/orders/{oid}", params={"wallet_id": wallet["id"]}, headers=alice.headers
    )
    assert response.status_code == 204, response.text
    wait_until(lambda: f"update canceled {oid}" in bot_logs(client, alice, bot["id"]), 20)
    # Canceled by its owner, not by the bot: the reservation is freed all the same.
    wait_until(lambda: get_bot(client, alice, bot["id"])["capital_status"]["used"] == "0", 20)


ONCE_BOT = ORDER_BOT.replace(
    "    def on_start(self):\n",
    "    def on_start(self):\n"
    "        if self.api.state.get('placed'):\n"
    "            return\n"
    "        self.api.state['placed'] = True\n",
)


def test_a_fill_while_the_server_is_down_is_in_the_bots_capital_when_it_runs_again(
    settings_factory, paper_server
):
    """The bot's resting order fills while no server runs; at the next start the fill is
    recorded once, attributed to the bot, and its capital book (rebuilt from the database)
    holds the position."""
    settings = settings_factory(**FAST)
    first = Runtime(settings)
    first.start()
    try:
        with TestClient(create_app(first.services)) as client:
            alice = register_and_login(client, "alice")
            wallet = import_funded_key(client, alice, paper_server)[1]
            price = (paper_server.exchange.mid("ETH") * Decimal("0.98")).quantize(Decimal(1))
            config = {"size": "0.1", "price": str(price)}
            bot = create_bot(
                client, alice, wallet["id"], ONCE_BOT, config=config, keep_orders_on_stop=True
            )
            start_bot(client, alice, bot["id"])
            wait_until(
                lambda: any(
                    m.startswith("placed resting") for m in bot_logs(client, alice, bot["id"])
                ),
                20,
            )
            before = get_bot(client, alice, bot["id"])["capital_status"]
            assert Decimal(before["used"]) == Decimal("0.1") * price  # reserved by the order
            assert Decimal(before["fees"]) == 0
    finally:
        first.stop()

    paper_server.set_price("ETH", price * Decimal("0.99"))  # through the bot's bid
    wait_until(
        lambda: (
            paper_server.exchange.info({"type": "openOrders", "user": wallet["account_address"]})
            == []
        ),
        20,
        message="the resting bid filled on the exchange",
    )

    second = Runtime(settings)
    second.start()
    try:
        with TestClient(create_app(second.services)) as client:
            headers = log_in_again(client, "alice").headers

            def capital():
                view = client.get(f"/api/bots/{bot['id']}", headers=headers).json()
                return view["status"] == "running" and view["capital_status"]

            wait_until(capital, 30, interval=0.25, message="the bot running again")
            trades = client.get("/api/trades", params={"bot_id": bot["id"]}, headers=headers)
            items = trades.json()["items"]
            assert sum(Decimal(t["size"]) for t in items) == Decimal("0.1")
            assert {t["bot_id"] for t in items} == {bot["id"]}
            fees = sum(Decimal(t["fee"]) for t in items)
            assert fees != 0
            assert Decimal(capital()["fees"]) == fees
            # A long position now, no longer a reservation: it loses as the mark sits below it.
            wait_until(
                lambda: Decimal(capital()["unrealized_pnl"]) < 0,
                20,
                interval=0.25,
                message="the rebuilt position marked below its entry",
            )
    finally:
        second.stop()
