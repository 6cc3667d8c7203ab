"""TWAP orders: ``twapOrder``/``twapCancel`` and the slices the engine executes on its ticks.

As on Hyperliquid (protocol reference §12), a TWAP of ``m`` minutes (5 to 1440) is executed as
``2 m`` slices, one every 30 seconds, the first when it is placed. Each slice is an IOC order at
the mark ± 3 % for the part of the total that should have been executed by then, so a slice that
could not fill (no margin, below the minimum notional, nothing to reduce) is caught up by later
ones — at most three normal slices at once. The last slice ends the TWAP (``finished``);
``twapCancel`` ends it early (``terminated``). Slice fills are ordinary fills of the user and are
also listed, with their ``twapId``, by ``userTwapSliceFills``; ``twapHistory`` lists the state
changes.

Slices run inside ``Engine.tick`` (through ``TwapBook.run_due``), so a manual clock advanced with
``POST /_paper/tick`` executes them along the way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

from hyperdesk.paper.numbers import parse_decimal, wire, wire_usd
from hyperdesk.protocol.rules import is_valid_size, nearest_valid_price

if TYPE_CHECKING:
    from hyperdesk.paper.engine import Engine

SLICE_MS = 30_000
SLIPPAGE = Decimal("0.03")
CATCH_UP_SLICES = 3
MIN_MINUTES, MAX_MINUTES = 5, 1440
MAX_SLICE_FILLS = 2000
NEVER_PLACED = "TWAP was never placed, already canceled, or filled."


class TwapFormatError(ValueError):
    """The action does not decode (answered like any malformed action)."""


class TwapRejected(ValueError):
    """A business refusal; ``str(exc)`` is the ``{"status": {"error": …}}`` text."""


@dataclass
class Twap:
    twap_id: int
    user: str
    coin: str
    asset: int
    is_buy: bool
    sz: Decimal
    reduce_only: bool
    minutes: int
    randomize: bool
    start_ms: int
    slices_done: int = 0
    executed_sz: Decimal = Decimal(0)
    executed_ntl: Decimal = Decimal(0)

    @property
    def n_slices(self) -> int:
        return self.minutes * 2

    def wire_state(self) -> dict[str, Any]:
        return {
            "coin": self.coin,
            "user": self.user,
            "side": "B" if self.is_buy else "A",
            "sz": wire(self.sz),
            "executedSz": wire(self.executed_sz),
            "executedNtl": wire_usd(self.executed_ntl),
            "minutes": self.minutes,
            "reduceOnly": self.reduce_only,
            "randomize": self.randomize,
            "timestamp": self.start_ms,
        }


def decode_order(action: dict) -> None:
    """Shape check of ``twapOrder`` (``twap: {a, b, s, r, m, t}``)."""
    twap = action.get("twap")
    if not isinstance(twap, dict):
        raise TwapFormatError("missing field `twap`")
    for key, kind in (("a", int), ("b", bool), ("r", bool), ("m", int), ("t", bool)):
        value = twap.get(key)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TwapFormatError(f"missing or invalid field `{key}` in `twap`")
    if not 0 <= twap["a"] < 2**32 or not 0 <= twap["m"] < 2**32:
        raise TwapFormatError("integer out of range in `twap`")
    try:
        parse_decimal(twap.get("s"))
    except ValueError as exc:
        raise TwapFormatError(f"invalid field `s` in `twap`: {exc}") from None


def decode_cancel(action: dict) -> None:
    for key in ("a", "t"):
        value = action.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**64:
            raise TwapFormatError(f"missing or invalid field `{key}`")


class TwapBook:
    """Every TWAP of the exchange: running ones, slice fills and history per user."""

    def __init__(self) -> None:
        self.running: dict[int, Twap] = {}
        self.next_id = 1
        self.slice_fills: dict[str, list[dict[str, Any]]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}

    # -- actions -------------------------------------------------------------------------------

    def place(self, engine: Engine, user: str, action: dict, now: int) -> dict[str, Any]:
        """``twapOrder``: the ``data`` of the response (``running`` or ``error``)."""
        raw = action["twap"]
        try:
            twap = self._new(engine, user, raw, now)
        except TwapRejected as exc:
            return {"status": {"error": str(exc)}}
        self.running[twap.twap_id] = twap
        self._record(twap, "activated", now)
        self.run_due(engine, now)
        return {"status": {"running": {"twapId": twap.twap_id}}}

    def _new(self, engine: Engine, user: str, raw: dict, now: int) -> Twap:
        inst = engine.instruments.by_asset(raw["a"])
        if inst is None:
            raise TwapRejected("Order has invalid asset.")
        minutes = raw["m"]
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            raise TwapRejected(f"Invalid TWAP duration: {minutes} min(s)")
        sz = parse_decimal(raw["s"])
        if sz <= 0 or not is_valid_size(sz, inst.sz_decimals):
            raise TwapRejected("Order has invalid size.")
        twap = Twap(
            self.next_id,
            user,
            inst.coin,
            inst.asset,
            raw["b"],
            sz,
            raw["r"],
            minutes,
            raw["t"],
            now,
        )
        self.next_id += 1
        return twap

    def cancel(self, user: str, action: dict, now: int) -> dict[str, Any]:
        """``twapCancel``: the ``data`` of the response."""
        twap = self.running.get(action["t"])
        if twap is None or twap.user != user or twap.asset != action["a"]:
            return {"status": {"error": NEVER_PLACED}}
        del self.running[twap.twap_id]
        self._record(twap, "terminated", now)
        return {"status": "success"}

    # -- execution -----------------------------------------------------------------------------

    def run_due(self, engine: Engine, now: int) -> None:
        """Execute every slice that is due by ``now`` (in slice-time order per TWAP)."""
        for twap in list(self.running.values()):
            while (
                twap.slices_done < twap.n_slices
                and twap.start_ms + twap.slices_done * SLICE_MS <= now
            ):
                self._slice(engine, twap, now)
            if twap.slices_done >= twap.n_slices:
                del self.running[twap.twap_id]
                self._record(twap, "finished", now)

    def _slice(self, engine: Engine, twap: Twap, now: int) -> None:
        from hyperdesk.paper.engine import OrderRejected, OrderRequest

        twap.slices_done += 1
        inst = engine.by_coin[twap.coin]
        lot = Decimal(1).scaleb(-inst.sz_decimals)
        target = twap.sz * twap.slices_done / twap.n_slices
        most = twap.sz * CATCH_UP_SLICES / twap.n_slices
        qty = min(target - twap.executed_sz, most).quantize(lot, rounding=ROUND_FLOOR)
        if qty <= 0:
            return
        mark = engine.mark(twap.coin)
        px = nearest_valid_price(
            mark * (1 + SLIPPAGE if twap.is_buy else 1 - SLIPPAGE),
            inst.sz_decimals,
            is_spot=inst.is_spot,
            rounding=ROUND_FLOOR if twap.is_buy else ROUND_CEILING,
        )
        req = OrderRequest(inst, twap.is_buy, px, qty, twap.reduce_only, "Ioc", None, None)
        try:
            engine.validate(twap.user, req)
            order = engine.new_order(twap.user, req, now)
            engine.submit(order, now)
        except OrderRejected:
            return  # caught up by a later slice
        mine = []
        for fill in reversed(engine.fills.get(twap.user, [])):
            if fill["oid"] != order.oid:
                break
            mine.append(fill)
        fills = self.slice_fills.setdefault(twap.user, [])
        for fill in reversed(mine):  # oldest first
            twap.executed_sz += Decimal(fill["sz"])
            twap.executed_ntl += Decimal(fill["sz"]) * Decimal(fill["px"])
            fills.append({"fill": fill, "twapId": twap.twap_id})
        del fills[:-MAX_SLICE_FILLS]

    def _record(self, twap: Twap, status: str, now: int) -> None:
        self.history.setdefault(twap.user, []).append(
            {"time": now // 1000, "state": twap.wire_state(), "status": {"status": status}}
        )

    # -- info ----------------------------------------------------------------------------------

    def user_slice_fills(self, user: str) -> list[dict[str, Any]]:
        """Newest first, like ``userFills``."""
        return list(reversed(self.slice_fills.get(user, [])))

    def user_history(self, user: str) -> list[dict[str, Any]]:
        return list(self.history.get(user, []))

    # -- state codec ---------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        running = []
        for twap in self.running.values():
            row = asdict(twap)
            for key in ("sz", "executed_sz", "executed_ntl"):
                row[key] = str(row[key])
            running.append(row)
        return {
            "running": running,
            "next_id": self.next_id,
            "slice_fills": {u: list(f) for u, f in self.slice_fills.items()},
            "history": {u: list(h) for u, h in self.history.items()},
        }

    def load(self, saved: dict[str, Any]) -> None:
        self.running = {}
        for saved_row in saved["running"]:
            row = dict(saved_row)
            for key in ("sz", "executed_sz", "executed_ntl"):
                row[key] = Decimal(row[key])
            twap = Twap(**row)
            self.running[twap.twap_id] = twap
        self.next_id = int(saved["next_id"])
        self.slice_fills = {u: list(f) for u, f in saved["slice_fills"].items()}
        self.history = {u: list(h) for u, h in saved["history"].items()}
