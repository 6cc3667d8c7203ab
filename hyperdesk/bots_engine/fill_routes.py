"""Which running bot hears of which recorded fill: a small thread-safe table keyed by bot id.

Every recorded fill passes through `Services.publish_fills` (stream, poll, backfill and an
order's own answer), so that one place hands the fills attributed to a bot (by its cloid, see
hyperdesk/trading/cloids.py) to the bot's fill listener. A bot that is not running has no
entry; its fills are in the database and its capital book is rebuilt from them at its next start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from hyperdesk.trading.cloids import bot_id_of
from hyperdesk.trading.fills import RecordedFill

log = logging.getLogger(__name__)

FillSink = Callable[[RecordedFill], None]
UpdateSink = Callable[[dict[str, Any]], None]


class BotFillRoutes:
    def __init__(self) -> None:
        self._sinks: dict[int, tuple[str, FillSink]] = {}
        self._update_sinks: dict[int, UpdateSink] = {}
        self._lock = threading.Lock()

    def register(
        self, bot_id: int, account: str, sink: FillSink, updates: UpdateSink | None = None
    ) -> int:
        """Route `bot_id`'s fills to `sink` and its order updates to `updates` (neither may
        block: they tell actors); the number of running bots trading `account` afterwards."""
        with self._lock:
            self._sinks[bot_id] = (account.lower(), sink)
            if updates is not None:
                self._update_sinks[bot_id] = updates
            return self._count(account)

    def unregister(self, bot_id: int) -> int:
        """Stop routing; the number of running bots still trading the bot's account."""
        with self._lock:
            entry = self._sinks.pop(bot_id, None)
            self._update_sinks.pop(bot_id, None)
            return self._count(entry[0]) if entry else 0

    def dispatch(self, recorded: Iterable[RecordedFill]) -> None:
        for item in recorded:
            if item.bot_id is None:
                continue
            with self._lock:
                entry = self._sinks.get(item.bot_id)
            if entry is None or entry[0] != item.fill.account.lower():
                continue
            try:
                entry[1](item)
            except Exception:  # a stopping listener: the fill is stored, the next start rebuilds
                log.warning("could not hand fill %s to bot %s", item.fill.tid, item.bot_id)

    def dispatch_order_updates(self, account: str, updates: Iterable[dict[str, Any]]) -> None:
        """Hand each streamed order update (Hyperliquid's shape) to the bot its cloid names."""
        for update in updates:
            order = update.get("order") or {}
            bot_id = bot_id_of(order.get("cloid") if isinstance(order, dict) else None)
            if bot_id is None:
                continue
            with self._lock:
                entry = self._sinks.get(bot_id)
                sink = self._update_sinks.get(bot_id)
            if sink is None or entry is None or entry[0] != account.lower():
                continue
            try:
                sink(update)
            except Exception:
                log.warning("could not hand an order update to bot %s", bot_id)

    def _count(self, account: str) -> int:
        return sum(1 for acc, _ in self._sinks.values() if acc == account.lower())
