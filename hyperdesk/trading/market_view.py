"""What the stream already tells us, so a request does not spend exchange weight to ask again.

Mids arrive on the `allMids` websocket channel every tick; which accounts are followed over the
websocket is the market stream's to say. Both are read by order placement: a market order takes
its reference price from here, and a wallet whose fills stream in needs no fill fetch after it.
The public market routes serve mids from here too while the stream is fresh: one websocket
message serves every visitor, and no request spends exchange weight on ``allMids``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from hyperdesk.exchange.models import to_decimal


class MarketView:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._mids: dict[str, Decimal] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._mids_at: float | None = None  # when the stream last sent mids
        self.stream: Any = None  # proxy of the MarketStreamActor, set once it runs

    def update_mids(self, raw: Mapping[str, Any]) -> None:
        fresh = {}
        for coin, px in raw.items():
            try:
                fresh[coin] = to_decimal(px)
            except ValueError:
                continue
        with self._lock:
            self._mids.update(fresh)
            self._mids_at = self._clock()

    def fresh_mids(self, max_age: float) -> dict[str, Decimal] | None:
        """Every streamed mid, if the stream sent them within ``max_age`` seconds; else None."""
        with self._lock:
            if self._mids_at is None or self._clock() - self._mids_at > max_age:
                return None
            return dict(self._mids)

    def mid(self, coin: str) -> Decimal | None:
        with self._lock:
            return self._mids.get(coin)

    def stream_mode(self, account: str) -> str | None:
        if self.stream is None:
            return None
        modes: dict[str, str] = self.stream.user_modes().get(timeout=10)
        return modes.get(account.lower())
