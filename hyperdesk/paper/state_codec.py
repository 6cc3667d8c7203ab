"""The paper engine's whole state as plain JSON values, and back.

Why JSON and not pickle: the state file is something an operator may open, diff or repair, and
loading it must never run code. Money and sizes are Decimal strings (``str(Decimal)`` reads back
exactly); the only floats are the Mersenne Twister's cached normal inside each generator state,
which ``json`` writes with ``repr`` and therefore also reads back exactly.

What is saved is what cannot be recomputed: accounts, positions, every order (open, waiting,
finished) with the book's queue order, fills, the public tape, candles, the price model's
whole state (levels, generators, volatility regime, grid time), vault and staking state, agents,
counters, and each synthetic market's depletion, refill clock and taker-flow budget. The
synthetic ladders are rebuilt from those (or, for states saved before the market reacted, from
the mids) and the last BBO is dropped. Static facts (instruments, fees, vault and validator
specs) come from the ``PaperConfig`` of the loading process; a state naming a coin, vault or
validator that config lacks is refused (``StateMismatch``) rather than half-loaded.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Any

from hyperdesk.paper.accounts import Account, Agent, LeverageSetting, Position
from hyperdesk.paper.book import Order, OrderBook, Trigger
from hyperdesk.paper.candles import Candle
from hyperdesk.paper.engine import RECENT_TRADES, Engine
from hyperdesk.paper.funding import FundingAccumulator
from hyperdesk.paper.liquidity import CoinLiquidity, liquidity_params
from hyperdesk.paper.oracle import MarkState
from hyperdesk.paper.staking import Delegation, Delegator, PendingWithdrawal
from hyperdesk.paper.vaults import Follower
from hyperdesk.protocol.rules import nearest_valid_price


class StateMismatch(ValueError):
    """The saved state does not fit this exchange's configuration (or is malformed)."""


def _d(value: Decimal) -> str:
    return str(value)


def _dec(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise StateMismatch(f"expected a decimal string, got {value!r}")
    return Decimal(value)


def _decs(mapping: dict[str, Any]) -> dict[str, Decimal]:
    return {key: _dec(value) for key, value in mapping.items()}


def _rng_out(state: Any) -> list:
    version, internal, gauss_next = state
    return [version, list(internal), gauss_next]


def _rng_in(saved: Any) -> tuple:
    version, internal, gauss_next = saved
    return (version, tuple(internal), gauss_next)


# ------------------------------------------------------------------------------------ dumping


def _order_out(order: Order) -> dict[str, Any]:
    trigger = order.trigger
    return {
        "oid": order.oid,
        "user": order.user,
        "coin": order.coin,
        "asset": order.asset,
        "is_buy": order.is_buy,
        "limit_px": _d(order.limit_px),
        "orig_sz": _d(order.orig_sz),
        "sz": _d(order.sz),
        "reduce_only": order.reduce_only,
        "tif": order.tif,
        "cloid": order.cloid,
        "timestamp": order.timestamp,
        "trigger": None
        if trigger is None
        else {
            "is_market": trigger.is_market,
            "trigger_px": _d(trigger.trigger_px),
            "tpsl": trigger.tpsl,
        },
        "is_position_tpsl": order.is_position_tpsl,
        "parent_oid": order.parent_oid,
        "children": list(order.children),
        "status": order.status,
        "status_timestamp": order.status_timestamp,
        "triggered": order.triggered,
    }


def _account_out(acct: Account) -> dict[str, Any]:
    return {
        "address": acct.address,
        "usdc": _d(acct.usdc),
        "positions": [
            {
                "coin": p.coin,
                "szi": _d(p.szi),
                "entry_px": _d(p.entry_px),
                "isolated_margin": _d(p.isolated_margin),
                "cum_funding_all_time": _d(p.cum_funding_all_time),
                "cum_funding_since_open": _d(p.cum_funding_since_open),
                "cum_funding_since_change": _d(p.cum_funding_since_change),
            }
            for p in acct.positions.values()
        ],
        "leverage": {c: [lv.is_cross, lv.value] for c, lv in acct.leverage.items()},
        "spot": {str(token): _d(v) for token, v in acct.spot.items()},
        "spot_entry_ntl": {str(token): _d(v) for token, v in acct.spot_entry_ntl.items()},
        "cum_volume": _d(acct.cum_volume),
        "n_requests": acct.n_requests,
        "last_request_ms": acct.last_request_ms,
        "scheduled_cancel_ms": acct.scheduled_cancel_ms,
        "scheduled_cancel_triggers": {str(d): n for d, n in acct.scheduled_cancel_triggers.items()},
    }


def dump_engine(engine: Engine) -> dict[str, Any]:
    """Everything needed to carry on exactly where ``engine`` is now (call under its lock)."""
    prices = {coin: {"raw": _d(engine.prices.price(coin))} for coin in engine.prices.coins()}
    candles = [
        [coin, interval, [[c.t, c.close_t, _d(c.o), _d(c.h), _d(c.low), _d(c.c), _d(c.v), c.n,
                           _d(c.ntl)] for c in series]]
        for (coin, interval), series in engine.candles.series().items()
    ]  # fmt: skip
    books = {
        coin: {
            "bids": [o.oid for o in book.orders(True)],
            "asks": [o.oid for o in book.orders(False)],
        }
        for coin, book in engine.books.items()
    }
    vaults = {
        address: {
            "rng": _rng_out(vault.rng.getstate()),
            "created_ms": vault.created_ms,
            "leader_equity": _d(vault.leader_equity),
            "followers": [
                {
                    "user": f.user,
                    "equity": _d(f.equity),
                    "basis": _d(f.basis),
                    "deposited_total": _d(f.deposited_total),
                    "withdrawn_total": _d(f.withdrawn_total),
                    "entry_ms": f.entry_ms,
                    "lockup_until": f.lockup_until,
                }
                for f in vault.followers.values()
            ],
            "history": [[ms, _d(eq), _d(pnl)] for ms, eq, pnl in vault.history],
            "cum_pnl": _d(vault.cum_pnl),
            "volume": _d(vault.volume),
        }
        for address, vault in engine.vaults.items()
    }
    delegators = {
        user: {
            "undelegated": d.undelegated,
            "delegations": {v: [x.amount, x.locked_until] for v, x in d.delegations.items()},
            "pending": [[p.amount, p.release_ms] for p in d.pending],
            "history": list(d.history),
        }
        for user, d in engine.delegators.items()
    }
    return {
        "prices": prices,
        # The whole price path (levels, generators, regime, grid): it continues exactly.
        "price_model": engine.prices.dump(),
        "mids": {coin: _d(px) for coin, px in engine.mids.items()},
        "candles": candles,
        "recent_trades": {coin: list(trades) for coin, trades in engine.recent_trades.items()},
        "accounts": [_account_out(a) for a in engine.accounts.values()],
        "agents": [
            {"address": a.address, "master": a.master, "name": a.name, "valid_until": a.valid_until}
            for a in engine.agents.values()
        ],
        "orders": [_order_out(o) for o in engine.orders.values()],
        "open_orders": {user: list(opened) for user, opened in engine.open_orders.items()},
        "books": books,
        "waiting_children": {
            str(parent): [c.oid for c in children]
            for parent, children in engine.waiting_children.items()
        },
        "order_history": {
            user: [o.oid for o in orders] for user, orders in engine.order_history.items()
        },
        "fills": {user: list(fills) for user, fills in engine.fills.items()},
        "vaults": vaults,
        "delegators": delegators,
        "ledger": {user: list(entries) for user, entries in engine.ledger.items()},
        "twaps": engine.twaps.dump(),
        "risk": _risk_out(engine),
        "liquidity": {coin: liq.dump() for coin, liq in engine.liquidity.items()},
        # The synthetic prints' generators and next arrivals: the tape continues exactly.
        "print_flow": engine.print_flow.dump() if engine.print_flow is not None else None,
        "next_oid": engine.next_oid,
        "next_tid": engine.next_tid,
        "hash_counter": engine.hash_counter,
        "last_tick_ms": engine.last_tick_ms,
    }


def _risk_out(engine: Engine) -> dict[str, Any]:
    """Oracle/mark state, funding accumulators and records, liquidation records."""
    return {
        "oracle_px": {c: _d(v) for c, v in engine.oracle_px.items()},
        "marks_px": {c: _d(v) for c, v in engine.marks_px.items()},
        "mark_states": {
            c: [
                None if m.basis_ema is None else _d(m.basis_ema),
                None if m.book_ema is None else _d(m.book_ema),
                m.updated_ms,
            ]
            for c, m in engine.mark_states.items()
        },
        "basis": {c: _d(v) for c, v in engine.basis.items()},
        "last_trade_px": {c: _d(v) for c, v in engine.last_trade_px.items()},
        "funding_acc": {c: [_d(a.premium_sum), a.n_samples] for c, a in engine.funding_acc.items()},
        "funding_accrued_ms": engine.funding_accrued_ms,
        "funding_history": {c: list(rows) for c, rows in engine.funding_history.items()},
        "user_fundings": {u: list(rows) for u, rows in engine.user_fundings.items()},
        "liquidation_ledger": {u: list(rows) for u, rows in engine.liquidation_ledger.items()},
        "liquidation_cooldown": dict(engine.liquidation_cooldown),
        "next_lid": engine.next_lid,
    }


# ------------------------------------------------------------------------------------ loading


def _risk_in(engine: Engine, risk: dict[str, Any], now_ms: int) -> None:
    _check_names("coins", risk["marks_px"], engine.by_coin)
    engine.oracle_px.update(_decs(risk["oracle_px"]))
    engine.marks_px.update(_decs(risk["marks_px"]))
    for coin, (basis_ema, book_ema, updated_ms) in risk["mark_states"].items():
        engine.mark_states[coin] = MarkState(
            None if basis_ema is None else _dec(basis_ema),
            None if book_ema is None else _dec(book_ema),
            int(updated_ms),
        )
    engine.basis = _decs(risk["basis"])
    engine.last_trade_px = _decs(risk["last_trade_px"])
    for coin, (premium_sum, n_samples) in risk["funding_acc"].items():
        engine.funding_acc[coin] = FundingAccumulator(_dec(premium_sum), int(n_samples))
    # Time does not run while the exchange is down: no funding for the downtime either.
    engine.funding_accrued_ms = max(int(risk["funding_accrued_ms"]), now_ms)
    engine.funding_history.update({c: list(rows) for c, rows in risk["funding_history"].items()})
    engine.user_fundings = {u: list(rows) for u, rows in risk["user_fundings"].items()}
    engine.liquidation_ledger = {u: list(rows) for u, rows in risk["liquidation_ledger"].items()}
    engine.liquidation_cooldown = {k: int(v) for k, v in risk["liquidation_cooldown"].items()}
    engine.next_lid = int(risk["next_lid"])


def _order_in(raw: dict[str, Any]) -> Order:
    trig = raw["trigger"]
    return Order(
        oid=raw["oid"],
        user=raw["user"],
        coin=raw["coin"],
        asset=raw["asset"],
        is_buy=raw["is_buy"],
        limit_px=_dec(raw["limit_px"]),
        orig_sz=_dec(raw["orig_sz"]),
        sz=_dec(raw["sz"]),
        reduce_only=raw["reduce_only"],
        tif=raw["tif"],
        cloid=raw["cloid"],
        timestamp=raw["timestamp"],
        trigger=None
        if trig is None
        else Trigger(trig["is_market"], _dec(trig["trigger_px"]), trig["tpsl"]),
        is_position_tpsl=raw["is_position_tpsl"],
        parent_oid=raw["parent_oid"],
        children=list(raw["children"]),
        status=raw["status"],
        status_timestamp=raw["status_timestamp"],
        triggered=raw["triggered"],
    )


def _account_in(raw: dict[str, Any]) -> Account:
    acct = Account(raw["address"], usdc=_dec(raw["usdc"]))
    for p in raw["positions"]:
        acct.positions[p["coin"]] = Position(
            p["coin"],
            _dec(p["szi"]),
            _dec(p["entry_px"]),
            _dec(p["isolated_margin"]),
            _dec(p["cum_funding_all_time"]),
            _dec(p["cum_funding_since_open"]),
            _dec(p["cum_funding_since_change"]),
        )
    acct.leverage = {c: LeverageSetting(bool(v[0]), int(v[1])) for c, v in raw["leverage"].items()}
    acct.spot = {int(t): _dec(v) for t, v in raw["spot"].items()}
    acct.spot_entry_ntl = {int(t): _dec(v) for t, v in raw["spot_entry_ntl"].items()}
    acct.cum_volume = _dec(raw["cum_volume"])
    acct.n_requests = raw["n_requests"]
    acct.last_request_ms = int(raw.get("last_request_ms", 0))  # absent in older state files
    acct.scheduled_cancel_ms = raw["scheduled_cancel_ms"]
    acct.scheduled_cancel_triggers = {
        int(d): int(n) for d, n in raw["scheduled_cancel_triggers"].items()
    }
    return acct


def _candle_in(row: list) -> Candle:
    t, close_t, o, h, lo, c, v, n = row[:8]
    ntl = _dec(row[8]) if len(row) > 8 else _dec(c) * _dec(v)  # older states: no notional
    return Candle(int(t), int(close_t), _dec(o), _dec(h), _dec(lo), _dec(c), _dec(v), int(n), ntl)


def _check_names(what: str, saved: Any, known: Any) -> None:
    unknown = sorted(set(saved) - set(known))
    if unknown:
        raise StateMismatch(
            f"the saved state has {what} this configuration lacks: {', '.join(unknown)}"
        )


def load_engine(engine: Engine, state: dict[str, Any], now_ms: int) -> None:
    """Replace ``engine``'s state with ``state`` (from ``dump_engine``); call under its lock.

    Raises ``StateMismatch`` before touching anything if the state names coins, vaults or
    validators the engine's configuration does not have, and for any malformed field (the
    engine is then left as it was only if the error comes from the checks; callers refuse to
    start on any error, so a half-loaded engine is never served).

    The simulation does not run while the exchange is down: the first tick after a load
    continues the price path from the saved prices as if no time had passed, so a long downtime
    does not turn into one enormous price jump.
    """
    try:
        _check_names("coins", state["prices"], engine.by_coin)
        _check_names("coins", state["books"], engine.by_coin)
        _check_names("vaults", state["vaults"], engine.vaults)
        _check_names(
            "validators",
            {v for d in state["delegators"].values() for v in d["delegations"]},
            engine.validators,
        )
        _load(engine, state, now_ms)
    except StateMismatch:
        raise
    except (KeyError, TypeError, ValueError, IndexError, ArithmeticError) as exc:
        raise StateMismatch(f"the saved state is malformed: {exc!r}") from None


def _load(engine: Engine, state: dict[str, Any], now_ms: int) -> None:
    if "price_model" in state:
        _check_names("coins", state["price_model"]["coins"], engine.by_coin)
        engine.prices.load(state["price_model"], now_ms)
    else:  # saved before the factor model: each coin's price and generator
        walks = set(engine.prices.coins())
        for coin, saved in state["prices"].items():
            if coin in walks:  # older states kept a walk for spot pairs that now share an oracle
                engine.prices.restore_legacy(coin, _dec(saved["raw"]), saved["rng"])
        engine.prices.grid_ms = max(engine.prices.grid_ms, now_ms)
    engine.mids.update(_decs(state["mids"]))
    # prev_day_px / day_*_volume of older states are recomputed from the candles.
    series: dict[tuple[str, str], list[Candle]] = {}
    for coin, interval, rows in state["candles"]:
        series[(coin, interval)] = [_candle_in(row) for row in rows]
    engine.candles.replace(series)
    engine.recent_trades = {
        coin: deque(trades, maxlen=RECENT_TRADES) for coin, trades in state["recent_trades"].items()
    }
    saved_flow = state.get("print_flow")  # absent before the market printed
    if saved_flow and engine.print_flow is not None:
        engine.print_flow.load(saved_flow)
    saved_liquidity = state.get("liquidity", {})  # absent before the market reacted
    for coin, inst in engine.by_coin.items():
        params = liquidity_params(coin, engine.config)
        if coin in saved_liquidity:
            liquidity = CoinLiquidity.load(inst, params, saved_liquidity[coin])
        else:
            mid = nearest_valid_price(engine.mids[coin], inst.sz_decimals, is_spot=inst.is_spot)
            liquidity = CoinLiquidity.fresh(inst, params, mid, now_ms)
        engine.liquidity[coin] = liquidity
        engine.ladders[coin] = liquidity.ladder
    engine.accounts = {a["address"]: _account_in(a) for a in state["accounts"]}
    engine.agents = {
        a["address"]: Agent(a["address"], a["master"], a["name"], a["valid_until"])
        for a in state["agents"]
    }
    orders = {raw["oid"]: _order_in(raw) for raw in state["orders"]}
    engine.orders = orders
    engine.open_orders = {
        user: {oid: orders[oid] for oid in oids} for user, oids in state["open_orders"].items()
    }
    engine.books = {coin: OrderBook() for coin in engine.by_coin}
    for coin, sides in state["books"].items():
        for oid in [*sides["bids"], *sides["asks"]]:
            engine.books[coin].add(orders[oid])  # saved best-first, oldest-first: same queues
    engine.waiting_children = {
        int(parent): [orders[oid] for oid in oids]
        for parent, oids in state["waiting_children"].items()
    }
    engine.order_history = {
        user: [orders[oid] for oid in oids] for user, oids in state["order_history"].items()
    }
    engine.fills = {user: list(fills) for user, fills in state["fills"].items()}
    for address, saved in state["vaults"].items():
        vault = engine.vaults[address]
        vault.rng.setstate(_rng_in(saved["rng"]))
        vault.created_ms = saved["created_ms"]
        vault.leader_equity = _dec(saved["leader_equity"])
        vault.followers = {
            f["user"]: Follower(
                f["user"],
                _dec(f["equity"]),
                _dec(f["basis"]),
                _dec(f["deposited_total"]),
                _dec(f["withdrawn_total"]),
                f["entry_ms"],
                f["lockup_until"],
            )
            for f in saved["followers"]
        }
        vault.history = [(ms, _dec(eq), _dec(pnl)) for ms, eq, pnl in saved["history"]]
        vault.cum_pnl = _dec(saved["cum_pnl"])
        vault.volume = _dec(saved["volume"])
    engine.delegators = {
        user: Delegator(
            undelegated=int(d["undelegated"]),
            delegations={v: Delegation(int(a), int(u)) for v, (a, u) in d["delegations"].items()},
            pending=[PendingWithdrawal(int(a), int(r)) for a, r in d["pending"]],
            history=list(d["history"]),
        )
        for user, d in state["delegators"].items()
    }
    # Absent from states saved before the ledger existed: those carry on with an empty one.
    engine.ledger = {user: list(entries) for user, entries in state.get("ledger", {}).items()}
    if "twaps" in state:  # absent in states saved before TWAPs existed
        engine.twaps.load(state["twaps"])
    if "risk" in state:  # absent from states saved before marks, funding and liquidations
        _risk_in(engine, state["risk"], now_ms)
    else:
        for coin, inst in engine.by_coin.items():
            raw = engine.prices.price(engine.oracle_source[coin])
            engine.oracle_px[coin] = nearest_valid_price(
                raw, inst.sz_decimals, is_spot=inst.is_spot
            )
        engine.funding_accrued_ms = max(engine.funding_accrued_ms, now_ms)
        engine.update_marks(now_ms)
    engine.next_oid = int(state["next_oid"])
    engine.next_tid = int(state["next_tid"])
    engine.hash_counter = int(state["hash_counter"])
    engine.last_tick_ms = max(int(state["last_tick_ms"]), now_ms)
