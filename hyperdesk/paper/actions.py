"""Execution of ``/exchange`` actions on the engine, with Hyperliquid's response shapes.

Signatures and nonces were checked by the server; here we only decide what the action does. A
rejected action (``{"status": "err", ...}``) changes nothing: every handler validates before it
mutates. Per-order errors inside ``statuses`` reject only that order.

Every action is decoded whole (``decode``) before any of it runs: a cancel batch whose third item
is malformed must not apply the first two and then fail. The server runs ``decode`` before it
records the nonce, so an undecodable action leaves no trace at all (like Hyperliquid, which
refuses such a body before it reaches the chain).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from decimal import Decimal

from hyperdesk.paper import address_limit, ledger, twap
from hyperdesk.paper.accounts import ZERO, Account, Agent, LeverageSetting
from hyperdesk.paper.engine import (
    HYPE_WEI,
    MISSING_ORDER,
    ActionFormatError,
    Engine,
    OrderRejected,
    _require,
)
from hyperdesk.paper.numbers import USD_QUANTUM, parse_decimal
from hyperdesk.paper.staking import Delegator, StakingError
from hyperdesk.paper.vaults import VaultError
from hyperdesk.protocol.rules import is_cloid

AGENT_FORBIDDEN = frozenset(
    {
        "usdSend",
        "usdClassTransfer",
        "withdraw3",
        "spotSend",
        "sendAsset",
        "vaultTransfer",
        "tokenDelegate",
        "cDeposit",
        "cWithdraw",
        "approveAgent",
        "approveBuilderFee",
        "subAccountTransfer",
        "subAccountSpotTransfer",
        "createSubAccount",
        "convertToMultiSigUser",
    }
)
"""Agents may trade but not move funds (protocol §5.4; conservative for undocumented cases)."""

WITHDRAW_FEE = Decimal(1)
_VALID_UNTIL = re.compile(r"valid_until (\d+)")

OK_DEFAULT = {"status": "ok", "response": {"type": "default"}}


def err(message: str) -> dict:
    return {"status": "err", "response": message}


class ActionRejected(Exception):
    """Whole-action rejection; ``str(exc)`` is the response text."""


def execute(
    engine: Engine, *, account: str, signer: str, action: dict, vault_address: str | None
) -> dict:
    """Run one authenticated action for ``account`` (see PaperExchange.execute)."""
    account = account.lower()
    signer = signer.lower()
    kind = action.get("type") if isinstance(action, dict) else None
    if not isinstance(kind, str):
        return err("Failed to deserialize the JSON body into the target type: missing field `type`")
    try:
        decode(engine, action)
    except ActionFormatError as exc:
        return err(f"Failed to deserialize the JSON body into the target type: {exc}")
    if signer != account and signer in engine.agents and kind in AGENT_FORBIDDEN:
        return err(
            f"Agent wallet {signer} is not allowed to perform {kind}; sign with the main wallet."
        )
    acting = account
    if vault_address:
        vault = engine.vaults.get(vault_address.lower())
        if vault is None or vault.spec.leader.lower() != account:
            return err(f"User {account} is not the leader of vault {vault_address.lower()}.")
        acting = vault.address.lower()
    handler = _HANDLERS.get(kind)
    if handler is None:
        return err(f"Unsupported action type on the paper exchange: {kind}")
    acct = engine.account(acting, create=True)
    assert acct is not None
    now = engine.clock.now_ms()
    over_budget = address_limit.refusal(engine.config, acct, action, now)
    if over_budget is not None:
        return err(over_budget)
    try:
        result = handler(engine, acct, action, now)
    except ActionFormatError as exc:
        return err(f"Failed to deserialize the JSON body into the target type: {exc}")
    except (ActionRejected, VaultError, StakingError) as exc:
        return err(str(exc))
    address_limit.charge(acct, action, now)
    engine.flush_events()
    return result


# ---------------------------------------------------------------------- decoding

U32 = 2**32
U64 = 2**64
I64 = 2**63
GROUPINGS = ("na", "normalTpsl", "positionTpsl")


def decode(engine: Engine, action: dict) -> None:
    """Check the shape of the whole ``action`` without applying any of it.

    Raises ``ActionFormatError`` for what Hyperliquid's deserializer would refuse: a missing
    field, a wrong type, a number that is not a bounded decimal string (``numbers``) or an
    integer out of its wire range. Business rules (balances, open orders, limits) stay with the
    handlers, which run only once the whole action has decoded.
    """
    decoder = _DECODERS.get(action.get("type"))
    if decoder is not None:
        decoder(engine, action)


def _list(mapping: object, key: str) -> list:
    items = _require(mapping, key)
    if not isinstance(items, list):
        raise ActionFormatError(f"`{key}` must be a list")
    return items


def _int(mapping: object, key: str, *, low: int, high: int) -> int:
    value = _require(mapping, key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value < high:
        raise ActionFormatError(f"`{key}` must be an integer from {low} to {high - 1}")
    return value


def _typed(mapping: object, key: str, kind: type, what: str) -> object:
    value = _require(mapping, key)
    if not isinstance(value, kind):
        raise ActionFormatError(f"`{key}` must be {what}")
    return value


def _decimal(raw: object, key: str) -> Decimal:
    try:
        return parse_decimal(raw)
    except ValueError as exc:
        raise ActionFormatError(f"invalid `{key}`: {exc}") from None


def _decode_order_wire(engine: Engine, raw: object) -> None:
    if isinstance(raw, dict):
        for key in ("p", "s"):
            if key in raw:
                _decimal(raw[key], key)
        kind = raw.get("t")
        trigger = kind.get("trigger") if isinstance(kind, dict) else None
        if isinstance(trigger, dict) and "triggerPx" in trigger:
            _decimal(trigger["triggerPx"], "triggerPx")
    with contextlib.suppress(OrderRejected):  # an unknown asset is a per-order error
        engine.parse_order(raw)


def _decode_order_ref(mapping: object, key: str) -> None:
    ref = _require(mapping, key)
    if isinstance(ref, str) and is_cloid(ref):
        return
    if not isinstance(ref, int) or isinstance(ref, bool) or not 0 <= ref < U64:
        raise ActionFormatError(f"`{key}` must be an order id or a 16-byte hex cloid")


def _decode_order(engine: Engine, action: dict) -> None:
    if action.get("grouping", "na") not in GROUPINGS:
        raise ActionFormatError("unknown `grouping`")
    for raw in _list(action, "orders"):
        _decode_order_wire(engine, raw)


def _decode_cancel(engine: Engine, action: dict) -> None:
    for item in _list(action, "cancels"):
        _int(item, "a", low=0, high=U32)
        _int(item, "o", low=0, high=U64)


def _decode_cancel_by_cloid(engine: Engine, action: dict) -> None:
    for item in _list(action, "cancels"):
        _int(item, "asset", low=0, high=U32)
        if not is_cloid(_require(item, "cloid")):
            raise ActionFormatError("`cloid` must be a 16-byte hex string")


def _decode_modify(engine: Engine, action: dict) -> None:
    _decode_order_ref(action, "oid")
    _decode_order_wire(engine, _require(action, "order"))


def _decode_batch_modify(engine: Engine, action: dict) -> None:
    for item in _list(action, "modifies"):
        _decode_modify(engine, item)


def _decode_schedule_cancel(engine: Engine, action: dict) -> None:
    if action.get("time") is not None:
        _int(action, "time", low=0, high=U64)


def _decode_update_leverage(engine: Engine, action: dict) -> None:
    _int(action, "asset", low=0, high=U32)
    _typed(action, "isCross", bool, "a boolean")
    _int(action, "leverage", low=0, high=U32)


def _decode_update_isolated_margin(engine: Engine, action: dict) -> None:
    _int(action, "asset", low=0, high=U32)
    _int(action, "ntli", low=-I64, high=I64)


def _decode_amount(engine: Engine, action: dict) -> None:
    _decimal(_require(action, "amount"), "amount")


def _decode_usd_send(engine: Engine, action: dict) -> None:
    _typed(action, "destination", str, "an address")
    _decode_amount(engine, action)


def _decode_usd_class_transfer(engine: Engine, action: dict) -> None:
    _typed(action, "toPerp", bool, "a boolean")
    raw = _typed(action, "amount", str, "a decimal string")
    assert isinstance(raw, str)
    _decimal(raw.split(" subaccount:", 1)[0], "amount")


def _decode_spot_send(engine: Engine, action: dict) -> None:
    _typed(action, "destination", str, "an address")
    _typed(action, "token", str, "a token name")
    _decode_amount(engine, action)


def _decode_vault_transfer(engine: Engine, action: dict) -> None:
    _typed(action, "vaultAddress", str, "an address")
    _typed(action, "isDeposit", bool, "a boolean")
    _int(action, "usd", low=0, high=U64)


def _decode_approve_agent(engine: Engine, action: dict) -> None:
    _typed(action, "agentAddress", str, "an address")
    if not isinstance(action.get("agentName") or "", str):
        raise ActionFormatError("`agentName` must be a string")


def _decode_wei(engine: Engine, action: dict) -> None:
    _int(action, "wei", low=0, high=U64)


def _decode_token_delegate(engine: Engine, action: dict) -> None:
    _typed(action, "validator", str, "an address")
    _typed(action, "isUndelegate", bool, "a boolean")
    _decode_wei(engine, action)


def _decode_twap_order(engine: Engine, action: dict) -> None:
    try:
        twap.decode_order(action)
    except twap.TwapFormatError as exc:
        raise ActionFormatError(str(exc)) from None


def _decode_twap_cancel(engine: Engine, action: dict) -> None:
    try:
        twap.decode_cancel(action)
    except twap.TwapFormatError as exc:
        raise ActionFormatError(str(exc)) from None


_DECODERS: dict[object, Callable[[Engine, dict], None]] = {
    "order": _decode_order,
    "cancel": _decode_cancel,
    "cancelByCloid": _decode_cancel_by_cloid,
    "batchModify": _decode_batch_modify,
    "modify": _decode_modify,
    "scheduleCancel": _decode_schedule_cancel,
    "updateLeverage": _decode_update_leverage,
    "updateIsolatedMargin": _decode_update_isolated_margin,
    "usdSend": _decode_usd_send,
    "withdraw3": _decode_amount,
    "usdClassTransfer": _decode_usd_class_transfer,
    "spotSend": _decode_spot_send,
    "vaultTransfer": _decode_vault_transfer,
    "approveAgent": _decode_approve_agent,
    "tokenDelegate": _decode_token_delegate,
    "cDeposit": _decode_wei,
    "cWithdraw": _decode_wei,
    "twapOrder": _decode_twap_order,
    "twapCancel": _decode_twap_cancel,
}


# ---------------------------------------------------------------------- orders


def _order_error(engine: Engine, exc: OrderRejected, asset: object) -> dict:
    text = str(exc)
    if engine.config.append_asset_to_order_errors and isinstance(asset, int):
        text = f"{text} asset={asset}"
    return {"error": text}


def _place(
    engine: Engine,
    acct: Account,
    raw: object,
    now: int,
    exclude_oid: int | None = None,
    *,
    is_child: bool = False,
):
    """Validate one order wire; return (OrderRequest, None) or (None, error status)."""
    asset = raw.get("a") if isinstance(raw, dict) else None
    try:
        req = engine.parse_order(raw)
        # A normalTpsl child reduces the position its parent is about to open.
        engine.validate(acct.address, req, exclude_oid=exclude_oid, check_reduce_only=not is_child)
    except OrderRejected as exc:
        return None, _order_error(engine, exc, asset)
    return req, None


def _run(engine: Engine, acct: Account, req, now: int) -> dict:
    order = engine.new_order(acct.address, req, now)
    try:
        return engine.submit(order, now)
    except OrderRejected as exc:
        return _order_error(engine, exc, req.instrument.asset)


def _order(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    orders = _require(action, "orders")
    grouping = action.get("grouping", "na")
    if not isinstance(orders, list):
        raise ActionFormatError("`orders` must be a list")
    if not orders:
        raise ActionRejected("Order batch is empty.")
    statuses: list = []
    parent = None
    parent_status = None
    for index, raw in enumerate(orders):
        is_child = grouping == "normalTpsl" and index > 0 and parent is not None
        req, error = _place(engine, acct, raw, now, is_child=is_child)
        if error is not None:
            statuses.append(error)
            continue
        assert req is not None
        if (
            grouping == "normalTpsl"
            and index > 0
            and req.trigger is not None
            and parent is not None
        ):
            child = engine.new_order(acct.address, req, now)
            child.parent_oid = parent.oid
            parent.children.append(child.oid)
            if parent.status == "filled":
                engine._rest_open(child, now, in_book=False)
                statuses.append("waitingForTrigger")
            elif parent.status == "open":
                child.status = "waitingForFill"
                engine.waiting_children.setdefault(parent.oid, []).append(child)
                statuses.append("waitingForFill")
            else:
                child.status = "canceled"
                statuses.append({"error": "Parent order did not fill; TP/SL canceled."})
            continue
        if grouping == "positionTpsl" and req.trigger is not None:
            status = _run(engine, acct, req, now)
            order = engine.orders.get(engine.next_oid - 1)
            if order is not None:
                order.is_position_tpsl = True
            statuses.append(status)
            continue
        status = _run(engine, acct, req, now)
        statuses.append(status)
        if index == 0 and grouping == "normalTpsl":
            parent = engine.orders.get(engine.next_oid - 1)
            parent_status = status
    del parent_status
    return {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}


def _cancel(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    return _cancel_each(engine, acct, action, now, asset_key="a", ref_key="o", ref_type=int)


def _cancel_by_cloid(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    return _cancel_each(engine, acct, action, now, asset_key="asset", ref_key="cloid", ref_type=str)


def _cancel_each(
    engine: Engine,
    acct: Account,
    action: dict,
    now: int,
    *,
    asset_key: str,
    ref_key: str,
    ref_type: type,
) -> dict:
    """`cancel` (by oid) and `cancelByCloid` differ only in their field names."""
    cancels = _require(action, "cancels")
    if not isinstance(cancels, list):
        raise ActionFormatError("`cancels` must be a list")
    statuses: list = []
    for item in cancels:
        asset = _require(item, asset_key)
        ref = _require(item, ref_key)
        order = engine.find_order(acct.address, ref) if isinstance(ref, ref_type) else None
        if order is not None and order.asset == asset and engine.cancel(acct.address, order, now):
            statuses.append("success")
        else:
            statuses.append(_missing(engine, asset))
    return {"status": "ok", "response": {"type": "cancel", "data": {"statuses": statuses}}}


def _missing(engine: Engine, asset: object) -> dict:
    return _order_error(engine, OrderRejected(MISSING_ORDER), asset)


def _modify_one(engine: Engine, acct: Account, ref: object, raw: object, now: int) -> dict:
    old = engine.find_order(acct.address, ref)
    asset = raw.get("a") if isinstance(raw, dict) else None
    if old is None or old.oid not in engine.open_orders.get(acct.address, {}):
        return _order_error(engine, OrderRejected("Cannot modify canceled or filled order"), asset)
    req, error = _place(engine, acct, raw, now, exclude_oid=old.oid)
    if error is not None:
        return error
    engine.cancel(acct.address, old, now)
    return _run(engine, acct, req, now)


def _batch_modify(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    modifies = _require(action, "modifies")
    if not isinstance(modifies, list):
        raise ActionFormatError("`modifies` must be a list")
    statuses = [
        _modify_one(engine, acct, _require(m, "oid"), _require(m, "order"), now) for m in modifies
    ]
    return {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}


def _modify(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    status = _modify_one(engine, acct, _require(action, "oid"), _require(action, "order"), now)
    if "error" in status:
        raise ActionRejected(status["error"])
    return OK_DEFAULT


def _schedule_cancel(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    when = action.get("time")
    if when is None:
        acct.scheduled_cancel_ms = None
        return OK_DEFAULT
    if not isinstance(when, int) or isinstance(when, bool):
        raise ActionFormatError("`time` must be an integer")
    if when < now + engine.config.schedule_cancel_min_delay_ms:
        raise ActionRejected("Scheduled cancel time must be at least 5 seconds in the future.")
    day = now // 86_400_000
    if acct.scheduled_cancel_triggers.get(day, 0) >= engine.config.schedule_cancel_max_per_day:
        raise ActionRejected("Too many scheduled cancel triggers today.")
    acct.scheduled_cancel_ms = when
    return OK_DEFAULT


# ---------------------------------------------------------------------- margin


def _perp(engine: Engine, asset: object):
    inst = engine.instruments.by_asset(asset)
    if inst is None or inst.is_spot:
        raise ActionRejected(f"Invalid asset: {asset}")
    return inst


def _update_leverage(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    inst = _perp(engine, _require(action, "asset"))
    is_cross = _require(action, "isCross")
    leverage = _require(action, "leverage")
    if (
        not isinstance(is_cross, bool)
        or not isinstance(leverage, int)
        or isinstance(leverage, bool)
    ):
        raise ActionFormatError("`isCross` must be a boolean and `leverage` an integer")
    if leverage < 1 or leverage > inst.max_leverage:
        raise ActionRejected(
            f"Invalid leverage value. Max leverage for {inst.coin} is {inst.max_leverage}."
        )
    pos = acct.positions.get(inst.coin)
    current = engine.summary(acct)
    if pos is not None:
        old = acct.leverage.get(inst.coin)
        old_cross = old.is_cross if old else True
        if old_cross != is_cross:
            raise ActionRejected("Cannot switch leverage type with an open position.")
        if is_cross:
            extra = abs(pos.szi) * engine.mark(inst.coin) / leverage - next(
                v.margin_used for v in current.views if v.position is pos
            )
            if extra > current.cross_account_value - current.cross_margin_used:
                raise ActionRejected("Insufficient margin to update leverage.")
    acct.leverage[inst.coin] = LeverageSetting(is_cross, leverage)
    return OK_DEFAULT


def _update_isolated_margin(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    inst = _perp(engine, _require(action, "asset"))
    ntli = _require(action, "ntli")
    if not isinstance(ntli, int) or isinstance(ntli, bool):
        raise ActionFormatError("`ntli` must be an integer")
    amount = Decimal(ntli) * USD_QUANTUM
    pos = acct.positions.get(inst.coin)
    setting = acct.leverage.get(inst.coin)
    if pos is None or setting is None or setting.is_cross:
        raise ActionRejected("Cannot update margin: no isolated position for this asset.")
    if amount > 0:
        if amount > engine.summary(acct).transferable:
            raise ActionRejected("Insufficient balance to add isolated margin.")
    else:
        mark = engine.mark(inst.coin)
        needed = abs(pos.szi) * mark / setting.value
        remaining = pos.isolated_margin + amount + pos.szi * (mark - pos.entry_px)
        if remaining < max(needed, abs(pos.szi) * mark / 10):
            raise ActionRejected("Insufficient isolated margin to remove.")
    pos.isolated_margin += amount
    acct.usdc -= amount
    return OK_DEFAULT


# ---------------------------------------------------------------------- transfers


def _amount(raw: object) -> Decimal:
    value = _decimal(raw, "amount")
    if value <= 0:
        raise ActionRejected("Invalid amount.")
    return value


def _usd_send(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    destination = _require(action, "destination")
    amount = _amount(_require(action, "amount"))
    if not isinstance(destination, str):
        raise ActionFormatError("`destination` must be an address")
    if amount > engine.summary(acct).transferable:
        raise ActionRejected("Insufficient balance for token transfer.")
    target = engine.account(destination, create=True)
    assert target is not None
    acct.usdc -= amount
    target.usdc += amount
    ledger.internal_transfer(engine, acct.address, target.address, amount, now)
    return OK_DEFAULT


def _withdraw(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    amount = _amount(_require(action, "amount"))
    if amount <= WITHDRAW_FEE:
        raise ActionRejected("Withdrawal amount must exceed the 1 USDC fee.")
    if amount > engine.summary(acct).transferable:
        raise ActionRejected("Insufficient balance for withdrawal.")
    acct.usdc -= amount
    nonce = action.get("time")
    ledger.withdraw(
        engine,
        acct.address,
        amount - WITHDRAW_FEE,
        WITHDRAW_FEE,
        nonce if isinstance(nonce, int) else None,
        now,
    )
    return OK_DEFAULT


def _usd_class_transfer(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    raw = _require(action, "amount")
    to_perp = _require(action, "toPerp")
    if not isinstance(to_perp, bool) or not isinstance(raw, str):
        raise ActionFormatError("bad usdClassTransfer")
    if " subaccount:" in raw:
        raise ActionRejected("Sub-accounts are not supported by the paper exchange.")
    amount = _amount(raw)
    usdc = 0
    if to_perp:
        available = acct.spot.get(usdc, ZERO) - engine.spot_hold(acct.address).get(usdc, ZERO)
        if amount > available:
            raise ActionRejected("Insufficient balance for token transfer.")
        acct.spot[usdc] = acct.spot.get(usdc, ZERO) - amount
        acct.usdc += amount
    else:
        if amount > engine.summary(acct).transferable:
            raise ActionRejected("Insufficient balance for token transfer.")
        acct.usdc -= amount
        acct.spot[usdc] = acct.spot.get(usdc, ZERO) + amount
    ledger.class_transfer(engine, acct.address, amount, to_perp, now)
    return OK_DEFAULT


def _spot_send(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    destination = _require(action, "destination")
    token = _require(action, "token")
    amount = _amount(_require(action, "amount"))
    if not isinstance(destination, str) or not isinstance(token, str):
        raise ActionFormatError("bad spotSend")
    name, _, token_id = token.partition(":")
    spec = next(
        (t for t in engine.config.spot_tokens if t.name == name and t.token_id == token_id), None
    )
    if spec is None:
        raise ActionRejected(f"Unknown token {token}.")
    available = acct.spot.get(spec.index, ZERO) - engine.spot_hold(acct.address).get(
        spec.index, ZERO
    )
    if amount > available:
        raise ActionRejected("Insufficient balance for token transfer.")
    target = engine.account(destination, create=True)
    assert target is not None
    acct.spot[spec.index] = acct.spot.get(spec.index, ZERO) - amount
    target.spot[spec.index] = target.spot.get(spec.index, ZERO) + amount
    nonce = action.get("time")
    ledger.spot_transfer(
        engine,
        acct.address,
        target.address,
        spec.name,
        amount,
        amount * _usdc_price(engine, spec.index),
        nonce if isinstance(nonce, int) else None,
        now,
    )
    return OK_DEFAULT


def _usdc_price(engine: Engine, token: int) -> Decimal:
    """USDC value of one unit of a spot token: 1 for USDC, else the mid of its USDC pair."""
    if token == 0:
        return Decimal(1)
    for inst in engine.instruments.spots():
        if inst.base_token == token and inst.quote_token == 0:
            return engine.mids[inst.coin]
    return ZERO


def _vault_transfer(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    address = _require(action, "vaultAddress")
    is_deposit = _require(action, "isDeposit")
    usd = _require(action, "usd")
    if not isinstance(address, str) or not isinstance(is_deposit, bool):
        raise ActionFormatError("bad vaultTransfer")
    if not isinstance(usd, int) or isinstance(usd, bool):
        raise ActionFormatError("`usd` must be an integer (micro-USD)")
    vault = engine.vaults.get(address.lower())
    if vault is None:
        raise ActionRejected(f"Vault {address.lower()} does not exist.")
    amount = Decimal(usd) * USD_QUANTUM
    if amount <= 0:
        raise ActionRejected("Invalid amount.")
    if is_deposit:
        if not vault.spec.allow_deposits:
            raise ActionRejected("Vault does not allow deposits.")
        if amount < engine.config.vault_min_deposit:
            raise ActionRejected(
                f"Vault deposit must be at least {engine.config.vault_min_deposit} USDC."
            )
        if amount > engine.summary(acct).transferable:
            raise ActionRejected("Insufficient balance for vault deposit.")
        acct.usdc -= amount
        vault.deposit(acct.address, amount, now, engine.config.vault_lockup_s)
        ledger.vault_deposit(engine, acct.address, vault.address, amount, now)
    else:
        follower = vault.followers.get(acct.address)
        basis_before = follower.basis if follower is not None else ZERO
        received = vault.withdraw(
            acct.address, amount, now, engine.config.vault_leader_profit_share
        )
        acct.usdc += received
        follower = vault.followers.get(acct.address)
        basis_after = follower.basis if follower is not None else ZERO
        ledger.vault_withdraw(
            engine,
            acct.address,
            vault.address,
            amount,
            amount - received,
            basis_before - basis_after,
            now,
        )
    return OK_DEFAULT


# ---------------------------------------------------------------------- agents & staking


def _approve_agent(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    address = _require(action, "agentAddress")
    name = action.get("agentName") or ""
    if not isinstance(address, str) or not isinstance(name, str):
        raise ActionFormatError("bad approveAgent")
    address = address.lower()
    if address == acct.address or address in engine.accounts:
        raise ActionRejected("Cannot approve an existing user as an agent.")
    match = _VALID_UNTIL.search(name)
    valid_until = int(match.group(1)) if match else None
    clean_name = _VALID_UNTIL.sub("", name).strip()
    existing = engine.agents.get(address)
    if existing is not None and existing.master != acct.address:
        raise ActionRejected("Agent address is already used by another user.")
    mine = [a for a in engine.agents.values() if a.master == acct.address]
    named = [a for a in mine if a.name]
    if (
        clean_name
        and clean_name not in {a.name for a in named}
        and len(named) >= engine.config.max_named_agents
    ):
        raise ActionRejected(f"Too many named agents (max {engine.config.max_named_agents}).")
    for agent in mine:
        if agent.name == clean_name:  # same name (or the unnamed slot) is replaced
            del engine.agents[agent.address]
    engine.agents[address] = Agent(address, acct.address, clean_name, valid_until)
    return OK_DEFAULT


def _wei(action: dict) -> int:
    wei = _require(action, "wei")
    if not isinstance(wei, int) or isinstance(wei, bool):
        raise ActionFormatError("`wei` must be an integer")
    if wei <= 0:
        raise ActionRejected("Invalid amount.")
    return wei


def _delegator(engine: Engine, acct: Account) -> Delegator:
    return engine.delegators.setdefault(acct.address, Delegator())


def _c_deposit(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    wei = _wei(action)
    hype = engine.hype_token()
    if hype is None:
        raise ActionRejected("No staking token configured.")
    amount = Decimal(wei) / HYPE_WEI
    available = acct.spot.get(hype, ZERO) - engine.spot_hold(acct.address).get(hype, ZERO)
    if amount > available:
        raise ActionRejected("Insufficient balance for staking deposit.")
    acct.spot[hype] = acct.spot.get(hype, ZERO) - amount
    delegator = _delegator(engine, acct)
    delegator.deposit(wei)
    ledger.staking_transfer(engine, acct.address, amount, True, now)
    delegator.history.append(
        {"time": now, "hash": engine._new_hash(), "delta": {"cDeposit": {"amount": _hype(wei)}}}
    )
    return OK_DEFAULT


def _c_withdraw(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    wei = _wei(action)
    delegator = _delegator(engine, acct)
    delegator.withdraw(
        wei,
        now,
        engine.config.staking_withdrawal_delay_s * 1000,
        engine.config.staking_max_pending_withdrawals,
    )
    delegator.history.append(
        {
            "time": now,
            "hash": engine._new_hash(),
            "delta": {"withdrawal": {"amount": _hype(wei), "phase": "initiated"}},
        }
    )
    return OK_DEFAULT


def _token_delegate(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    validator = _require(action, "validator")
    is_undelegate = _require(action, "isUndelegate")
    wei = _wei(action)
    if not isinstance(validator, str) or not isinstance(is_undelegate, bool):
        raise ActionFormatError("bad tokenDelegate")
    validator = validator.lower()
    if validator not in engine.validators:
        raise ActionRejected(f"Unknown validator {validator}.")
    delegator = _delegator(engine, acct)
    if is_undelegate:
        delegator.undelegate(validator, wei, now)
    else:
        if engine.validators[validator].is_jailed:
            raise ActionRejected("Cannot delegate to a jailed validator.")
        delegator.delegate(validator, wei, now, engine.config.staking_delegation_lockup_s * 1000)
    delegator.history.append(
        {
            "time": now,
            "hash": engine._new_hash(),
            "delta": {
                "delegate": {
                    "validator": validator,
                    "amount": _hype(wei),
                    "isUndelegate": is_undelegate,
                }
            },
        }
    )
    return OK_DEFAULT


def _hype(wei: int) -> str:
    from hyperdesk.paper.numbers import wire

    return wire(Decimal(wei) / HYPE_WEI)


def _twap_order(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    data = engine.twaps.place(engine, acct.address, action, now)
    return {"status": "ok", "response": {"type": "twapOrder", "data": data}}


def _twap_cancel(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    data = engine.twaps.cancel(acct.address, action, now)
    return {"status": "ok", "response": {"type": "twapCancel", "data": data}}


def _noop(engine: Engine, acct: Account, action: dict, now: int) -> dict:
    return OK_DEFAULT


_HANDLERS: dict[str, Callable[[Engine, Account, dict, int], dict]] = {
    "order": _order,
    "cancel": _cancel,
    "cancelByCloid": _cancel_by_cloid,
    "batchModify": _batch_modify,
    "modify": _modify,
    "scheduleCancel": _schedule_cancel,
    "updateLeverage": _update_leverage,
    "updateIsolatedMargin": _update_isolated_margin,
    "usdSend": _usd_send,
    "withdraw3": _withdraw,
    "usdClassTransfer": _usd_class_transfer,
    "spotSend": _spot_send,
    "vaultTransfer": _vault_transfer,
    "approveAgent": _approve_agent,
    "tokenDelegate": _token_delegate,
    "cDeposit": _c_deposit,
    "cWithdraw": _c_withdraw,
    "noop": _noop,
    "twapOrder": _twap_order,
    "twapCancel": _twap_cancel,
    "setReferrer": _noop,
    "approveBuilderFee": _noop,
}
