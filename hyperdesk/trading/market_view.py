"""What the stream already tells us, so a request does not spend exchange weight to ask again.

Mids arrive on the `allMids` websocket channel every tick; which accounts are followed over the
websocket is the market stream's to say. Both are read by order placement: a market order takes
its reference price from here, and a wallet whose fills stream in needs no fill fetch after it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from hyperdesk.exchange.models import to_decimal


class MarketView:
    def __init__(self) -> None:
        self._mids: dict[str, Decimal] = {}
        self._lock = threading.Lock()
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

    def mid(self, coin: str) -> Decimal | None:
        with self._lock:
            return self._mids.get(coin)

    def stream_mode(self, account: str) -> str | None:
        if self.stream is None:
            return None
        modes: dict[str, str] = self.stream.user_modes().get(timeout=10)
        return modes.get(account.lower())
