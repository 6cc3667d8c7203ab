"""Where an order's CPU goes inside the app: per thread and per stage, in one process.

The paper exchange runs as a subprocess (as the README's `python main.py` runs it); the app runs
in this process, started like `main.py` starts it (`Runtime` + `create_app`), and the requests are
handed to its ASGI callable directly, so no HTTP client shares the figures and uvicorn's own parsing
is left out. Each request is awaited before the next: a single user placing resting orders.

Printed per order: CPU time of each of the app's threads (from /proc, grouped by thread name), the
CPU and wall time of the stages on the signer's thread (timers wrapped around them for the run),
and the request's latency as the ASGI caller sees it. Not a test: it prints figures.

    .venv/bin/python bench/order_path_cpu.py --orders 1000
    .venv/bin/python bench/order_path_cpu.py --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script: this directory is on the path, and the paper exchange is started (and the
# throwaway database made) exactly as the HTTP bench does it.
from api_orders import _database, _start_paper, _stop

STAGES: collections.Counter[str] = collections.Counter()
STAGE_WALL: collections.Counter[str] = collections.Counter()


def _timed(owner: Any, name: str, label: str) -> None:
    """Wrap ``owner.name`` so its thread CPU and wall time add up under ``label``."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            STAGES[label] += time.thread_time() - cpu
            STAGE_WALL[label] += time.perf_counter() - wall

    setattr(owner, name, wrapper)


def _instrument() -> None:
    from hyperdesk.actors.exchange import SignerActor
    from hyperdesk.exchange.hyperliquid import HyperliquidAPI
    from hyperdesk.exchange.l1_signing import L1Signer
    from hyperdesk.exchange.transport import ActionTransport
    from hyperdesk.trading.orders import OrderService
    from hyperdesk.trading.outbox import Outbox, _Statement

    _timed(SignerActor, "submit", "signer: the whole message")
    _timed(OrderService, "_record", "signer: order row insert + commit")
    _timed(L1Signer, "sign", "signer: L1 signature")
    _timed(ActionTransport, "post", "signer: POST /exchange (wall: the exchange's time)")
    _timed(HyperliquidAPI, "place_order", "signer: place_order (wire, sign, POST, parse)")
    _timed(OrderService, "_answered", "signer: bookkeeping queued (on_answer)")
    _timed(Outbox, "_store_together", "outbox: bookkeeping stored in batches")
    _timed(_Statement, "run", "outbox: bookkeeping stored one by one")


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads, grouped by name without the trailing number."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = collections.defaultdict(float)
    ticks = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir("/proc/self/task"):
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = re.sub(r"[-_]?(\d+|0x[0-9a-f]+)$", "", names.get(int(tid), "other"))
        out[name] += (int(fields[11]) + int(fields[12])) / ticks
    return out


class AsgiCaller:
    """Calls the app's ASGI callable the way uvicorn does, for one request at a time."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.headers: list[tuple[bytes, bytes]] = []

    async def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else b""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"bench"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *self.headers,
            ],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        delivered = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": data, "more_body": False}
            await asyncio.Event().wait()  # the client never disconnects
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        payload = b"".join(chunks)
        return status, json.loads(payload) if payload else None


async def _run(app: Any, orders: int, warmup: int) -> None:
    call = AsgiCaller(app)
    credentials = {"username": f"cpu_{uuid.uuid4().hex[:8]}", "password": uuid.uuid4().hex}
    await call("POST", "/api/auth/register", credentials)
    _, login = await call("POST", "/api/auth/login", credentials)
    call.headers = [(b"authorization", f"Bearer {login['access_token']}".encode())]
    _, wallet = await call("POST", "/api/wallets", {"label": "bench"})
    await call("POST", f"/api/wallets/{wallet['id']}/faucet", {"amount": "1000000"})
    body = {
        "wallet_id": wallet["id"],
        "coin": "ETH",
        "side": "buy",
        "size": "0.01",
        "type": "limit",
        "price": "1500",
    }
    for _ in range(warmup):
        status, answer = await call("POST", "/api/orders", body)
        if status != 200:
            raise RuntimeError(f"warm-up order refused: {status} {answer}")
    STAGES.clear()
    STAGE_WALL.clear()
    latencies: list[float] = []
    before, cpu_before = _thread_cpu(), time.process_time()
    for _ in range(orders):
        started = time.perf_counter()
        status, answer = await call("POST", "/api/orders", body)
        latencies.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"order refused: {status} {answer}")
    cpu = time.process_time() - cpu_before
    after = _thread_cpu()
    per_order = 1e3 / orders
    print(f"\n-- {orders} resting orders, one at a time (ms per order) --")
    print(f"latency as the ASGI caller sees it: p50 {statistics.median(latencies) * 1e3:.2f}")
    print(f"process CPU: {cpu * per_order:.3f}   by thread:")
    for name, seconds in sorted(after.items(), key=lambda kv: before.get(kv[0], 0) - kv[1]):
        spent = seconds - before.get(name, 0.0)
        if spent > 0:
            print(f"  {spent * per_order:7.3f}  {name}")
    print("stages (thread CPU / wall):")
    for label in STAGES:
        print(f"  {STAGES[label] * per_order:7.3f} / {STAGE_WALL[label] * per_order:7.3f}  {label}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000, help="measured orders (<= 900 rest)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--database-url", help="PostgreSQL server URL; default SQLite in a temp dir"
    )
    args = parser.parse_args()
    orders = min(args.orders, 900 - args.warmup)
    with tempfile.TemporaryDirectory(prefix="hyperdesk-cpu-") as tmp_name:
        tmp = Path(tmp_name)
        paper, paper_url = _start_paper(1, tmp / "paper.log")
        try:
            with _database(args.database_url, tmp) as (database_url, _description):
                os.environ.update(
                    HYPERDESK_EXCHANGE_URL=paper_url,
                    HYPERDESK_DATABASE_URL=database_url,
                    HYPERDESK_DATA_DIR=str(tmp / "data"),
                    HYPERDESK_REQUESTS_PER_USER_PER_SECOND="1000000",
                    HYPERDESK_REQUESTS_PER_USER_BURST="1000000",
                )
                from hyperdesk.http.app import create_app
                from hyperdesk.runtime import Runtime
                from hyperdesk.settings import Settings

                _instrument()
                runtime = Runtime(Settings())
                try:
                    app = create_app(runtime.start())
                    asyncio.run(_run(app, orders, args.warmup))
                finally:
                    runtime.stop()
        finally:
            _stop(paper, "paper exchange")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
