"""What a running bot gets from the server besides orders, and what its owner sees of it live.

Real sandboxed bot processes on the paper exchange: the bot's market data and state requests,
its status and log lines pushed over `/api/ws`, a restart through the API, and a manual order on
the bot's own wallet that stays the owner's.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tests.helpers import wait_until
from tests.http.bots.calls import bot_action, bot_logs, create_bot
from tests.http.test_hardening_live import SocketReader


def _report(client, user, bot_id, prefix: str) -> Any:
    """The JSON a bot logged after `prefix`, once it has logged it."""
    line = wait_until(
        lambda: next((m for m in bot_logs(client, user, bot_id) if m.startswith(prefix)), None),
        30,
        message=f"the bot's '{prefix}' log line",
    )
    return json.loads(line[len(prefix) :])


MARKET_DATA_BOT = """
import json

class Bot:
    def __init__(self, api, config):
        self.api = api

    def on_start(self):
        book = self.api.book("ETH")
        candles = self.api.candles("ETH", "1m", 5)
        capital = self.api.capital()
        report = {
            "mid": str(self.api.mid("ETH")),
            "best_bid": str(book["bids"][0]["price"]),
            "best_ask": str(book["asks"][0]["price"]),
            "candles": len(candles),
            "candle_is_ordered": all(c["low"] <= c["close"] <= c["high"] for c in candles),
            "allocation": str(capital["allocation"]),
            "positions": self.api.positions(),
            "open_orders": self.api.open_orders(),
        }
        self.api.log("market " + json.dumps(report))
        try:
            self.api.candles("NOPE", "1m", 5)
        except Exception as exc:
            self.api.log("unknown coin " + json.dumps(getattr(exc, "code", "?")))
"""


def test_a_bot_reads_mid_book_candles_capital_positions_and_orders(client, alice, wallet):
    bot = create_bot(client, alice, wallet["id"], MARKET_DATA_BOT)
    bot_action(client, alice, bot["id"], "start")
    report = _report(client, alice, bot["id"], "market ")
    assert Decimal(report["best_bid"]) < Decimal(report["mid"]) < Decimal(report["best_ask"])
    assert report["candles"] >= 1
    assert report["candle_is_ordered"]
    assert Decimal(report["allocation"]) == Decimal("1000")
    assert (report["positions"], report["open_orders"]) == ([], [])
    assert _report(client, alice, bot["id"], "unknown coin ") != "?"


STATE_BOT = """
import json

class Bot:
    def __init__(self, api, config):
        self.api = api

    def on_start(self):
        runs = self.api.state.get("runs", 0) + 1
        self.api.state["runs"] = runs
        self.api.state.set("levels", {"ETH": ["3000.5", "3100"]})
        self.api.state.set("scratch", 1)
        del self.api.state["scratch"]
        seen = {
            "runs": runs,
            "levels": self.api.state["levels"],
            "scratch": self.api.state.get("scratch", "gone"),
        }
        self.api.log(f"state{runs} " + json.dumps(seen))
        try:
            self.api.state.set("huge", "x" * 2_000_000)
        except Exception as exc:
            self.api.log(f"too big{runs} " + json.dumps(getattr(exc, "code", "?")))
"""


def test_a_bots_state_survives_its_restart_and_is_bounded(client, alice, wallet):
    bot = create_bot(client, alice, wallet["id"], STATE_BOT)
    first_pid = bot_action(client, alice, bot["id"], "start")["pid"]
    first = _report(client, alice, bot["id"], "state1 ")
    assert first == {"runs": 1, "levels": {"ETH": ["3000.5", "3100"]}, "scratch": "gone"}
    assert _report(client, alice, bot["id"], "too big1 ") not in ("?", None)

    restarted = bot_action(client, alice, bot["id"], "restart")
    assert restarted["status"] == "running"
    assert restarted["desired_state"] == "running"
    assert restarted["pid"] not in (None, first_pid)
    second = _report(client, alice, bot["id"], "state2 ")
    assert second["runs"] == 2  # the state outlived the process; the oversized value never landed


def test_the_owner_sees_status_changes_and_log_lines_live_and_nobody_else_does(
    client, alice, bob, wallet
):
    code = "class Bot:\n    def __init__(self, api, config):\n        print('hello from the bot')\n"
    with (
        client.websocket_connect(f"/api/ws?token={alice.token}") as alice_ws,
        client.websocket_connect(f"/api/ws?token={bob.token}") as bob_ws,
    ):
        assert alice_ws.receive_json()["channel"] == "ready"
        assert bob_ws.receive_json()["channel"] == "ready"
        alice_frames, bob_frames = SocketReader(alice_ws), SocketReader(bob_ws)
        bot = create_bot(client, alice, wallet["id"], code)
        bot_action(client, alice, bot["id"], "start")

        def status(state):
            return lambda f: (
                f["channel"] == "bot_status"
                and f["data"]["bot_id"] == bot["id"]
                and f["data"]["status"] == state
            )

        wait_until(lambda: alice_frames.find(status("running")), 30, message="running pushed")
        line = wait_until(
            lambda: alice_frames.find(
                lambda f: (
                    f["channel"] == "bot_logs" and "hello from the bot" in f["data"]["message"]
                )
            ),
            30,
            message="the log line pushed",
        )
        assert line["data"]["bot_id"] == bot["id"]
        assert line["data"]["time"] > 0
        bot_action(client, alice, bot["id"], "stop")
        wait_until(lambda: alice_frames.find(status("stopped")), 30, message="stopped pushed")
        assert not bob_frames.find(lambda f: f["channel"].startswith("bot_"))


FILLING_BOT = """
class Bot:
    def __init__(self, api, config):
        self.api = api

    def on_start(self):
        result = self.api.place_order("ETH", "buy", "0.1", order_type="market")
        self.api.log(f"bought {result['status']}")
"""


def test_a_manual_order_on_the_bots_wallet_stays_manual_beside_the_bots_fills(
    client, alice, wallet
):
    bot = create_bot(client, alice, wallet["id"], FILLING_BOT)
    bot_action(client, alice, bot["id"], "start")

    def trades(**filters):
        params = {"wallet_id": wallet["id"], **filters}
        response = client.get("/api/trades", params=params, headers=alice.headers)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    wait_until(lambda: trades(bot_id=bot["id"]), 30, message="the bot's fill")
    manual = client.post(
        "/api/orders",
        json={
            "wallet_id": wallet["id"],
            "coin": "ETH",
            "side": "sell",
            "type": "market",
            "size": "0.05",
        },
        headers=alice.headers,
    )
    assert manual.status_code == 200, manual.text
    manual_cloid = manual.json()["cloid"]

    every = wait_until(
        lambda: (t := trades()) and any(x["cloid"] == manual_cloid for x in t) and t, 30
    )
    by_owner = {x["cloid"]: x["bot_id"] for x in every}
    assert by_owner[manual_cloid] is None
    assert {bot["id"]} == {b for c, b in by_owner.items() if c != manual_cloid}
    assert all(t["cloid"] != manual_cloid for t in trades(bot_id=bot["id"]))
    # The bot's book counts only its own fills: still long its 0.1, not the wallet's 0.05.
    view = client.get(f"/api/bots/{bot['id']}", headers=alice.headers).json()
    used = Decimal(view["capital_status"]["used"])
    bot_fills = [t for t in every if t["bot_id"] == bot["id"]]
    bot_price = sum(Decimal(t["price"]) * Decimal(t["size"]) for t in bot_fills) / Decimal("0.1")
    assert used > bot_price * Decimal("0.1") * Decimal("0.8")
