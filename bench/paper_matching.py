"""Orders per second of the paper engine alone (``PaperExchange.execute``, no HTTP, no signing).

Scenarios, each on a fresh engine with a ManualClock (no background ticks):

* resting: Gtc buy far under the mid, then cancel it (two actions per order);
* crossing: Ioc orders that take synthetic liquidity, alternating buy/sell;
* book: N users each rest an order at distinct prices, then cross the whole stack.

Also prints the cost of server-side signature recovery (what ``/exchange`` adds per action).
Not a test: it prints figures.

    .venv/bin/python bench/paper_matching.py --orders 5000
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

import eth_account
from hyperliquid.utils import signing as sdk_signing

from hyperdesk.paper import signing
from hyperdesk.paper.clock import ManualClock
from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.exchange import PaperExchange

ETH = 1


def _order(px: str, sz: str, is_buy: bool, tif: str) -> dict:
    return {
        "type": "order",
        "orders": [{"a": ETH, "b": is_buy, "p": px, "s": sz, "r": False, "t": {"limit": {"tif": tif}}}],
        "grouping": "na",
    }  # fmt: skip


def _engine() -> tuple[PaperExchange, str, Decimal]:
    paper = PaperExchange(PaperConfig(seed=1), ManualClock(start_ms=time.time_ns() // 1_000_000))
    user = eth_account.Account.create().address.lower()
    paper.faucet(user, Decimal(100_000_000))
    mid = Decimal(paper.info({"type": "allMids"})["ETH"])
    return paper, user, mid


def _rate(name: str, n: int, seconds: float) -> None:
    print(
        f"{name:<44} {n:>7} in {seconds:6.3f} s = {n / seconds:>9.0f}/s  ({seconds / n * 1e6:7.1f} µs each)"
    )


def bench_resting(n: int) -> None:
    paper, user, mid = _engine()
    px = str(int(mid * Decimal("0.8")))
    start = time.perf_counter()
    for _ in range(n):
        result = paper.execute(
            account=user, signer=user, action=_order(px, "0.01", True, "Gtc"), vault_address=None
        )
        oid = result["response"]["data"]["statuses"][0]["resting"]["oid"]
        paper.execute(
            account=user,
            signer=user,
            action={"type": "cancel", "cancels": [{"a": ETH, "o": oid}]},
            vault_address=None,
        )
    _rate("resting Gtc place + cancel (orders)", n, time.perf_counter() - start)  # fmt: skip


def bench_crossing(n: int) -> None:
    paper, user, mid = _engine()
    buy_px, sell_px = str(int(mid * Decimal("1.05"))), str(int(mid * Decimal("0.95")))
    start = time.perf_counter()
    filled = 0
    for i in range(n):
        is_buy = i % 2 == 0
        result = paper.execute(account=user, signer=user, action=_order(buy_px if is_buy else sell_px, "0.01", is_buy, "Ioc"), vault_address=None)  # fmt: skip
        filled += "filled" in result["response"]["data"]["statuses"][0]
    _rate(f"Ioc crossing synthetic liquidity ({filled} filled)", n, time.perf_counter() - start)


def bench_book(n: int) -> None:
    paper, _, mid = _engine()
    makers = []
    for _ in range(min(n, 200)):
        maker = eth_account.Account.create().address.lower()
        paper.faucet(maker, Decimal(10_000_000))
        makers.append(maker)
    start = time.perf_counter()
    for i in range(n):
        px = str(int(mid * Decimal("0.9")) - (i % 500))
        paper.execute(account=makers[i % len(makers)], signer=makers[i % len(makers)], action=_order(px, "0.01", True, "Gtc"), vault_address=None)  # fmt: skip
    _rate("user orders resting in one book", n, time.perf_counter() - start)


def bench_recovery(n: int) -> None:
    wallet = eth_account.Account.create()
    action = _order("3000", "0.01", True, "Gtc")
    nonce = time.time_ns() // 1_000_000
    signature = sdk_signing.sign_l1_action(wallet, action, None, nonce, None, False)
    start = time.perf_counter()
    for _ in range(n):
        signing.recover_l1_signer(action, signature, nonce=nonce, vault_address=None, expires_after=None, is_mainnet=False)  # fmt: skip
    _rate("server-side L1 signature recovery", n, time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    args = parser.parse_args()
    bench_resting(args.orders)
    bench_crossing(args.orders)
    bench_book(args.orders)
    bench_recovery(args.orders)


if __name__ == "__main__":
    main()
