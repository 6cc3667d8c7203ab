"""Fan-out of live events to browsers on `/api/ws`.

Actors publish from their own threads; each browser connection has a bounded asyncio queue on the
server's event loop. A browser that cannot keep up is disconnected instead of buffering forever,
and one user may hold only so many sockets: each costs a queue here and its topics upstream.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from hyperdesk.errors import DomainError

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000


@dataclass
class LiveConnection:
    id: int
    user_id: int
    queue: asyncio.Queue[dict[str, Any] | None]
    topics: set[str] = field(default_factory=set)
    overflowed: bool = False
    closed: bool = False


class LiveHub:
    """Thread-safe publisher side; connection bookkeeping happens on the event loop only."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connections: dict[int, LiveConnection] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def connect(self, user_id: int, max_per_user: int | None = None) -> LiveConnection:
        """Called on the event loop by the websocket route; raises ``TOO_MANY_SOCKETS`` when
        ``user_id`` already holds ``max_per_user`` connections."""
        self._loop = asyncio.get_running_loop()
        connection = LiveConnection(next(self._ids), user_id, asyncio.Queue(QUEUE_LIMIT))
        with self._lock:
            if max_per_user is not None:
                held = sum(1 for c in self._connections.values() if c.user_id == user_id)
                if held >= max_per_user:
                    raise DomainError(
                        f"At most {max_per_user} live connections per user; close one first.",
                        code="TOO_MANY_SOCKETS",
                    )
            self._connections[connection.id] = connection
        return connection

    def disconnect(self, connection: LiveConnection) -> None:
        connection.closed = True
        with self._lock:
            self._connections.pop(connection.id, None)

    def topic_has_listeners(self, topic: str) -> bool:
        with self._lock:
            return any(topic in c.topics for c in self._connections.values())

    def publish_topic(self, topic: str, message: dict[str, Any]) -> None:
        with self._lock:
            targets = [c for c in self._connections.values() if topic in c.topics]
        self._deliver(targets, message)

    def publish_user(self, user_id: int, message: dict[str, Any]) -> None:
        with self._lock:
            targets = [c for c in self._connections.values() if c.user_id == user_id]
        self._deliver(targets, message)

    def _deliver(self, targets: list[LiveConnection], message: dict[str, Any]) -> None:
        loop = self._loop
        if not targets or loop is None or loop.is_closed():
            return
        for connection in targets:
            loop.call_soon_threadsafe(_put, connection, message)


def _put(connection: LiveConnection, message: dict[str, Any]) -> None:
    if connection.overflowed:
        return
    try:
        connection.queue.put_nowait(message)
    except asyncio.QueueFull:
        connection.overflowed = True
        # Make room for the close marker so the sender loop ends the connection.
        while not connection.queue.empty():
            connection.queue.get_nowait()
        connection.queue.put_nowait(None)
