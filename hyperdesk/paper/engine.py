"""The paper exchange's state machine: markets, orders, matching, settlement and the clock.

Not thread-safe on its own: ``PaperExchange`` (exchange.py) serialises every call with one lock.
Every state change appends websocket events to ``Engine.events``; the facade drains and
dispatches them after each public call.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from hyperdesk.paper import ledger
from hyperdesk.paper.accounts import (
    ZERO,
    Account,
    Agent,
    MarginSummary,
    Position,
    fill_direction,
    leverage_for,
    summarize,
)
from hyperdesk.paper.book import Order, OrderBook, Trigger, basic_order
from hyperdesk.paper.candles import CandleStore
from hyperdesk.paper.clock import Clock
from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.events import Event
from hyperdesk.paper.funding import (
    FundingAccumulator,
    funding_rate,
    impact_price,
    payment,
    premium,
    sample_count,
)
from hyperdesk.paper.instruments import Instrument, Instruments
from hyperdesk.paper.liquidation import liquidate_accounts
from hyperdesk.paper.liquidity import CoinLiquidity, Ladder, liquidity_params
from hyperdesk.paper.numbers import USD_QUANTUM, parse_decimal, wire, wire_px, wire_usd
from hyperdesk.paper.oracle import MarkState, book_price, update_mark
from hyperdesk.paper.prices import PriceProcess
from hyperdesk.paper.staking import Delegator
from hyperdesk.paper.synthetic_prints import Print, PrintFlow
from hyperdesk.paper.twap import TwapBook
from hyperdesk.paper.vaults import Vault, create_vault
from hyperdesk.protocol.rules import (
    is_cloid,
    is_valid_price,
    is_valid_size,
    nearest_valid_price,
)

MISSING_ORDER = "Order was never placed, already canceled, or filled."
FIRST_OID = 10_000_000_000
FIRST_TID = 100_000_000_000_000
DAY_MS = 86_400_000
HYPE_WEI = Decimal(10) ** 8


RECENT_TRADES = 100
ZERO_HASH = "0x" + "0" * 64


class ActionFormatError(Exception):
    """The action is not shaped like Hyperliquid's (missing field, wrong type)."""


@dataclass(frozen=True)
class OrderRequest:
    """A parsed order wire (the ``orders[i]`` of an ``order`` action)."""

    instrument: Instrument
    is_buy: bool
    px: Decimal
    sz: Decimal
    reduce_only: bool
    tif: str | None
    trigger: Trigger | None
    cloid: str | None


class OrderRejected(Exception):
    """A per-order rejection; ``str(exc)`` is the error text (without the asset suffix)."""

    def __init__(self, message: str, status: str = "rejected") -> None:
        super().__init__(message)
        self.status = status


def _require(mapping: object, key: str) -> object:
    if not isinstance(mapping, dict) or key not in mapping:
        raise ActionFormatError(f"missing field `{key}`")
    return mapping[key]


class Engine:
    """All exchange state. See the module docstring for the threading rule."""

    def __init__(self, config: PaperConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        now = clock.now_ms()
        self.instruments = Instruments(config)
        self.by_coin = {i.coin: i for i in self.instruments.all()}
        self._spot_tokens = {t.index: t for t in config.spot_tokens}
        self.prices = PriceProcess(config.seed, config.price_model, now)
        self.candles = CandleStore()
        self.mids: dict[str, Decimal] = {}
        self.books: dict[str, OrderBook] = {}
        self.ladders: dict[str, Ladder] = {}
        # The reactive state behind each ladder (depletion, refill, taker flow): liquidity.py.
        self.liquidity: dict[str, CoinLiquidity] = {}
        # book_levels per (coin, side), reused while neither the user book nor the ladder changed.
        self._levels_cache: dict[tuple[str, bool], tuple[tuple[int, int, int, int], list]] = {}
        self.events: list[Event] = []
        self._pending_fills: dict[str, list[dict]] = {}
        self._pending_updates: dict[str, list[dict]] = {}
        self._pending_trades: dict[str, list[dict]] = {}
        # The public tape per coin for `recentTrades`; bounded like the real endpoint's answer.
        self.recent_trades: dict[str, deque[dict]] = {}
        self._dirty_books: set[str] = set()
        self._dirty_candles: set[str] = set()
        self._last_bbo: dict[str, list] = {}
        # Oracle, mark and funding (protocol §9.4). A spot pair whose base token has a perp
        # shares that perp's price process as its oracle, so the two markets stay anchored.
        self.oracle_source = self._oracle_sources()
        self.oracle_px: dict[str, Decimal] = {}
        self.marks_px: dict[str, Decimal] = {}
        self.mark_states: dict[str, MarkState] = {}
        self.basis: dict[str, Decimal] = {}
        self.last_trade_px: dict[str, Decimal] = {}
        self.funding_acc: dict[str, FundingAccumulator] = {}
        self.funding_history: dict[str, list[dict]] = {}
        self.user_fundings: dict[str, list[dict]] = {}
        self.funding_accrued_ms = now
        # Liquidations (protocol §9.3): ledger entries, per-user cooldown after a partial one.
        self.liquidation_ledger: dict[str, list[dict]] = {}
        self.liquidation_cooldown: dict[str, int] = {}
        self.next_lid = 1
        self._liquidation_tag: dict | None = None
        for inst in self.instruments.all():
            if self.oracle_source[inst.coin] == inst.coin:
                self.prices.add(
                    inst.coin, inst.initial_px, inst.annual_volatility, self._market_weight(inst)
                )
            self.books[inst.coin] = OrderBook()
            self._seed_history(inst, now)
            self._requote(inst, now)
            if not inst.is_spot:
                self.funding_acc[inst.coin] = FundingAccumulator()
                self.funding_history[inst.coin] = []
        # The simulated market's own trades (synthetic_prints.py); None when switched off.
        self.print_flow: PrintFlow | None = None
        if config.synthetic_prints_enabled and config.synthetic_prints_per_minute > 0:
            self.print_flow = PrintFlow(
                config, self.instruments.all(), self.oracle_source, self._center, now
            )
        self.accounts: dict[str, Account] = {}
        self.agents: dict[str, Agent] = {}
        self.orders: dict[int, Order] = {}
        self.open_orders: dict[str, dict[int, Order]] = {}
        self.waiting_children: dict[int, list[Order]] = {}
        self.order_history: dict[str, list[Order]] = {}
        self.fills: dict[str, list[dict]] = {}
        self.vaults: dict[str, Vault] = {
            v.address.lower(): create_vault(v, config.seed, now) for v in config.vaults
        }
        self.validators = {v.address.lower(): v for v in config.validators}
        self.delegators: dict[str, Delegator] = {}
        # userNonFundingLedgerUpdates (ledger.py): per user, oldest first; and this call's new ones.
        self.ledger: dict[str, list[dict]] = {}
        self.pending_ledger: dict[str, list[dict]] = {}
        self.twaps = TwapBook()
        self.next_oid = FIRST_OID
        self.next_tid = FIRST_TID
        self.hash_counter = 0
        self.last_tick_ms = now
        self.update_marks(now)

    # ------------------------------------------------------------------ markets

    def _seed_history(self, inst: Instrument, now: int) -> None:
        closes = self.prices.history(
            self.oracle_source[inst.coin], self.config.candle_history_minutes
        )
        start = now - self.config.candle_history_minutes * 60_000
        grid = (inst.sz_decimals, inst.is_spot)
        prev = None
        for i, raw in enumerate(closes[:-1]):
            px = nearest_valid_price(raw, grid[0], is_spot=grid[1])
            open_px = prev if prev is not None else px
            self.candles.record(inst.coin, start + i * 60_000, px, open_px=open_px)
            prev = px

    def _market_weight(self, inst: Instrument) -> float:
        """The instrument's loading on the price process's market factor (config.py)."""
        specs = self.config.spot_pairs if inst.is_spot else self.config.perps
        return next(s.market_weight for s in specs if s.name == inst.coin)

    def day_figures(self, coin: str) -> tuple[Decimal, Decimal, Decimal]:
        """(prevDayPx, dayNtlVlm, dayBaseVlm): the rolling 24 h window of the coin's trades."""
        prev, ntl, base = self.candles.day_figures(coin, self.clock.now_ms())
        return (prev if prev is not None else self.mids[coin]), ntl, base

    def _oracle_sources(self) -> dict[str, str]:
        perps = {i.coin for i in self.instruments.perps()}
        token_names = {t.index: t.name for t in self.config.spot_tokens}
        sources = {}
        for inst in self.instruments.all():
            base = token_names.get(inst.base_token) if inst.base_token is not None else None
            sources[inst.coin] = base if inst.is_spot and base in perps else inst.coin
        return sources

    def _center(self, inst: Instrument, raw: Decimal) -> Decimal:
        """Where the synthetic market quotes for a raw oracle price (after the perp's basis)."""
        basis = self.basis.get(inst.coin)
        if basis:
            raw = raw * (1 + basis)
        return nearest_valid_price(raw, inst.sz_decimals, is_spot=inst.is_spot)

    def _advance_prices(self, now: int) -> None:
        """Take the price path's grid steps up to ``now``, with the market's prints on them."""
        flow = self.print_flow
        self.prices.advance_to(now, self.config.volatility_scale, flow)
        if flow is not None and flow.pending:
            for p in flow.drain():
                self._print(p)

    def _print(self, p: Print) -> None:
        """Put one synthetic trade on the tape, the candles and the 24 h volume (no account)."""
        tid = self.next_tid
        self.next_tid += 1
        mm = self.config.market_maker_address
        minutes = self.candles.series().get((p.coin, "1m"))
        # A user trade or re-quote between ticks may already have opened a later minute than this
        # grid step's: the print joins that one rather than be dropped as late candle data.
        ts = max(p.time, minutes[-1].t) if minutes else p.time
        self._pending_trades.setdefault(p.coin, []).append(
            {
                "coin": p.coin,
                "side": "B" if p.is_buy else "A",
                "px": wire(p.px),
                "sz": wire(p.sz),
                "hash": p.hash,
                "time": ts,
                "tid": tid,
                "users": [mm, mm],
            }
        )
        self.last_trade_px[p.coin] = p.px
        self.candles.record(p.coin, ts, p.px, volume=p.sz, trades=1)
        self._dirty_candles.add(p.coin)

    def _requote(self, inst: Instrument, now: int) -> None:
        raw = self.prices.price(self.oracle_source[inst.coin])
        grid = (inst.sz_decimals, inst.is_spot)
        self.oracle_px[inst.coin] = nearest_valid_price(raw, grid[0], is_spot=grid[1])
        mid = self._center(inst, raw)
        liquidity = self.liquidity.get(inst.coin)
        if liquidity is None:
            params = liquidity_params(inst.coin, self.config)
            liquidity = self.liquidity[inst.coin] = CoinLiquidity.fresh(inst, params, mid, now)
        self.ladders[inst.coin] = liquidity.requote(mid, now)
        mid = liquidity.mid()
        self.mids[inst.coin] = mid
        self.candles.record(inst.coin, now, mid)
        self._dirty_candles.add(inst.coin)
        self._dirty_books.add(inst.coin)

    def mark(self, coin: str) -> Decimal:
        """The mark price (margin, PnL, TP/SL, liquidations); spot pairs: their mid."""
        return self.marks_px[coin]

    def marks(self) -> dict[str, Decimal]:
        return dict(self.marks_px)

    def update_marks(self, now: int) -> None:
        """Recompute every perp's mark from the oracle and the book (see ``oracle.py``)."""
        for inst in self.instruments.all():
            coin = inst.coin
            if inst.is_spot:
                self.marks_px[coin] = self.mids[coin]
                continue
            bid, ask = self._best(coin, True), self._best(coin, False)
            mid = (bid + ask) / 2 if bid is not None and ask is not None else self.mids[coin]
            try:
                book = book_price(bid, ask, self.last_trade_px.get(coin))
            except ValueError:
                book = mid
            state = self.mark_states.setdefault(coin, MarkState(updated_ms=now))
            raw = update_mark(
                state,
                now,
                oracle=self.oracle_px[coin],
                mid=mid,
                book=book,
                basis_tau_ms=self.config.mark_basis_ema_ms,
                book_tau_ms=self.config.mark_book_ema_ms,
            )
            self.marks_px[coin] = nearest_valid_price(raw, inst.sz_decimals, is_spot=False)

    # ------------------------------------------------------------------ funding

    def _depth(self, coin: str, is_buy: bool) -> list[tuple[Decimal, Decimal]]:
        """Merged (px, sz) of one side, best first (user orders and synthetic quotes)."""
        merged: dict[Decimal, Decimal] = {}
        for px, sz, _n in self.books[coin].levels(is_buy):
            merged[px] = merged.get(px, ZERO) + sz
        for level in self.ladders[coin].side(is_buy):
            if level.sz > 0:
                merged[level.px] = merged.get(level.px, ZERO) + level.sz
        return [(px, merged[px]) for px in sorted(merged, reverse=is_buy)]

    def impact_prices(self, coin: str) -> tuple[Decimal | None, Decimal | None]:
        notional = self._impact_notional(coin)
        return (
            impact_price(self._depth(coin, True), notional),
            impact_price(self._depth(coin, False), notional),
        )

    def _impact_notional(self, coin: str) -> Decimal:
        for spec in self.config.perps:
            if spec.name == coin:
                return spec.impact_notional
        return Decimal(6_000)

    def premium_now(self, coin: str) -> Decimal:
        """The premium sample the book shows right now."""
        bid, ask = self.impact_prices(coin)
        return premium(self.oracle_px[coin], bid, ask)

    def predicted_funding(self, coin: str) -> Decimal:
        """This interval's rate if it ended now (samples so far, else the current premium)."""
        avg = self.funding_acc[coin].average(self.premium_now(coin))
        return funding_rate(avg, self.config)

    def next_funding_ms(self) -> int:
        interval = self.config.funding_interval_ms
        return (self.funding_accrued_ms // interval + 1) * interval

    def _accrue_funding(self, now: int) -> None:
        """Sample the premium for the time since the last call and pay every interval boundary
        crossed. The book as it stood during the gap stands for every sample in it."""
        start = self.funding_accrued_ms
        if now <= start:
            return
        self.funding_accrued_ms = now
        if not self.config.funding_enabled:
            return
        premiums = {inst.coin: self.premium_now(inst.coin) for inst in self.instruments.perps()}
        interval = self.config.funding_interval_ms
        t = start
        while t < now:
            boundary = (t // interval + 1) * interval
            end = min(now, boundary)
            n = sample_count(t, end, self.config.funding_sample_ms)
            for coin, sample in premiums.items():
                self.funding_acc[coin].add(sample, n)
            t = end
            if end == boundary:
                self._pay_funding(boundary, premiums)

    def _pay_funding(self, at: int, premiums: dict[str, Decimal]) -> None:
        rates: dict[str, tuple[Decimal, int]] = {}
        for coin, sample in premiums.items():
            acc = self.funding_acc[coin]
            avg = acc.average(sample)
            rate = funding_rate(avg, self.config)
            rates[coin] = (rate, acc.n_samples)
            acc.reset()
            self.funding_history[coin].append(
                {"coin": coin, "fundingRate": wire(rate), "premium": wire(avg), "time": at}
            )
        for acct in self.accounts.values():
            paid = []
            for pos in acct.positions.values():
                if pos.coin not in rates or pos.szi == 0:
                    continue
                rate, n_samples = rates[pos.coin]
                usdc = payment(pos.szi, self.oracle_px[pos.coin], rate)
                lev = leverage_for(acct, self.by_coin[pos.coin], self.config.default_leverage)
                if lev.is_cross:
                    acct.usdc += usdc
                else:
                    pos.isolated_margin += usdc
                pos.cum_funding_all_time -= usdc
                pos.cum_funding_since_open -= usdc
                pos.cum_funding_since_change -= usdc
                delta = {
                    "time": at,
                    "coin": pos.coin,
                    "usdc": wire_usd(usdc),
                    "szi": wire(pos.szi),
                    "fundingRate": wire(rate),
                    "nSamples": n_samples,
                }
                paid.append(delta)
                self.user_fundings.setdefault(acct.address, []).append(
                    {"time": at, "hash": ZERO_HASH, "delta": {"type": "funding", **{
                        k: v for k, v in delta.items() if k != "time"}}}
                )  # fmt: skip
            if paid:
                user = acct.address
                self.events.append(Event("userFundings", user, {"user": user, "fundings": paid}))
                for delta in paid:
                    self.events.append(Event("user", user, {"funding": delta}))

    def set_basis(self, coin: str, basis: Decimal) -> None:
        """Paper-only: make the synthetic market of a perp quote ``oracle * (1 + basis)``, the
        basis clamped to ``config.perp_basis_band``.

        This is how a test (or an operator) gives a perp a known premium to its oracle; the
        premium, mark and funding then follow from Hyperliquid's formulas."""
        inst = self.by_coin.get(coin)
        if inst is None or inst.is_spot:
            raise KeyError(coin)
        now = self.clock.now_ms()
        self._accrue_funding(now)
        band = self.config.perp_basis_band
        self.basis[coin] = max(-band, min(band, basis))
        self._requote(inst, now)
        self._after_price_move(now)

    def tick(self) -> None:
        now = self.clock.now_ms()
        dt = max(0, now - self.last_tick_ms)
        self.last_tick_ms = max(self.last_tick_ms, now)
        self._accrue_funding(now)
        self._advance_prices(now)
        for inst in self.instruments.all():
            self._requote(inst, now)
        for vault in self.vaults.values():
            vault.step(dt, now, self.config.volatility_scale)
        self._after_price_move(now)
        self.twaps.run_due(self, now)
        self.flush_events()

    def set_price(self, coin: str, px: Decimal) -> None:
        inst = self.by_coin.get(coin)
        if inst is None:
            raise KeyError(coin)
        now = self.clock.now_ms()
        self._accrue_funding(now)
        source = self.oracle_source[coin]
        self._advance_prices(now)  # the path up to now first
        self.prices.set_price(source, px)
        for other in self.instruments.all():
            if self.oracle_source[other.coin] == source:
                self._requote(other, now)
        self._after_price_move(now)

    def _after_price_move(self, now: int) -> None:
        self.update_marks(now)
        for inst in self.instruments.all():
            self._cross_resting(inst, now)
        self._fire_triggers(now)
        if self.config.liquidations_enabled:
            liquidate_accounts(self, now)
        self._fire_scheduled_cancels(now)
        self._release_unstaking(now)
        self.events.append(Event("allMids", None, {"mids": self.all_mids()}))
        self.flush_events()

    def all_mids(self) -> dict[str, str]:
        return {coin: wire(px) for coin, px in self.mids.items()}

    def _cross_resting(self, inst: Instrument, now: int) -> None:
        """Fill resting user orders the synthetic market now crosses, as maker at their limit.

        Simulated takers reach them, not the quotes: each side has a budget of taker flow
        (USD a second, liquidity.py) spent best price first and oldest first, so a small order
        the price moved through fills at once and a large one in pieces as time passes.
        """
        ladder = self.ladders[inst.coin]
        book = self.books[inst.coin]
        liquidity = self.liquidity[inst.coin]
        lot = Decimal(1).scaleb(-inst.sz_decimals)
        for is_buy in (True, False):
            opposite = ladder.best(not is_buy)
            if opposite is None:
                continue
            budget: Decimal | None = None
            for order in list(book.orders(is_buy)):
                if order.status != "open":
                    continue  # canceled by an earlier fill of this loop (stale reduce-only)
                crosses = order.limit_px >= opposite if is_buy else order.limit_px <= opposite
                if not crosses:
                    break
                qty = self._clip_reduce_only(order, order.sz)
                if qty <= 0:
                    self._finish(order, "reduceOnlyCanceled", now)
                    continue
                if budget is None:
                    budget = liquidity.flow_budget(is_buy, now)
                reach = (budget / order.limit_px).quantize(lot, rounding=ROUND_FLOOR)
                qty = min(qty, reach)
                if qty <= 0:
                    break  # the takers of this side are spent: the rest waits in the queue
                if not self._maker_margin_ok(order, qty, order.limit_px):
                    self._finish(order, "marginCanceled", now)
                    continue
                self._settle(inst, order.limit_px, qty, taker=None, maker=order, now=now)
                budget -= qty * order.limit_px
                liquidity.use_flow(is_buy, qty * order.limit_px)

    # ------------------------------------------------------------------ accounts

    def account(self, user: str, *, create: bool = False) -> Account | None:
        user = user.lower()
        acct = self.accounts.get(user)
        if acct is None and create:
            acct = Account(user)
            self.accounts[user] = acct
        return acct

    def summary(self, acct: Account) -> MarginSummary:
        return summarize(acct, self.by_coin, self.marks_px, self.config.default_leverage)

    def spot_hold(self, user: str) -> dict[int, Decimal]:
        hold: dict[int, Decimal] = {}
        for order in self.open_orders.get(user, {}).values():
            inst = self.by_coin[order.coin]
            if not inst.is_spot or (order.trigger is not None and not order.triggered):
                continue
            if order.is_buy:
                assert inst.quote_token is not None
                hold[inst.quote_token] = hold.get(inst.quote_token, ZERO) + self._spot_buy_cost(
                    order.sz, order.limit_px
                )
            else:
                assert inst.base_token is not None
                hold[inst.base_token] = hold.get(inst.base_token, ZERO) + order.sz
        return hold

    def _spot_buy_cost(self, sz: Decimal, px: Decimal) -> Decimal:
        """Quote a spot buy may spend: its notional (the fee is taken from the tokens bought)."""
        return sz * px

    def _order_margin(self, acct: Account, exclude_oid: int | None = None) -> Decimal:
        """Initial margin reserved by the user's resting perp orders that could open exposure."""
        total = ZERO
        for order in self.open_orders.get(acct.address, {}).values():
            waiting = order.trigger is not None and not order.triggered
            if order.oid == exclude_oid or order.reduce_only or waiting:
                continue
            inst = self.by_coin[order.coin]
            if inst.is_spot:
                continue
            lev = leverage_for(acct, inst, self.config.default_leverage)
            total += order.sz * order.limit_px / lev.value
        return total

    def _opening_size(self, acct: Account, inst: Instrument, is_buy: bool, sz: Decimal) -> Decimal:
        pos = acct.positions.get(inst.coin)
        szi = pos.szi if pos else ZERO
        if szi == 0 or (szi > 0) == is_buy:
            return sz
        return max(ZERO, sz - abs(szi))

    def _maker_margin_ok(self, order: Order, qty: Decimal, px: Decimal) -> bool:
        """Hyperliquid checks the resting side's margin again when it matches (protocol §8.2):
        an account that lost its margin since placing the order cannot grow its position."""
        inst = self.by_coin[order.coin]
        if inst.is_spot or order.reduce_only:
            return True
        acct = self.accounts[order.user]
        opening = self._opening_size(acct, inst, order.is_buy, qty)
        if opening <= 0:
            return True
        summary = self.summary(acct)
        free = (
            summary.cross_account_value
            - summary.cross_margin_used
            - self._order_margin(acct, order.oid)
        )
        lev = leverage_for(acct, inst, self.config.default_leverage)
        return opening * px / lev.value <= free

    def _clip_reduce_only(self, order: Order, qty: Decimal) -> Decimal:
        if not order.reduce_only:
            return qty
        inst = self.by_coin[order.coin]
        acct = self.accounts[order.user]
        if inst.is_spot:
            return qty
        pos = acct.positions.get(order.coin)
        if pos is None or (pos.szi > 0) == order.is_buy:
            return ZERO
        return min(qty, abs(pos.szi))

    # ------------------------------------------------------------------ orders

    def parse_order(self, raw: object) -> OrderRequest:
        """Parse one order wire; format problems raise, business problems raise OrderRejected."""
        asset = _require(raw, "a")
        is_buy = _require(raw, "b")
        px_raw = _require(raw, "p")
        sz_raw = _require(raw, "s")
        reduce_only = _require(raw, "r")
        kind = _require(raw, "t")
        assert isinstance(raw, dict)
        cloid = raw.get("c")
        if not isinstance(is_buy, bool) or not isinstance(reduce_only, bool):
            raise ActionFormatError("`b` and `r` must be booleans")
        if not isinstance(asset, int) or isinstance(asset, bool):
            raise ActionFormatError("`a` must be an integer")
        if cloid is not None and not is_cloid(cloid):
            raise ActionFormatError("`c` must be a 16-byte hex string")
        inst = self.instruments.by_asset(asset)
        if inst is None:
            raise OrderRejected("Order has invalid asset.")
        try:
            px = parse_decimal(px_raw)
        except ValueError as exc:
            raise ActionFormatError("`p` must be a decimal string") from exc
        try:
            sz = parse_decimal(sz_raw)
        except ValueError as exc:
            raise ActionFormatError("`s` must be a decimal string") from exc
        tif: str | None = None
        trigger: Trigger | None = None
        if isinstance(kind, dict) and "limit" in kind:
            tif = _require(kind["limit"], "tif")  # type: ignore[assignment]
            if tif not in ("Gtc", "Ioc", "Alo", "FrontendMarket"):
                raise ActionFormatError(f"unknown tif `{tif}`")
        elif isinstance(kind, dict) and "trigger" in kind:
            spec = kind["trigger"]
            is_market = _require(spec, "isMarket")
            tpsl = _require(spec, "tpsl")
            try:
                trigger_px = parse_decimal(_require(spec, "triggerPx"))
            except ValueError as exc:
                raise ActionFormatError("`triggerPx` must be a decimal string") from exc
            if not isinstance(is_market, bool) or tpsl not in ("tp", "sl"):
                raise ActionFormatError("bad trigger")
            trigger = Trigger(is_market, trigger_px, str(tpsl))
        else:
            raise ActionFormatError("`t` must be {limit} or {trigger}")
        return OrderRequest(inst, is_buy, px, sz, reduce_only, tif, trigger, cloid)

    def validate(
        self,
        user: str,
        req: OrderRequest,
        *,
        exclude_oid: int | None = None,
        check_reduce_only: bool = True,
    ) -> None:
        """Apply the venue's checks in Hyperliquid's order (protocol §13.3); raise OrderRejected."""
        inst = req.instrument
        acct = self.accounts[user]
        if req.px <= 0:
            raise OrderRejected("Order has invalid price.")
        if not is_valid_price(req.px, inst.sz_decimals, is_spot=inst.is_spot):
            raise OrderRejected("Price must be divisible by tick size.", "tickRejected")
        if req.trigger is not None and not is_valid_price(
            req.trigger.trigger_px, inst.sz_decimals, is_spot=inst.is_spot
        ):
            raise OrderRejected("Invalid TP/SL price.", "badTriggerPxRejected")
        if req.sz == 0:
            raise OrderRejected("Order has zero size.")
        if not is_valid_size(req.sz, inst.sz_decimals):
            raise OrderRejected("Order has invalid size.")
        if req.cloid is not None:
            for order in self.open_orders.get(user, {}).values():
                if order.cloid == req.cloid and order.oid != exclude_oid:
                    raise OrderRejected("Duplicate cloid: an open order already uses it.")
        mid = self.mids[inst.coin]
        aggressive = req.tif in ("Ioc", "FrontendMarket") or (
            req.trigger is not None and req.trigger.is_market
        )
        notional_px = min(req.px, mid) if aggressive else req.px
        if not req.reduce_only and notional_px * req.sz < self.config.min_notional:
            if inst.is_spot:
                raise OrderRejected(
                    f"Order must have minimum value of {wire(self.config.min_notional)[:-2]} USDC.",
                    "minTradeNtlRejected",
                )
            raise OrderRejected(
                f"Order must have minimum value of ${wire(self.config.min_notional)[:-2]}.",
                "minTradeNtlRejected",
            )
        if req.reduce_only and not inst.is_spot and check_reduce_only:
            pos = acct.positions.get(inst.coin)
            if pos is None or pos.szi == 0 or (pos.szi > 0) == req.is_buy:
                raise OrderRejected(
                    "Reduce only order would increase position.", "reduceOnlyRejected"
                )
        if len(self.open_orders.get(user, {})) >= self.config.max_open_orders:
            raise OrderRejected("Too many open orders.", "tooManyOpenOrdersRejected")
        if req.trigger is not None:
            return  # funds are checked when the trigger fires (_trigger)
        self._check_funds(user, req, exclude_oid)
        if req.tif == "Alo":
            best_opposite = self._best(inst.coin, not req.is_buy)
            if best_opposite is not None and (
                req.px >= best_opposite if req.is_buy else req.px <= best_opposite
            ):
                bid = self._best(inst.coin, True)
                ask = self._best(inst.coin, False)
                raise OrderRejected(
                    "Post only order would have immediately matched, "
                    f"bbo was {_plain(bid)}@{_plain(ask)}.",
                    "badAloPxRejected",
                )

    def _check_funds(self, user: str, req: OrderRequest, exclude_oid: int | None) -> None:
        """Spot balance, or perp initial margin at the user's leverage for what the order opens."""
        inst = req.instrument
        acct = self.accounts[user]
        if inst.is_spot:
            self._check_spot_balance(user, req, exclude_oid)
            return
        if req.reduce_only:
            return
        opening = self._opening_size(acct, inst, req.is_buy, req.sz)
        if opening <= 0:
            return
        lev = leverage_for(acct, inst, self.config.default_leverage)
        summary = self.summary(acct)
        free = (
            summary.cross_account_value
            - summary.cross_margin_used
            - self._order_margin(acct, exclude_oid)
        )
        # A buy fills at or below its limit; a sell at or above it, so an aggressive sell (limit
        # under the mid) fills near the mid and needs the margin of that notional.
        px = req.px if req.is_buy else max(req.px, self.mids[inst.coin])
        needed = opening * px / lev.value
        if needed > free:
            raise OrderRejected("Insufficient margin to place order.", "perpMarginRejected")

    def _check_spot_balance(self, user: str, req: OrderRequest, exclude_oid: int | None) -> None:
        inst = req.instrument
        acct = self.accounts[user]
        hold = self.spot_hold(user)
        old = self.orders.get(exclude_oid) if exclude_oid is not None else None
        old_inst = self.by_coin[old.coin] if old is not None else None
        # Only an order spot_hold counted (a spot order, untriggered triggers hold nothing).
        if (
            old is not None
            and old_inst is not None
            and old_inst.is_spot
            and old.oid in self.open_orders.get(user, {})
            and (old.trigger is None or old.triggered)
        ):
            if old.is_buy:
                assert old_inst.quote_token is not None
                hold[old_inst.quote_token] = hold.get(
                    old_inst.quote_token, ZERO
                ) - self._spot_buy_cost(old.sz, old.limit_px)
            else:
                assert old_inst.base_token is not None
                hold[old_inst.base_token] = hold.get(old_inst.base_token, ZERO) - old.sz
        token = inst.quote_token if req.is_buy else inst.base_token
        assert token is not None
        need = self._spot_buy_cost(req.sz, req.px) if req.is_buy else req.sz
        available = acct.spot.get(token, ZERO) - hold.get(token, ZERO)
        if need > available:
            raise OrderRejected(
                "Order has insufficient spot balance to trade", "insufficientSpotBalanceRejected"
            )

    def _best(self, coin: str, is_buy: bool) -> Decimal | None:
        user = self.books[coin].best(is_buy)
        synthetic = self.ladders[coin].best(is_buy)
        candidates = [p for p in (user, synthetic) if p is not None]
        if not candidates:
            return None
        return max(candidates) if is_buy else min(candidates)

    def new_order(self, user: str, req: OrderRequest, now: int) -> Order:
        oid = self.next_oid
        self.next_oid += 1
        order = Order(
            oid=oid,
            user=user,
            coin=req.instrument.coin,
            asset=req.instrument.asset,
            is_buy=req.is_buy,
            limit_px=req.px,
            orig_sz=req.sz,
            sz=req.sz,
            reduce_only=req.reduce_only,
            tif=req.tif,
            cloid=req.cloid,
            timestamp=now,
            trigger=req.trigger,
            status_timestamp=now,
        )
        self.orders[oid] = order
        self.order_history.setdefault(user, []).append(order)
        return order

    def submit(self, order: Order, now: int) -> dict:
        """Run a validated order: rest a trigger, or match and rest/cancel the remainder."""
        if order.trigger is not None and not order.triggered:
            self._rest_open(order, now, in_book=False)
            return self._resting_status(order)
        filled, notional = self._take(order, order.limit_px, now)
        if order.sz > 0 and order.reduce_only and self._clip_reduce_only(order, order.sz) <= 0:
            self._finish(order, "reduceOnlyCanceled", now)
        elif order.sz > 0 and order.tif in ("Gtc", "Alo", None):
            self._rest_open(order, now, in_book=True)
            return self._resting_status(order)
        if filled == 0:
            self._finish(order, "iocCancelRejected", now, record_only=True)
            raise OrderRejected(
                "Order could not immediately match against any resting orders.",
                "iocCancelRejected",
            )
        if order.sz > 0 and order.status not in ("reduceOnlyCanceled",):
            self._finish(order, "canceled", now)
        status: dict = {
            "totalSz": wire(filled),
            "avgPx": wire_px(notional / filled),
            "oid": order.oid,
        }
        if order.cloid:
            status["cloid"] = order.cloid
        return {"filled": status}

    def _resting_status(self, order: Order) -> dict:
        resting: dict = {"oid": order.oid}
        if order.cloid:
            resting["cloid"] = order.cloid
        return {"resting": resting}

    def _rest_open(self, order: Order, now: int, *, in_book: bool) -> None:
        self.open_orders.setdefault(order.user, {})[order.oid] = order
        if in_book:
            self.books[order.coin].add(order)
            self._dirty_books.add(order.coin)
        order.status = "open"
        order.status_timestamp = now
        self._order_update(order)

    def _finish(self, order: Order, status: str, now: int, *, record_only: bool = False) -> None:
        """Take an order off the book with a final status and tell its owner."""
        opened = self.open_orders.get(order.user, {})
        if order.oid in opened:
            del opened[order.oid]
            self.books[order.coin].remove(order)
            self._dirty_books.add(order.coin)
        order.status = status
        order.status_timestamp = now
        if not record_only or status != "iocCancelRejected":
            self._order_update(order)
        if status not in ("filled", "triggered"):
            for child in self.waiting_children.pop(order.oid, []):
                child.status = "canceled"
                child.status_timestamp = now
                self._order_update(child)
        elif status == "filled":
            self._activate_children(order, now)
            self._cancel_siblings(order, now)

    def _cancel_siblings(self, order: Order, now: int) -> None:
        """When one child of a ``normalTpsl`` group fills, the other is ``siblingFilledCanceled``."""
        parent = self.orders.get(order.parent_oid) if order.parent_oid is not None else None
        if parent is None:
            return
        opened = self.open_orders.get(order.user, {})
        for oid in parent.children:
            sibling = self.orders.get(oid)
            if sibling is not None and sibling is not order and oid in opened:
                self._finish(sibling, "siblingFilledCanceled", now)

    def _activate_children(self, parent: Order, now: int) -> None:
        for child in self.waiting_children.pop(parent.oid, []):
            self._rest_open(child, now, in_book=False)

    def _take(self, order: Order, limit: Decimal, now: int) -> tuple[Decimal, Decimal]:
        """Match ``order`` as taker up to ``limit``; users' orders first at equal prices."""
        inst = self.by_coin[order.coin]
        book = self.books[order.coin]
        liquidity = self.liquidity[order.coin]
        if liquidity.refresh(now):  # quotes taken earlier refilled a little since
            self.ladders[order.coin] = liquidity.ladder
        ladder = self.ladders[order.coin]
        levels = ladder.side(not order.is_buy)
        filled = ZERO
        notional = ZERO
        swept = ZERO
        tx_hash = self._new_hash()
        while order.sz > 0:
            budget = self._clip_reduce_only(order, order.sz)
            if budget <= 0:
                break
            maker = next(iter(book.orders(not order.is_buy)), None)
            level = next((lv for lv in levels if lv.sz > 0), None)
            use_user = maker is not None and (
                level is None
                or (maker.limit_px <= level.px if order.is_buy else maker.limit_px >= level.px)
            )
            px = maker.limit_px if use_user and maker else (level.px if level else None)
            if px is None or (px > limit if order.is_buy else px < limit):
                break
            if use_user and maker is not None:
                if maker.user == order.user:
                    self._finish(maker, "selfTradeCanceled", now)
                    continue
                # A resting reduce-only order only fills what is left of its owner's position.
                maker_budget = self._clip_reduce_only(maker, maker.sz)
                if maker_budget <= 0:
                    self._finish(maker, "reduceOnlyCanceled", now)
                    continue
                qty = min(budget, maker_budget)
                if not self._maker_margin_ok(maker, qty, px):
                    self._finish(maker, "marginCanceled", now)
                    continue
                self._settle(inst, px, qty, taker=order, maker=maker, now=now, tx_hash=tx_hash)
            else:
                assert level is not None
                qty = min(budget, level.sz)
                level.sz -= qty
                ladder.revision += 1
                swept += qty * px
                self._settle(inst, px, qty, taker=order, maker=None, now=now, tx_hash=tx_hash)
                self._dirty_books.add(order.coin)
            filled += qty
            notional += qty * px
        if swept:
            self._after_sweep(liquidity, not order.is_buy, swept)
        if order.sz == 0:
            self._finish(order, "filled", now)
        return filled, notional

    def _after_sweep(self, liquidity: CoinLiquidity, side: bool, notional: Decimal) -> None:
        """A taker consumed synthetic quotes: they refill over the half-life; the mid moves."""
        liquidity.consumed(side, notional, self.clock.now_ms())
        coin = liquidity.instrument.coin
        mid = liquidity.mid()
        if mid != self.mids[coin]:
            self.mids[coin] = mid
            self.events.append(Event("allMids", None, {"mids": self.all_mids()}))

    def _new_hash(self) -> str:
        self.hash_counter += 1
        digest = hashlib.sha256(f"{self.config.seed}:tx:{self.hash_counter}".encode()).hexdigest()
        return "0x" + digest

    # ------------------------------------------------------------------ settlement

    def _settle(
        self,
        inst: Instrument,
        px: Decimal,
        qty: Decimal,
        *,
        taker: Order | None,
        maker: Order | None,
        now: int,
        tx_hash: str | None = None,
    ) -> None:
        """Book one trade between two orders (None = the synthetic market maker)."""
        tx_hash = tx_hash or self._new_hash()
        tid = self.next_tid
        self.next_tid += 1
        mm = self.config.market_maker_address
        if taker is not None:
            taker_is_buy = taker.is_buy
        else:
            assert maker is not None
            taker_is_buy = not maker.is_buy
        buyer = taker if taker_is_buy else maker
        seller = maker if taker_is_buy else taker
        self._pending_trades.setdefault(inst.coin, []).append(
            {
                "coin": inst.coin,
                "side": "B" if taker_is_buy else "A",
                "px": wire(px),
                "sz": wire(qty),
                "hash": tx_hash,
                "time": now,
                "tid": tid,
                "users": [buyer.user if buyer else mm, seller.user if seller else mm],
            }
        )
        for order, crossed in ((taker, True), (maker, False)):
            if order is None:
                continue
            self._fill_order(inst, order, px, qty, crossed, now, tx_hash, tid)
        self.last_trade_px[inst.coin] = px
        self.candles.record(inst.coin, now, px, volume=qty, trades=1)
        self._dirty_candles.add(inst.coin)

    def _fill_order(
        self,
        inst: Instrument,
        order: Order,
        px: Decimal,
        qty: Decimal,
        crossed: bool,
        now: int,
        tx_hash: str,
        tid: int,
    ) -> None:
        acct = self.accounts[order.user]
        if inst.is_spot:
            rate = self.config.spot_taker_fee if crossed else self.config.spot_maker_fee
        else:
            rate = self.config.perp_taker_fee if crossed else self.config.perp_maker_fee
        fee = (px * qty * rate).quantize(USD_QUANTUM)
        fee_token, fee_text = "USDC", wire_usd(fee)
        if inst.is_spot and order.is_buy:
            # As on Hyperliquid, a spot buy pays its fee in the token it receives.
            assert inst.base_token is not None
            token = self._spot_tokens[inst.base_token]
            fee = (qty * rate).quantize(Decimal(1).scaleb(-token.wei_decimals))
            fee_token, fee_text = token.name, wire(fee)
        if inst.is_spot:
            start, closed_pnl, direction = self._apply_spot(acct, inst, order.is_buy, px, qty, fee)
        else:
            start, closed_pnl, direction = self._apply_perp(acct, inst, order.is_buy, px, qty, fee)
        acct.cum_volume += px * qty
        order.sz -= qty
        if not crossed:
            self.books[order.coin].touch(order.is_buy)  # a resting order's size changed
        fill = {
            "coin": inst.coin,
            "px": wire(px),
            "sz": wire(qty),
            "side": order.side,
            "time": now,
            "startPosition": wire(start),
            "dir": direction,
            "closedPnl": wire_usd(closed_pnl),
            "hash": tx_hash,
            "oid": order.oid,
            "crossed": crossed,
            "fee": fee_text,
            "tid": tid,
        }
        if order.cloid:
            fill["cloid"] = order.cloid
        fill["feeToken"] = fee_token
        tag = self._liquidation_tag
        if tag is not None and tag["liquidatedUser"] == order.user:
            fill["liquidation"] = dict(tag)
        self.fills.setdefault(order.user, []).append(fill)
        self._pending_fills.setdefault(order.user, []).append(fill)
        if not crossed:
            if order.sz == 0:
                self._finish(order, "filled", now)
            else:
                self._dirty_books.add(order.coin)
                self._order_update(order)
        self._cancel_stale_reduce_only(acct, inst.coin, now)

    def _apply_perp(
        self, acct: Account, inst: Instrument, is_buy: bool, px: Decimal, qty: Decimal, fee: Decimal
    ) -> tuple[Decimal, Decimal, str]:
        pos = acct.positions.get(inst.coin)
        start = pos.szi if pos else ZERO
        delta = qty if is_buy else -qty
        end = start + delta
        lev = leverage_for(acct, inst, self.config.default_leverage)
        closing = min(qty, abs(start)) if start != 0 and (start > 0) != is_buy else ZERO
        opening = qty - closing
        closed_pnl = ZERO
        if pos is None:
            pos = Position(inst.coin, ZERO, px)
            acct.positions[inst.coin] = pos
        if start != 0:
            pos.cum_funding_since_change = ZERO
            if closing > 0 and opening > 0:
                pos.cum_funding_since_open = ZERO  # flipped: a new position opened
        if closing > 0:
            side = Decimal(1) if start > 0 else Decimal(-1)
            closed_pnl = side * (px - pos.entry_px) * closing
            if lev.is_cross:
                acct.usdc += closed_pnl
            else:
                # An isolated position can lose its margin and no more: a loss beyond it (a gap
                # through the bankruptcy price) is absorbed by the backstop.
                released = pos.isolated_margin * closing / abs(start)
                pos.isolated_margin -= released
                acct.usdc += max(released + closed_pnl, ZERO)
        if opening > 0:
            base = abs(start) if closing == 0 else ZERO
            pos.entry_px = (pos.entry_px * base + px * opening) / (base + opening) if base else px
            if not lev.is_cross:
                margin = (px * opening / lev.value).quantize(USD_QUANTUM)
                acct.usdc -= margin
                pos.isolated_margin += margin
        acct.usdc -= fee
        pos.szi = end
        if end == 0:
            acct.usdc += pos.isolated_margin
            del acct.positions[inst.coin]
        return start, closed_pnl, fill_direction(start, is_buy, end)

    def _apply_spot(
        self, acct: Account, inst: Instrument, is_buy: bool, px: Decimal, qty: Decimal, fee: Decimal
    ) -> tuple[Decimal, Decimal, str]:
        base, quote = inst.base_token, inst.quote_token
        assert base is not None
        assert quote is not None
        start = acct.spot.get(base, ZERO)
        closed_pnl = ZERO
        if is_buy:  # the fee is in the base token (see _fill_order)
            acct.spot[base] = start + qty - fee
            acct.spot[quote] = acct.spot.get(quote, ZERO) - px * qty
            acct.spot_entry_ntl[base] = acct.spot_entry_ntl.get(base, ZERO) + px * qty
        else:
            entry = acct.spot_entry_ntl.get(base, ZERO)
            cost = entry * qty / start if start > 0 else ZERO
            closed_pnl = px * qty - cost
            acct.spot_entry_ntl[base] = entry - cost
            acct.spot[base] = start - qty
            acct.spot[quote] = acct.spot.get(quote, ZERO) + px * qty - fee
        return start, closed_pnl, "Buy" if is_buy else "Sell"

    def _cancel_stale_reduce_only(self, acct: Account, coin: str, now: int) -> None:
        """A resting reduce-only order that can no longer reduce anything is canceled."""
        if self.by_coin[coin].is_spot:
            return
        for order in list(self.open_orders.get(acct.address, {}).values()):
            if order.coin != coin or not order.reduce_only:
                continue
            if order.trigger is not None and not order.triggered:
                continue
            if self._clip_reduce_only(order, order.sz) <= 0:
                self._finish(order, "reduceOnlyCanceled", now)

    # ------------------------------------------------------------------ cancels & timers

    def cancel(self, user: str, order: Order | None, now: int, status: str = "canceled") -> bool:
        if order is None or order.user != user:
            return False
        if order.oid in self.open_orders.get(user, {}):
            self._finish(order, status, now)
            return True
        for parent, children in self.waiting_children.items():
            if order in children:
                children.remove(order)
                order.status = status
                order.status_timestamp = now
                self._order_update(order)
                if not children:
                    del self.waiting_children[parent]
                return True
        return False

    def find_order(self, user: str, ref: object) -> Order | None:
        """An order of ``user`` by integer oid or cloid string."""
        if isinstance(ref, int) and not isinstance(ref, bool):
            order = self.orders.get(ref)
            return order if order is not None and order.user == user else None
        if isinstance(ref, str):
            matches = [o for o in self.order_history.get(user, []) if o.cloid == ref.lower()]
            if not matches:
                matches = [o for o in self.order_history.get(user, []) if o.cloid == ref]
            open_matches = [o for o in matches if o.status == "open"]
            candidates = open_matches or matches
            return candidates[-1] if candidates else None
        return None

    def _fire_triggers(self, now: int) -> None:
        for user in list(self.open_orders):
            for order in list(self.open_orders[user].values()):
                if order.trigger is None or order.triggered or order.status != "open":
                    continue  # not a waiting trigger, or canceled by an earlier one (sibling)
                mark = self.marks_px[order.coin]
                above = order.trigger.condition_is_above(order.is_buy)
                hit = (
                    mark >= order.trigger.trigger_px if above else mark <= order.trigger.trigger_px
                )
                if hit:
                    self._trigger(order, now)

    def _trigger(self, order: Order, now: int) -> None:
        inst = self.by_coin[order.coin]
        del self.open_orders[order.user][order.oid]
        order.triggered = True
        order.status = "triggered"
        order.status_timestamp = now
        self._order_update(order)
        assert order.trigger is not None
        if self._clip_reduce_only(order, order.sz) <= 0 and order.reduce_only:
            self._finish(order, "reduceOnlyCanceled", now)
            return
        mark = self.marks_px[order.coin]
        if order.trigger.is_market:
            slip = self.config.trigger_market_slippage
            raw = mark * (1 + slip) if order.is_buy else mark * (1 - slip)
            limit = nearest_valid_price(
                raw,
                inst.sz_decimals,
                is_spot=inst.is_spot,
                rounding=ROUND_FLOOR if order.is_buy else ROUND_CEILING,
            )
        else:
            limit = order.limit_px
        # Nothing was reserved while the trigger waited: check funds now (spot: at the worst
        # price; perp market: initial margin at the mark, as for an opening order).
        check_px = mark if order.trigger.is_market and not inst.is_spot else limit
        funds = OrderRequest(
            inst, order.is_buy, check_px, order.sz, order.reduce_only, "Ioc", None, order.cloid
        )
        try:
            self._check_funds(order.user, funds, None)
        except OrderRejected:
            self._finish(order, "marginCanceled", now)
            return
        self._take(order, limit, now)
        if order.sz <= 0:
            return
        if order.reduce_only and self._clip_reduce_only(order, order.sz) <= 0:
            self._finish(order, "reduceOnlyCanceled", now)
        elif order.trigger.is_market:
            self._finish(order, "canceled", now)
        else:
            order.tif = "Gtc"
            self._rest_open(order, now, in_book=True)

    def _fire_scheduled_cancels(self, now: int) -> None:
        for acct in self.accounts.values():
            if acct.scheduled_cancel_ms is None or now < acct.scheduled_cancel_ms:
                continue
            acct.scheduled_cancel_ms = None
            day = now // DAY_MS
            acct.scheduled_cancel_triggers[day] = acct.scheduled_cancel_triggers.get(day, 0) + 1
            for order in list(self.open_orders.get(acct.address, {}).values()):
                self._finish(order, "scheduledCancel", now)

    def _release_unstaking(self, now: int) -> None:
        hype = self.hype_token()
        for user, delegator in self.delegators.items():
            released = delegator.release(now)
            if released and hype is not None:
                acct = self.account(user, create=True)
                assert acct is not None
                acct.spot[hype] = acct.spot.get(hype, ZERO) + Decimal(released) / HYPE_WEI
                ledger.staking_transfer(self, user, Decimal(released) / HYPE_WEI, False, now)
                delegator.history.append(
                    {
                        "time": now,
                        "hash": self._new_hash(),
                        "delta": {
                            "withdrawal": {
                                "amount": wire(Decimal(released) / HYPE_WEI),
                                "phase": "finalized",
                            }
                        },
                    }
                )

    def hype_token(self) -> int | None:
        for token in self.config.spot_tokens:
            if token.name == "HYPE":
                return token.index
        return None

    # ------------------------------------------------------------------ events

    def _order_update(self, order: Order) -> None:
        basic = basic_order(order)
        self._pending_updates.setdefault(order.user, []).append(
            {"order": basic, "status": order.status, "statusTimestamp": order.status_timestamp}
        )

    def book_levels(self, coin: str, is_buy: bool, depth: int = 20) -> list[dict]:
        """Merged user + synthetic levels of one side, best first.

        Cached per (book revision, ladder revision): most events change one side of one book,
        and a tick re-quotes the ladder but leaves the user book alone. Callers must not mutate
        the answer.
        """
        book = self.books[coin]
        ladder = self.ladders[coin]
        key = (book.revision(is_buy), ladder.serial, ladder.revision, depth)
        cached = self._levels_cache.get((coin, is_buy))
        if cached is not None and cached[0] == key:
            return cached[1]
        users = book.levels(is_buy, depth)
        quotes = [level for level in ladder.side(is_buy) if level.sz > 0]
        result: list[dict] = []
        i = j = 0
        while len(result) < depth and (i < len(users) or j < len(quotes)):
            user = users[i] if i < len(users) else None
            quote = quotes[j] if j < len(quotes) else None
            if user is None or (
                quote is not None and (quote.px > user[0] if is_buy else quote.px < user[0])
            ):
                assert quote is not None
                result.append(quote.wire())  # the common case: formatted once per size
                j += 1
                continue
            px, sz, n = user
            i += 1
            if quote is not None and quote.px == px:
                sz, n = sz + quote.sz, n + quote.n
                j += 1
            result.append({"px": wire(px), "sz": wire(sz), "n": n})
        self._levels_cache[(coin, is_buy)] = (key, result)
        return result

    def l2_book(self, coin: str) -> dict:
        return {
            "coin": coin,
            "time": self.clock.now_ms(),
            "levels": [self.book_levels(coin, True), self.book_levels(coin, False)],
        }

    def flush_events(self) -> None:
        """Turn this call's pending changes into websocket events (in a stable order)."""
        for coin, trades in self._pending_trades.items():
            self.events.append(Event("trades", coin, trades))
            self.recent_trades.setdefault(coin, deque(maxlen=RECENT_TRADES)).extend(trades)
        self._pending_trades = {}
        for user, fills in self._pending_fills.items():
            self.events.append(Event("userFills", user, {"user": user, "fills": fills}))
            self.events.append(Event("user", user, {"fills": fills}))
        self._pending_fills = {}
        for user, updates in self._pending_updates.items():
            self.events.append(Event("orderUpdates", user, updates))
        self._pending_updates = {}
        for user, entries in self.pending_ledger.items():
            self.events.append(
                Event(
                    "userNonFundingLedgerUpdates",
                    user,
                    {"user": user, "nonFundingLedgerUpdates": entries},
                )
            )
        self.pending_ledger = {}
        for coin in sorted(self._dirty_books):
            book = self.l2_book(coin)
            self.events.append(Event("l2Book", coin, book))
            bids, asks = book["levels"]
            bbo = [bids[0] if bids else None, asks[0] if asks else None]
            if self._last_bbo.get(coin) != bbo:
                self._last_bbo[coin] = bbo
                self.events.append(
                    Event("bbo", coin, {"coin": coin, "time": book["time"], "bbo": bbo})
                )
        self._dirty_books = set()
        for coin in self._dirty_candles:
            for interval, candle in self.candles.current_wires(coin):
                self.events.append(Event("candle", f"{coin}:{interval}", candle))
        self._dirty_candles = set()


def _plain(px: Decimal | None) -> str:
    if px is None:
        return "None"
    text = format(px.normalize(), "f")
    return text
