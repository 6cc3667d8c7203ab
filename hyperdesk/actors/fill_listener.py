"""FillListenerActor: a running bot's fills → its capital book → the bot's `on_fill`.

Place in the tree (architecture.md)::

    BotProcessActor ── owns ──► FillListenerActor ──ask──► CapitalManagerActor
          ▲                            │
          └──────── tell: BotFillEvent ┘   (a child tells its parent, never asks it)

Fills are recorded once, by whichever path saw them first (stream, poll, backfill or the
order's own answer), and every path ends in `Services.publish_fills`, which hands the fills whose
cloid names this bot to this actor through `BotFillRoutes` (a tell). Replays are harmless: the
book ignores a `tid` it has booked and the bot only hears of fills that were new to the book.

While the bot runs, its wallet's account gets a higher stream priority, so its fills arrive by
websocket rather than polling when the per-IP websocket budget is short (architecture.md).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import pykka

from hyperdesk.bots_engine.capital import BotFill
from hyperdesk.trading.fills import RecordedFill

log = logging.getLogger(__name__)

ASK_TIMEOUT = 10.0
BOT_STREAM_PRIORITY = 10


@dataclass(frozen=True)
class BotFillEvent:
    """A fill of the bot's order, new to its book, in the platform's fill shape (decimals as text)."""

    fill: dict[str, Any]


class FillListenerActor(pykka.ThreadingActor):
    def __init__(
        self,
        capital: pykka.ActorProxy[Any],
        parent: pykka.ActorRef[Any],
    ) -> None:
        super().__init__()
        self._capital = capital
        self._parent = parent

    def on_receive(self, message: Any) -> Any:
        """Tell: a `RecordedFill` of this bot (from the fill routes)."""
        if not isinstance(message, RecordedFill):
            return None
        f = message.fill
        booked = BotFill(f.tid, f.cloid, f.coin, f.side, f.price, f.size, f.fee, f.time_ms)
        try:
            new = self._capital.fill(booked).get(timeout=ASK_TIMEOUT)
        except Exception:
            log.exception("bot %s: could not book fill %s", message.bot_id, f.tid)
            return None
        if new:  # a stopping bot's parent may be gone: the fill is stored and booked anyway
            with contextlib.suppress(pykka.ActorDeadError):
                self._parent.tell(BotFillEvent(message.to_json()))
        return None


def raise_priority(stream: Any, account: str, since_ms: int | None) -> None:
    """Give `account` a websocket slot ahead of accounts without running bots."""
    if stream is not None:
        stream.track_user(account, BOT_STREAM_PRIORITY, since_ms).get(timeout=ASK_TIMEOUT)


def lower_priority(stream: Any, account: str, since_ms: int | None) -> None:
    """Back to an ordinary followed wallet once none of its bots runs."""
    if stream is not None:
        stream.track_user(account, 0, since_ms).get(timeout=ASK_TIMEOUT)
