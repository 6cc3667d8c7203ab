"""An anonymous flood of GET requests, run as its own OS process so it competes like a real client.

``python -m tests.http.flood_client BASE_URL --threads N --seconds S --max-requests M PATH...``

Every thread keeps one HTTP/1.1 connection to ``BASE_URL`` (loopback only) and loops over the
paths until ``S`` seconds have passed or it sent ``M`` requests, whichever comes first, so the
flood always stops by itself. With ``--spread-ips`` thread ``i`` connects from 127.0.1.(i+1),
so every thread is a different client address. When the first answer arrives (every thread has
been started by then) it prints ``started`` on a line; at the end it prints one JSON line: counts per status, how many 429s
carried ``Retry-After``, and the slowest answer.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlsplit

LOOPBACK_PREFIX = "127."


def _flood(
    host: str,
    port: int,
    paths: list[str],
    source_ip: str | None,
    stop_at: float,
    max_requests: int,
    first_answer: Callable[[], None],
    results: list[dict[str, object]],
) -> None:
    statuses: Counter[str] = Counter()
    retry_after = 0
    slowest = 0.0
    conn: http.client.HTTPConnection | None = None
    for sent in range(max_requests):
        if time.monotonic() >= stop_at:
            break
        path = paths[sent % len(paths)]
        started = time.monotonic()
        try:
            if conn is None:
                source = (source_ip, 0) if source_ip else None
                conn = http.client.HTTPConnection(host, port, timeout=10, source_address=source)
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            statuses[str(response.status)] += 1
            if response.status == 429 and response.getheader("Retry-After"):
                retry_after += 1
        except (OSError, http.client.HTTPException) as exc:
            statuses[type(exc).__name__] += 1
            if conn is not None:
                conn.close()
            conn = None
        slowest = max(slowest, time.monotonic() - started)
        first_answer()
    if conn is not None:
        conn.close()
    results.append({"statuses": dict(statuses), "retry_after": retry_after, "slowest": slowest})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--threads", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--max-requests", type=int, default=5000, help="per thread")
    parser.add_argument("--spread-ips", action="store_true")
    args = parser.parse_args(argv)

    url = urlsplit(args.base_url)
    host, port = url.hostname or "", url.port or 80
    if not host.startswith(LOOPBACK_PREFIX):
        parser.error("the flood only ever targets a loopback address")
    seconds = min(args.seconds, 30.0)
    stop_at = time.monotonic() + seconds
    results: list[dict[str, object]] = []

    announced = threading.Event()
    announce_lock = threading.Lock()

    def first_answer() -> None:
        if announced.is_set():
            return
        with announce_lock:
            if not announced.is_set():
                announced.set()
                print("started", flush=True)

    threads = [
        threading.Thread(
            target=_flood,
            args=(
                host,
                port,
                args.paths,
                f"127.0.1.{i % 250 + 1}" if args.spread_ips else None,
                stop_at,
                args.max_requests,
                first_answer,
                results,
            ),
            daemon=True,
        )
        for i in range(args.threads)
    ]
    with announce_lock:  # no "started" before every thread is running
        for thread in threads:
            thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 15)
    statuses: Counter[str] = Counter()
    for result in results:
        statuses.update(result["statuses"])  # type: ignore[arg-type]
    summary = {
        "statuses": dict(statuses),
        "retry_after": sum(int(r["retry_after"]) for r in results),  # type: ignore[call-overload]
        "slowest": max((float(r["slowest"]) for r in results), default=0.0),  # type: ignore[arg-type]
        "threads_done": len(results),
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
