"""The floor under `POST /api/orders`: what any HTTP hop in front of the exchange costs here.

Issue 13 asks for the platform's p50 within ×1.3 of the raw SDK's. This measures what that asks
of a server written in Python on this machine, by putting the thinnest possible forwarder in the
platform's place and timing it side by side with the SDK and with the platform, on one paper
exchange, the paths taking turns in rounds (as `api_orders.py` does):

- ``sdk``: the official SDK's `Exchange.order` (the bench client's own process signs and posts);
- ``hop``: a bare forwarder, served by uvicorn like the app (httptools, uvloop): one ASGI
  callable reads the body, builds the order's wire, signs it with the platform's own signer and
  posts it with the platform's transport, on the event loop, and answers the exchange's bytes.
  No users, no checks, no database: nothing a desk could do without;
- ``hop+row``: the same, plus what the issue keeps as the one write that must precede the send:
  a row (cloid, wallet, coin, side, price, size, status) inserted and committed in SQLite (WAL,
  synchronous NORMAL, as the app's) before signing, on one worker thread like the signer actor,
  the answer handed back to the loop;
- ``platform``: the app started as `main.py` starts it, `POST /api/orders`.

Every order is a resting Gtc buy, cancelled right after (untimed) by its own path. Not a test: it
prints figures.

    .venv/bin/python bench/order_hop_floor.py --orders 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script: this directory is on the path; processes start as the HTTP bench starts them.
from api_orders import (
    COIN,
    SIZE,
    Clock,
    PlatformUser,
    _free_port,
    _machine,
    _resting_price,
    _start_app,
    _start_paper,
    _stop,
    sdk_exchange,
    sdk_resting_price,
)

PATHS = ("sdk", "hop", "hop+row", "platform")


# -- the forwarder (runs in its own process: `--serve`) -------------------------------------------


def forwarder(paper_url: str, key: str, asset: int, row_file: str | None) -> Any:
    """The ASGI callable of the bare hop; with ``row_file``, the row and the send run on a worker
    thread and the loop awaits the answer."""
    from hyperliquid.utils.signing import order_request_to_order_wire, order_wires_to_order_action

    from hyperdesk.exchange.l1_signing import L1Signer
    from hyperdesk.exchange.transport import ActionTransport

    signer = L1Signer(bytes.fromhex(key.removeprefix("0x")))
    transport = ActionTransport(paper_url, timeout=15.0)
    database = None
    if row_file is not None:
        database = sqlite3.connect(row_file, check_same_thread=False)
        database.execute("PRAGMA journal_mode=WAL")
        database.execute("PRAGMA synchronous=NORMAL")
        database.execute(
            "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, cloid TEXT UNIQUE, "
            "wallet TEXT, coin TEXT, side TEXT, price TEXT, size TEXT, status TEXT)"
        )
    last_nonce = 0

    def signed(action: dict[str, Any]) -> bytes:
        nonlocal last_nonce
        last_nonce = max(last_nonce + 1, time.time_ns() // 1_000_000)
        signature = signer.sign(action, last_nonce, is_mainnet=False)
        return transport.post(
            {"action": action, "nonce": last_nonce, "signature": signature, "vaultAddress": None}
        ).body

    def order(body: bytes) -> bytes:
        request = json.loads(body)
        if "cancel" in request:  # untimed clean-up, signed here so the wallet has one nonce source
            return signed({"type": "cancel", "cancels": [{"a": asset, "o": request["cancel"]}]})
        price = request["price"]
        cloid = "0x" + uuid.uuid4().hex
        if database is not None:
            with database:  # one transaction, committed
                database.execute(
                    "INSERT INTO orders (cloid, wallet, coin, side, price, size, status) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (cloid, "0x", COIN, "buy", price, SIZE, "pending"),
                )
        wire = order_request_to_order_wire(
            {
                "coin": COIN,
                "is_buy": True,
                "sz": float(SIZE),
                "limit_px": float(price),
                "order_type": {"limit": {"tif": "Gtc"}},
                "reduce_only": False,
            },
            asset,
        )
        return signed(order_wires_to_order_action([wire]))

    jobs: list[tuple[bytes, asyncio.AbstractEventLoop, asyncio.Future[bytes]]] = []
    ready = threading.Condition()

    def worker() -> None:
        while True:
            with ready:
                while not jobs:
                    ready.wait()
                body, loop, answer = jobs.pop(0)
            loop.call_soon_threadsafe(answer.set_result, order(body))

    if database is not None:
        threading.Thread(target=worker, daemon=True).start()

    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if database is None:
            answer = order(body)
        else:
            loop = asyncio.get_running_loop()
            future: asyncio.Future[bytes] = loop.create_future()
            with ready:
                jobs.append((body, loop, future))
                ready.notify()
            answer = await future
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": answer})

    return app


def serve(argv: list[str]) -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--paper", required=True)
    parser.add_argument("--asset", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--row-file", default=None)
    args = parser.parse_args(argv)
    key = os.environ["HOP_FLOOR_KEY"]  # a throwaway paper wallet, never a real one
    app = forwarder(args.paper, key, args.asset, args.row_file)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


def _start_hop(paper_url: str, key: str, asset: int, row_file: Path | None) -> tuple[Any, str]:
    port = _free_port()
    command = [
        sys.executable,
        __file__,
        "--serve",
        "--paper",
        paper_url,
        "--asset",
        str(asset),
        "--port",
        str(port),
    ]
    if row_file is not None:
        command += ["--row-file", str(row_file)]
    process = subprocess.Popen(command, env={**os.environ, "HOP_FLOOR_KEY": key})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.05)
    _stop(process, "hop")
    raise RuntimeError("the forwarder did not start")


# -- the run ------------------------------------------------------------------------------------


def main() -> int:
    if sys.argv[1:2] == ["--serve"]:
        serve(sys.argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="timed orders per path")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    _machine()
    tmp = Path(tempfile.mkdtemp(prefix="hyperdesk-floor-"))
    processes: list[tuple[Any, str]] = []
    try:
        paper, paper_url = _start_paper(args.seed, tmp / "paper.log")
        processes.append((paper, "paper exchange"))
        sdk = sdk_exchange(paper_url)
        sdk_price = sdk_resting_price(paper_url)
        asset = sdk.info.name_to_asset(COIN)
        # Each forwarder signs for a wallet of its own (one nonce source per wallet).
        hop, hop_url = _start_hop(paper_url, _funded_key(paper_url), asset, None)
        processes.append((hop, "hop"))
        hop_row, hop_row_url = _start_hop(paper_url, _funded_key(paper_url), asset, tmp / "rows.db")
        processes.append((hop_row, "hop+row"))
        app, app_url = _start_app(
            paper_url, f"sqlite:///{tmp / 'app.db'}", tmp / "data", tmp / "app.log", None
        )
        processes.append((app, "app"))
        user = PlatformUser(app_url, f"floor_{uuid.uuid4().hex[:6]}")
        price = _resting_price(user.mid())
        import requests

        http = requests.Session()  # the same client for both forwarders as for the platform

        def via_sdk() -> float:
            t0 = time.perf_counter()
            result = sdk.order(COIN, True, float(SIZE), float(sdk_price), {"limit": {"tif": "Gtc"}})
            latency = time.perf_counter() - t0
            sdk.cancel(COIN, _resting_oid(result))
            return latency

        def via_hop(url: str) -> Callable[[], float]:
            def call() -> float:
                t0 = time.perf_counter()
                answer = http.post(url, json={"price": str(sdk_price)}, timeout=15).json()
                latency = time.perf_counter() - t0
                http.post(url, json={"cancel": _resting_oid(answer)}, timeout=15)
                return latency

            return call

        def via_platform() -> float:
            latency, response = user.order(side="buy", type="limit", price=price)
            if response.status_code != 200 or response.json()["status"] != "resting":
                raise RuntimeError(f"platform: {response.status_code} {response.text}")
            user.cancel(response.json()["oid"])
            return latency

        calls = {
            "sdk": via_sdk,
            "hop": via_hop(hop_url),
            "hop+row": via_hop(hop_row_url),
            "platform": via_platform,
        }
        for call in calls.values():  # warm every path: connections, imports, signer actors
            for _ in range(10):
                call()
        samples: dict[str, list[float]] = {path: [] for path in PATHS}
        per_round = max(1, args.orders // args.rounds)
        clock = Clock(600)
        for round_no in range(args.rounds):
            order = PATHS if round_no % 2 == 0 else tuple(reversed(PATHS))
            for path in order:
                clock.check()
                samples[path].extend(calls[path]() for _ in range(per_round))
        print(
            f"-- resting Gtc buys of {SIZE} {COIN}, 1 client, {per_round * args.rounds} per path "
            f"in {args.rounds} alternating rounds, each cancelled untimed --"
        )
        sdk_p50 = statistics.median(samples["sdk"])
        for path in PATHS:
            ms = sorted(x * 1000 for x in samples[path])
            p50 = statistics.median(ms)
            p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
            print(
                f"{path:<10} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
                f"p50 x{p50 / (sdk_p50 * 1000):.2f} of the SDK's ({p50 - sdk_p50 * 1000:+.2f} ms)"
            )
    finally:
        for process, name in reversed(processes):
            _stop(process, name)
    return 0


def _funded_key(paper_url: str) -> str:
    return str(sdk_exchange(paper_url).wallet.key.hex())


def _resting_oid(answer: dict) -> int:
    status = answer["response"]["data"]["statuses"][0] if answer.get("status") == "ok" else {}
    if "resting" not in status:
        raise RuntimeError(f"not resting: {answer}")
    return int(status["resting"]["oid"])


if __name__ == "__main__":
    raise SystemExit(main())
