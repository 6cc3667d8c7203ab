"""MarketStreamActor: one network's websocket, shared by every subscriber, plus user-fill tracking.

One actor per network. It owns:

- one ``WsClient`` connection (the *market connection*) carrying every market subscription
  (``allMids``, ``l2Book``, ``trades``, ``bbo``, ``candle``, ``activeAssetCtx``) and the
  ``userFills`` subscription of each websocket-mode user. Several subscribers of one subscription
  share one upstream subscription (ref-counted: unsubscribed upstream when the last one leaves);
- when an ``order_updates_sink`` is given, one extra ``WsClient`` per websocket-mode user carrying
  that user's ``orderUpdates``. Hyperliquid's ``orderUpdates`` messages do not name the user
  (protocol reference §7.6: the SDK refuses a second ``orderUpdates`` per connection for this
  reason), so on a shared socket two users' updates could not be told apart. The user still
  counts once against the 10-user budget; connections are far from their limit of 100;
- the user budget: at most ``max_ws_users`` distinct users get websocket subscriptions — the
  highest ``priority`` first (ties: tracked earlier wins, so equal priorities do not flap). The
  rest are polled with ``userFillsByTime`` (from their last recorded fill time) and
  ``frontendOpenOrders`` every ``poll_interval`` seconds within a request-weight budget
  (``poll_weight_per_minute``, a token bucket), oldest poll first;
- the subscription budget: the exchange allows ``max_subscriptions`` per IP. ``USER_SUBSCRIPTIONS``
  of them are kept for each of the ``max_ws_users`` and market subscriptions get the rest; past
  that, ``subscribe`` raises ``SubscriptionBudgetFull`` instead of sending a subscription the
  exchange would refuse (or that would make it refuse a user's);
- honest modes: ``user_modes`` says ``websocket`` only while a user's subscriptions are
  acknowledged (or just sent); a refused or lost one makes it ``polling``, and it is polled;
- gap handling: after the market connection reconnects, every websocket-mode user's fills are
  backfilled with ``userFillsByTime`` from the gap start minus ``backfill_margin_ms``. Until a
  user's ``userFills`` subscription is acknowledged (after a connect, a reconnect, a promotion or
  a rejection such as ``Cannot track more than 10 total users``), that user is also polled, so no
  window is left uncovered.

Delivery upward (all called/told from the actor's thread):

- ``fills_sink(account: str, fills: tuple[Fill, ...])`` — a callable that *records* the fills:
  returning means they are stored, raising means they are not. Only recorded fills count as seen
  (same tid for the account, remembered for the last ``seen_tids_per_user`` fills) and are
  filtered out of later snapshots, backfills and poll overlaps; fills the sink refused are kept
  and offered again with backoff (``sink_retry_base`` doubling up to ``sink_retry_cap``), together
  with any that arrive meanwhile. The sink must dedupe on ``(account, tid)``: a restart forgets
  what was seen, and a retry may repeat a batch whose failure came after it was stored.
- ``fills_stored_through(account: str, time_ms: int)`` — told the newest time up to which every
  fill received for ``account`` was recorded (never past a fill still waiting for a retry, nor
  past the start of a backfill still owed), so its caller can keep a durable high-water mark to
  resume from after a restart. A failure is retried like a refused batch.
- ``order_updates_sink(message)`` — a callable receiving ``OrderUpdates`` (websocket pushes) or
  ``OpenOrdersSnapshot`` (from polling or after an order connection (re)opened; only sent when
  it changed).
- market data: a subscriber is an ``ActorRef`` (told a ``StreamData``) or a callable taking a
  ``StreamData`` (called on the actor thread; must not block or ask this actor).

The websocket threads, the poll ticker and the fetch workers never touch actor state: they
``tell`` private messages to the actor. ``info_fetcher(body) -> Any`` is called only on fetch
worker threads, never on the actor thread, so a slow REST call never stalls the stream.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import pykka

from hyperdesk.exchange.models import Fill
from hyperdesk.exchange.ws_client import (
    Backoff,
    WsClient,
    WsConnected,
    WsDisconnected,
    WsEvent,
    WsMessage,
    WsReconnected,
    subscription_key,
)

logger = logging.getLogger(__name__)

UserMode = Literal["websocket", "polling"]
MARKET_TYPES = frozenset({"allMids", "l2Book", "trades", "bbo", "candle", "activeAssetCtx"})
USER_TYPES = frozenset({"userFills", "orderUpdates", "userEvents"})
USER_LIMIT_ERROR = "Cannot track more than"
MAIN = "market"
#: Upstream subscriptions kept free per websocket user (one per user channel), so market topics
#: can never crowd out a user's fills or order updates.
USER_SUBSCRIPTIONS = len(USER_TYPES)


class SubscriptionBudgetFull(RuntimeError):
    """A new upstream market subscription would eat into the room kept for user data."""


# Weights of the polled info requests (protocol reference §11): 20 each, plus per 20 items.
FILLS_WEIGHT = 20
OPEN_ORDERS_WEIGHT = 20


# --- messages going up (immutable values) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamData:
    """One pushed market message for subscription ``subscription_id``; ``data`` is frozen JSON
    (mappings are ``MappingProxyType``, lists are tuples) shared by all subscribers."""

    subscription_id: int
    channel: str
    data: Any


@dataclass(frozen=True, slots=True)
class OrderUpdates:
    """``orderUpdates`` pushed for ``account``: frozen ``{"order", "status", "statusTimestamp"}``."""

    account: str
    updates: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class OpenOrdersSnapshot:
    """``account``'s open orders (``frontendOpenOrders`` elements, frozen) as of ``at_ms``."""

    account: str
    orders: tuple[Mapping[str, Any], ...]
    at_ms: int


# --- private messages (other threads → actor) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class _WsEventMsg:
    connection: str  # MAIN or the user address of an order connection
    event: WsEvent


@dataclass(frozen=True, slots=True)
class _Tick:
    pass


@dataclass(frozen=True, slots=True)
class _FetchDone:
    account: str
    kind: Literal["fills", "open_orders"]
    purpose: Literal["poll", "backfill", "refresh"]
    result: tuple[Any, ...] | None
    error: str | None
    started_ms: int
    from_ms: int = 0


# --- helpers -----------------------------------------------------------------------------------


def freeze(value: Any) -> Any:
    """Parsed JSON → an immutable equivalent (dict → MappingProxyType, list → tuple)."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def route_key(subscription: Mapping[str, Any]) -> str:
    """The key under which messages of a subscription are routed (like the SDK's identifier)."""
    kind = subscription.get("type")
    if kind == "allMids":
        return "allMids"
    if kind in ("l2Book", "trades", "bbo", "activeAssetCtx"):
        return f"{kind}:{str(subscription['coin']).lower()}"
    if kind == "candle":
        return f"candle:{str(subscription['coin']).lower()},{subscription['interval']}"
    if kind in ("userFills", "orderUpdates"):
        return f"{kind}:{str(subscription['user']).lower()}"
    return f"other:{subscription_key(subscription)}"


def message_route_key(message: Mapping[str, Any]) -> str | None:
    """The route key of a pushed message, or None if it cannot be routed."""
    channel = message.get("channel")
    data: Any = message.get("data")  # untyped JSON payload; bad shapes are caught below
    try:
        if channel == "allMids":
            return "allMids"
        if channel in ("l2Book", "bbo"):
            return f"{channel}:{data['coin'].lower()}"
        if channel in ("activeAssetCtx", "activeSpotAssetCtx"):
            return f"activeAssetCtx:{data['coin'].lower()}"
        if channel == "trades":
            return f"trades:{data[0]['coin'].lower()}" if data else None
        if channel == "candle":
            return f"candle:{data['s'].lower()},{data['i']}"
        if channel == "userFills":
            return f"userFills:{data['user'].lower()}"
    except (KeyError, TypeError, AttributeError, IndexError):
        logger.warning("unroutable %s message: %.200r", channel, message)
    return None


def fetch_fills_since(
    fetch: Callable[[dict[str, Any]], Any],
    user: str,
    start_ms: int,
    *,
    page_size: int = 500,
    max_pages: int = 20,
) -> list[dict[str, Any]]:
    """All of ``user``'s fills with time ≥ ``start_ms`` via ``userFillsByTime``, paginating.

    Pages may overlap (the next page starts at the newest time seen); callers dedupe on tid.
    """
    fills: list[dict[str, Any]] = []
    start = start_ms
    for _ in range(max_pages):
        page = fetch({"type": "userFillsByTime", "user": user, "startTime": start})
        if not isinstance(page, list):
            raise TypeError(f"userFillsByTime returned {type(page).__name__}, not a list")
        fills.extend(page)
        if len(page) < page_size:
            break
        newest = max(int(f["time"]) for f in page)
        if newest <= start:
            break  # a page full of one millisecond; cannot page further by time
        start = newest
    return fills


@dataclass
class _User:
    """Actor-thread-only state of one tracked user."""

    address: str
    priority: int
    seq: int
    since_ms: int
    mode: UserMode = "polling"
    last_fill_ms: int | None = None
    fills_acked: bool = False
    orders_acked: bool = False
    ws_since_mono: float = 0.0
    last_resubscribe_mono: float = 0.0
    last_poll_mono: float = float("-inf")
    poll_in_flight: bool = False
    seen_order: deque[int] = field(default_factory=deque)
    seen: set[int] = field(default_factory=set)
    open_orders: tuple[Mapping[str, Any], ...] | None = None
    # Fill durability: received but not yet recorded (the sink failed), keyed by tid.
    unstored: dict[int, Fill] = field(default_factory=dict)
    store_failures: int = 0
    store_retry_mono: float = 0.0
    # A backfill still owed from this time (a gap, or fills dropped from a full ``unstored``).
    refetch_from_ms: int | None = None
    refetch_in_flight: int = 0
    refetch_due_mono: float = 0.0
    # The high-water mark last reported to ``fills_stored_through``.
    stored_through_ms: int | None = None


@dataclass
class _Upstream:
    subscription: dict[str, Any]
    subscribers: dict[int, Any] = field(default_factory=dict)


class MarketStreamActor(pykka.ThreadingActor):
    """See the module docstring. Public methods are called through a proxy (``ask`` with a
    timeout for commands); they run on the actor thread."""

    def __init__(
        self,
        base_url: str,
        info_fetcher: Callable[[dict[str, Any]], Any],
        *,
        fills_sink: Callable[[str, tuple[Fill, ...]], Any] | None = None,
        order_updates_sink: Callable[[OrderUpdates | OpenOrdersSnapshot], Any] | None = None,
        fills_stored_through: Callable[[str, int], Any] | None = None,
        sink_retry_base: float = 0.5,
        sink_retry_cap: float = 30.0,
        max_ws_users: int = 10,
        max_subscriptions: int = 1000,
        poll_interval: float = 5.0,
        poll_weight_per_minute: float = 300.0,
        ack_grace: float = 5.0,
        backfill_margin_ms: int = 5_000,
        poll_overlap_ms: int = 2_000,
        seen_tids_per_user: int = 5_000,
        ping_interval: float = 50.0,
        backoff: Backoff | None = None,
        clock_ms: Callable[[], int] | None = None,
        fetch_workers: int = 2,
        before_frame: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self._base_url = base_url
        self._fetch = info_fetcher
        self._fills_sink = fills_sink
        self._order_sink = order_updates_sink
        self._stored_through = fills_stored_through
        self._sink_retry_base = sink_retry_base
        self._sink_retry_cap = sink_retry_cap
        self._max_ws_users = max_ws_users
        # Market topics get what is left after every possible websocket user's channels.
        self._market_budget = max(0, max_subscriptions - USER_SUBSCRIPTIONS * max_ws_users)
        self._poll_interval = poll_interval
        self._weight_per_s = poll_weight_per_minute / 60.0
        self._bucket_capacity = max(
            float(FILLS_WEIGHT + OPEN_ORDERS_WEIGHT), poll_weight_per_minute / 6
        )
        self._tokens = self._bucket_capacity
        self._tokens_at = time.monotonic()
        self._ack_grace = ack_grace
        self._backfill_margin_ms = backfill_margin_ms
        self._poll_overlap_ms = poll_overlap_ms
        self._seen_limit = seen_tids_per_user
        self._ping_interval = ping_interval
        self._backoff = backoff
        self._clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self._fetch_workers = fetch_workers
        self._before_frame = before_frame

        self._client: WsClient | None = None
        self._order_clients: dict[str, WsClient] = {}
        self._upstreams: dict[str, _Upstream] = {}  # subscription_key → upstream
        self._sub_ids: dict[int, str] = {}  # subscription id → subscription_key
        self._next_id = 1
        self._acked: set[str] = set()  # route keys acknowledged on the current connection
        self._users: dict[str, _User] = {}
        self._next_seq = 0
        self._reconnects = 0
        self._executor: ThreadPoolExecutor | None = None
        self._ticker_stop = threading.Event()
        self._ticker: threading.Thread | None = None

    # --- lifecycle (actor thread) ---------------------------------------------------------

    def on_start(self) -> None:
        self._executor = ThreadPoolExecutor(self._fetch_workers, thread_name_prefix="md-fetch")
        self._client = self._new_client(MAIN)
        self._client.start()
        tick = max(0.02, min(1.0, self._poll_interval / 4))
        self._ticker = threading.Thread(
            target=self._tick_loop, args=(tick,), name="md-ticker", daemon=True
        )
        self._ticker.start()

    def on_stop(self) -> None:
        self._shutdown()

    def on_failure(self, *_exc: object) -> None:
        self._shutdown()

    def _shutdown(self) -> None:
        self._ticker_stop.set()
        for client in self._order_clients.values():
            client.stop()
        self._order_clients.clear()
        if self._client is not None:
            self._client.stop()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        if self._ticker is not None:
            self._ticker.join(2.0)

    # --- public API: market subscriptions -------------------------------------------------

    def subscribe(self, subscription: dict[str, Any], subscriber: Any) -> int:
        """Subscribe ``subscriber`` (an ``ActorRef`` or a callable) to a market subscription.

        Returns the subscription id for ``unsubscribe``. Subscribers of an identical subscription
        share one upstream subscription. User channels are not subscribed here: use
        ``track_user`` (their data goes to the sinks, whatever the user's mode). Raises
        ``SubscriptionBudgetFull`` rather than open an upstream subscription beyond the market
        budget: the exchange would refuse it (or a user's later) and nothing would arrive.
        """
        kind = subscription.get("type")
        if kind in USER_TYPES:
            raise ValueError(f"{kind} is a user channel: use track_user(address, priority)")
        if kind not in MARKET_TYPES:
            raise ValueError(f"unsupported subscription type: {kind!r}")
        if kind == "l2Book" and ({"nSigFigs", "mantissa"} & subscription.keys()):
            raise ValueError("l2Book aggregation (nSigFigs/mantissa) is not supported")
        if not (isinstance(subscriber, pykka.ActorRef) or callable(subscriber)):
            raise TypeError("subscriber must be an ActorRef or a callable")
        key = subscription_key(subscription)
        upstream = self._upstreams.get(key)
        if upstream is None:
            if len(self._upstreams) >= self._market_budget:
                raise SubscriptionBudgetFull(
                    f"all {self._market_budget} market subscriptions are in use"
                )
            upstream = _Upstream(dict(subscription))
            self._upstreams[key] = upstream
            assert self._client is not None
            self._client.subscribe(upstream.subscription)
        sub_id = self._next_id
        self._next_id += 1
        upstream.subscribers[sub_id] = subscriber
        self._sub_ids[sub_id] = key
        return sub_id

    def unsubscribe(self, subscription_id: int) -> bool:
        """Remove one subscriber; the upstream subscription ends with its last subscriber."""
        key = self._sub_ids.pop(subscription_id, None)
        if key is None:
            return False
        upstream = self._upstreams[key]
        upstream.subscribers.pop(subscription_id, None)
        if not upstream.subscribers:
            del self._upstreams[key]
            self._acked.discard(route_key(upstream.subscription))
            assert self._client is not None
            self._client.unsubscribe(upstream.subscription)
        return True

    # --- public API: users ----------------------------------------------------------------

    def track_user(self, address: str, priority: int = 0, since_ms: int | None = None) -> UserMode:
        """Track ``address``'s fills (and order updates); set its priority if already tracked.

        Higher priority wins a websocket slot (give wallets with running bots a higher one).
        ``since_ms`` (the account's stored high-water mark) is where polling starts when
        no fill was seen yet; default: now minus the backfill margin. Returns the user's mode.
        """
        address = address.lower()
        user = self._users.get(address)
        if user is None:
            since = since_ms if since_ms is not None else self._clock_ms()
            user = _User(address, priority, self._next_seq, since - self._backfill_margin_ms)
            user.stored_through_ms = since_ms
            self._next_seq += 1
            self._users[address] = user
        else:
            user.priority = priority
        self._rebalance()
        return self._reported_mode(user, time.monotonic())

    def untrack_user(self, address: str) -> bool:
        """Stop tracking ``address``; a polled user may take its websocket slot."""
        user = self._users.pop(address.lower(), None)
        if user is None:
            return False
        if user.mode == "websocket":
            self._demote(user)
        self._rebalance()
        return True

    def user_modes(self) -> dict[str, UserMode]:
        """``{address: "websocket" | "polling"}`` for every tracked user: how its data really
        arrives, not which slot it was given (see ``_streams``)."""
        now = time.monotonic()
        return {a: self._reported_mode(u, now) for a, u in self._users.items()}

    def _reported_mode(self, user: _User, now: float) -> UserMode:
        return "websocket" if self._streams(user, now) else "polling"

    def _streams(self, user: _User, now: float) -> bool:
        """Whether ``user``'s data arrives by websocket: it holds a slot and the exchange
        acknowledged its subscriptions, or they were (re)sent less than ``ack_grace`` ago (the
        snapshot on acknowledgement covers that wait). A subscription refused (the exchange's
        user or subscription limit) or lost (disconnect) makes it a polled user until acked."""
        if user.mode != "websocket":
            return False
        acked = user.fills_acked and (self._order_sink is None or user.orders_acked)
        return acked or now - user.ws_since_mono < self._ack_grace

    def status(self) -> dict[str, Any]:
        """A snapshot for status pages and tests: connection, acks, reconnects, user modes."""
        return {
            "connected": bool(self._client and self._client.connected),
            "acked": sorted(self._acked),
            "reconnects": self._reconnects,
            "subscriptions": len(self._upstreams),
            "market_budget": self._market_budget,
            "users": self.user_modes(),
        }

    # --- budget ---------------------------------------------------------------------------

    def _rebalance(self) -> None:
        ranked = sorted(self._users.values(), key=lambda u: (-u.priority, u.seq))
        wanted = {u.address for u in ranked[: self._max_ws_users]}
        # Demote first so the server never sees more than the limit.
        for user in ranked:
            if user.mode == "websocket" and user.address not in wanted:
                self._demote(user)
        for user in ranked:
            if user.mode == "polling" and user.address in wanted:
                self._promote(user)

    def _promote(self, user: _User) -> None:
        logger.info("user %s → websocket", user.address)
        user.mode = "websocket"
        user.fills_acked = False
        user.orders_acked = False
        user.ws_since_mono = user.last_resubscribe_mono = time.monotonic()
        assert self._client is not None
        self._client.subscribe({"type": "userFills", "user": user.address})
        if self._order_sink is not None:
            client = self._new_client(user.address)
            client.subscribe({"type": "orderUpdates", "user": user.address})
            self._order_clients[user.address] = client
            client.start()

    def _demote(self, user: _User) -> None:
        logger.info("user %s → polling", user.address)
        user.mode = "polling"
        user.fills_acked = False
        assert self._client is not None
        self._client.unsubscribe({"type": "userFills", "user": user.address})
        self._acked.discard(f"userFills:{user.address}")
        client = self._order_clients.pop(user.address, None)
        if client is not None:
            client.stop()

    # --- messages from other threads ------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, _WsEventMsg):
            self._on_ws_event(message.connection, message.event)
        elif isinstance(message, _Tick):
            self._on_tick()
        elif isinstance(message, _FetchDone):
            self._on_fetch_done(message)
        else:
            logger.warning("MarketStreamActor ignored %r", message)
        return None

    def _on_ws_event(self, connection: str, event: WsEvent) -> None:
        if connection != MAIN:
            self._on_order_connection_event(connection, event)
            return
        if isinstance(event, WsMessage):
            self._on_message(event.message)
        elif isinstance(event, WsDisconnected):
            logger.warning("market stream disconnected: %s", event.reason)
            self._acked.clear()
            for user in self._users.values():
                user.fills_acked = False
        elif isinstance(event, WsReconnected):
            self._reconnects += 1
            logger.info(
                "market stream reconnected after a gap from %d to %d ms",
                event.gap_start_ms,
                event.gap_end_ms,
            )
            start = event.gap_start_ms - self._backfill_margin_ms
            for user in self._users.values():
                if user.mode == "websocket":
                    user.ws_since_mono = user.last_resubscribe_mono = time.monotonic()
                    self._owe_backfill(user, start)
        elif isinstance(event, WsConnected):
            logger.info("market stream connected to %s", event.url)

    def _on_order_connection_event(self, address: str, event: WsEvent) -> None:
        user = self._users.get(address)
        if user is None or self._order_clients.get(address) is None:
            return  # a late event from a connection closed on demotion
        if isinstance(event, WsMessage):
            msg = event.message
            if msg.get("channel") == "orderUpdates" and isinstance(msg.get("data"), list):
                if self._order_sink is not None and msg["data"]:
                    self._order_sink(OrderUpdates(address, freeze(msg["data"])))
            elif msg.get("channel") == "subscriptionResponse":
                data = msg.get("data") or {}
                user.orders_acked = data.get("method") == "subscribe"
            elif msg.get("channel") == "error":
                logger.warning("order stream for %s: %s", address, msg.get("data"))
        elif isinstance(event, WsDisconnected):
            user.orders_acked = False
        elif isinstance(event, WsConnected | WsReconnected):
            # Whatever changed while it was not subscribed: one snapshot of the open orders.
            self._submit(user, "open_orders", "refresh", 0)

    def _on_message(self, message: dict[str, Any]) -> None:
        channel = message.get("channel")
        data = message.get("data")
        if channel == "subscriptionResponse":
            self._on_ack(data)
            return
        if channel == "error":
            self._on_error(data)
            return
        if channel == "userFills":
            self._on_user_fills(data)
            return
        key = message_route_key(message)
        if key is None:
            return
        frozen = None
        for upstream in self._upstreams.values():
            if route_key(upstream.subscription) != key:
                continue
            if frozen is None:
                frozen = freeze(data)
            for sub_id, subscriber in list(upstream.subscribers.items()):
                self._deliver(subscriber, StreamData(sub_id, str(channel), frozen))

    def _deliver(self, subscriber: Any, data: StreamData) -> None:
        try:
            if isinstance(subscriber, pykka.ActorRef):
                subscriber.tell(data)
            else:
                subscriber(data)
        except pykka.ActorDeadError:
            logger.info("subscriber %s is dead; dropping its subscription", data.subscription_id)
            self.unsubscribe(data.subscription_id)
        except Exception:
            logger.exception("subscriber %s failed", data.subscription_id)

    def _on_ack(self, data: Any) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("subscription"), dict):
            return
        key = route_key(data["subscription"])
        if data.get("method") == "unsubscribe":
            self._acked.discard(key)
            return
        self._acked.add(key)
        if key.startswith("userFills:"):
            user = self._users.get(key.split(":", 1)[1])
            if user is not None and user.mode == "websocket":
                user.fills_acked = True

    def _on_error(self, data: Any) -> None:
        text = str(data)
        if text.startswith(("Already subscribed", "Already unsubscribed")):
            logger.debug("market stream: %s", text)
            return
        # e.g. "Cannot track more than 10 total users." — the user stays unacked and is polled.
        logger.warning("market stream error: %s", text)

    def _on_user_fills(self, data: Any) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("user"), str):
            return
        user = self._users.get(data["user"].lower())
        if user is None:
            return  # a late message for a user no longer tracked
        self._accept_fills(user, data.get("fills") or [])

    # --- fills ------------------------------------------------------------------------------

    def _accept_fills(self, user: _User, raw_fills: Any) -> None:
        for raw in raw_fills:
            try:
                fill = Fill.from_wire(user.address, raw)
            except (KeyError, TypeError, ValueError, ArithmeticError):
                logger.warning("dropped a malformed fill for %s: %.200r", user.address, raw)
                continue
            if fill.tid not in user.seen:
                user.unstored[fill.tid] = fill
        # While the sink is failing, new fills wait for the next retry instead of hammering it.
        if user.store_failures == 0 or time.monotonic() >= user.store_retry_mono:
            self._store_fills(user)
        else:
            self._limit_unstored(user)

    def _store_fills(self, user: _User) -> None:
        """Offer every unrecorded fill to the sink; mark seen only what it recorded."""
        batch = tuple(sorted(user.unstored.values(), key=lambda f: (f.time_ms, f.tid)))
        try:
            if batch and self._fills_sink is not None:
                self._fills_sink(user.address, batch)
            for fill in batch:
                del user.unstored[fill.tid]
                self._mark_seen(user, fill)
            self._report_stored_through(user)
        except Exception:
            user.store_failures += 1
            delay = min(
                self._sink_retry_cap, self._sink_retry_base * 2 ** (user.store_failures - 1)
            )
            user.store_retry_mono = time.monotonic() + delay
            logger.warning(
                "could not record the fills of %s (%d waiting, attempt %d); retrying in %.1fs",
                user.address,
                len(user.unstored),
                user.store_failures,
                delay,
                exc_info=True,
            )
            self._limit_unstored(user)
            return
        if user.store_failures:
            logger.info(
                "recorded the fills of %s after %d failures", user.address, user.store_failures
            )
        user.store_failures = 0

    def _mark_seen(self, user: _User, fill: Fill) -> None:
        user.seen.add(fill.tid)
        user.seen_order.append(fill.tid)
        if len(user.seen_order) > self._seen_limit:
            user.seen.discard(user.seen_order.popleft())
        if user.last_fill_ms is None or fill.time_ms > user.last_fill_ms:
            user.last_fill_ms = fill.time_ms

    def _limit_unstored(self, user: _User) -> None:
        """Memory stays bounded through a long outage: the newest waiting fills beyond
        ``seen_tids_per_user`` are dropped and a backfill from the oldest of them is owed."""
        if len(user.unstored) <= self._seen_limit:
            return
        ordered = sorted(user.unstored.values(), key=lambda f: (f.time_ms, f.tid))
        dropped = ordered[self._seen_limit :]
        for fill in dropped:
            del user.unstored[fill.tid]
        start = dropped[0].time_ms
        if user.refetch_from_ms is None or start < user.refetch_from_ms:
            user.refetch_from_ms = start
        logger.warning(
            "%d fills of %s dropped while they cannot be recorded; refetching from %d",
            len(dropped),
            user.address,
            start,
        )

    def _report_stored_through(self, user: _User) -> None:
        """Tell ``fills_stored_through`` how far every received fill is recorded; raises if that
        fails (the caller retries).

        Never past a fill still waiting (a fill at the same millisecond as a waiting one may be
        stored, but the mark stays just below that millisecond), nor past an owed backfill.
        """
        if self._stored_through is None or user.last_fill_ms is None:
            return
        through = user.last_fill_ms
        if user.unstored:
            through = min(through, min(f.time_ms for f in user.unstored.values()) - 1)
        if user.refetch_from_ms is not None:
            through = min(through, user.refetch_from_ms - 1)
        if user.stored_through_ms is not None and through <= user.stored_through_ms:
            return
        self._stored_through(user.address, through)
        user.stored_through_ms = through

    def _owe_backfill(self, user: _User, start_ms: int) -> None:
        """Fetch ``user``'s fills from ``start_ms``; until they are in, the mark stays below."""
        if user.refetch_from_ms is None or start_ms < user.refetch_from_ms:
            user.refetch_from_ms = start_ms
        user.refetch_in_flight += 1
        self._submit_fills(user, user.refetch_from_ms, "backfill")

    def _retry_fills(self, now: float) -> None:
        """Offer refused fills again once their backoff is over, then run owed backfills (only
        while nothing waits to be recorded: fetching more would not help a failing sink)."""
        for user in self._users.values():
            if user.store_failures and now >= user.store_retry_mono:
                self._store_fills(user)
            if (
                user.refetch_from_ms is not None
                and not user.refetch_in_flight
                and not user.unstored
                and now >= user.refetch_due_mono
            ):
                self._owe_backfill(user, user.refetch_from_ms)

    # --- polling and backfill ---------------------------------------------------------------

    def _tick_loop(self, interval: float) -> None:  # ticker thread
        while not self._ticker_stop.wait(interval):
            try:
                self.actor_ref.tell(_Tick())
            except pykka.ActorDeadError:
                return

    def _take_tokens(self, weight: float, *, force: bool = False) -> bool:
        now = time.monotonic()
        self._tokens = min(
            self._bucket_capacity, self._tokens + (now - self._tokens_at) * self._weight_per_s
        )
        self._tokens_at = now
        if self._tokens < weight and not force:
            return False
        self._tokens -= weight  # forced requests (backfills) may borrow from future polls
        return True

    def _on_tick(self) -> None:
        now = time.monotonic()
        self._retry_unacked(now)
        self._retry_fills(now)
        due = [
            u
            for u in self._users.values()
            if not u.poll_in_flight
            and now - u.last_poll_mono >= self._poll_interval
            and not self._streams(u, now)
        ]
        due.sort(key=lambda u: u.last_poll_mono)
        for user in due:
            weight = FILLS_WEIGHT + (OPEN_ORDERS_WEIGHT if self._polls_orders() else 0)
            if not self._take_tokens(weight):
                break
            user.poll_in_flight = True
            user.last_poll_mono = now
            start = (
                user.last_fill_ms - self._poll_overlap_ms
                if user.last_fill_ms is not None
                else user.since_ms
            )
            self._submit(user, "fills", "poll", start, charged=True)
            if self._polls_orders():
                self._submit(user, "open_orders", "poll", 0, charged=True)

    def _retry_unacked(self, now: float) -> None:
        """Re-send user subscriptions still unacknowledged after ``ack_grace`` (e.g. refused
        with ``Cannot track more than N total users`` while a demoted user was being released)."""
        assert self._client is not None
        for user in self._users.values():
            if user.mode != "websocket" or now - user.last_resubscribe_mono < self._ack_grace:
                continue
            if not user.fills_acked and self._client.connected:
                user.last_resubscribe_mono = now
                sub = {"type": "userFills", "user": user.address}
                self._client.unsubscribe(sub)
                self._client.subscribe(sub)
            order_client = self._order_clients.get(user.address)
            if order_client is not None and not user.orders_acked and order_client.connected:
                user.last_resubscribe_mono = now
                sub = {"type": "orderUpdates", "user": user.address}
                order_client.unsubscribe(sub)
                order_client.subscribe(sub)

    def _polls_orders(self) -> bool:
        """A polled user is polled for everything: also a websocket user whose orderUpdates
        were refused or lost, so what its mode says is what happens."""
        return self._order_sink is not None

    def _submit_fills(self, user: _User, start_ms: int, purpose: Literal["backfill"]) -> None:
        self._submit(user, "fills", purpose, start_ms)

    def _submit(
        self,
        user: _User,
        kind: Literal["fills", "open_orders"],
        purpose: Literal["poll", "backfill", "refresh"],
        start_ms: int,
        *,
        charged: bool = False,
    ) -> None:
        if not charged:
            self._take_tokens(FILLS_WEIGHT, force=True)
        if self._executor is None:
            return
        fetch = self._fetch
        address = user.address
        actor_ref = self.actor_ref
        started = self._clock_ms()

        def run() -> None:  # fetch worker thread: no actor state here
            result: tuple[Any, ...] | None = None
            error: str | None = None
            try:
                if kind == "fills":
                    result = tuple(fetch_fills_since(fetch, address, start_ms))
                else:
                    orders = fetch({"type": "frontendOpenOrders", "user": address})
                    if not isinstance(orders, list):
                        raise TypeError(f"frontendOpenOrders returned {type(orders).__name__}")
                    result = tuple(orders)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(pykka.ActorDeadError):
                actor_ref.tell(_FetchDone(address, kind, purpose, result, error, started, start_ms))

        try:
            self._executor.submit(run)
        except RuntimeError:  # executor shut down: the actor is stopping
            return

    def _on_fetch_done(self, done: _FetchDone) -> None:
        user = self._users.get(done.account)
        if user is None:
            return
        if done.kind == "fills" and done.purpose == "poll":
            user.poll_in_flight = False
        backfill = done.kind == "fills" and done.purpose == "backfill"
        if backfill:
            user.refetch_in_flight -= 1
        if done.error is not None:
            logger.warning(
                "%s %s for %s failed: %s", done.purpose, done.kind, done.account, done.error
            )
            if backfill:  # still owed: tried again later
                user.refetch_due_mono = time.monotonic() + max(
                    self._poll_interval, self._sink_retry_base
                )
            return
        assert done.result is not None
        if done.kind == "fills":
            self._accept_fills(user, done.result)
            # The fetched fills are recorded or waiting in ``unstored`` (which holds the mark
            # back itself): the backfill is no longer owed, unless another one is still out
            # (it may cover a later gap) or one became owed from earlier meanwhile.
            if (
                backfill
                and not user.refetch_in_flight
                and user.refetch_from_ms is not None
                and done.from_ms <= user.refetch_from_ms
            ):
                user.refetch_from_ms = None
                if not user.store_failures:
                    self._store_fills(user)  # only reports the mark now; retried if it fails
        elif self._order_sink is not None:
            orders = freeze(list(done.result))
            if orders != user.open_orders:
                user.open_orders = orders
                self._order_sink(OpenOrdersSnapshot(user.address, orders, done.started_ms))

    # --- plumbing ---------------------------------------------------------------------------

    def _new_client(self, connection: str) -> WsClient:
        actor_ref = self.actor_ref

        def on_event(event: WsEvent) -> None:  # websocket thread: tell, never ask
            with contextlib.suppress(pykka.ActorDeadError):
                actor_ref.tell(_WsEventMsg(connection, event))

        return WsClient(
            self._base_url,
            on_event,
            ping_interval=self._ping_interval,
            backoff=self._backoff,
            clock_ms=self._clock_ms,
            name=f"ws-{connection[:12]}",
            before_frame=self._before_frame,
        )
