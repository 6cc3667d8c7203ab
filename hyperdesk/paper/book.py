"""Orders and the per-coin book of resting user orders (price-time priority)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import Any

from sortedcontainers import SortedDict

from hyperdesk.paper.numbers import wire


@dataclass(frozen=True)
class Trigger:
    """TP/SL parameters of a trigger order."""

    is_market: bool
    trigger_px: Decimal
    tpsl: str  # "tp" | "sl"

    def condition_is_above(self, is_buy: bool) -> bool:
        """True when the order fires on mark >= trigger ("Price above"), else mark <= trigger.

        A sell take-profit and a buy stop-loss fire as the price rises; the other two as it falls.
        """
        return (self.tpsl == "tp") != is_buy


@dataclass(eq=False)
class Order:
    """A user order from placement to its final status. Mutable: ``sz`` is what remains."""

    oid: int
    user: str
    coin: str
    asset: int
    is_buy: bool
    limit_px: Decimal
    orig_sz: Decimal
    sz: Decimal
    reduce_only: bool
    tif: str | None
    cloid: str | None
    timestamp: int
    trigger: Trigger | None = None
    is_position_tpsl: bool = False
    parent_oid: int | None = None
    children: list[int] = field(default_factory=list)
    status: str = "open"
    status_timestamp: int = 0
    triggered: bool = False

    @property
    def side(self) -> str:
        return "B" if self.is_buy else "A"

    @property
    def order_type(self) -> str:
        if self.trigger is None:
            return "Market" if self.tif == "FrontendMarket" else "Limit"
        kind = "Take Profit" if self.trigger.tpsl == "tp" else "Stop"
        return f"{kind} {'Market' if self.trigger.is_market else 'Limit'}"


class OrderBook:
    """Resting user orders of one coin. Synthetic liquidity lives elsewhere (liquidity.py)."""

    def __init__(self) -> None:
        # Bids keyed by negated price so both sides iterate best-first.
        self._bids: SortedDict = SortedDict()
        self._asks: SortedDict = SortedDict()
        self._revisions = {True: 0, False: 0}

    def _side(self, is_buy: bool) -> SortedDict:
        return self._bids if is_buy else self._asks

    def revision(self, is_buy: bool) -> int:
        """Changes whenever the side's levels may have: lets views of it be cached."""
        return self._revisions[is_buy]

    def touch(self, is_buy: bool) -> None:
        """Note an in-place change (a resting order's size shrank on a fill)."""
        self._revisions[is_buy] += 1

    def add(self, order: Order) -> None:
        key = -order.limit_px if order.is_buy else order.limit_px
        self._side(order.is_buy).setdefault(key, []).append(order)
        self._revisions[order.is_buy] += 1

    def remove(self, order: Order) -> None:
        self._revisions[order.is_buy] += 1
        side = self._side(order.is_buy)
        key = -order.limit_px if order.is_buy else order.limit_px
        queue = side.get(key)
        if queue is None:
            return
        if order in queue:
            queue.remove(order)
        if not queue:
            del side[key]

    def orders(self, is_buy: bool) -> Iterator[Order]:
        """Orders of one side, best price first, oldest first within a price."""
        for queue in list(self._side(is_buy).values()):
            yield from list(queue)

    def best(self, is_buy: bool) -> Decimal | None:
        side = self._side(is_buy)
        if not side:
            return None
        key = side.keys()[0]
        return -key if is_buy else key

    def levels(self, is_buy: bool, depth: int | None = None) -> list[tuple[Decimal, Decimal, int]]:
        """(price, total size, order count) per price, best first; the best ``depth`` if given."""
        result = []
        for key, queue in islice(self._side(is_buy).items(), depth):
            px = -key if is_buy else key
            result.append((px, sum((o.sz for o in queue), Decimal(0)), len(queue)))
        return result


def basic_order(order: Order) -> dict[str, Any]:
    """The order object both ``orderUpdates`` and the open-order infos start from."""
    entry: dict[str, Any] = {
        "coin": order.coin,
        "side": order.side,
        "limitPx": wire(order.limit_px),
        "sz": wire(order.sz),
        "oid": order.oid,
        "timestamp": order.timestamp,
        "origSz": wire(order.orig_sz),
    }
    if order.cloid:
        entry["cloid"] = order.cloid
    return entry
