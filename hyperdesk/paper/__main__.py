"""``python -m hyperdesk.paper --host 127.0.0.1 --port 8080 --seed 1``: a standalone paper exchange.

Point the official SDK at the printed base URL. Stops cleanly on SIGINT or SIGTERM. With
``--state FILE`` the whole exchange is kept in that file and carries on from it at the next start
(see hyperdesk/paper/persistence.py); without it the exchange lives in memory only. With
``--clock manual`` time stands still until ``POST /_paper/tick {"ms": n}`` moves it (tests).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from decimal import Decimal
from pathlib import Path

from hyperdesk.paper.clock import Clock, ManualClock, SystemClock
from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.config_file import ConfigFileError, apply_market_config, load_market_config
from hyperdesk.paper.exchange import PaperExchange
from hyperdesk.paper.persistence import (
    DEFAULT_INTERVAL_S,
    Snapshotter,
    StateFileError,
    open_durable,
)
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
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        metavar="FILE",
        help="keep the exchange's whole state in FILE and continue from it at start "
        "(default: in memory only, lost on exit)",
    )
    parser.add_argument(
        "--snapshot-interval",
        type=float,
        default=DEFAULT_INTERVAL_S,
        metavar="SECONDS",
        help=f"how often a changed state is saved with --state (default {DEFAULT_INTERVAL_S})",
    )
    parser.add_argument(
        "--clock",
        choices=("system", "manual"),
        default="system",
        help="system: real time, ticking by itself (default); manual: starts at the current "
        'time and moves only when POST /_paper/tick {"ms": n} advances it',
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="JSON file of market-model settings: volatility, correlation, jumps, depth, "
        "funding (see hyperdesk/paper/config_file.py)",
    )
    parser.add_argument(
        "--volatility-scale",
        type=float,
        metavar="X",
        help="multiply every coin's volatility (0 freezes prices)",
    )
    parser.add_argument("--no-funding", action="store_true", help="never charge or pay funding")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if args.snapshot_interval <= 0:
        parser.error("--snapshot-interval must be positive")

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    config = PaperConfig(seed=args.seed, rest_weight_per_minute=args.rest_weight_per_minute)
    try:
        config = _market_options(config, args)
    except ConfigFileError as exc:
        print(f"cannot start: {exc}", file=sys.stderr, flush=True)
        return 2
    clock: Clock = (
        ManualClock(start_ms=time.time_ns() // 1_000_000)
        if args.clock == "manual"
        else SystemClock()
    )
    exchange = PaperExchange(config, clock)
    snapshotter: Snapshotter | None = None
    restored = False
    if args.state is not None:
        try:
            snapshotter, restored = open_durable(
                exchange, args.state, interval_s=args.snapshot_interval
            )
        except StateFileError as exc:
            print(f"cannot start: {exc}", file=sys.stderr, flush=True)
            return 2
    if restored and isinstance(clock, ManualClock):
        # A manual clock may have been far ahead of the wall clock when the state was saved;
        # never start it behind the saved state's time.
        clock.set(max(clock.now_ms(), int(exchange.export_state()["last_tick_ms"])))
    if restored:
        print(f"continuing from {args.state} (--fund applies to a new state only)", flush=True)
    else:
        for item in args.fund:
            address, _, usd = item.partition("=")
            exchange.faucet(address.lower(), Decimal(usd or "10000"))

    # A signal handler runs on the main thread between two of its bytecodes, even inside a lock
    # that thread holds, so it must take none: `Event.set` does, and a second SIGTERM arriving
    # while the first one's handler held the event's lock deadlocked the stop forever (seen
    # after `kill -9` of the app, which then could not start another exchange on this state).
    # The handler only notes the request; the main thread looks five times a second.
    stop_requested: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: stop_requested.append(signum))

    server = PaperServer(exchange, host=args.host, port=args.port, log_level=args.log_level)
    try:
        base_url = server.start()
        print(
            f"paper exchange on {base_url} (websocket {server.ws_url}, {args.clock} clock)",
            flush=True,
        )
        while not stop_requested:
            time.sleep(0.2)
    finally:
        server.stop()
        if snapshotter is not None:
            snapshotter.stop()  # after the server: the last snapshot is the last state
    print("paper exchange stopped", flush=True)
    return 0


def _market_options(config: PaperConfig, args: argparse.Namespace) -> PaperConfig:
    """The market model: a --config file first, then the flags that override it."""
    if args.config is not None:
        config = load_market_config(args.config, config)
    flags: dict[str, object] = {}
    if args.volatility_scale is not None:
        flags["volatility_scale"] = args.volatility_scale
    if args.no_funding:
        flags["funding_enabled"] = False
    return apply_market_config(config, flags) if flags else config


if __name__ == "__main__":
    sys.exit(main())
