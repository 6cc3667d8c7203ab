"""Liquidations of the paper exchange (protocol reference §9.3).

Why here and not in the matching code: liquidation is a policy run after every mark update, on
every account, and it only *uses* the engine's matching and settlement. The rules:

* A cross account is liquidatable when its cross account value falls below the cross
  maintenance margin; an isolated position when its margin (isolated margin + unrealised PnL)
  falls below its own maintenance margin.
* Its open orders are canceled (``liquidatedCanceled``, announced as ``nonUserCancel``), then
  market orders go to the book (``LiquidationMarket``, fills tagged ``liquidation.method =
  "market"``). A position worth more than ``liquidation_partial_threshold`` is liquidated in
  slices of ``liquidation_partial_fraction`` with a cooldown between slices.
* Below ``liquidation_backstop_fraction`` (2/3) of maintenance, or when the book cannot take a
  slice, the liquidator vault takes what is left at the mark (``method = "backstop"``) and keeps
  the remaining margin: the account loses its equity in those positions and never more. A loss
  beyond the equity (a gap through the bankruptcy price) is absorbed, never left as a negative
  balance.

Every liquidation writes a ``liquidation`` entry of ``userNonFundingLedgerUpdates`` and a
``userEvents`` ``liquidation`` message, in Hyperliquid's shapes. Called with the engine's lock
held (from ``Engine._after_price_move``).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from hyperdesk.paper.accounts import ZERO, Account, PositionView
from hyperdesk.paper.events import Event
from hyperdesk.paper.numbers import wire, wire_usd
from hyperdesk.protocol.rules import nearest_valid_price, round_size_down

if TYPE_CHECKING:
    from hyperdesk.paper.engine import Engine
    from hyperdesk.paper.instruments import Instrument


def liquidate_accounts(engine: Engine, now: int) -> None:
    """Liquidate every account (or isolated position) under its maintenance margin."""
    for acct in list(engine.accounts.values()):
        if not acct.positions:
            continue
        summary = engine.summary(acct)
        touched = False
        for view in summary.views:
            if not view.leverage.is_cross and view.margin_used < view.maintenance:
                _liquidate_isolated(engine, acct, view, now)
                touched = True
        if touched:
            summary = engine.summary(acct)
        cross = [v for v in summary.views if v.leverage.is_cross]
        if cross and summary.cross_account_value < summary.cross_maintenance:
            _liquidate_cross(
                engine, acct, cross, summary.cross_account_value, summary.cross_maintenance, now
            )


def _liquidate_cross(
    engine: Engine,
    acct: Account,
    views: list[PositionView],
    account_value: Decimal,
    maintenance: Decimal,
    now: int,
) -> None:
    config = engine.config
    user = acct.address
    backstop = account_value < maintenance * config.liquidation_backstop_fraction
    if not backstop and now < engine.liquidation_cooldown.get(user, 0):
        return  # a partial liquidation is cooling down
    _cancel_open_orders(engine, acct, None, now)
    ntl = sum((v.position_value for v in views), ZERO)
    positions = [{"coin": v.position.coin, "szi": wire(v.position.szi)} for v in views]
    if not backstop:
        partial = False
        for view in sorted(views, key=lambda v: v.position_value, reverse=True):
            inst = engine.by_coin[view.position.coin]
            size, is_partial = _slice(engine, inst, view)
            partial = partial or is_partial
            filled = _through_book(engine, acct, inst, view, size, now)
            if filled < size:
                backstop = True  # the book could not take it
        if partial:
            engine.liquidation_cooldown[user] = now + config.liquidation_cooldown_ms
        after = engine.summary(acct)
        cross_left = any(v.leverage.is_cross for v in after.views)
        if cross_left and after.cross_account_value < (
            after.cross_maintenance * config.liquidation_backstop_fraction
        ):
            backstop = True
    if backstop:
        for view in engine.summary(acct).views:
            if view.leverage.is_cross:
                _backstop(engine, acct, engine.by_coin[view.position.coin], view, now)
        acct.usdc = ZERO  # the liquidator vault keeps the remaining cross margin
    elif acct.usdc < 0 and not any(v.leverage.is_cross for v in engine.summary(acct).views):
        acct.usdc = ZERO  # a loss beyond the equity is absorbed, never owed
    _record(engine, acct, "Cross", ntl, account_value, positions, now)


def _liquidate_isolated(engine: Engine, acct: Account, view: PositionView, now: int) -> None:
    config = engine.config
    coin = view.position.coin
    inst = engine.by_coin[coin]
    key = f"{acct.address}:{coin}"
    backstop = view.margin_used < view.maintenance * config.liquidation_backstop_fraction
    if not backstop and now < engine.liquidation_cooldown.get(key, 0):
        return
    _cancel_open_orders(engine, acct, coin, now)
    positions = [{"coin": coin, "szi": wire(view.position.szi)}]
    if not backstop:
        size, partial = _slice(engine, inst, view)
        filled = _through_book(engine, acct, inst, view, size, now)
        if partial:
            engine.liquidation_cooldown[key] = now + config.liquidation_cooldown_ms
        backstop = filled < size
    if backstop and coin in acct.positions:
        cash = acct.usdc
        _backstop(engine, acct, inst, view, now)
        acct.usdc = cash  # the vault keeps the isolated margin that was left
    _record(engine, acct, "Isolated", view.position_value, view.margin_used, positions, now)


def _slice(engine: Engine, inst: Instrument, view: PositionView) -> tuple[Decimal, bool]:
    """Size of the next market liquidation and whether it is partial."""
    size = abs(view.position.szi)
    if view.position_value <= engine.config.liquidation_partial_threshold:
        return size, False
    part = round_size_down(size * engine.config.liquidation_partial_fraction, inst.sz_decimals)
    if part <= 0 or part >= size:
        return size, False
    return part, True


def _through_book(
    engine: Engine,
    acct: Account,
    inst: Instrument,
    view: PositionView,
    size: Decimal,
    now: int,
) -> Decimal:
    """Send a reduce-only liquidation market order; return the size it filled."""
    from hyperdesk.paper.engine import OrderRequest  # the engine imports this module

    is_buy = view.position.szi < 0
    mark = engine.mark(inst.coin)
    slip = engine.config.trigger_market_slippage
    limit = nearest_valid_price(
        mark * (1 + slip) if is_buy else mark * (1 - slip),
        inst.sz_decimals,
        is_spot=False,
        rounding=ROUND_FLOOR if is_buy else ROUND_CEILING,
    )
    request = OrderRequest(inst, is_buy, limit, size, True, "LiquidationMarket", None, None)
    order = engine.new_order(acct.address, request, now)
    engine._liquidation_tag = {
        "liquidatedUser": acct.address,
        "markPx": wire(mark),
        "method": "market",
    }
    try:
        filled, _ = engine._take(order, limit, now)
    finally:
        engine._liquidation_tag = None
    if order.sz > 0:
        engine._finish(order, "canceled", now)
    return filled


def _backstop(
    engine: Engine, acct: Account, inst: Instrument, view: PositionView, now: int
) -> None:
    """The liquidator vault takes the whole position over at the mark, without a fee."""
    from hyperdesk.paper.engine import OrderRequest

    pos = acct.positions.get(inst.coin)
    if pos is None or pos.szi == 0:
        return
    is_buy = pos.szi < 0
    qty = abs(pos.szi)
    mark = engine.mark(inst.coin)
    request = OrderRequest(inst, is_buy, mark, qty, True, "LiquidationMarket", None, None)
    order = engine.new_order(acct.address, request, now)
    tx_hash = engine._new_hash()
    tid = engine.next_tid
    engine.next_tid += 1
    start, closed_pnl, direction = engine._apply_perp(acct, inst, is_buy, mark, qty, ZERO)
    order.sz = ZERO
    liquidator = engine.config.liquidator_address
    fill = {
        "coin": inst.coin,
        "px": wire(mark),
        "sz": wire(qty),
        "side": order.side,
        "time": now,
        "startPosition": wire(start),
        "dir": direction,
        "closedPnl": wire_usd(closed_pnl),
        "hash": tx_hash,
        "oid": order.oid,
        "crossed": True,
        "fee": "0.0",
        "tid": tid,
        "feeToken": "USDC",
        "liquidation": {"liquidatedUser": acct.address, "markPx": wire(mark), "method": "backstop"},
    }
    engine.fills.setdefault(acct.address, []).append(fill)
    engine._pending_fills.setdefault(acct.address, []).append(fill)
    buyer, seller = (acct.address, liquidator) if is_buy else (liquidator, acct.address)
    engine._pending_trades.setdefault(inst.coin, []).append(
        {
            "coin": inst.coin,
            "side": "B" if is_buy else "A",
            "px": wire(mark),
            "sz": wire(qty),
            "hash": tx_hash,
            "time": now,
            "tid": tid,
            "users": [buyer, seller],
        }
    )
    engine._finish(order, "filled", now)


def _cancel_open_orders(engine: Engine, acct: Account, coin: str | None, now: int) -> None:
    canceled = []
    for order in list(engine.open_orders.get(acct.address, {}).values()):
        if engine.by_coin[order.coin].is_spot or (coin is not None and order.coin != coin):
            continue
        engine._finish(order, "liquidatedCanceled", now)
        canceled.append({"coin": order.coin, "oid": order.oid})
    if canceled:
        engine.events.append(Event("user", acct.address, {"nonUserCancel": canceled}))


def _record(
    engine: Engine,
    acct: Account,
    leverage_type: str,
    ntl: Decimal,
    account_value: Decimal,
    positions: list[dict],
    now: int,
) -> None:
    user = acct.address
    entry = {
        "time": now,
        "hash": engine._new_hash(),
        "delta": {
            "type": "liquidation",
            "liquidatedNtlPos": wire_usd(ntl),
            "accountValue": wire_usd(account_value),
            "leverageType": leverage_type,
            "liquidatedPositions": positions,
        },
    }
    engine.liquidation_ledger.setdefault(user, []).append(entry)
    lid = engine.next_lid
    engine.next_lid += 1
    engine.events.append(
        Event(
            "user",
            user,
            {
                "liquidation": {
                    "lid": lid,
                    "liquidator": engine.config.liquidator_address,
                    "liquidated_user": user,
                    "liquidated_ntl_pos": wire_usd(ntl),
                    "liquidated_account_value": wire_usd(account_value),
                }
            },
        )
    )
    engine.events.append(
        Event(
            "userNonFundingLedgerUpdates",
            user,
            {"user": user, "nonFundingLedgerUpdates": [entry]},
        )
    )
