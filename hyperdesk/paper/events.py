"""The engine's outbound events: one websocket data payload with its routing key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    """One websocket message the server may fan out.

    ``channel`` is the wire channel name; ``key`` routes it to subscribers (lower-case user
    address, coin name, ``f"{coin}:{interval}"`` for candles, None for allMids); ``data`` is the
    exact wire payload, JSON-ready.
    """

    channel: str
    key: str | None
    data: Any
