"""The bot runtime in a real sandboxed process, against a fake trusted side played by the test."""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hyperdesk.sandbox.launcher import BotProcess, SandboxKind, SandboxSpec, launch_bot
from hyperdesk.sandbox.messages import parse_bot_message
from tests.sandbox.harness import SANDBOX_KINDS, FakeServer, ServerError, kind_param

CONTRACT_BOT = textwrap.dedent(
    """
    from decimal import Decimal

    class Bot:
        def __init__(self, api, config):
            self.api = api
            self.config = config
            self.ticks = 0

        def on_start(self):
            api = self.api
            print("config", self.config)
            result = api.place_order("BTC", "buy", 0.1, 50000, tif="Alo")
            print("placed", repr(result["avg_price"]), result["oid"])
            api.place_order("ETH", "sell", "2.5", order_type="market", reduce_only=True)
            print("cancel", api.cancel("BTC", 17))
            print("mid", repr(api.mid("BTC")))
            print("book", repr(api.book("BTC")["bids"][0]["price"]))
            print("candles", repr(api.candles("BTC", "1m", 2)[0]["close"]))
            print("open_orders", repr(api.open_orders()[0]["size"]))
            print("positions", repr(api.positions()[0]["entry_price"]))
            print("capital", repr(api.capital()["available"]))
            api.state["count"] = 3
            print("state", api.state.get("count"), api.state.get("missing", "dflt"))
            del api.state["count"]
            try:
                api.place_order("BTC", "buy", Decimal("1000"), 50000)
            except Exception as exc:
                print("refused", type(exc).__name__, exc.code)
            api.log("through api.log")

        def on_tick(self):
            self.ticks += 1
            if self.ticks == 1:
                raise RuntimeError("first tick fails")
            print("tick", self.ticks)

        def on_fill(self, fill):
            print("fill", repr(fill["price"]), repr(fill["size"]), fill["coin"])

        def on_order_update(self, update):
            print("update", update["status"], repr(update["filled_size"]))

        def on_stop(self):
            print("stopping after", self.ticks, "ticks")
    """
)


def answer(method: str, params: dict[str, Any]) -> Any:
    state: dict[str, Any] = {"count": 3}
    if method == "place_order":
        if params["size"] == "1000":
            raise ServerError("CAPITAL_LIMIT", "over the allocation")
        return {"status": "resting", "oid": 42, "filled_size": "0", "avg_price": "50000.5"}
    return {
        "cancel": {"status": "cancelled"},
        "mid": "50001.25",
        "book": {"coin": "BTC", "bids": [{"price": "50000", "size": "1"}], "asks": []},
        "candles": [{"t": 1, "open": "1", "high": "2", "low": "1", "close": "1.5", "volume": "3"}],
        "open_orders": [{"coin": "BTC", "oid": 42, "price": "50000", "size": "0.1"}],
        "positions": [{"coin": "BTC", "size": "0.1", "entry_price": "49000"}],
        "capital": {"allocation": "1000", "used": "10", "available": "990", "realized_pnl": "0"},
        "state_get": {
            "found": params.get("key") in state,
            "value": state.get(str(params.get("key"))),
        },
        "state_set": None,
        "state_delete": None,
    }[method]


@pytest.fixture(params=SANDBOX_KINDS)
def kind(request: pytest.FixtureRequest) -> SandboxKind:
    return kind_param(request.param)


def launch(code: str, kind: SandboxKind, **limits: Any) -> BotProcess:
    return launch_bot(code, SandboxSpec(**limits), kind=kind)


def test_bot_contract_calls_reach_the_server_and_come_back_as_decimals(kind: SandboxKind) -> None:
    with launch(CONTRACT_BOT, kind) as bot:
        server = FakeServer(bot, answer)
        server.start({"symbol": "BTC"})
        server.until(lambda m: m["type"] == "ready")

        # Every message the runtime sent is valid under the trusted side's strict models.
        for message in server.received:
            parse_bot_message(message)
        methods = [request["method"] for request in server.requests]
        assert methods == [
            "place_order", "place_order", "cancel", "mid", "book", "candles", "open_orders",
            "positions", "capital", "state_set", "state_get", "state_get", "state_delete",
            "place_order",
        ]  # fmt: skip
        first, second = server.requests[0]["params"], server.requests[1]["params"]
        assert first == {
            "coin": "BTC", "side": "buy", "size": "0.1", "price": "50000",
            "order_type": "limit", "tif": "Alo", "reduce_only": False,
        }  # fmt: skip
        assert second["price"] is None
        assert second["order_type"] == "market"
        assert second["reduce_only"] is True
        assert server.logs() == [
            "config {'symbol': 'BTC'}",
            "placed Decimal('50000.5') 42",
            "cancel {'status': 'cancelled'}",
            "mid Decimal('50001.25')",
            "book Decimal('50000')",
            "candles Decimal('1.5')",
            "open_orders Decimal('0.1')",
            "positions Decimal('49000')",
            "capital Decimal('990')",
            "state 3 dflt",
            "refused BotAPIError CAPITAL_LIMIT",
            "through api.log",
        ]


def test_exception_in_a_callback_is_logged_and_the_bot_goes_on(kind: SandboxKind) -> None:
    with launch(CONTRACT_BOT, kind) as bot:
        server = FakeServer(bot, answer)
        server.start()
        server.until(lambda m: m["type"] == "ready")

        server.send({"type": "tick", "seq": 1})
        failed = server.until(lambda m: m["type"] == "callback_done")
        server.send({"type": "tick", "seq": 2})
        succeeded = server.until(lambda m: m["type"] == "callback_done")

        assert failed == {"type": "callback_done", "event": "tick", "seq": 1, "ok": False}
        assert succeeded == {"type": "callback_done", "event": "tick", "seq": 2, "ok": True}
        traceback_log = next(log for log in server.logs() if log.startswith("on_tick raised"))
        assert "Traceback" in traceback_log
        assert "RuntimeError: first tick fails" in traceback_log
        assert "tick 2" in server.logs()


def test_fills_and_order_updates_reach_the_bot_with_decimals(kind: SandboxKind) -> None:
    with launch(CONTRACT_BOT, kind) as bot:
        server = FakeServer(bot, answer)
        server.start()
        server.until(lambda m: m["type"] == "ready")

        fill = {"coin": "BTC", "price": "50000.5", "size": "0.1", "tid": 7}
        server.send({"type": "fill", "seq": 1, "fill": fill})
        server.until(lambda m: m["type"] == "callback_done" and m["event"] == "fill")
        update = {"status": "filled", "oid": 42, "filled_size": "0.1"}
        server.send({"type": "order_update", "seq": 2, "update": update})
        server.until(lambda m: m["type"] == "callback_done" and m["event"] == "order_update")

        assert "fill Decimal('50000.5') Decimal('0.1') BTC" in server.logs()
        assert "update filled Decimal('0.1')" in server.logs()


def test_stop_calls_on_stop_and_the_process_exits_cleanly(kind: SandboxKind) -> None:
    with launch(CONTRACT_BOT, kind) as bot:
        server = FakeServer(bot, answer)
        server.start()
        server.until(lambda m: m["type"] == "ready")
        server.send({"type": "ping", "nonce": 99})
        assert server.until(lambda m: m["type"] == "pong") == {"type": "pong", "nonce": 99}

        server.send({"type": "stop", "reason": "owner stopped it"})
        server.until(lambda m: m["type"] == "log" and m["message"].startswith("stopping"))

        assert bot.wait(timeout=10) == 0
        assert bot.exit_reason == "exited"
        assert "stopping after 0 ticks" in server.logs()


def test_print_lines_become_log_messages_cut_at_four_kilobytes(kind: SandboxKind) -> None:
    code = textwrap.dedent(
        """
        import sys

        class Bot:
            def __init__(self, api, config):
                print("hello", "world")
                print("x" * 100_000)
                sys.stderr.write("partial ")
                sys.stderr.write("line\\n")
                print("after")
        """
    )
    with launch(code, kind) as bot:
        server = FakeServer(bot)
        server.start()
        server.until(lambda m: m["type"] == "ready")

        logs = [m for m in server.received if m["type"] == "log"]
        assert [(m["level"], m["message"][:12]) for m in logs] == [
            ("info", "hello world"),
            ("info", "x" * 12),
            ("error", "partial line"),
            ("info", "after"),
        ]
        assert len(logs[1]["message"]) <= 4096 + len(" …[cut]")


def test_the_runtime_ticks_on_its_own_clock(kind: SandboxKind) -> None:
    code = textwrap.dedent(
        """
        class Bot:
            def __init__(self, api, config):
                self.ticks = 0

            def on_tick(self):
                self.ticks += 1
                print("tick", self.ticks)
        """
    )
    with launch(code, kind) as bot:
        server = FakeServer(bot)
        server.start(tick_seconds=0.05)
        server.until(lambda m: m["type"] == "log" and m["message"] == "tick 3")


def test_a_module_that_fails_to_load_is_reported_and_the_process_ends(kind: SandboxKind) -> None:
    with launch("class Bot(:\n", kind) as bot:
        server = FakeServer(bot)
        server.start()
        error = server.until(lambda m: m["type"] == "error")

        assert error["code"] == "LOAD_FAILED"
        assert "SyntaxError" in error["message"]
        assert bot.wait(timeout=10) is not None
        assert bot.exit_reason == "exited with code 2"


def test_a_failing_constructor_is_reported(kind: SandboxKind) -> None:
    code = "class Bot:\n    def __init__(self, api, config):\n        raise ValueError(config)\n"
    with launch(code, kind) as bot:
        server = FakeServer(bot)
        server.start({"bad": True})
        error = server.until(lambda m: m["type"] == "error")

        assert error["code"] == "INIT_FAILED"
        assert "ValueError: {'bad': True}" in error["message"]


def test_decimal_text_accepts_the_documented_number_types() -> None:
    from hyperdesk.bots.api import BotAPIError, decimal_text

    assert decimal_text(0.1, "size") == "0.1"
    assert decimal_text(3, "size") == "3"
    assert decimal_text(Decimal("1E-7"), "size") == "0.0000001"
    assert decimal_text(" 2.50 ", "size") == "2.50"
    for bad in (float("nan"), float("inf"), "NaN", "abc", True, None):
        with pytest.raises(BotAPIError):
            decimal_text(bad, "size")


def test_extra_paths_make_operator_packages_importable(kind: SandboxKind) -> None:
    packages = Path(tempfile.mkdtemp(prefix="hyperdesk-extra-"))  # readable by the sandbox uid
    try:
        packages.chmod(0o755)
        (packages / "operator_pkg.py").write_text("VALUE = 42\n")
        (packages / "operator_pkg.py").chmod(0o644)
        code = "import operator_pkg\nclass Bot:\n    def __init__(self, api, config):\n        print(operator_pkg.VALUE)\n"
        with launch(code, kind, extra_paths=(packages,)) as bot:
            server = FakeServer(bot)
            server.start()
            server.until(lambda m: m["type"] == "ready")
            assert server.logs() == ["42"]
    finally:
        shutil.rmtree(packages)
