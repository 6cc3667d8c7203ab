"""The example bots in examples/bots/ run as shipped: each is created through the REST API from its
code, input schema and sample config, started as a real sandboxed process, trades on the paper
exchange, and its fills show up in `/api/trades` attributed to it.

The paper exchange's price only moves when a test moves it (`set_price`), so the resting-order
bots (grid, market maker) are filled by moving the price through their orders once they rest.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.helpers import wait_until
from tests.http.bots.calls import bot_logs, bot_trades

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "bots"
DEADLINE = 20


def _example(name: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    code = (EXAMPLES / f"{name}.py").read_text()
    schema = json.loads((EXAMPLES / f"{name}.schema.json").read_text())
    config = json.loads((EXAMPLES / f"{name}.config.json").read_text())
    return code, schema, config


def _create_and_start(client, user, wallet_id, name, **config_overrides):
    code, schema, config = _example(name)
    body = {
        "name": name,
        "code": code,
        "input_schema": schema,
        "config": {**config, **config_overrides},
        "wallet_id": wallet_id,
        "capital": "1000",
        "tick_seconds": "0.5",
    }
    response = client.post("/api/bots", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    bot = response.json()
    response = client.post(f"/api/bots/{bot['id']}/start", headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "running"
    return bot


def _resting(runtime, wallet, count):
    """Wait until the wallet (used by this one bot) has `count` resting orders; returns them."""
    return wait_until(
        lambda: (
            len(orders := runtime.services.exchange.open_orders(wallet["account_address"])) == count
            and orders
        ),
        DEADLINE,
        message=f"{count} resting orders",
    )


def _assert_fills_then_stop(client, user, bot_id):
    trades = wait_until(lambda: bot_trades(client, user, bot_id), DEADLINE, message="a bot fill")
    assert all(t["bot_id"] == bot_id for t in trades)
    assert all(Decimal(t["size"]) > 0 for t in trades)
    wait_until(lambda: any(m.startswith("fill ") for m in bot_logs(client, user, bot_id)), DEADLINE)
    response = client.post(f"/api/bots/{bot_id}/stop", headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "stopped"
    return trades


def test_the_grid_bot_ladders_orders_and_fills_when_the_price_falls_through_them(
    client, alice, wallet, runtime, paper_server
):
    bot = _create_and_start(client, alice, wallet["id"], "grid")
    levels = _example("grid")[2]["levels"]
    orders = _resting(runtime, wallet, 2 * levels)
    mid = paper_server.exchange.mid("ETH")
    assert sum(o.side == "buy" for o in orders) == levels
    assert all((o.price < mid) == (o.side == "buy") for o in orders)

    paper_server.set_price("ETH", mid * Decimal("0.993"))  # through the first buy level
    trades = _assert_fills_then_stop(client, alice, bot["id"])
    assert {t["side"] for t in trades} == {"buy"}
    assert runtime.services.exchange.open_orders(wallet["account_address"]) == ()


def test_the_market_maker_quotes_both_sides_and_requotes_when_the_mid_moves(
    client, alice, wallet, runtime, paper_server
):
    bot = _create_and_start(client, alice, wallet["id"], "market_maker")
    first = _resting(runtime, wallet, 2)
    assert sorted(o.side for o in first) == ["buy", "sell"]
    mid = paper_server.exchange.mid("ETH")

    paper_server.set_price("ETH", mid * Decimal("1.005"))  # through the ask
    first_oids = {o.oid for o in first}

    def fresh_quotes():
        orders = runtime.services.exchange.open_orders(wallet["account_address"])
        sides = sorted(o.side for o in orders)
        return sides == ["buy", "sell"] and not first_oids & {o.oid for o in orders}

    wait_until(fresh_quotes, DEADLINE, message="quotes replaced around the new mid")
    trades = _assert_fills_then_stop(client, alice, bot["id"])
    assert {t["side"] for t in trades} == {"sell"}


def test_the_trend_bot_reads_candles_and_takes_a_position_with_a_market_order(
    client, alice, wallet, runtime
):
    # Any gap between the averages is a signal, so the bot acts on its first tick.
    bot = _create_and_start(client, alice, wallet["id"], "trend", threshold_bps="0")
    trades = _assert_fills_then_stop(client, alice, bot["id"])
    assert len({t["side"] for t in trades}) == 1
    assert any(m.startswith("fast ") for m in bot_logs(client, alice, bot["id"]))
