"""Websocket ``/ws``: Hyperliquid's subscription protocol on top of the engine's events.

Wire behaviour (protocol reference §7, §13.4):

* on connect the text frame ``Websocket connection established.``;
* ``{"method":"ping"}`` → ``{"channel":"pong"}``;
* ``{"method":"subscribe"|"unsubscribe","subscription":{…}}`` → ack on ``subscriptionResponse``
  echoing ``{method, subscription}``; errors on channel ``error`` with a string ``data``;
* ``{"method":"post","id":n,"request":{"type":"info"|"action","payload":{…}}}`` → channel ``post``;
* data frames ``{"channel": c, "data": d}`` carrying the routing fields the SDK dispatches on.

Threading: the engine calls our listener synchronously from whichever thread changed state. The
listener only hands the event to the event loop (``call_soon_threadsafe``) and returns. On the
loop the event is encoded once and put on each subscriber's bounded queue; a per-connection sender
task drains it. A client that lets its queue fill up is disconnected (close code 1008) instead of
making the server buffer without bound.

Answer first: the events of an ``/exchange`` action are held until that action's HTTP answer has
been sent (`WebsocketHub.answer_first`), and events after them wait their turn, so every client
still sees one order of events. Hyperliquid's API servers do not hold an answer while they push;
here the pushes shared the answer's event loop and GIL, so each subscriber of the acting user
made the answer later (by ~0.4 ms for one subscriber, `bench/api_orders.py`): a client that also
follows its own orders — the platform always does — measured a slower exchange than one that
does not.

Limits per client IP, as Hyperliquid's: connections, subscriptions, and distinct users across
user-specific subscriptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket, WebSocketState

if TYPE_CHECKING:
    from hyperdesk.paper.exchange import Event, PaperExchange
    from hyperdesk.paper.server import ProtocolCore

log = logging.getLogger(__name__)

CONNECTED_TEXT = "Websocket connection established."
SEND_QUEUE_SIZE = 2048
"""Frames buffered per connection before the client counts as too slow and is disconnected."""

_LEDGER = "userNonFundingLedgerUpdates"

CLOSE_POLICY = 1008  # too slow, over a limit
CLOSE_GOING_AWAY = 1001  # idle timeout, admin drop, shutdown

# subscription type -> (wire channel, fields that form the routing key, user-specific)
_SUBSCRIPTION_KINDS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "allMids": ("allMids", (), False),
    "l2Book": ("l2Book", ("coin",), False),
    "trades": ("trades", ("coin",), False),
    "bbo": ("bbo", ("coin",), False),
    "candle": ("candle", ("coin", "interval"), False),
    "userFills": ("userFills", ("user",), True),
    "orderUpdates": ("orderUpdates", ("user",), True),
    "userEvents": ("user", ("user",), True),
    "userNonFundingLedgerUpdates": ("userNonFundingLedgerUpdates", ("user",), True),
    "userFundings": ("userFundings", ("user",), True),
    # Derived: not engine events but views recomputed when something they show may have changed.
    "activeAssetCtx": ("activeAssetCtx", ("coin",), False),
    "activeAssetData": ("activeAssetData", ("user", "coin"), True),
    "clearinghouseState": ("clearinghouseState", ("user",), True),
}
_DERIVED_CHANNELS = frozenset({"activeAssetCtx", "activeAssetData", "clearinghouseState"})
# Engine events about one user (key = the user): they may change that user's derived views.
_USER_EVENT_CHANNELS = frozenset(
    {"userFills", "orderUpdates", "user", "userNonFundingLedgerUpdates", "userFundings"}
)
_VIEW_TRIGGERS = _USER_EVENT_CHANNELS | {"allMids", "l2Book"}


def _funding_deltas(entries: list[dict]) -> list[dict]:
    """``userFunding`` entries in the ``userFundings`` channel's shape (time inside, no hash)."""
    return [
        {"time": e["time"], **{k: v for k, v in e["delta"].items() if k != "type"}} for e in entries
    ]


class SubscriptionError(ValueError):
    """A subscribe/unsubscribe request that is answered on channel ``error``."""


@dataclass(frozen=True)
class Topic:
    """What a subscription listens to: an engine event ``(channel, key)``."""

    channel: str
    key: str | None
    user: str | None  # the user of a user-specific subscription (for the unique-user limit)
    params: tuple[tuple[str, int], ...] = ()  # l2Book aggregation (nSigFigs, mantissa)

    @property
    def derived(self) -> bool:
        """Recomputed from ``/info`` when it may have changed, rather than an engine event."""
        return self.channel in _DERIVED_CHANNELS or bool(self.params)


def _encode(channel: str, data: Any = None, *, with_data: bool = True) -> str:
    msg: dict[str, Any] = {"channel": channel}
    if with_data:
        msg["data"] = data
    return json.dumps(msg, separators=(",", ":"))


def _subscription_text(subscription: Any) -> str:
    return json.dumps(subscription, separators=(",", ":"))


def topic_of(subscription: Any) -> Topic:
    """Validate a subscription object and return its topic; ``SubscriptionError`` if invalid."""
    if not isinstance(subscription, dict) or subscription.get("type") not in _SUBSCRIPTION_KINDS:
        raise SubscriptionError(f"Invalid subscription {_subscription_text(subscription)}")
    channel, key_fields, user_specific = _SUBSCRIPTION_KINDS[subscription["type"]]
    parts = []
    for name in key_fields:
        value = subscription.get(name)
        if not isinstance(value, str) or not value:
            raise SubscriptionError(f"Invalid subscription {_subscription_text(subscription)}")
        parts.append(value.lower() if name == "user" else value)
    kind = subscription["type"]
    if kind in ("allMids", "clearinghouseState") and subscription.get("dex") not in (None, ""):
        raise SubscriptionError(f"Invalid subscription {_subscription_text(subscription)}")
    params: tuple[tuple[str, int], ...] = ()
    if kind == "l2Book":
        from hyperdesk.paper.info import InfoError, book_aggregation

        try:
            aggregation = book_aggregation(subscription)
        except InfoError:
            raise SubscriptionError(
                f"Invalid subscription {_subscription_text(subscription)}"
            ) from None
        if aggregation is not None:  # as given: the same request /info would answer
            params = (("nSigFigs", aggregation[0]),)
            if subscription.get("mantissa") is not None:
                params += (("mantissa", aggregation[1]),)
    key = ":".join(parts) if parts else None
    user = subscription["user"].lower() if user_specific else None
    return Topic(channel, key, user, params)


@dataclass(eq=False)
class Connection:
    websocket: WebSocket
    ip: str
    queue: asyncio.Queue[str | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=SEND_QUEUE_SIZE)
    )
    topics: dict[Topic, Any] = field(default_factory=dict)  # topic -> subscription as given
    last_derived: dict[Topic, str] = field(default_factory=dict)  # last frame of a derived topic
    # Topics whose snapshot is being fetched: live frames wait here so they follow the snapshot.
    pending: dict[Topic, list[str]] = field(default_factory=dict)
    closing: bool = False

    def push(self, text: str) -> bool:
        """Queue a frame; False if the client is too slow (queue full)."""
        if self.closing:
            return True
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            return False
        return True


class _Held:
    """The events of one action, kept back until its answer has been sent."""

    __slots__ = ("events", "queued", "released")

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.queued = False  # its place in the hub's backlog is taken (by its first event)
        self.released = False


#: Set around an action's engine call (the worker thread inherits it): where its events wait.
_HOLDING: ContextVar[_Held | None] = ContextVar("paper_answer_first", default=None)


class WebsocketHub:
    """All websocket connections of one server and the routing of engine events to them."""

    def __init__(self, exchange: PaperExchange, core: ProtocolCore) -> None:
        self.exchange = exchange
        self.core = core
        self.config = exchange.config
        self.loop: asyncio.AbstractEventLoop | None = None
        self._connections: set[Connection] = set()
        self._by_ip: dict[str, set[Connection]] = defaultdict(set)
        self._subscribers: dict[tuple[str, str | None], set[Connection]] = defaultdict(set)
        self._derived: dict[Topic, set[Connection]] = defaultdict(set)
        self._dirty: set[Topic] = set()
        self._refreshing = False
        self._listener_added = False
        # Events in the order the engine made them; a held action's events stop the line.
        self._backlog: deque[Event | _Held] = deque()

    # -- engine side -------------------------------------------------------------------------

    def attach_to_running_loop(self) -> None:
        """Bind to the server's event loop and start receiving engine events (call at startup)."""
        self.loop = asyncio.get_running_loop()
        if not self._listener_added:
            self.exchange.add_listener(self._on_engine_event)
            self._listener_added = True

    def _on_engine_event(self, event: Event) -> None:
        # Runs on the engine's thread: must stay cheap and never block.
        if (event.channel, event.key) not in self._subscribers and not (
            self._derived and event.channel in _VIEW_TRIGGERS
        ):
            return
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        item: Event | _Held = event
        held = _HOLDING.get()
        if held is not None:
            held.events.append(event)  # read on the loop only once released: after this call
            if held.queued:
                return
            held.queued = True
            item = held
        with contextlib.suppress(RuntimeError):  # loop shutting down
            loop.call_soon_threadsafe(self._arrive, item)

    @contextlib.contextmanager
    def answer_first(self) -> Iterator[Callable[[], None]]:
        """Hold the events of the engine calls made inside (on the loop, or in a worker thread
        started inside) until the returned release is called — after the answer is sent. Events
        made meanwhile by anything else queue behind them. An exception from inside releases them."""
        held = _Held()
        token = _HOLDING.set(held)

        def release() -> None:
            if not held.released:
                held.released = True
                self._drain()

        try:
            yield release
        except BaseException:
            release()
            raise
        finally:
            _HOLDING.reset(token)

    def _arrive(self, item: Event | _Held) -> None:
        self._backlog.append(item)
        self._drain()

    def _drain(self) -> None:
        backlog = self._backlog
        while backlog:
            head = backlog[0]
            if isinstance(head, _Held):
                if not head.released:
                    return
                backlog.popleft()
                for event in head.events:
                    self._dispatch(event)
            else:
                backlog.popleft()
                self._dispatch(head)

    def _dispatch(self, event: Event) -> None:
        if self._derived:
            self._mark_derived(event)
        subscribers = self._subscribers.get((event.channel, event.key))
        if not subscribers:
            return
        if event.channel == "trades" and not event.data:
            return  # the SDK cannot route an empty trades list
        text = _encode(event.channel, event.data)
        topic_key = (event.channel, event.key)
        for conn in list(subscribers):
            pending = next(
                (buf for t, buf in conn.pending.items() if (t.channel, t.key) == topic_key), None
            )
            if pending is not None:
                pending.append(text)
            elif not conn.push(text):
                self._disconnect_slow(conn)

    # -- derived topics ------------------------------------------------------------------------

    def _mark_derived(self, event: Event) -> None:
        """Note which derived views ``event`` may have changed and make sure a refresh runs."""
        if event.channel == "allMids":  # a tick or a price jump: every mark-dependent view
            affected = [t for t in self._derived if not t.params]
        elif event.channel == "l2Book":
            affected = [t for t in self._derived if t.params and t.key == event.key]
        elif event.channel in _USER_EVENT_CHANNELS:
            affected = [t for t in self._derived if t.user is not None and t.user == event.key]
        else:
            return
        if not affected:
            return
        self._dirty.update(affected)
        if not self._refreshing:
            self._refreshing = True
            asyncio.get_running_loop().create_task(self._refresh())

    async def _refresh(self) -> None:
        """Recompute dirty derived views (one at a time, so fast ticks coalesce) and push the
        ones whose frame changed."""
        try:
            while self._dirty:
                topics = list(self._dirty)
                self._dirty.clear()
                frames = await run_in_threadpool(self._derived_frames, topics)
                for topic, text in frames.items():
                    if text is None:
                        continue
                    for conn in list(self._derived.get(topic, ())):
                        self._push_derived(conn, topic, text)
        except Exception:
            log.exception("refreshing derived websocket views failed")
        finally:
            self._refreshing = False

    def _push_derived(self, conn: Connection, topic: Topic, text: str) -> None:
        if topic not in conn.topics or conn.last_derived.get(topic) == text:
            return
        conn.last_derived[topic] = text
        if not conn.push(text):
            self._disconnect_slow(conn)

    def _derived_frames(self, topics: list[Topic]) -> dict[Topic, str | None]:
        """Frames of derived topics (engine thread pool; each info call takes the lock)."""
        cache: dict[str, Any] = {}
        return {topic: self._derived_frame(topic, cache) for topic in topics}

    def _derived_frame(self, topic: Topic, cache: dict[str, Any]) -> str | None:
        info = self.exchange.info
        if topic.channel == "l2Book":
            book = info({"type": "l2Book", "coin": topic.key, **dict(topic.params)})
            return _encode("l2Book", book) if book else None
        if topic.channel == "clearinghouseState":
            state = info({"type": "clearinghouseState", "user": topic.user})
            return _encode(
                "clearinghouseState", {"dex": "", "user": topic.user, "clearinghouseState": state}
            )
        if topic.channel == "activeAssetData":
            _user, _, coin = (topic.key or "").partition(":")
            data = info({"type": "activeAssetData", "user": topic.user, "coin": coin})
            return _encode("activeAssetData", data)
        # activeAssetCtx: the coin's row of the (spot)metaAndAssetCtxs answer.
        if "perp" not in cache:
            cache["perp"] = info({"type": "metaAndAssetCtxs"})
            cache["spot"] = info({"type": "spotMetaAndAssetCtxs"})
        meta, ctxs = cache["perp"]
        for asset, ctx in zip(meta["universe"], ctxs, strict=False):
            if asset["name"] == topic.key:
                return _encode("activeAssetCtx", {"coin": topic.key, "ctx": ctx})
        for ctx in cache["spot"][1]:
            if ctx.get("coin") == topic.key:
                return _encode("activeSpotAssetCtx", {"coin": topic.key, "ctx": ctx})
        return None

    def _disconnect_slow(self, conn: Connection) -> None:
        log.info("closing slow websocket client %s", conn.ip)
        self._schedule_close(conn, CLOSE_POLICY, "client too slow")

    def _schedule_close(self, conn: Connection, code: int, reason: str) -> None:
        if conn.closing:
            return
        conn.closing = True
        # Wake the sender so it stops, then close the socket (which ends the receive loop).
        with contextlib.suppress(asyncio.QueueFull):
            conn.queue.put_nowait(None)
        asyncio.get_running_loop().create_task(self._close(conn, code, reason))

    async def _close(self, conn: Connection, code: int, reason: str) -> None:
        if conn.websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await conn.websocket.close(code=code, reason=reason)

    # -- admin -------------------------------------------------------------------------------

    def connection_count(self) -> int:
        return len(self._connections)

    def subscription_count(self) -> int:
        """Active subscriptions over all connections (tests use it as a "subscribed" barrier)."""
        return sum(len(c.topics) for c in list(self._connections))

    async def drop_all(self) -> int:
        """Close every websocket (clients see a server-side disconnect); returns how many."""
        conns = list(self._connections)
        for conn in conns:
            conn.closing = True
            with contextlib.suppress(asyncio.QueueFull):
                conn.queue.put_nowait(None)
        await asyncio.gather(
            *(self._close(c, CLOSE_GOING_AWAY, "dropped by server") for c in conns),
            return_exceptions=True,
        )
        return len(conns)

    # -- connection lifecycle ----------------------------------------------------------------

    async def endpoint(self, websocket: WebSocket) -> None:
        ip = websocket.client.host if websocket.client else "unknown"
        if len(self._by_ip[ip]) >= self.config.ws_max_connections:
            # Refuse the handshake (HTTP 403) rather than accept and drop.
            await websocket.close(code=CLOSE_POLICY)
            return
        conn = Connection(websocket, ip)
        self._connections.add(conn)
        self._by_ip[ip].add(conn)
        try:
            await websocket.accept()
            await websocket.send_text(CONNECTED_TEXT)
            sender = asyncio.create_task(self._sender(conn))
            try:
                await self._receiver(conn)
            finally:
                conn.closing = True
                with contextlib.suppress(asyncio.QueueFull):
                    conn.queue.put_nowait(None)
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sender
        finally:
            self._forget(conn)

    def _forget(self, conn: Connection) -> None:
        self._connections.discard(conn)
        self._by_ip[conn.ip].discard(conn)
        if not self._by_ip[conn.ip]:
            del self._by_ip[conn.ip]
        for topic in list(conn.topics):
            self._unindex(conn, topic)
        conn.topics.clear()

    async def _sender(self, conn: Connection) -> None:
        while True:
            text = await conn.queue.get()
            if text is None:
                return
            try:
                await conn.websocket.send_text(text)
            except Exception:  # the client went away; the receiver will notice too
                return

    async def _receiver(self, conn: Connection) -> None:
        idle = self.config.ws_idle_timeout_s
        while not conn.closing:
            try:
                message = await asyncio.wait_for(conn.websocket.receive(), timeout=idle)
            except TimeoutError:
                log.info("closing idle websocket client %s", conn.ip)
                conn.closing = True
                await self._close(conn, CLOSE_GOING_AWAY, "idle timeout")
                return
            except Exception:  # socket already closed under us (drop hook, shutdown)
                return
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = message["bytes"].decode("utf-8", "replace")
            if text is not None:
                await self._handle(conn, text)

    # -- client messages -----------------------------------------------------------------------

    async def _handle(self, conn: Connection, text: str) -> None:
        try:
            msg = json.loads(text)
        except json.JSONDecodeError:
            conn.push(_encode("error", f"Invalid message: {text[:200]}"))
            return
        method = msg.get("method") if isinstance(msg, dict) else None
        if method == "ping":
            conn.push(_encode("pong", with_data=False))
        elif method in ("subscribe", "unsubscribe"):
            subscription = msg.get("subscription")
            try:
                if method == "subscribe":
                    await self._subscribe(conn, subscription)
                else:
                    self._unsubscribe(conn, subscription)
            except SubscriptionError as exc:
                conn.push(_encode("error", str(exc)))
        elif method == "post":
            await self._post(conn, msg)
        else:
            conn.push(_encode("error", f"Invalid message: {text[:200]}"))

    def _ip_subscription_count(self, ip: str) -> int:
        return sum(len(c.topics) for c in self._by_ip.get(ip, ()))

    def _ip_users(self, ip: str) -> set[str]:
        return {t.user for c in self._by_ip.get(ip, ()) for t in c.topics if t.user is not None}

    async def _subscribe(self, conn: Connection, subscription: Any) -> None:
        topic = topic_of(subscription)
        if topic in conn.topics:
            raise SubscriptionError(f"Already subscribed: {_subscription_text(subscription)}")
        limit = self.config.ws_max_subscriptions
        if self._ip_subscription_count(conn.ip) >= limit:
            raise SubscriptionError(f"Cannot track more than {limit} total subscriptions.")
        if topic.user is not None:
            users = self._ip_users(conn.ip)
            max_users = self.config.ws_max_users
            if topic.user not in users and len(users) >= max_users:
                raise SubscriptionError(f"Cannot track more than {max_users} total users.")
        if topic.derived:
            await self._subscribe_derived(conn, topic, subscription)
            return
        conn.topics[topic] = subscription
        self._subscribers[(topic.channel, topic.key)].add(conn)
        conn.push(
            _encode("subscriptionResponse", {"method": "subscribe", "subscription": subscription})
        )
        await self._send_snapshot(conn, topic)

    async def _subscribe_derived(self, conn: Connection, topic: Topic, subscription: Any) -> None:
        """Compute the first frame before acking: a coin or user the view cannot be made for
        is an invalid subscription, not a silent one."""
        from hyperdesk.paper.info import InfoError

        try:
            text = (await run_in_threadpool(self._derived_frames, [topic]))[topic]
        except InfoError:
            text = None
        if text is None:
            raise SubscriptionError(f"Invalid subscription {_subscription_text(subscription)}")
        if topic in conn.topics:  # subscribed twice concurrently
            raise SubscriptionError(f"Already subscribed: {_subscription_text(subscription)}")
        conn.topics[topic] = subscription
        self._derived[topic].add(conn)
        conn.push(
            _encode("subscriptionResponse", {"method": "subscribe", "subscription": subscription})
        )
        self._push_derived(conn, topic, text)

    async def _send_snapshot(self, conn: Connection, topic: Topic) -> None:
        """First frame(s) of a subscription, if the channel has one (then buffered live frames)."""
        if topic.channel not in ("userFills", "l2Book", "allMids", "bbo", _LEDGER, "userFundings"):
            return
        conn.pending[topic] = []
        try:
            data = await run_in_threadpool(self._snapshot_data, topic)
        except Exception:
            log.exception("snapshot for %s failed", topic)
            data = None
        buffered = conn.pending.pop(topic, [])
        if topic not in conn.topics:  # unsubscribed meanwhile
            return
        frames = ([_encode(topic.channel, data)] if data is not None else []) + buffered
        for text in frames:
            if not conn.push(text):
                self._disconnect_slow(conn)
                return

    def _snapshot_data(self, topic: Topic) -> Any:
        info = self.exchange.info
        if topic.channel == "userFills":
            fills = info({"type": "userFills", "user": topic.key})
            return {"isSnapshot": True, "user": topic.key, "fills": fills}
        if topic.channel == "allMids":
            return {"mids": info({"type": "allMids"})}
        if topic.channel == "userFundings":
            return {"isSnapshot": True, "user": topic.key, "fundings": _funding_deltas(
                info({"type": "userFunding", "user": topic.key, "startTime": 0}))}  # fmt: skip
        if topic.channel == _LEDGER:
            updates = info({"type": _LEDGER, "user": topic.key, "startTime": 0})
            return {"isSnapshot": True, "user": topic.key, "nonFundingLedgerUpdates": updates}
        book = info({"type": "l2Book", "coin": topic.key})
        if not book:
            return None
        if topic.channel == "l2Book":
            return book
        bids, asks = book["levels"]
        return {
            "coin": book["coin"],
            "time": book["time"],
            "bbo": [bids[0] if bids else None, asks[0] if asks else None],
        }

    def _unsubscribe(self, conn: Connection, subscription: Any) -> None:
        topic = topic_of(subscription)
        if topic not in conn.topics:
            raise SubscriptionError(f"Already unsubscribed: {_subscription_text(subscription)}")
        self._unindex(conn, topic)
        del conn.topics[topic]
        conn.pending.pop(topic, None)
        conn.push(
            _encode("subscriptionResponse", {"method": "unsubscribe", "subscription": subscription})
        )

    def _unindex(self, conn: Connection, topic: Topic) -> None:
        conn.last_derived.pop(topic, None)
        if topic.derived:
            derived = self._derived.get(topic)
            if derived is not None:
                derived.discard(conn)
                if not derived:
                    del self._derived[topic]
                    self._dirty.discard(topic)
            return
        index_key = (topic.channel, topic.key)
        subscribers = self._subscribers.get(index_key)
        if subscribers is not None:
            subscribers.discard(conn)
            if not subscribers:
                del self._subscribers[index_key]

    async def _post(self, conn: Connection, msg: dict[str, Any]) -> None:
        """Websocket post requests (§7.4): an info request or a signed action."""
        from hyperdesk.paper.server import MalformedRequest

        request_id = msg.get("id")
        request = msg.get("request")
        kind = request.get("type") if isinstance(request, dict) else None
        payload = request.get("payload") if isinstance(request, dict) else None
        try:
            if kind == "info":
                if not isinstance(payload, dict):  # what ProtocolCore.info raises for it too
                    raise MalformedRequest("missing field `type`")
                data = await run_in_threadpool(self.core.info, payload)
                response = {
                    "type": "info",
                    "payload": {"type": payload.get("type"), "data": data},
                }
            elif kind == "action":
                result = await run_in_threadpool(self.core.execute, payload)
                response = {"type": "action", "payload": result}
            else:
                response = {"type": "error", "payload": "Invalid post request type"}
        except MalformedRequest as exc:
            response = {"type": "error", "payload": f"422 Unprocessable Entity: {exc}"}
        except Exception:
            log.exception("websocket post request failed")
            response = {"type": "error", "payload": "500 Internal Server Error"}
        conn.push(_encode("post", {"id": request_id, "response": response}))
