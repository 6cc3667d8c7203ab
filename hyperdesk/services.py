"""What the HTTP layer may use: persistence, account rules and handles to the actor system.

Routes never build these themselves; the runtime (or a test) assembles one `Services` and hands
it to `create_app`, so every dependency is explicit and replaceable.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.accounts.service import AccountService
from hyperdesk.bots_engine.fill_routes import BotFillRoutes
from hyperdesk.errors import NotFound, ServiceUnavailable
from hyperdesk.http.live import LiveHub
from hyperdesk.persistence.models import Bot, Order
from hyperdesk.settings import Settings
from hyperdesk.trading.cloids import is_ours
from hyperdesk.trading.fills import RecordedFill
from hyperdesk.trading.market_view import MarketView

if TYPE_CHECKING:
    from hyperdesk.actors.exchange import ExchangeClient
    from hyperdesk.bots_engine.service import BotService
    from hyperdesk.exchange.errors import ExchangeRejected
    from hyperdesk.trading.earn import EarnService
    from hyperdesk.trading.fills import FillRecorder
    from hyperdesk.trading.history import TradeHistory
    from hyperdesk.trading.orders import OrderService
    from hyperdesk.wallets.service import WalletService, WalletView

log = logging.getLogger(__name__)

#: Owners of this many recent cloids are kept in memory (about 100 bytes each).
ORDER_OWNER_CACHE_SIZE = 50_000


@dataclass
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    accounts: AccountService
    exchange_url: str
    sandbox: str
    database_ok: Callable[[], bool]
    wallets: WalletService
    exchange: ExchangeClient
    orders: OrderService
    earn: EarnService
    fills: FillRecorder
    history: TradeHistory
    bots: BotService
    market: MarketView = field(default_factory=MarketView)
    known_vaults: tuple[str, ...] = ()
    hub: LiveHub = field(default_factory=LiveHub)
    # -- bot engine: running bots' fill routes and the supervisor (None until the runtime
    # starts it) --
    bot_fills: BotFillRoutes = field(default_factory=BotFillRoutes)
    supervisor: Any = None
    _topics: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    _topics_lock: threading.Lock = field(default_factory=threading.Lock)
    # cloid → user id of the desk's orders: an order row's owner never changes, so each streamed
    # order update need not read it again (bounded; the least recently used is dropped)
    _order_owner_cache: OrderedDict[str, int] = field(default_factory=OrderedDict)
    _order_owner_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def stream(self) -> Any:
        """Proxy of the MarketStreamActor (kept by the market view); None when streaming is off."""
        return self.market.stream

    # -- ownership helpers --------------------------------------------------------------------

    def require_bot(self, user_id: int, bot_id: int) -> None:
        with self.sessions() as session:
            owner = session.scalar(select(Bot.user_id).where(Bot.id == bot_id))
        if owner != user_id:
            raise NotFound("Bot not found.")

    def users_of_account(self, account: str) -> frozenset[int]:
        """Users with a verified wallet for `account`: only they see its private data."""
        return self.wallets.users_of_account(account)

    # -- live events ----------------------------------------------------------------------------

    def publish_fills(self, recorded: Iterable[RecordedFill]) -> None:
        recorded = list(recorded)
        self.bot_fills.dispatch(recorded)  # every recorded fill passes here: bots hear of theirs
        by_user: dict[int, list[dict[str, Any]]] = {}
        for item in recorded:
            by_user.setdefault(item.user_id, []).append(item.to_json())
        for user_id, fills in by_user.items():
            self.hub.publish_user(user_id, {"channel": "fills", "data": fills})

    def on_stream_fills(self, account: str, fills: tuple[Any, ...]) -> None:
        """Fill sink of the market stream: record once, then tell the owners' browsers.

        A failure to record raises: the stream keeps the fills and offers them again. Once they
        are stored, a failure to tell the browsers is only logged.
        """
        recorded = self.fills.record(account, fills)
        try:
            self.publish_fills(recorded)
        except Exception:
            log.exception("could not publish %d fills of %s", len(recorded), account)

    def on_fills_stored_through(self, account: str, time_ms: int) -> None:
        """The stream's word that every fill of `account` up to `time_ms` is stored: the
        high-water mark start-up backfill resumes from."""
        self.fills.advance_cursor(account, time_ms)

    def on_stream_orders(self, message: Any) -> None:
        account = message.account
        updates = [_plain_json(u) for u in getattr(message, "updates", ())]
        snapshot = [_plain_json(o) for o in getattr(message, "orders", ())]
        self.bot_fills.dispatch_order_updates(account, updates)  # running bots' on_order_update
        # Several users may name the same account (an agent wallet can claim any address): an
        # order placed through the desk is shown only to the user who placed it; orders placed
        # elsewhere (no cloid of ours) to everyone who follows the account.
        cloids = {(u.get("order") or {}).get("cloid") for u in updates}
        cloids |= {o.get("cloid") for o in snapshot}
        owners = self._order_owners({c for c in cloids if c})
        for user_id in self.users_of_account(account):

            def visible(cloid: str | None, user_id: int = user_id) -> bool:
                return owners.get(cloid or "", user_id) == user_id

            payload = {
                "account": account,
                "updates": [u for u in updates if visible((u.get("order") or {}).get("cloid"))],
                "snapshot": [o for o in snapshot if visible(o.get("cloid"))],
            }
            if payload["updates"] or payload["snapshot"] or not (updates or snapshot):
                self.hub.publish_user(user_id, {"channel": "orders", "data": payload})

    def remember_order_owner(self, cloid: str, user_id: int) -> None:
        """Known before the order is sent: its first streamed update then needs no read (the
        exchange's push can reach us before its HTTP answer does)."""
        with self._order_owner_lock:
            self._order_owner_cache[cloid] = user_id
            while len(self._order_owner_cache) > ORDER_OWNER_CACHE_SIZE:
                self._order_owner_cache.popitem(last=False)

    def _order_owners(self, cloids: set[str]) -> dict[str, int]:
        """Owner of each cloid that names an order placed through the desk.

        Only `new_cloid` cloids can have a row (the order service writes no other), so a foreign
        cloid costs no query; a known one is answered from memory, since its owner is fixed.
        """
        owners: dict[str, int] = {}
        missing: set[str] = set()
        with self._order_owner_lock:
            for cloid in cloids:
                if not is_ours(cloid):
                    continue
                user_id = self._order_owner_cache.get(cloid)
                if user_id is None:
                    missing.add(cloid)
                else:
                    self._order_owner_cache.move_to_end(cloid)
                    owners[cloid] = user_id
        if not missing:
            return owners
        with self.sessions() as session:
            rows = session.execute(
                select(Order.cloid, Order.user_id).where(Order.cloid.in_(missing))
            ).all()
        for cloid, user_id in rows:
            owners[cloid] = user_id
            self.remember_order_owner(cloid, user_id)
        return owners

    def acquire_topic(self, topic: str) -> None:
        """Count one more browser on `topic` (`mids` or `book:<coin>`).

        All browsers of one book share one upstream `l2Book` subscription. A coin that is not a
        market is refused (`UNKNOWN_COIN`) before anything is subscribed, and a new book beyond
        the stream's budget (`STREAM_BUSY`): every upstream subscription is one of the IP's
        1000, and made-up coins must not crowd out other users' fills.
        """
        if topic == "mids":
            return
        coin = topic.split(":", 1)[1]
        if self.exchange.market(coin) is None:
            raise NotFound(f"No market named {coin!r}.", code="UNKNOWN_COIN")
        if self.stream is None:
            return
        from hyperdesk.actors.market_stream import SubscriptionBudgetFull

        with self._topics_lock:
            count, sub_id = self._topics.get(topic, (0, None))
            if count == 0:
                try:
                    sub_id = self.stream.subscribe(
                        {"type": "l2Book", "coin": coin},
                        lambda data, topic=topic: self._on_book(topic, data),
                    ).get(timeout=10)
                except SubscriptionBudgetFull:
                    raise ServiceUnavailable(
                        "The live stream is at its subscription limit; try again later.",
                        code="STREAM_BUSY",
                    ) from None
            self._topics[topic] = (count + 1, sub_id)

    def release_topic(self, topic: str) -> None:
        if self.stream is None or topic == "mids":
            return
        with self._topics_lock:
            count, sub_id = self._topics.get(topic, (0, None))
            if count <= 1:
                self._topics.pop(topic, None)
                if sub_id is not None:
                    self.stream.unsubscribe(sub_id).get(timeout=10)
            else:
                self._topics[topic] = (count - 1, sub_id)

    def _on_book(self, topic: str, data: Any) -> None:
        self.hub.publish_topic(topic, {"channel": "book", "data": _plain_json(data.data)})

    def on_mids(self, data: Any) -> None:
        mids = _plain_json(data.data)
        self.market.update_mids(mids.get("mids", {}))
        self.hub.publish_topic("mids", {"channel": "mids", "data": mids})

    # -- wallets and streaming ----------------------------------------------------------------

    def on_wallet_added(self, wallet: WalletView) -> None:
        """Follow a verified wallet's account; the stream's snapshot or poll records its fills."""
        if self.stream is not None and wallet.verified:
            since = self.fills.cursor_ms(wallet.account_address)
            self.stream.track_user(wallet.account_address, 0, since).get(timeout=10)

    def on_wallet_removed(self, wallet: WalletView) -> None:
        self.exchange.forget_wallet(wallet.id)
        if self.stream is not None and not self.users_of_account(wallet.account_address):
            self.stream.untrack_user(wallet.account_address).get(timeout=10)

    def on_wallet_unverified(self, wallet: WalletView) -> None:
        """An agent the exchange no longer confirms: stop following its account unless another
        verified wallet (of any user) still does; its owner gets no more of the account's fills."""
        if self.stream is not None and not self.users_of_account(wallet.account_address):
            self.stream.untrack_user(wallet.account_address).get(timeout=10)

    def on_agent_gone(self, wallet_id: int, error: ExchangeRejected) -> None:
        """The exchange refused a wallet's agent key as unknown (revoked, replaced, expired)."""
        view = self.wallets.mark_revoked(wallet_id, error.message)
        if view is not None and not view.verified:
            log.warning("wallet %s: the exchange no longer knows its agent key", wallet_id)
            self.on_wallet_unverified(view)

    def reverify_agents(self) -> None:
        """Ask the exchange about every agent wallet again and follow (or stop following) the
        accounts whose approval changed; the periodic re-verification runs this."""
        for view in self.wallets.reverify_agents():
            if view.verified:
                self.on_wallet_added(view)
            else:
                log.warning("wallet %s: agent approval gone: %s", view.id, view.verification_error)
                self.on_wallet_unverified(view)

    def stream_mode(self, account: str) -> str | None:
        return self.market.stream_mode(account)


def _plain_json(value: Any) -> Any:
    """Frozen stream data (mapping proxies, tuples) back to plain JSON values."""
    if isinstance(value, (list, tuple)):
        return [_plain_json(v) for v in value]
    if hasattr(value, "items"):
        return {k: _plain_json(v) for k, v in value.items()}
    return value
