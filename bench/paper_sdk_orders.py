"""Orders per second and order latency through the official SDK against the paper exchange.

Starts a paper exchange on loopback (real clock, ticker running, like ``python -m hyperdesk.paper``)
and drives it with ``hyperliquid.exchange.Exchange`` exactly as an application would:

* resting: place a Gtc limit order far from the mid, then cancel it (latency of each call);
* market: ``market_open`` alternating buy/sell (the SDK first reads ``allMids``, then signs and
  posts an Ioc order; the latency includes both requests).

With ``--threads N`` each thread uses its own wallet (nonces are per signer) and the figures are
aggregate throughput. Not a test: it prints figures.

    .venv/bin/python bench/paper_sdk_orders.py --orders 500 --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from decimal import Decimal

import eth_account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info

from hyperdesk.paper.clock import SystemClock
from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.exchange import PaperExchange
from hyperdesk.paper.runner import PaperServer


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _report(name: str, latencies_s: list[float], wall_s: float, errors: int) -> None:
    ms = [x * 1000 for x in latencies_s]
    print(
        f"{name:<28} n={len(ms):>6}  {len(ms) / wall_s:>8.1f}/s  "
        f"p50={statistics.median(ms):6.2f} ms  p99={_percentile(ms, 0.99):6.2f} ms  "
        f"errors={errors}"
    )


def _resting_worker(base_url: str, paper: PaperExchange, n: int, out: dict) -> None:
    wallet = eth_account.Account.create()
    paper.faucet(wallet.address.lower(), Decimal(10_000_000))
    exchange = Exchange(wallet, base_url, timeout=10)
    px = float(int(Decimal(Info(base_url, skip_ws=True).all_mids()["ETH"]) * Decimal("0.8")))
    place, cancel, errors = [], [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        placed = exchange.order("ETH", True, 0.01, px, {"limit": {"tif": "Gtc"}})
        t1 = time.perf_counter()
        place.append(t1 - t0)
        status = placed["response"]["data"]["statuses"][0] if placed["status"] == "ok" else {}
        if "resting" not in status:
            errors += 1
            continue
        t2 = time.perf_counter()
        cancelled = exchange.cancel("ETH", status["resting"]["oid"])
        cancel.append(time.perf_counter() - t2)
        if cancelled["status"] != "ok":
            errors += 1
    out.update(place=place, cancel=cancel, errors=errors)


def _market_worker(base_url: str, paper: PaperExchange, n: int, out: dict) -> None:
    wallet = eth_account.Account.create()
    paper.faucet(wallet.address.lower(), Decimal(10_000_000))
    exchange = Exchange(wallet, base_url, timeout=10)
    latencies, errors = [], 0
    for i in range(n):
        t0 = time.perf_counter()
        result = exchange.market_open("ETH", i % 2 == 0, 0.01)
        latencies.append(time.perf_counter() - t0)
        status = result["response"]["data"]["statuses"][0] if result["status"] == "ok" else {}
        if "filled" not in status:
            errors += 1
    out.update(market=latencies, errors=errors)


def _run(kind: str, base_url: str, paper: PaperExchange, threads: int, n: int) -> list[dict]:
    outs: list[dict] = [{} for _ in range(threads)]
    target = _resting_worker if kind == "resting" else _market_worker
    workers = [
        threading.Thread(target=target, args=(base_url, paper, n, outs[i])) for i in range(threads)
    ]
    start = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - start
    errors = sum(o["errors"] for o in outs)
    if kind == "resting":
        place = [x for o in outs for x in o["place"]]
        cancel = [x for o in outs for x in o["cancel"]]
        _report(f"place Gtc (x{threads} thr)", place, wall, errors)
        _report(f"cancel (x{threads} thr)", cancel, wall, 0)
        print(f"{'place+cancel requests/s':<28} {(len(place) + len(cancel)) / wall:>17.1f}/s")
    else:
        market = [x for o in outs for x in o["market"]]
        _report(f"market_open (x{threads} thr)", market, wall, errors)
    return outs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500, help="orders per thread and scenario")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()

    paper = PaperExchange(PaperConfig(seed=1), SystemClock())
    server = PaperServer(paper)
    base_url = server.start()
    try:
        _run("resting", base_url, paper, 1, args.warmup)  # warm caches/JIT paths
        print(f"paper exchange {base_url}, {args.orders} orders/thread, {args.threads} thread(s)")
        _run("resting", base_url, paper, args.threads, args.orders)
        _run("market", base_url, paper, args.threads, args.orders)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
