"""Public market data (markets, books, trades, candles, vaults, validators) for anyone who asks.

These routes need no login, yet every answer would cost weight from the one exchange budget the
whole desk shares. So they are served from the market stream where it has the answer (mids) and
otherwise from short-lived single-flight caches: however many visitors ask, one upstream read per
question per few seconds is all the exchange sees. Quotes (mids, books, trades, recent candles)
live ``quote_ttl`` seconds; reference data (market list, vaults, validators) ``reference_ttl``.
When the budget sheds a refresh, the last answer is served a while longer instead of an error.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from hyperdesk.actors.exchange import ExchangeClient
from hyperdesk.exchange.models import Candle, L2Book, Market, Validator, VaultDetails, VaultSummary
from hyperdesk.trading.market_view import MarketView
from hyperdesk.trading.single_flight import DEFAULT_MAX_ENTRIES, SingleFlightCache

#: How long a visitor may wait for the one read another visitor already started.
FOLLOWER_WAIT_SECONDS = 15.0
#: How much older than its lifetime an answer may be when the budget refuses a refresh.
STALE_FACTOR = 10


class PublicMarketData:
    def __init__(
        self,
        exchange: ExchangeClient,
        market: MarketView,
        *,
        quote_ttl: float,
        reference_ttl: float,
        known_vaults: tuple[str, ...] = (),
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        self._exchange = exchange
        self._market = market
        self._quote_ttl = quote_ttl
        self._reference_ttl = reference_ttl
        self._known_vaults = known_vaults
        self._cache: SingleFlightCache[Any] = SingleFlightCache(
            follower_wait=FOLLOWER_WAIT_SECONDS, max_entries=max_entries
        )

    def _quote(self, key: tuple[Any, ...], fetch: Any) -> Any:
        ttl = self._quote_ttl
        return self._cache.get(key, fetch, ttl=ttl, stale_for=ttl * STALE_FACTOR)

    def _reference(self, key: tuple[Any, ...], fetch: Any) -> Any:
        ttl = self._reference_ttl
        return self._cache.get(key, fetch, ttl=ttl, stale_for=ttl * STALE_FACTOR)

    # -- markets ---------------------------------------------------------------------------------

    def market(self, coin: str) -> Market | None:
        """One market's metadata (from memory once loaded)."""
        return self._exchange.market(coin)

    def mids(self) -> dict[str, Decimal]:
        """Mids from the stream while it is live, else one cached ``allMids`` read for all."""
        streamed = self._market.fresh_mids(max_age=max(10.0, 5 * self._quote_ttl))
        if streamed:
            return streamed
        return dict(self._quote(("mids",), self._exchange.mids))

    def markets(self) -> list[Market]:
        catalog = self._reference(("catalog",), self._exchange.market_catalog)
        mids = self.mids()
        return [replace(m, mid=mids.get(m.coin)) for m in catalog]

    def book(self, coin: str) -> L2Book:
        return self._quote(("book", coin), lambda: self._exchange.l2_book(coin))

    def recent_trades(self, coin: str) -> list[dict[str, Any]]:
        body = {"type": "recentTrades", "coin": coin}
        return self._quote(("trades", coin), lambda: self._exchange.info_request(body)) or []

    def candles(self, coin: str, interval: str, start_ms: int, end_ms: int) -> tuple[Candle, ...]:
        """Candles of an explicit range (cached by the exact range)."""
        return self._quote(
            ("candles", coin, interval, start_ms, end_ms),
            lambda: self._exchange.candles(coin, interval, start_ms, end_ms),
        )

    def latest_candles(
        self, coin: str, interval: str, span_ms: int, now_ms: Any
    ) -> tuple[Candle, ...]:
        """The latest ``span_ms`` of candles: one read serves every chart asking within the TTL,
        although each asks at a different millisecond. ``now_ms()`` is read at fetch time."""

        def fetch() -> tuple[Candle, ...]:
            end = int(now_ms())
            return self._exchange.candles(coin, interval, end - span_ms, end)

        return self._quote(("latest-candles", coin, interval, span_ms), fetch)

    # -- vaults and staking ----------------------------------------------------------------------

    def vaults(self) -> tuple[VaultSummary, ...]:
        known = self._known_vaults
        return self._reference(("vaults", known), lambda: self._exchange.vaults(known))

    def vault(self, address: str) -> VaultDetails:
        address = address.lower()
        return self._reference(("vault", address), lambda: self._exchange.vault_details(address))

    def validators(self) -> tuple[Validator, ...]:
        return self._reference(("validators",), self._exchange.validators)
