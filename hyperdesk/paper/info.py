"""``/info`` responses, shaped exactly like Hyperliquid's (protocol reference §3)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from hyperdesk.paper import ledger
from hyperdesk.paper.accounts import ZERO, leverage_for, liquidation_price
from hyperdesk.paper.book import Order, basic_order
from hyperdesk.paper.candles import INTERVALS
from hyperdesk.paper.engine import HYPE_WEI, Engine
from hyperdesk.paper.numbers import wire, wire_px, wire_usd

DESERIALIZE = "Failed to deserialize the JSON body into the target type"
PERIODS = ("day", "week", "month", "allTime", "perpDay", "perpWeek", "perpMonth", "perpAllTime")
TIME_RANGE_PAGE = 500
FUNDING_PREMIUM_QUANTUM = Decimal("0.00000001")
"""Hyperliquid's page size for time-range queries (the next page starts at the last time)."""
REFERRAL_CODE_VOLUME = Decimal(10_000)
"""Traded volume (USD) after which Hyperliquid lets a user create a referral code."""
PERIOD_MS = {"day": 86_400_000, "week": 7 * 86_400_000, "month": 30 * 86_400_000, "allTime": None}


class InfoError(Exception):
    """Unknown ``type`` or malformed request; the server answers 422 text/plain with str(exc)."""


def _field(body: dict, name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in body:
        raise InfoError(f"{DESERIALIZE}: missing field `{name}`")
    value = body[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise InfoError(f"{DESERIALIZE}: invalid type for field `{name}`")
    return value


def _user(body: dict) -> str:
    user = _field(body, "user", str)
    if not (user.startswith("0x") and len(user) == 42):
        raise InfoError(f"{DESERIALIZE}: invalid address in field `user`")
    return user.lower()


def _optional_int(body: dict, name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InfoError(f"{DESERIALIZE}: invalid type for field `{name}`")
    return value


# ---------------------------------------------------------------------- market data


def meta(engine: Engine, body: dict) -> dict:
    dex = body.get("dex") or ""
    if dex != "":
        raise InfoError(f"{DESERIALIZE}: unknown dex `{dex}`")
    universe = []
    tables = set()
    for inst in engine.instruments.perps():
        entry: dict[str, Any] = {
            "name": inst.coin,
            "szDecimals": inst.sz_decimals,
            "maxLeverage": inst.max_leverage,
            "marginTableId": inst.max_leverage,
        }
        spec = engine.config.perps[inst.asset]
        if spec.only_isolated:
            entry["onlyIsolated"] = True
        universe.append(entry)
        tables.add(inst.max_leverage)
    margin_tables = [
        [t, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": t}]}]
        for t in sorted(tables)
    ]
    return {"universe": universe, "marginTables": margin_tables, "collateralToken": 0}


def spot_meta(engine: Engine, body: dict) -> dict:
    tokens = [
        {
            "name": t.name,
            "szDecimals": t.sz_decimals,
            "weiDecimals": t.wei_decimals,
            "index": t.index,
            "tokenId": t.token_id,
            "isCanonical": True,
            "evmContract": None,
            "fullName": t.full_name,
        }
        for t in engine.config.spot_tokens
    ]
    universe = [
        {
            "name": p.name,
            "tokens": [p.base, p.quote],
            "index": p.index,
            "isCanonical": p.name.endswith("/USDC") and not p.name.startswith("@"),
        }
        for p in engine.config.spot_pairs
    ]
    return {"universe": universe, "tokens": tokens}


def _perp_ctx(engine: Engine, coin: str) -> dict:
    mid = engine.mids[coin]
    open_interest = sum(
        (max(ZERO, a.positions[coin].szi) for a in engine.accounts.values() if coin in a.positions),
        ZERO,
    )
    bid, ask = engine.impact_prices(coin)
    prev_day_px, day_ntl, day_base = engine.day_figures(coin)
    return {
        "funding": wire(engine.predicted_funding(coin)),
        "openInterest": wire(open_interest),
        "prevDayPx": wire(prev_day_px),
        "dayNtlVlm": wire_usd(day_ntl),
        "premium": wire(engine.premium_now(coin).quantize(FUNDING_PREMIUM_QUANTUM)),
        "oraclePx": wire(engine.oracle_px[coin]),
        "markPx": wire(engine.mark(coin)),
        "midPx": wire(mid),
        "impactPxs": [wire_px(bid), wire_px(ask)] if bid is not None and ask is not None else None,
        "dayBaseVlm": wire(day_base),
    }


def meta_and_asset_ctxs(engine: Engine, body: dict) -> list:
    return [meta(engine, body), [_perp_ctx(engine, i.coin) for i in engine.instruments.perps()]]


def spot_meta_and_asset_ctxs(engine: Engine, body: dict) -> list:
    ctxs = []
    for inst in engine.instruments.spots():
        mid = engine.mids[inst.coin]
        prev_day_px, day_ntl, day_base = engine.day_figures(inst.coin)
        ctxs.append(
            {
                "prevDayPx": wire(prev_day_px),
                "dayNtlVlm": wire_usd(day_ntl),
                "markPx": wire(mid),
                "midPx": wire(mid),
                "circulatingSupply": "1000000000.0",
                "coin": inst.coin,
                "totalSupply": "1000000000.0",
                "dayBaseVlm": wire(day_base),
            }
        )
    return [spot_meta(engine, body), ctxs]


def perp_dexs(engine: Engine, body: dict) -> list:
    return [None]


def all_mids(engine: Engine, body: dict) -> dict:
    dex = body.get("dex") or ""
    if dex != "":
        return {}
    return engine.all_mids()


def l2_book(engine: Engine, body: dict) -> dict | None:
    coin = _field(body, "coin", str)
    bucket_spec = book_aggregation(body)
    if coin not in engine.by_coin:
        return None
    if bucket_spec is None:
        return engine.l2_book(coin)
    bucket = _bucket(engine.mids[coin], *bucket_spec)
    return {
        "coin": coin,
        "time": engine.clock.now_ms(),
        "levels": [
            _aggregate_levels(engine.book_levels(coin, is_buy, depth=10**9), bucket, is_buy)
            for is_buy in (True, False)
        ],
    }


def book_aggregation(body: dict) -> tuple[int, int] | None:
    """``(nSigFigs, mantissa)`` of an ``l2Book`` request or subscription; None = full precision.

    As on Hyperliquid: ``nSigFigs`` is 2, 3, 4, 5 or null; ``mantissa`` (1, 2 or 5) only with 5.
    """
    n_sig = body.get("nSigFigs")
    mantissa = body.get("mantissa")
    if n_sig is not None and (type(n_sig) is not int or n_sig not in (2, 3, 4, 5)):
        raise InfoError(f"{DESERIALIZE}: invalid value for field `nSigFigs`")
    if mantissa is not None and (type(mantissa) is not int or mantissa not in (1, 2, 5)):
        raise InfoError(f"{DESERIALIZE}: invalid value for field `mantissa`")
    if mantissa is not None and n_sig != 5:
        raise InfoError(f"{DESERIALIZE}: `mantissa` is only allowed with `nSigFigs` 5")
    if n_sig is None:
        return None
    return n_sig, mantissa or 1


def _bucket(mid: Decimal, n_sig: int, mantissa: int) -> Decimal:
    """Price step of ``n_sig`` significant figures at the mid's magnitude (× ``mantissa``)."""
    return Decimal(mantissa).scaleb(mid.adjusted() - n_sig + 1)


def _aggregate_levels(levels: list[dict], bucket: Decimal, is_buy: bool) -> list[dict]:
    """Merge levels into buckets: bids round down, asks up (a bucket never looks better)."""
    rounding = ROUND_FLOOR if is_buy else ROUND_CEILING
    merged: dict[Decimal, list] = {}
    for level in levels:
        px = (Decimal(level["px"]) / bucket).quantize(Decimal(1), rounding=rounding) * bucket
        entry = merged.setdefault(px, [ZERO, 0])
        entry[0] += Decimal(level["sz"])
        entry[1] += level["n"]
    prices = sorted(merged, reverse=is_buy)[:20]
    return [{"px": wire(px), "sz": wire(merged[px][0]), "n": merged[px][1]} for px in prices]


def candle_snapshot(engine: Engine, body: dict) -> list:
    req = _field(body, "req", dict)
    coin = _field(req, "coin", str)
    interval = _field(req, "interval", str)
    start = _field(req, "startTime", int)
    end = _optional_int(req, "endTime")
    if interval not in INTERVALS:
        raise InfoError(f"{DESERIALIZE}: unknown variant `{interval}`")
    if coin not in engine.by_coin:
        return []
    return engine.candles.snapshot(coin, interval, start, end if end is not None else 2**63)


def funding_history(engine: Engine, body: dict) -> list:
    coin = _field(body, "coin", str)
    start = _field(body, "startTime", int)
    end = _optional_int(body, "endTime")
    records = engine.funding_history.get(coin, [])
    return [r for r in records if r["time"] >= start and (end is None or r["time"] <= end)][
        :TIME_RANGE_PAGE
    ]


def predicted_fundings(engine: Engine, body: dict) -> list:
    """``[[coin, [["HlPerp", {fundingRate, nextFundingTime, fundingIntervalHours}]]], …]``; the
    paper world has no other venues to list."""
    next_ms = engine.next_funding_ms()
    hours = engine.config.funding_interval_ms // 3_600_000
    return [
        [
            inst.coin,
            [
                [
                    "HlPerp",
                    {
                        "fundingRate": wire(engine.predicted_funding(inst.coin)),
                        "nextFundingTime": next_ms,
                        "fundingIntervalHours": hours,
                    },
                ]
            ],
        ]
        for inst in engine.instruments.perps()
    ]


# ---------------------------------------------------------------------- accounts


def _leverage_wire(view) -> dict:
    if view.leverage.is_cross:
        return {"type": "cross", "value": view.leverage.value}
    raw_usd = view.margin_used - view.position.szi * view.mark
    return {"type": "isolated", "value": view.leverage.value, "rawUsd": wire_usd(raw_usd)}


def clearinghouse_state(engine: Engine, body: dict) -> dict:
    user = _user(body)
    acct = engine.account(user)
    now = engine.clock.now_ms()
    if acct is None:
        zero = {
            "accountValue": "0.0",
            "totalNtlPos": "0.0",
            "totalRawUsd": "0.0",
            "totalMarginUsed": "0.0",
        }
        return {
            "marginSummary": dict(zero),
            "crossMarginSummary": dict(zero),
            "crossMaintenanceMarginUsed": "0.0",
            "withdrawable": "0.0",
            "assetPositions": [],
            "time": now,
        }
    summary = engine.summary(acct)
    positions = []
    for view in summary.views:
        inst = engine.by_coin[view.position.coin]
        liq = liquidation_price(view, inst, summary)
        pos = view.position
        positions.append(
            {
                "type": "oneWay",
                "position": {
                    "coin": pos.coin,
                    "szi": wire(pos.szi),
                    "leverage": _leverage_wire(view),
                    "entryPx": wire_px(pos.entry_px),
                    "positionValue": wire_usd(view.position_value),
                    "unrealizedPnl": wire_usd(view.unrealized_pnl),
                    "returnOnEquity": wire_px(view.return_on_equity),
                    "liquidationPx": wire_px(liq) if liq is not None else None,
                    "marginUsed": wire_usd(view.margin_used),
                    "maxLeverage": inst.max_leverage,
                    "cumFunding": {
                        "allTime": wire_usd(pos.cum_funding_all_time),
                        "sinceOpen": wire_usd(pos.cum_funding_since_open),
                        "sinceChange": wire_usd(pos.cum_funding_since_change),
                    },
                },
            }
        )
    return {
        "marginSummary": {
            "accountValue": wire_usd(summary.account_value),
            "totalNtlPos": wire_usd(summary.total_ntl),
            "totalRawUsd": wire_usd(summary.total_raw_usd),
            "totalMarginUsed": wire_usd(summary.total_margin_used),
        },
        "crossMarginSummary": {
            "accountValue": wire_usd(summary.cross_account_value),
            "totalNtlPos": wire_usd(summary.cross_ntl),
            "totalRawUsd": wire_usd(summary.cross_raw_usd),
            "totalMarginUsed": wire_usd(summary.cross_margin_used),
        },
        "crossMaintenanceMarginUsed": wire_usd(summary.cross_maintenance),
        "withdrawable": wire_usd(summary.withdrawable),
        "assetPositions": positions,
        "time": now,
    }


def spot_clearinghouse_state(engine: Engine, body: dict) -> dict:
    user = _user(body)
    acct = engine.account(user)
    if acct is None:
        return {"balances": []}
    hold = engine.spot_hold(user)
    names = {t.index: t.name for t in engine.config.spot_tokens}
    balances = []
    for token in sorted(acct.spot):
        total = acct.spot[token]
        if total == 0 and token not in hold:
            continue
        balances.append(
            {
                "coin": names[token],
                "token": token,
                "hold": wire(hold.get(token, ZERO)),
                "total": wire(total),
                "entryNtl": wire_usd(acct.spot_entry_ntl.get(token, ZERO)),
            }
        )
    return {"balances": balances}


def _basic_order(order: Order) -> dict:
    entry = basic_order(order)
    if order.reduce_only:
        entry["reduceOnly"] = True
    return entry


def frontend_order(engine: Engine, order: Order) -> dict:
    trigger = order.trigger
    if trigger is None:
        condition = "N/A"
    else:
        word = "above" if trigger.condition_is_above(order.is_buy) else "below"
        condition = f"Price {word} {wire(trigger.trigger_px)}"
    children = []
    for child_oid in order.children:
        child = engine.orders.get(child_oid)
        if child is not None and child.status in ("open", "waitingForFill"):
            children.append(frontend_order(engine, child))
    return {
        **basic_order(order),
        "triggerCondition": condition,
        "isTrigger": trigger is not None,
        "triggerPx": wire(trigger.trigger_px) if trigger else "0.0",
        "children": children,
        "isPositionTpsl": order.is_position_tpsl,
        "reduceOnly": order.reduce_only,
        "orderType": order.order_type,
        "tif": order.tif if trigger is None or order.triggered else None,
        "cloid": order.cloid,
    }


def _user_open_orders(engine: Engine, user: str, body: dict) -> list[Order]:
    if (body.get("dex") or "") != "":
        return []
    orders = list(engine.open_orders.get(user, {}).values())
    return sorted(orders, key=lambda o: o.oid, reverse=True)


def open_orders(engine: Engine, body: dict) -> list:
    user = _user(body)
    return [_basic_order(o) for o in _user_open_orders(engine, user, body)]


def frontend_open_orders(engine: Engine, body: dict) -> list:
    user = _user(body)
    return [frontend_order(engine, o) for o in _user_open_orders(engine, user, body)]


def _aggregate_by_time(fills: list[dict]) -> list[dict]:
    """``aggregateByTime``: the partial fills one crossing order got at one time become one fill
    (summed size, fee and PnL at the volume-weighted price), as Hyperliquid's frontend shows it.
    ``fills`` is oldest first; so is the result."""
    result: list[dict] = []
    sizes: list[Decimal] = []
    notionals: list[Decimal] = []
    for fill in fills:
        last = result[-1] if result else None
        sz, px = Decimal(fill["sz"]), Decimal(fill["px"])
        if (
            last is not None
            and fill["crossed"]
            and last["crossed"]
            and (last["oid"], last["time"], last["hash"])
            == (fill["oid"], fill["time"], fill["hash"])
        ):
            sizes[-1] += sz
            notionals[-1] += sz * px
            last["sz"] = wire(sizes[-1])
            last["px"] = wire_px(notionals[-1] / sizes[-1])
            last["fee"] = wire_usd(Decimal(last["fee"]) + Decimal(fill["fee"]))
            last["closedPnl"] = wire_usd(Decimal(last["closedPnl"]) + Decimal(fill["closedPnl"]))
            continue
        result.append(dict(fill))
        sizes.append(sz)
        notionals.append(sz * px)
    return result


def _aggregate_flag(body: dict) -> bool:
    flag = body.get("aggregateByTime")
    if flag is not None and not isinstance(flag, bool):
        raise InfoError(f"{DESERIALIZE}: invalid type for field `aggregateByTime`")
    return bool(flag)


def user_fills(engine: Engine, body: dict) -> list:
    user = _user(body)
    fills = engine.fills.get(user, [])
    if _aggregate_flag(body):
        fills = _aggregate_by_time(fills)
    limit = engine.config.max_fills_per_response
    newest = list(reversed(fills[-limit:]))
    return newest if engine.config.user_fills_newest_first else list(reversed(newest))


def user_fills_by_time(engine: Engine, body: dict) -> list:
    user = _user(body)
    start = _field(body, "startTime", int)
    end = _optional_int(body, "endTime")
    selected = [
        f
        for f in engine.fills.get(user, [])
        if f["time"] >= start and (end is None or f["time"] <= end)
    ]
    if _aggregate_flag(body):
        selected = _aggregate_by_time(selected)
    selected = selected[: engine.config.max_fills_per_response]
    if engine.config.user_fills_by_time_newest_first:
        selected.reverse()
    return selected


def order_status(engine: Engine, body: dict) -> dict:
    user = _user(body)
    if "oid" not in body:
        raise InfoError(f"{DESERIALIZE}: missing field `oid`")
    ref = body["oid"]
    if not isinstance(ref, (int, str)) or isinstance(ref, bool):
        raise InfoError(f"{DESERIALIZE}: invalid type for field `oid`")
    order = engine.find_order(user, ref)
    if order is None:
        return {"status": "unknownOid"}
    return {
        "status": "order",
        "order": {
            "order": frontend_order(engine, order),
            "status": order.status,
            "statusTimestamp": order.status_timestamp,
        },
    }


def historical_orders(engine: Engine, body: dict) -> list:
    user = _user(body)
    orders = sorted(
        engine.order_history.get(user, []), key=lambda o: o.status_timestamp, reverse=True
    )
    return [
        {
            "order": frontend_order(engine, o),
            "status": o.status,
            "statusTimestamp": o.status_timestamp,
        }
        for o in orders[:2000]
    ]


def user_funding(engine: Engine, body: dict) -> list:
    user = _user(body)
    start = _field(body, "startTime", int)
    end = _optional_int(body, "endTime")
    entries = engine.user_fundings.get(user, [])
    return [e for e in entries if e["time"] >= start and (end is None or e["time"] <= end)][
        :TIME_RANGE_PAGE
    ]


def user_non_funding_ledger_updates(engine: Engine, body: dict) -> list:
    user = _user(body)
    start = _field(body, "startTime", int)
    end = _optional_int(body, "endTime")
    entries = ledger.updates(engine, user, start, end)
    # Liquidations are booked by the margin engine in a ledger of their own.
    liquidations = getattr(engine, "liquidation_ledger", {}).get(user, [])
    entries += [e for e in liquidations if e["time"] >= start and (end is None or e["time"] <= end)]
    entries.sort(key=lambda e: e["time"])
    return entries[:TIME_RANGE_PAGE]


def user_rate_limit(engine: Engine, body: dict) -> dict:
    acct = engine.account(_user(body))
    volume = acct.cum_volume if acct else ZERO
    used = acct.n_requests if acct else 0
    return {
        "cumVlm": wire_usd(volume),
        "nRequestsUsed": used,
        "nRequestsCap": engine.config.address_rate_limit_buffer + int(volume),
        "nRequestsSurplus": 0,
    }


def user_role(engine: Engine, body: dict) -> dict:
    user = _user(body)
    agent = engine.agents.get(user)
    if agent is not None:
        return {"role": "agent", "data": {"user": agent.master}}
    if user in engine.vaults:
        return {"role": "vault"}
    if user in engine.accounts:
        return {"role": "user"}
    return {"role": "missing"}


def extra_agents(engine: Engine, body: dict) -> list:
    user = _user(body)
    return [
        {"name": a.name, "address": a.address, "validUntil": a.valid_until}
        for a in engine.agents.values()
        if a.master == user and a.name
    ]


def user_fees(engine: Engine, body: dict) -> dict:
    _user(body)
    cfg = engine.config
    return {
        "dailyUserVlm": [],
        "feeSchedule": {
            "cross": str(cfg.perp_taker_fee),
            "add": str(cfg.perp_maker_fee),
            "spotCross": str(cfg.spot_taker_fee),
            "spotAdd": str(cfg.spot_maker_fee),
            "tiers": {"vip": [], "mm": []},
            "referralDiscount": "0.0",
            "stakingDiscountTiers": [],
        },
        "userCrossRate": str(cfg.perp_taker_fee),
        "userAddRate": str(cfg.perp_maker_fee),
        "userSpotCrossRate": str(cfg.spot_taker_fee),
        "userSpotAddRate": str(cfg.spot_maker_fee),
        "activeReferralDiscount": "0.0",
        "trial": None,
        "feeTrialReward": "0.0",
        "nextTrialAvailableTimestamp": None,
        "stakingLink": None,
        "activeStakingDiscount": {"bpsOfMaxSupply": "0.0", "discount": "0.0"},
    }


def portfolio(engine: Engine, body: dict) -> list:
    user = _user(body)
    acct = engine.account(user)
    now = engine.clock.now_ms()
    value = engine.summary(acct).account_value if acct else ZERO
    volume = acct.cum_volume if acct else ZERO
    data = {
        "accountValueHistory": [[now, wire_usd(value)]],
        "pnlHistory": [[now, "0.0"]],
        "vlm": wire_usd(volume),
    }
    return [[period, dict(data)] for period in PERIODS]


# ---------------------------------------------------------------------- vaults


def _vault_portfolio(vault, now: int) -> list:
    result = []
    for period in PERIODS:
        span = PERIOD_MS.get(
            period.replace("perp", "").lower() if period.startswith("perp") else period
        )
        if period.startswith("perp"):
            span = PERIOD_MS.get(period[4].lower() + period[5:])
        samples = [s for s in vault.history if span is None or s[0] >= now - span] or vault.history[
            -1:
        ]
        base_pnl = samples[0][2]
        result.append(
            [
                period,
                {
                    "accountValueHistory": [[t, wire_usd(eq)] for t, eq, _ in samples],
                    "pnlHistory": [[t, wire_usd(pnl - base_pnl)] for t, _, pnl in samples],
                    "vlm": wire_usd(vault.volume),
                },
            ]
        )
    return result


def _follower_wire(follower, now: int) -> dict:
    return {
        "user": follower.user,
        "vaultEquity": wire_usd(follower.equity),
        "pnl": wire_usd(follower.pnl),
        "allTimePnl": wire_usd(follower.all_time_pnl),
        "daysFollowing": (now - follower.entry_ms) // 86_400_000,
        "vaultEntryTime": follower.entry_ms,
        "lockupUntil": follower.lockup_until,
    }


def vault_details(engine: Engine, body: dict) -> dict | None:
    address = _field(body, "vaultAddress", str).lower()
    user = body.get("user")
    vault = engine.vaults.get(address)
    if vault is None:
        return None
    now = engine.clock.now_ms()
    equity = vault.equity
    followers = [
        {
            "user": "Leader",
            "vaultEquity": wire_usd(vault.leader_equity),
            "pnl": "0.0",
            "allTimePnl": "0.0",
            "daysFollowing": (now - vault.created_ms) // 86_400_000,
            "vaultEntryTime": vault.created_ms,
            "lockupUntil": None,
        }
    ]
    followers += [_follower_wire(f, now) for f in vault.followers.values()]
    state = None
    if isinstance(user, str) and user.lower() in vault.followers:
        state = _follower_wire(vault.followers[user.lower()], now)
    return {
        "name": vault.spec.name,
        "vaultAddress": vault.address,
        "leader": vault.spec.leader,
        "description": vault.spec.description,
        "portfolio": _vault_portfolio(vault, now),
        "apr": vault.spec.annual_drift,
        "followerState": state,
        "leaderFraction": float(vault.leader_equity / equity) if equity else 0.0,
        "leaderCommission": float(engine.config.vault_leader_profit_share),
        "followers": followers,
        "maxDistributable": float(round(equity, 6)),
        "maxWithdrawable": float(round(state_equity(vault, user), 6)),
        "isClosed": False,
        "relationship": {"type": "normal"},
        "allowDeposits": vault.spec.allow_deposits,
        "alwaysCloseOnWithdraw": False,
    }


def state_equity(vault, user: object) -> Decimal:
    if isinstance(user, str) and user.lower() in vault.followers:
        return vault.followers[user.lower()].equity
    return ZERO


def user_vault_equities(engine: Engine, body: dict) -> list:
    user = _user(body)
    return [
        {
            "vaultAddress": vault.address,
            "equity": wire_usd(vault.followers[user].equity),
            "lockedUntilTimestamp": vault.followers[user].lockup_until,
        }
        for vault in engine.vaults.values()
        if user in vault.followers
    ]


def leading_vaults(engine: Engine, body: dict) -> list:
    user = _user(body)
    return [
        {"address": v.address, "name": v.spec.name}
        for v in engine.vaults.values()
        if v.spec.leader.lower() == user
    ]


# ---------------------------------------------------------------------- staking


def _hype(wei: int) -> str:
    return wire(Decimal(wei) / HYPE_WEI)


def delegations(engine: Engine, body: dict) -> list:
    delegator = engine.delegators.get(_user(body))
    if delegator is None:
        return []
    return [
        {"validator": v, "amount": _hype(d.amount), "lockedUntilTimestamp": d.locked_until}
        for v, d in delegator.delegations.items()
    ]


def delegator_summary(engine: Engine, body: dict) -> dict:
    delegator = engine.delegators.get(_user(body))
    if delegator is None:
        return {
            "delegated": "0.0",
            "undelegated": "0.0",
            "totalPendingWithdrawal": "0.0",
            "nPendingWithdrawals": 0,
        }
    return {
        "delegated": _hype(delegator.delegated),
        "undelegated": _hype(delegator.undelegated),
        "totalPendingWithdrawal": _hype(sum(p.amount for p in delegator.pending)),
        "nPendingWithdrawals": len(delegator.pending),
    }


def delegator_history(engine: Engine, body: dict) -> list:
    delegator = engine.delegators.get(_user(body))
    return list(reversed(delegator.history)) if delegator else []


def delegator_rewards(engine: Engine, body: dict) -> list:
    _user(body)
    return []


def validator_summaries(engine: Engine, body: dict) -> list:
    delegated: dict[str, int] = {}
    for delegator in engine.delegators.values():
        for validator, d in delegator.delegations.items():
            delegated[validator] = delegated.get(validator, 0) + d.amount
    result = []
    for address, spec in engine.validators.items():
        apr = wire(spec.predicted_apr)
        stats = {
            "uptimeFraction": "0.0" if spec.is_jailed else "1.0",
            "predictedApr": apr,
            "nSamples": 1440,
        }
        result.append(
            {
                "validator": address,
                "signer": spec.signer,
                "name": spec.name,
                "description": spec.description,
                "nRecentBlocks": 0 if spec.is_jailed else 1000,
                "stake": spec.stake_wei + delegated.get(address, 0),
                "isJailed": spec.is_jailed,
                "unjailableAfter": None,
                "isActive": not spec.is_jailed,
                "commission": wire(spec.commission),
                "stats": [["day", dict(stats)], ["week", dict(stats)], ["month", dict(stats)]],
            }
        )
    return result


def exchange_status(engine: Engine, body: dict) -> dict:
    return {"time": engine.clock.now_ms(), "specialStatuses": None}


def recent_trades(engine: Engine, body: dict) -> list:
    coin = _field(body, "coin", str)
    return list(reversed(engine.recent_trades.get(coin, ())))


# ---------------------------------------------------------------------- features the paper
# exchange does not have (sub-accounts, multi-sig, referrals, TWAP, deploy auctions): answered
# in Hyperliquid's shape for an account that never used them, so SDK calls do not raise.


def referral(engine: Engine, body: dict) -> dict:
    acct = engine.account(_user(body))
    volume = acct.cum_volume if acct else ZERO
    required = REFERRAL_CODE_VOLUME - volume
    state: dict[str, Any] = (
        {"stage": "needToCreateCode"}
        if required <= 0
        else {"stage": "needToTrade", "data": {"required": wire_usd(required)}}
    )
    return {
        "referredBy": None,
        "cumVlm": wire_usd(volume),
        "unclaimedRewards": "0.0",
        "claimedRewards": "0.0",
        "builderRewards": "0.0",
        "tokenToState": [],
        "referrerState": state,
        "rewardHistory": [],
    }


def sub_accounts(engine: Engine, body: dict) -> None:
    _user(body)
    return None


def user_to_multi_sig_signers(engine: Engine, body: dict) -> None:
    _user(body)
    return None


def user_dex_abstraction(engine: Engine, body: dict) -> None:
    _user(body)
    return None


def user_abstraction(engine: Engine, body: dict) -> str:
    _user(body)
    return "default"


def user_twap_slice_fills(engine: Engine, body: dict) -> list:
    return engine.twaps.user_slice_fills(_user(body))


def user_twap_slice_fills_by_time(engine: Engine, body: dict) -> list:
    user = _user(body)
    start = _field(body, "startTime", int)
    end = _optional_int(body, "endTime")
    fills = [
        f
        for f in reversed(engine.twaps.user_slice_fills(user))
        if f["fill"]["time"] >= start and (end is None or f["fill"]["time"] <= end)
    ]
    return fills[:TIME_RANGE_PAGE]


def twap_history(engine: Engine, body: dict) -> list:
    return engine.twaps.user_history(_user(body))


def empty_list(engine: Engine, body: dict) -> list:
    return []


def max_builder_fee(engine: Engine, body: dict) -> int:
    _user(body)
    _field(body, "builder", str)
    return 0


def _auction(engine: Engine) -> dict:
    # An auction that is always open at its floor price: nothing is ever deployed here.
    day_start = engine.clock.now_ms() // 86_400_000 * 86_400
    return {
        "startTimeSeconds": day_start,
        "durationSeconds": 111_600,
        "startGas": "500.0",
        "currentGas": "500.0",
        "endGas": None,
    }


def deploy_auction_status(engine: Engine, body: dict) -> dict:
    return _auction(engine)


def spot_deploy_state(engine: Engine, body: dict) -> dict:
    _user(body)
    return {"states": [], "gasAuction": _auction(engine)}


def active_asset_data(engine: Engine, body: dict) -> dict:
    """Leverage and what the user can still open on a perp, each side (buy, sell)."""
    user = _user(body)
    coin = _field(body, "coin", str)
    inst = engine.by_coin.get(coin)
    if inst is None or inst.is_spot:
        raise InfoError(f"{DESERIALIZE}: unknown perp coin `{coin}`")
    acct = engine.account(user)
    mark = engine.mark(coin)
    setting = leverage_for(acct, inst, engine.config.default_leverage) if acct else None
    lev_value = setting.value if setting else min(engine.config.default_leverage, inst.max_leverage)
    leverage: dict[str, Any] = {"type": "cross", "value": lev_value}
    available = [ZERO, ZERO]
    if acct is not None:
        summary = engine.summary(acct)
        free = max(ZERO, summary.withdrawable - engine._order_margin(acct))
        pos = acct.positions.get(coin)
        for side, is_buy in enumerate((True, False)):
            room = free * lev_value
            if pos is not None and pos.szi != 0 and (pos.szi > 0) != is_buy:
                room += 2 * abs(pos.szi) * mark  # closes the position, then opens with its margin
            available[side] = room
        if setting is not None and not setting.is_cross:
            view = next((v for v in summary.views if v.position.coin == coin), None)
            raw = view.margin_used - view.position.szi * view.mark if view else ZERO
            leverage = {"type": "isolated", "value": lev_value, "rawUsd": wire_usd(raw)}
    lot = Decimal(1).scaleb(-inst.sz_decimals)
    return {
        "user": user,
        "coin": coin,
        "leverage": leverage,
        "maxTradeSzs": [
            wire((a / mark).quantize(lot, rounding=ROUND_FLOOR)) if mark > 0 else "0.0"
            for a in available
        ],
        "availableToTrade": [wire_usd(a) for a in available],
        "markPx": wire(mark),
    }


HANDLERS: dict[str, Callable[[Engine, dict], Any]] = {
    "meta": meta,
    "spotMeta": spot_meta,
    "metaAndAssetCtxs": meta_and_asset_ctxs,
    "spotMetaAndAssetCtxs": spot_meta_and_asset_ctxs,
    "perpDexs": perp_dexs,
    "allMids": all_mids,
    "l2Book": l2_book,
    "candleSnapshot": candle_snapshot,
    "fundingHistory": funding_history,
    "predictedFundings": predicted_fundings,
    "clearinghouseState": clearinghouse_state,
    "spotClearinghouseState": spot_clearinghouse_state,
    "openOrders": open_orders,
    "frontendOpenOrders": frontend_open_orders,
    "userFills": user_fills,
    "userFillsByTime": user_fills_by_time,
    "orderStatus": order_status,
    "historicalOrders": historical_orders,
    "userFunding": user_funding,
    "userNonFundingLedgerUpdates": user_non_funding_ledger_updates,
    "userRateLimit": user_rate_limit,
    "userRole": user_role,
    "extraAgents": extra_agents,
    "userFees": user_fees,
    "portfolio": portfolio,
    "vaultDetails": vault_details,
    "userVaultEquities": user_vault_equities,
    "leadingVaults": leading_vaults,
    "delegations": delegations,
    "delegatorSummary": delegator_summary,
    "delegatorHistory": delegator_history,
    "delegatorRewards": delegator_rewards,
    "validatorSummaries": validator_summaries,
    "exchangeStatus": exchange_status,
    "recentTrades": recent_trades,
    "referral": referral,
    "subAccounts": sub_accounts,
    "userToMultiSigSigners": user_to_multi_sig_signers,
    "userDexAbstraction": user_dex_abstraction,
    "userAbstraction": user_abstraction,
    "userTwapSliceFills": user_twap_slice_fills,
    "userTwapSliceFillsByTime": user_twap_slice_fills_by_time,
    "twapHistory": twap_history,
    "maxBuilderFee": max_builder_fee,
    "perpDeployAuctionStatus": deploy_auction_status,
    "spotPairDeployAuctionStatus": deploy_auction_status,
    "spotDeployState": spot_deploy_state,
    "activeAssetData": active_asset_data,
    "vaultSummaries": empty_list,
    "perpsAtOpenInterestCap": empty_list,
}


def answer(engine: Engine, body: object) -> Any:
    """Dispatch one ``/info`` body."""
    if not isinstance(body, dict):
        raise InfoError(f"{DESERIALIZE}: expected an object")
    kind = body.get("type")
    if not isinstance(kind, str):
        raise InfoError(f"{DESERIALIZE}: missing field `type`")
    handler = HANDLERS.get(kind)
    if handler is None:
        raise InfoError(f"{DESERIALIZE}: unknown variant `{kind}`")
    return handler(engine, body)
