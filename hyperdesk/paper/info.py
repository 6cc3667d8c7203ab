"""``/info`` responses, shaped exactly like Hyperliquid's (protocol reference §3)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hyperdesk.paper.accounts import ZERO, liquidation_price
from hyperdesk.paper.book import Order, basic_order
from hyperdesk.paper.candles import INTERVALS
from hyperdesk.paper.engine import HYPE_WEI, Engine
from hyperdesk.paper.numbers import wire, wire_px, wire_usd

DESERIALIZE = "Failed to deserialize the JSON body into the target type"
PERIODS = ("day", "week", "month", "allTime", "perpDay", "perpWeek", "perpMonth", "perpAllTime")
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
    ladder = engine.ladders[coin]
    bid, ask = ladder.best(True), ladder.best(False)
    return {
        "funding": "0.0",
        "openInterest": wire(open_interest),
        "prevDayPx": wire(engine.prev_day_px[coin]),
        "dayNtlVlm": wire_usd(engine.day_ntl_volume[coin]),
        "premium": "0.0",
        "oraclePx": wire(mid),
        "markPx": wire(mid),
        "midPx": wire(mid),
        "impactPxs": [wire(bid), wire(ask)] if bid is not None and ask is not None else None,
        "dayBaseVlm": wire(engine.day_base_volume[coin]),
    }


def meta_and_asset_ctxs(engine: Engine, body: dict) -> list:
    return [meta(engine, body), [_perp_ctx(engine, i.coin) for i in engine.instruments.perps()]]


def spot_meta_and_asset_ctxs(engine: Engine, body: dict) -> list:
    ctxs = []
    for inst in engine.instruments.spots():
        mid = engine.mids[inst.coin]
        ctxs.append(
            {
                "prevDayPx": wire(engine.prev_day_px[inst.coin]),
                "dayNtlVlm": wire_usd(engine.day_ntl_volume[inst.coin]),
                "markPx": wire(mid),
                "midPx": wire(mid),
                "circulatingSupply": "1000000000.0",
                "coin": inst.coin,
                "totalSupply": "1000000000.0",
                "dayBaseVlm": wire(engine.day_base_volume[inst.coin]),
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
    if coin not in engine.by_coin:
        return None
    return engine.l2_book(coin)


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
    _field(body, "coin", str)
    _field(body, "startTime", int)
    return []


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


def user_fills(engine: Engine, body: dict) -> list:
    user = _user(body)
    fills = engine.fills.get(user, [])
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
    _user(body)
    _field(body, "startTime", int)
    return []


def user_non_funding_ledger_updates(engine: Engine, body: dict) -> list:
    _user(body)
    _field(body, "startTime", int)
    return []


def user_rate_limit(engine: Engine, body: dict) -> dict:
    acct = engine.account(_user(body))
    volume = acct.cum_volume if acct else ZERO
    used = acct.n_requests if acct else 0
    return {
        "cumVlm": wire_usd(volume),
        "nRequestsUsed": used,
        "nRequestsCap": 10_000 + int(volume),
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
