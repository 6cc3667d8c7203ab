"""``python -m hyperdesk.paper --host 127.0.0.1 --port 8080 --seed 1``: a standalone paper exchange.

Point the official SDK at the printed base URL. Stops cleanly on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from decimal import Decimal

from hyperdesk.paper.clock import SystemClock
from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.exchange import PaperExchange
from hyperdesk.paper.runner import PaperServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hyperdesk.paper", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port, 0 = any free (default 8080)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the price process")
    parser.add_argument(
        "--rest-weight-per-minute",
        type=int,
        default=None,
        help="enforce Hyperliquid's per-IP REST weight budget (the real one is 1200)",
    )
    parser.add_argument(
        "--fund",
        action="append",
        default=[],
        metavar="ADDRESS=USD",
        help="credit an address with USDC at start (repeatable)",
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    config = PaperConfig(seed=args.seed, rest_weight_per_minute=args.rest_weight_per_minute)
    exchange = PaperExchange(config, SystemClock())
    for item in args.fund:
        address, _, usd = item.partition("=")
        exchange.faucet(address.lower(), Decimal(usd or "10000"))

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    server = PaperServer(exchange, host=args.host, port=args.port, log_level=args.log_level)
    base_url = server.start()
    print(f"paper exchange on {base_url} (websocket {server.ws_url})", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    print("paper exchange stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
