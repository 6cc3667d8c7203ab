"""Order latency and throughput through the platform's REST API, next to the raw SDK.

One run, one paper exchange on loopback (``python -m hyperdesk.paper`` as a subprocess, real
clock, ticker running), and the real app (``python main.py`` as a subprocess, its own SQLite file
in a temporary directory, or a throwaway PostgreSQL database) pointed at it. The bench process is
only the client, so neither server shares an interpreter (or a GIL) with the load generator.

Phases (``--phases``, a comma list, default all three in this order):

* single: one client, N orders (``--orders``) per path, in ``--rounds`` rounds in which the two
  paths take turns (ABBA order), so that the machine's load drifting during the run falls on both:

  * sdk: ``hyperliquid.exchange.Exchange`` places N resting Gtc limit orders 20% under the mid,
    modifies each once (``modify_order``, one dollar lower), then cancels them (latency of each
    call);
  * platform: a user registers, logs in, creates a wallet, faucets, then places the same N orders
    with ``POST /api/orders`` over keep-alive HTTP, modifies each with ``PATCH /api/orders/{oid}``
    and cancels them with ``DELETE /api/orders/{oid}``;
  * ratio lines platform/sdk for placement, modify and cancel;

* concurrency: for each K in ``--clients``, K users (threads of this process, one wallet each)
  place orders through ``POST /api/orders`` at once, then cancel them; then K SDK ``Exchange``
  objects (one fresh faucet-funded wallet each) do the same straight on the paper exchange;
  aggregate orders/s and latency per K, and each path's rate against its K=1 rate. The SDK figure
  is what the paper exchange serves K clients of this process on this machine: the ceiling for
  the platform's;
* market (``--market M``, last because each one also reads fills): M market orders alternating
  buy/sell, SDK ``market_open`` against ``POST /api/orders`` with ``type=market``.

With ``--embedded`` the app is started the README way instead: no ``HYPERDESK_EXCHANGE_URL``, so
it starts its own paper exchange (a child process of the app, on ``HYPERDESK_PAPER_PORT``), and
the SDK phases trade on that one.

Placement figures exclude the modifies and cancels (all N placed first, then modified, then
cancelled). Every phase stops early if
``--time-limit`` runs out; servers are stopped and temporary files and databases removed at the
end. Not a test: it prints figures.

    .venv/bin/python bench/api_orders.py --orders 200 --clients 1,4,16
    .venv/bin/python bench/api_orders.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/api_orders.py --embedded
    .venv/bin/python bench/api_orders.py --phases single --orders 50
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import math
import os
import platform
import select
import shutil
import signal
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
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import eth_account
import requests
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

REPO = Path(__file__).resolve().parent.parent
PASSWORD = uuid.uuid4().hex  # throwaway users in a throwaway database
COIN = "ETH"
SIZE = "0.01"
HTTP_TIMEOUT = 15.0


# The app charges every exchange call to one shared token bucket (hyperdesk/exchange/ratelimit.py).
# On real networks it is Hyperliquid's per-IP budget, 1200 weight a minute; against the paper
# exchange it is practically unlimited unless --weight-per-minute says otherwise. A resting order,
# a market order (priced off the streamed mid, its fills streamed back) and a cancel weigh 1 each.
# Counted here to tell throttling from slowness.
WEIGHT = {"limit": 1, "modify": 1, "cancel": 1, "market": 1}
PHASES = ("single", "concurrency", "market")
BUDGET = {"per_minute": "the paper default (1,000,000)"}


class WeightMeter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.weight = 0
        self.since = time.monotonic()

    def add(self, kind: str) -> None:
        with self.lock:
            self.weight += WEIGHT[kind]

    def note(self) -> str:
        """A lower bound: wallet set-up, account reads and stream polling also spend the bucket."""
        elapsed = time.monotonic() - self.since
        return (
            f"      (order routes alone: >= {self.weight} exchange weight in {elapsed:.0f} s since "
            f"start; the app's budget per minute: {BUDGET['per_minute']})"
        )


METER = WeightMeter()


class AppCpu:
    """CPU seconds the app process (all its threads) spent, from /proc: a figure that, unlike
    latency, does not move much when other work shares the machine's cores."""

    pid: int | None = None

    @classmethod
    def seconds(cls) -> float | None:
        try:
            fields = Path(f"/proc/{cls.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @classmethod
    def idle_rate(cls, seconds: float = 2.0) -> float | None:
        """CPU seconds per second with no requests (stream, ticker, timers)."""
        before = cls.seconds()
        time.sleep(seconds)
        after = cls.seconds()
        return None if before is None or after is None else (after - before) / seconds


class OutOfTime(Exception):
    """The run's time budget is spent; phases report what they measured so far."""


@dataclass
class Samples:
    """Latencies (seconds) of one kind of call, with the wall time they took together."""

    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: int = 0
    started: float = 0.0  # perf_counter at the first call and after the last one
    ended: float = 0.0

    def merge(self, other: Samples) -> None:
        self.latencies.extend(other.latencies)
        self.errors += other.errors

    def start(self) -> None:
        self.started = time.perf_counter()

    def stop(self) -> None:
        self.ended = time.perf_counter()
        self.wall = self.ended - self.started


@dataclass
class LimitRun:
    """One client's resting orders: placed, then (optionally) modified, then cancelled. Kept as
    three sample sets so that each kind of call is timed without the others."""

    place: Samples = field(default_factory=Samples)
    modify: Samples = field(default_factory=Samples)
    cancel: Samples = field(default_factory=Samples)
    oids: list[int] = field(default_factory=list)  # the live oid of each resting order

    KINDS = ("place", "modify", "cancel")

    @classmethod
    def in_turn(cls, runs: list[LimitRun]) -> LimitRun:
        """Runs of one client one after another, merged; each kind's rate is over the time its
        calls took, summed."""
        merged = cls()
        for kind in cls.KINDS:
            total: Samples = getattr(merged, kind)
            for run in runs:
                total.merge(getattr(run, kind))
                total.wall += getattr(run, kind).wall
        return merged

    @classmethod
    def together(cls, runs: list[LimitRun]) -> LimitRun:
        """Runs of clients working at once, merged; each kind's rate is over the span from the
        first client's start to the last one's end."""
        merged = cls()
        for kind in cls.KINDS:
            total: Samples = getattr(merged, kind)
            spans = [getattr(run, kind) for run in runs if getattr(run, kind).latencies]
            for samples in spans:
                total.merge(samples)
            if spans:
                total.wall = max(s.ended for s in spans) - min(s.started for s in spans)
        return merged


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(samples: Samples) -> dict[str, float]:
    ms = [x * 1000 for x in samples.latencies] or [math.nan]
    return {
        "n": len(samples.latencies),
        "p50": statistics.median(ms),
        "p90": _percentile(ms, 0.90),
        "p99": _percentile(ms, 0.99),
        "mean": statistics.fmean(ms),
        "rate": len(samples.latencies) / samples.wall if samples.wall else math.nan,
    }


NAME = 38  # width of the first column

HEADER = (
    f"{'':<{NAME}} {'n':>5} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'mean ms':>8} "
    f"{'orders/s':>9} {'errors':>6}"
)


def _line(name: str, samples: Samples) -> None:
    s = _summary(samples)
    print(
        f"{name:<{NAME}} {s['n']:>5} {s['p50']:>8.2f} {s['p90']:>8.2f} {s['p99']:>8.2f} "
        f"{s['mean']:>8.2f} {s['rate']:>9.1f} {samples.errors:>6}",
        flush=True,
    )


# -- processes ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen, name: str) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            print(f"[{name} did not stop on SIGTERM; killing it]", file=sys.stderr)
            process.kill()
            process.wait(timeout=5)


def _start_paper(seed: int, log: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hyperdesk.paper",
            "--port",
            "0",
            "--seed",
            str(seed),
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=log.open("wb"),
        text=True,
    )
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
            if line.startswith("paper exchange on "):
                base_url = line.split()[3]
                # Keep draining stdout so the child never blocks on a full pipe.
                threading.Thread(target=process.stdout.read, daemon=True).start()
                return process, base_url
    _stop(process, "paper exchange")
    raise RuntimeError(f"paper exchange did not start; see {log}")


def _start_app(
    exchange_url: str | None,
    database_url: str,
    data_dir: Path,
    log: Path,
    weight_per_minute: int | None,
    paper_port: int | None = None,
):
    port = _free_port()
    env = dict(os.environ)
    if exchange_url is not None:
        env["HYPERDESK_EXCHANGE_URL"] = exchange_url
    if paper_port is not None:
        env["HYPERDESK_PAPER_PORT"] = str(paper_port)
    if weight_per_minute is not None:
        env["HYPERDESK_EXCHANGE_WEIGHT_PER_MINUTE"] = str(weight_per_minute)
        BUDGET["per_minute"] = f"{weight_per_minute:,}"
    env.update(
        HYPERDESK_DATABASE_URL=database_url,
        HYPERDESK_DATA_DIR=str(data_dir),
        HYPERDESK_HOST="127.0.0.1",
        HYPERDESK_PORT=str(port),
        HYPERDESK_REGISTRATIONS_PER_HOUR="100000",  # every bench client registers from loopback
        # Each user's request budget (20/s, burst 120) is a fairness limit, not a speed: left on,
        # a client placing faster than 20 orders a second gets 429s that are counted as errors.
        HYPERDESK_REQUESTS_PER_USER_PER_SECOND="100000",
        HYPERDESK_REQUESTS_PER_USER_BURST="100000",
    )
    process = subprocess.Popen(
        [sys.executable, "main.py"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(requests.RequestException):
            if requests.get(base_url + "/api/health", timeout=2).status_code == 200:
                return process, base_url
        time.sleep(0.2)
    _stop(process, "app")
    raise RuntimeError(f"the app did not start; see {log}")


@contextlib.contextmanager
def _database(url: str | None, tmp: Path):
    """The app's database URL: a SQLite file in ``tmp``, or a fresh PostgreSQL database created
    next to ``url``'s and dropped afterwards (existing databases and tables are never touched)."""
    if url is None:
        yield f"sqlite:///{tmp / 'hyperdesk.db'}", "SQLite (file in a temp dir, WAL)"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    name = f"hyperdesk_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        version = connection.execute(text("SHOW server_version")).scalar()
    try:
        yield (
            base.set(database=name).render_as_string(hide_password=False),
            f"PostgreSQL {version} (throwaway database {name})",
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# -- clients ------------------------------------------------------------------------------------


class Clock:
    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise OutOfTime


def _resting_price(mid: Decimal) -> str:
    return str(int(mid * Decimal("0.8")))


def _sdk_status(result: dict) -> dict:
    """The first order status of an SDK answer, ``{}`` when the whole action failed."""
    return result["response"]["data"]["statuses"][0] if result["status"] == "ok" else {}


def sdk_exchange(paper_url: str) -> Exchange:
    """An SDK client on a fresh wallet, funded by the paper exchange's faucet."""
    wallet = eth_account.Account.create()
    requests.post(
        paper_url + "/faucet", json={"user": wallet.address, "usd": "10000000"}, timeout=10
    ).raise_for_status()
    return Exchange(wallet, paper_url, timeout=HTTP_TIMEOUT)


def sdk_resting_price(paper_url: str) -> Decimal:
    return Decimal(_resting_price(Decimal(Info(paper_url, skip_ws=True).all_mids()[COIN])))


def _modified_price(price: Decimal) -> Decimal:
    """One whole dollar lower: a valid ETH price that still rests far under the mid."""
    return price - 1


@dataclass(frozen=True)
class OrderCalls:
    """One path's three calls, each timed: what `_limit_run` loops over, whichever the path."""

    place: Callable[[], tuple[float, int | None]]  # latency, the resting order's oid
    modify: Callable[[int], tuple[float, int | None]]  # latency, its oid afterwards
    cancel: Callable[[int], tuple[float, bool]]  # latency, cancelled


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = call()
    return time.perf_counter() - t0, result


def _sdk_calls(exchange: Exchange, price: Decimal) -> OrderCalls:
    px, new_px, size = float(price), float(_modified_price(price)), float(SIZE)
    gtc = {"limit": {"tif": "Gtc"}}

    def resting_oid(result: dict) -> int | None:
        status = _sdk_status(result)
        return status["resting"]["oid"] if "resting" in status else None

    def place() -> tuple[float, int | None]:
        latency, result = _timed(lambda: exchange.order(COIN, True, size, px, gtc))
        return latency, resting_oid(result)

    def modify(oid: int) -> tuple[float, int | None]:
        # A modify replaces the order: the oid it answers is the one to cancel later.
        latency, result = _timed(lambda: exchange.modify_order(oid, COIN, True, size, new_px, gtc))
        return latency, resting_oid(result)

    def cancel(oid: int) -> tuple[float, bool]:
        latency, result = _timed(lambda: exchange.cancel(COIN, oid))
        return latency, result["status"] == "ok" and "error" not in _sdk_status(result)

    return OrderCalls(place, modify, cancel)


def sdk_limit_orders(
    exchange: Exchange,
    price: Decimal,
    n: int,
    clock: Clock,
    start: threading.Barrier | None = None,
    modify: bool = False,
) -> LimitRun:
    """Place n resting buys at ``price``, modify each once if asked, then cancel them all."""
    return _limit_run(_sdk_calls(exchange, price), n, clock, start, modify)


def _limit_run(
    calls: OrderCalls, n: int, clock: Clock, start: threading.Barrier | None, modify: bool
) -> LimitRun:
    """One client's place → (modify) → cancel sequence, after the barrier if there is one;
    everything placed is cancelled, even when out of time."""
    run = LimitRun()
    if start is not None:
        start.wait()
    run.place.start()
    with contextlib.suppress(OutOfTime):
        for _ in range(n):
            clock.check()
            latency, oid = calls.place()
            run.place.latencies.append(latency)
            if oid is None:
                run.place.errors += 1
            else:
                run.oids.append(oid)
    run.place.stop()
    if modify:
        run.modify.start()
        with contextlib.suppress(OutOfTime):
            for i, oid in enumerate(run.oids):
                clock.check()
                latency, new_oid = calls.modify(oid)
                run.modify.latencies.append(latency)
                if new_oid is None:
                    run.modify.errors += 1
                else:
                    run.oids[i] = new_oid
        run.modify.stop()
    run.cancel.start()
    for oid in run.oids:
        latency, ok = calls.cancel(oid)
        run.cancel.latencies.append(latency)
        run.cancel.errors += not ok
    run.cancel.stop()
    return run


def sdk_market_orders(exchange: Exchange, n: int, clock: Clock) -> Samples:
    """n market orders, alternating buy and sell (n even leaves no position behind)."""
    out = Samples()
    start = time.perf_counter()
    with contextlib.suppress(OutOfTime):
        for i in range(n):
            clock.check()
            t0 = time.perf_counter()
            result = exchange.market_open(COIN, i % 2 == 0, float(SIZE))
            out.latencies.append(time.perf_counter() - t0)
            status = _sdk_status(result)
            out.errors += "filled" not in status
    out.wall = time.perf_counter() - start
    return out


class PlatformUser:
    """One registered, logged-in user with one funded wallet, on its own keep-alive session."""

    def __init__(self, base_url: str, username: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        credentials = {"username": username, "password": PASSWORD}
        self._post("/api/auth/register", credentials, 201)
        token = self._post("/api/auth/login", credentials, 200)["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.wallet_id = self._post("/api/wallets", {"label": "bench"}, 201)["id"]
        self._post(f"/api/wallets/{self.wallet_id}/faucet", {"amount": "1000000"}, 200)

    def _post(self, path: str, body: dict, expected: int) -> dict:
        response = self.http.post(self.base_url + path, json=body, timeout=HTTP_TIMEOUT)
        if response.status_code != expected:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
        return response.json()

    def mid(self) -> Decimal:
        markets = self.http.get(self.base_url + "/api/markets", timeout=HTTP_TIMEOUT).json()
        return Decimal(next(m["mid"] for m in markets if m["coin"] == COIN))

    def order(self, **fields: str) -> tuple[float, requests.Response]:
        body = {"wallet_id": self.wallet_id, "coin": COIN, "size": SIZE, **fields}
        METER.add(fields["type"])
        t0 = time.perf_counter()
        response = self.http.post(self.base_url + "/api/orders", json=body, timeout=HTTP_TIMEOUT)
        return time.perf_counter() - t0, response

    def modify(self, oid: int, price: str) -> tuple[float, int | None]:
        """Reprice a resting order; returns the latency and the order's oid afterwards (a modify
        may give the order a new one), None when the modify failed. Like the SDK's
        `modify_order`, the call states the order's new price and size."""
        METER.add("modify")
        t0 = time.perf_counter()
        response = self.http.patch(
            f"{self.base_url}/api/orders/{oid}",
            json={"wallet_id": self.wallet_id, "price": price, "size": SIZE},
            timeout=HTTP_TIMEOUT,
        )
        latency = time.perf_counter() - t0
        if response.status_code != 200 or "status" not in response.json():
            return latency, None
        return latency, response.json().get("oid") or oid

    def cancel(self, oid: int) -> tuple[float, bool]:
        METER.add("cancel")
        t0 = time.perf_counter()
        response = self.http.delete(
            f"{self.base_url}/api/orders/{oid}",
            params={"wallet_id": self.wallet_id},
            timeout=HTTP_TIMEOUT,
        )
        return time.perf_counter() - t0, response.status_code == 204


def _platform_calls(user: PlatformUser, price: str) -> OrderCalls:
    new_price = str(_modified_price(Decimal(price)))

    def place() -> tuple[float, int | None]:
        latency, response = user.order(side="buy", type="limit", price=price)
        resting = response.status_code == 200 and response.json()["status"] == "resting"
        return latency, response.json()["oid"] if resting else None

    return OrderCalls(place, lambda oid: user.modify(oid, new_price), user.cancel)


def platform_limit_orders(
    user: PlatformUser,
    price: str,
    n: int,
    clock: Clock,
    start: threading.Barrier | None = None,
    modify: bool = False,
) -> LimitRun:
    """Place n resting buys at ``price``, modify each once if asked, then cancel them all."""
    return _limit_run(_platform_calls(user, price), n, clock, start, modify)


def platform_market_orders(user: PlatformUser, n: int, clock: Clock) -> Samples:
    """n market orders, alternating buy and sell (n even leaves no position behind)."""
    out = Samples()
    start = time.perf_counter()
    with contextlib.suppress(OutOfTime):
        for i in range(n):
            clock.check()
            latency, response = user.order(side="buy" if i % 2 == 0 else "sell", type="market")
            out.latencies.append(latency)
            out.errors += response.status_code != 200 or response.json()["status"] != "filled"
    out.wall = time.perf_counter() - start
    return out


def _at_once(k: int, work: Callable[[int, threading.Barrier], LimitRun]) -> LimitRun:
    """Run ``work(i, barrier)`` for i in 0..k-1 on k threads released together; merged runs."""
    barrier = threading.Barrier(k + 1)
    results: list[LimitRun | BaseException] = [LimitRun()] * k

    def run(i: int) -> None:
        try:
            results[i] = work(i, barrier)
        except BaseException as exc:  # reported below
            results[i] = exc
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(k)]
    for t in threads:
        t.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()
    for t in threads:
        t.join()
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:  # the cause, not the other threads' broken barrier
        raise next(
            (e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0]
        )
    return LimitRun.together(results)  # type: ignore[arg-type]


def concurrent_limit_orders(
    base_url: str, k: int, per_client: int, clock: Clock
) -> tuple[LimitRun, float]:
    """K platform users at once; returns their merged run and the setup seconds."""
    t0 = time.perf_counter()
    tag = uuid.uuid4().hex[:6]
    users = [PlatformUser(base_url, f"c{k}_{i}_{tag}") for i in range(k)]
    price = _resting_price(users[0].mid())
    setup = time.perf_counter() - t0
    for user in users:  # the first users' connections idled through the others' set-up, and
        user.http.get(base_url + "/api/health", timeout=HTTP_TIMEOUT)  # uvicorn drops idle ones
    try:
        return (
            _at_once(k, lambda i, b: platform_limit_orders(users[i], price, per_client, clock, b)),
            setup,
        )
    finally:
        for user in users:
            user.http.close()


def sdk_concurrent_limit_orders(
    paper_url: str, k: int, per_client: int, clock: Clock
) -> tuple[LimitRun, float]:
    """K SDK clients (own wallet each) at once on the paper exchange; merged run, setup seconds."""
    t0 = time.perf_counter()
    exchanges = [sdk_exchange(paper_url) for _ in range(k)]
    price = sdk_resting_price(paper_url)
    setup = time.perf_counter() - t0
    for exchange in exchanges:  # the first clients' connections idled through the set-up
        exchange.post("/info", {"type": "allMids"})
    return (
        _at_once(k, lambda i, b: sdk_limit_orders(exchanges[i], price, per_client, clock, b)),
        setup,
    )


# -- main -----------------------------------------------------------------------------------------


def _machine() -> None:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    print(f"date       {datetime.date.today().isoformat()}")
    print(f"machine    {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), {cpu}")
    print(f"python     {platform.python_version()} on {platform.platform()}")
    print(f"sqlite     {sqlite3.sqlite_version}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200, help="orders per single-client phase")
    parser.add_argument(
        "--clients", default="1,4,16", help="comma-separated K values for the concurrency phase"
    )
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated phases to run, in their fixed order (default: {','.join(PHASES)})",
    )
    parser.add_argument(
        "--concurrent-orders",
        type=int,
        default=None,
        help="orders per K level, split over the K clients (default: --orders)",
    )
    parser.add_argument(
        "--market", type=int, default=40, help="market orders per path (0 = skip), run last"
    )
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured orders per path")
    parser.add_argument(
        "--rounds",
        type=int,
        default=6,
        help="single phase: the N orders of each path split into this many rounds, the paths "
        "taking turns, so a change in the machine's load falls on both",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL server URL; a fresh database is created on it and dropped after",
    )
    parser.add_argument("--seed", type=int, default=1, help="paper exchange price seed")
    parser.add_argument(
        "--embedded",
        action="store_true",
        help="the app starts its own paper exchange, as `python main.py` does by default",
    )
    parser.add_argument(
        "--weight-per-minute",
        type=int,
        default=None,
        help="the app's exchange weight budget (1200 reproduces Hyperliquid's per-IP limit)",
    )
    parser.add_argument(
        "--time-limit", type=float, default=170.0, help="seconds; phases stop early past it"
    )
    args = parser.parse_args()
    clients = [int(k) for k in args.clients.split(",") if k.strip()]
    if not 1 <= args.orders <= 900 or any(k < 1 for k in clients):
        parser.error("--orders must be 1..900 (the paper exchange allows 1000 open orders)")
    concurrent_orders = args.concurrent_orders or args.orders
    args.phases = {p.strip() for p in args.phases.split(",") if p.strip()}
    if not args.phases or not args.phases <= set(PHASES):
        parser.error(f"--phases takes a comma list of {', '.join(PHASES)}")

    _machine()
    clock = Clock(args.time_limit)
    tmp = Path(tempfile.mkdtemp(prefix="hyperdesk-bench-"))
    processes: list[tuple[subprocess.Popen, str]] = []
    try:
        with _database(args.database_url, tmp) as (database_url, database_name):
            if args.embedded:
                paper_port = _free_port()
                paper_url = f"http://127.0.0.1:{paper_port}"
                where = "started by the app, its own process, seed 1 (HYPERDESK_PAPER_SEED)"
            else:
                paper, paper_url = _start_paper(args.seed, tmp / "paper.log")
                processes.append((paper, "paper exchange"))
                paper_port = None
                where = f"subprocess, SystemClock, seed {args.seed}"
            t0 = time.perf_counter()
            app, app_url = _start_app(
                None if args.embedded else paper_url,
                database_url,
                tmp / "data",
                tmp / "app.log",
                args.weight_per_minute,
                paper_port,
            )
            processes.append((app, "app"))
            AppCpu.pid = app.pid
            METER.since = time.monotonic()
            print(f"database   {database_name}")
            print(f"paper      {paper_url} ({where})")
            print(
                f"app        {app_url} (subprocess `main.py`, up in {time.perf_counter() - t0:.1f} s)"
            )
            print(f"client     this process, requests.Session keep-alive; size {SIZE} {COIN}")
            print()
            _run(args, clients, concurrent_orders, clock, paper_url, app_url)
            app_log = (tmp / "app.log").read_text(errors="replace")
            print(
                f"\napp log: {app_log.count(' WARNING ')} warnings, "
                f"{app_log.count(' ERROR ')} errors, {len(app_log.splitlines())} lines "
                "(stderr of main.py)"
            )
            for process, name in reversed(processes):
                _stop(process, name)
    finally:
        for process, name in reversed(processes):
            _stop(process, name)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _x(a: float, b: float) -> float:
    return a / b if b else math.nan


def _ratio(what: str, sdk: Samples, api: Samples, throughput: bool = False) -> None:
    s, a = _summary(sdk), _summary(api)
    line = (
        f"platform/sdk {what}: p50 x{_x(a['p50'], s['p50']):.2f} "
        f"({a['p50'] - s['p50']:+.2f} ms), p99 x{_x(a['p99'], s['p99']):.2f} "
        f"({a['p99'] - s['p99']:+.2f} ms)"
    )
    if throughput:
        line += f", throughput x{_x(a['rate'], s['rate']):.2f}"
    print(line)


def _run(args, clients, concurrent_orders, clock, paper_url, app_url) -> None:
    # Warm both paths (first-request costs: imports, signer actors, connection set-up); the
    # warmed SDK client and platform user are the ones measured in the single-client phase.
    exchange = sdk_exchange(paper_url)
    sdk_price = sdk_resting_price(paper_url)
    sdk_limit_orders(exchange, sdk_price, args.warmup, clock, modify=True)
    user = PlatformUser(app_url, f"single_{uuid.uuid4().hex[:6]}")
    price = _resting_price(user.mid())
    platform_limit_orders(user, price, args.warmup, clock, modify=True)

    if "single" in args.phases:
        _single_phase(args, clock, exchange, sdk_price, user, price)
    if "concurrency" in args.phases:
        _concurrency_phase(clients, concurrent_orders, clock, paper_url, app_url)
    if "market" in args.phases and args.market:
        _market_phase(args, clock, sdk_exchange(paper_url), user)
    if time.monotonic() > clock.deadline:
        print(f"\n(time limit of {args.time_limit:.0f} s reached: some phases stopped early)")


def _single_phase(args, clock, exchange, sdk_price, user, price) -> None:
    rounds = max(1, min(args.rounds, args.orders))
    print(
        f"-- resting Gtc limit orders, 1 client, {args.orders} orders per path in {rounds} "
        "alternating rounds (each round: placed, then each modified once, then cancelled) --"
    )
    print(HEADER)
    sdk_runs: list[LimitRun] = []
    api_runs: list[LimitRun] = []
    app_cpu, app_wall = 0.0, 0.0
    idle = AppCpu.idle_rate()
    for r in range(rounds):
        n = args.orders // rounds + (r < args.orders % rounds)
        # ABBA: the SDK goes first in rounds 0 and 3, second in 1 and 2, … so neither path
        # always runs right after the other's background work.
        for path in ("sdk", "api") if r % 4 in (0, 3) else ("api", "sdk"):
            if path == "sdk":
                sdk_runs.append(sdk_limit_orders(exchange, sdk_price, n, clock, modify=True))
                continue
            cpu_before, t_before = AppCpu.seconds(), time.perf_counter()
            api_runs.append(platform_limit_orders(user, price, n, clock, modify=True))
            cpu_after = AppCpu.seconds()
            if cpu_before is not None and cpu_after is not None:
                app_cpu += cpu_after - cpu_before
                app_wall += time.perf_counter() - t_before
    sdk, api = LimitRun.in_turn(sdk_runs), LimitRun.in_turn(api_runs)
    _line("sdk Exchange.order", sdk.place)
    _line("sdk Exchange.modify_order", sdk.modify)
    _line("sdk Exchange.cancel", sdk.cancel)
    _line("platform POST /api/orders", api.place)
    _line("platform PATCH /api/orders/{oid}", api.modify)
    _line("platform DELETE /api/orders/{oid}", api.cancel)
    requests_made = sum(len(getattr(api, kind).latencies) for kind in LimitRun.KINDS)
    if idle is not None and app_wall and requests_made:
        busy = app_cpu - idle * app_wall
        print(
            f"app CPU per request (place, modify and cancel, idle {idle * 1000:.0f} ms/s "
            f"subtracted): {busy / requests_made * 1000:.2f} ms"
        )
    _ratio("placement", sdk.place, api.place, throughput=True)
    _ratio("modify", sdk.modify, api.modify)
    _ratio("cancel", sdk.cancel, api.cancel)


def _market_phase(args, clock, exchange, user) -> None:
    rounds = max(1, min(args.rounds, args.market // 2))
    print(
        f"\n-- market orders, 1 client, {args.market} orders per path alternating buy/sell, "
        f"in {rounds} alternating rounds --"
    )
    print(HEADER)
    sdk, api = Samples(), Samples()
    for r in range(rounds):
        n = 2 * (args.market // 2 // rounds + (r < args.market // 2 % rounds))
        first, second = (sdk, api) if r % 4 in (0, 3) else (api, sdk)
        for samples in (first, second):
            if samples is sdk:
                done = sdk_market_orders(exchange, n, clock)
            else:
                done = platform_market_orders(user, n, clock)
            samples.merge(done)
            samples.wall += done.wall
    _line("sdk Exchange.market_open", sdk)
    _line("platform POST /api/orders market", api)
    _ratio("market", sdk, api)
    print(METER.note())


def _concurrency_phase(clients, concurrent_orders, clock, paper_url, app_url) -> None:
    print(
        f"\n-- concurrency: K clients at once, {concurrent_orders} orders per K in total, "
        "platform users then SDK clients --"
    )
    print(HEADER)
    rates: dict[int, tuple[float, float]] = {}  # K -> placement orders/s (platform, sdk)
    for k in clients:
        per_client = max(1, math.ceil(concurrent_orders / k))
        try:
            clock.check()
        except OutOfTime:
            print(f"K={k}: skipped (out of time)")
            continue
        api, setup = concurrent_limit_orders(app_url, k, per_client, clock)
        _line(f"K={k:<3} POST /api/orders ({per_client}/client)", api.place)
        _line(f"K={k:<3} DELETE /api/orders/{{oid}}", api.cancel)
        print(f"      ({k} users registered, logged in, wallet + faucet each in {setup:.1f} s)")
        print(METER.note())
        try:
            clock.check()
        except OutOfTime:
            print(f"K={k}: sdk skipped (out of time)")
            continue
        sdk, setup = sdk_concurrent_limit_orders(paper_url, k, per_client, clock)
        _line(f"K={k:<3} sdk Exchange.order ({per_client}/client)", sdk.place)
        _line(f"K={k:<3} sdk Exchange.cancel", sdk.cancel)
        print(f"      ({k} SDK clients: wallet + faucet + Exchange each, all in {setup:.1f} s)")
        rates[k] = (_summary(api.place)["rate"], _summary(sdk.place)["rate"])
    if not rates:
        return
    base = min(rates)
    for k, (api_rate, sdk_rate) in rates.items():
        print(
            f"K={k}: platform x{_x(api_rate, rates[base][0]):.2f} the K={base} platform rate; "
            f"sdk x{_x(sdk_rate, rates[base][1]):.2f} the K={base} sdk rate; "
            f"platform/sdk at this K: x{_x(api_rate, sdk_rate):.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())
