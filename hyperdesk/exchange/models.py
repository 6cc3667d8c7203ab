"""Immutable values that cross the exchange boundary.

Everything here is a frozen dataclass with ``Decimal`` for prices, sizes and money, so the values can
be passed between actors as messages and stored without float rounding. ``from_wire`` constructors
parse Hyperliquid's JSON shapes (hyperliquid-protocol.md §3); they never touch the network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from hyperdesk.protocol.decimal_bounds import plain

Side = Literal["buy", "sell"]
OrderType = Literal["limit", "market"]
Tif = Literal["Gtc", "Ioc", "Alo"]
OrderStatus = Literal["resting", "filled", "partially_filled", "error", "unknown"]
TriggerKind = Literal["tp", "sl"]

ZERO = Decimal(0)
#: HYPE amounts on the wire of staking actions and summaries are integers of 10^-8 HYPE.
HYPE_WEI_DECIMALS = 8


def to_decimal(value: Any, default: Decimal | None = None) -> Decimal:
    """Parse a wire number (string, int or float) into a Decimal.

    ``None``, ``"NaN"`` and unparsable values give ``default`` when one is given, else raise
    ``ValueError``. Floats go through ``str`` so ``0.1`` stays ``Decimal("0.1")``.
    """
    if value is None:
        if default is not None:
            return default
        raise ValueError("missing number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            if default is not None:
                return default
            raise ValueError(f"not a finite number: {value!r}")
        result = Decimal(str(value))
    else:
        try:
            result = Decimal(str(value).strip())
        except (InvalidOperation, ValueError) as exc:
            if default is not None:
                return default
            raise ValueError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        if default is not None:
            return default
        raise ValueError(f"not a finite number: {value!r}")
    return result


def plain_decimal(value: Decimal) -> str:
    """An exact decimal string without exponent or trailing zeros: ``Decimal("1100.0")`` →
    ``"1100"``, ``-0`` → ``"0"``. The one format for numbers we send: to the exchange and in
    our own API (api.md: decimal quantities are JSON strings).

    Exact: no rounding to the context's precision and no flushing of tiny values to ``"0"``
    (``normalize()`` would do both); a value too extreme to write out raises ``ValueError``.
    """
    return plain(value)


def _optional_decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return to_decimal(value)
    except ValueError:
        return None


def side_from_wire(side: str) -> Side:
    """Hyperliquid's ``"B"`` (bid) / ``"A"`` (ask) to ``"buy"`` / ``"sell"``."""
    if side == "B":
        return "buy"
    if side == "A":
        return "sell"
    raise ValueError(f"unknown side {side!r}")


@dataclass(frozen=True, slots=True)
class Fill:
    """One fill of one of ``account``'s orders; unique on ``(account, tid)`` (security.md §5)."""

    account: str
    coin: str
    side: Side
    price: Decimal
    size: Decimal
    time_ms: int
    tid: int
    oid: int
    cloid: str | None
    fee: Decimal
    fee_token: str
    closed_pnl: Decimal
    hash: str
    direction: str
    start_position: Decimal
    crossed: bool

    @classmethod
    def from_wire(cls, account: str, raw: dict[str, Any]) -> Fill:
        """Parse a fill object from ``userFills``/``userFillsByTime``/the ``userFills`` channel."""
        return cls(
            account=account.lower(),
            coin=str(raw["coin"]),
            side=side_from_wire(raw["side"]),
            price=to_decimal(raw["px"]),
            size=to_decimal(raw["sz"]),
            time_ms=int(raw["time"]),
            tid=int(raw["tid"]),
            oid=int(raw["oid"]),
            cloid=raw.get("cloid") or None,
            fee=to_decimal(raw.get("fee"), ZERO),
            fee_token=str(raw.get("feeToken") or "USDC"),
            closed_pnl=to_decimal(raw.get("closedPnl"), ZERO),
            hash=str(raw.get("hash") or ""),
            direction=str(raw.get("dir") or ""),
            start_position=to_decimal(raw.get("startPosition"), ZERO),
            crossed=bool(raw.get("crossed", False)),
        )


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A command to place one order (imperative: the caller wants it placed).

    ``price`` is required for limit orders; for market orders it is an optional reference price
    (the mid is used when absent) from which the slippage-bounded IOC limit price is derived.
    ``cloid`` is a 16-byte hex string (``0x`` + 32 hex digits); one is generated when absent.
    Trigger orders set ``trigger_price`` and ``trigger_kind`` (take profit / stop loss).
    """

    coin: str
    is_buy: bool
    size: Decimal
    price: Decimal | None = None
    order_type: OrderType = "limit"
    tif: Tif = "Gtc"
    reduce_only: bool = False
    slippage: Decimal = Decimal("0.05")
    trigger_price: Decimal | None = None
    trigger_kind: TriggerKind | None = None
    trigger_is_market: bool = True
    cloid: str | None = None

    @property
    def side(self) -> Side:
        return "buy" if self.is_buy else "sell"


@dataclass(frozen=True, slots=True)
class OrderResult:
    """The outcome of placing (or modifying) one order.

    ``status`` ``"unknown"`` means the request may or may not have reached the exchange and the
    ``cloid`` lookup could not settle it: keep any capital reserved and look the cloid up later.
    ``error_code`` is one of the stable codes in ``hyperdesk.exchange.errors.ErrorCode``.
    """

    status: OrderStatus
    cloid: str | None
    oid: int | None = None
    filled_size: Decimal = ZERO
    avg_price: Decimal | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("resting", "filled", "partially_filled")


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """A resting order as ``frontendOpenOrders`` reports it (``size`` is the remaining size)."""

    coin: str
    side: Side
    price: Decimal
    size: Decimal
    orig_size: Decimal
    oid: int
    timestamp_ms: int
    cloid: str | None = None
    reduce_only: bool = False
    order_type: str = "Limit"
    tif: str | None = None
    is_trigger: bool = False
    trigger_price: Decimal | None = None
    trigger_condition: str | None = None

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> OpenOrder:
        size = to_decimal(raw.get("sz"), ZERO)
        trigger_px = _optional_decimal(raw.get("triggerPx"))
        return cls(
            coin=str(raw["coin"]),
            side=side_from_wire(raw["side"]),
            price=to_decimal(raw["limitPx"]),
            size=size,
            orig_size=to_decimal(raw.get("origSz"), size),
            oid=int(raw["oid"]),
            timestamp_ms=int(raw.get("timestamp") or 0),
            cloid=raw.get("cloid") or None,
            reduce_only=bool(raw.get("reduceOnly", False)),
            order_type=str(raw.get("orderType") or "Limit"),
            tif=raw.get("tif"),
            is_trigger=bool(raw.get("isTrigger", False)),
            trigger_price=trigger_px if trigger_px else None,
            trigger_condition=raw.get("triggerCondition"),
        )


@dataclass(frozen=True, slots=True)
class OrderStatusInfo:
    """What ``orderStatus`` says about one order (looked up by oid or cloid).

    ``status`` is the exchange's own status string (``open``, ``filled``, ``canceled``, …), or
    ``"unknownOid"`` when the exchange has never seen the order.
    """

    status: str
    order: OpenOrder | None = None
    status_time_ms: int | None = None

    @property
    def found(self) -> bool:
        return self.order is not None

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> OrderStatusInfo:
        if raw.get("status") != "order" or not raw.get("order"):
            return cls(status=str(raw.get("status") or "unknownOid"))
        wrapped = raw["order"]
        return cls(
            status=str(wrapped.get("status")),
            order=OpenOrder.from_wire(wrapped["order"]),
            status_time_ms=wrapped.get("statusTimestamp"),
        )


@dataclass(frozen=True, slots=True)
class Position:
    """One perp position (``size`` signed: long > 0, short < 0)."""

    coin: str
    size: Decimal
    entry_price: Decimal | None
    unrealized_pnl: Decimal
    leverage: int
    leverage_type: str
    liquidation_price: Decimal | None
    margin_used: Decimal
    position_value: Decimal
    return_on_equity: Decimal = ZERO
    max_leverage: int | None = None

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> Position:
        lev = raw.get("leverage") or {}
        return cls(
            coin=str(raw["coin"]),
            size=to_decimal(raw.get("szi"), ZERO),
            entry_price=_optional_decimal(raw.get("entryPx")),
            unrealized_pnl=to_decimal(raw.get("unrealizedPnl"), ZERO),
            leverage=int(lev.get("value", 1)),
            leverage_type=str(lev.get("type", "cross")),
            liquidation_price=_optional_decimal(raw.get("liquidationPx")),
            margin_used=to_decimal(raw.get("marginUsed"), ZERO),
            position_value=to_decimal(raw.get("positionValue"), ZERO),
            return_on_equity=to_decimal(raw.get("returnOnEquity"), ZERO),
            max_leverage=raw.get("maxLeverage"),
        )


@dataclass(frozen=True, slots=True)
class SpotBalance:
    coin: str
    token: int
    total: Decimal
    hold: Decimal
    entry_notional: Decimal = ZERO

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> SpotBalance:
        return cls(
            coin=str(raw["coin"]),
            token=int(raw.get("token", 0)),
            total=to_decimal(raw.get("total"), ZERO),
            hold=to_decimal(raw.get("hold"), ZERO),
            entry_notional=to_decimal(raw.get("entryNtl"), ZERO),
        )


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """The account view of api.md (``/api/wallets/{id}/account``): perp margin plus spot balances."""

    address: str
    account_value: Decimal
    withdrawable: Decimal
    margin_used: Decimal
    total_notional: Decimal
    total_raw_usd: Decimal
    cross_account_value: Decimal
    cross_margin_used: Decimal
    maintenance_margin_used: Decimal
    positions: tuple[Position, ...] = ()
    spot_balances: tuple[SpotBalance, ...] = ()
    time_ms: int = 0

    @classmethod
    def from_wire(
        cls, address: str, perp: dict[str, Any], spot: dict[str, Any] | None = None
    ) -> AccountSummary:
        margin = perp.get("marginSummary") or {}
        cross = perp.get("crossMarginSummary") or {}
        positions = tuple(
            Position.from_wire(item["position"])
            for item in perp.get("assetPositions") or []
            if item.get("position")
        )
        balances = tuple(SpotBalance.from_wire(b) for b in (spot or {}).get("balances") or [])
        return cls(
            address=address.lower(),
            account_value=to_decimal(margin.get("accountValue"), ZERO),
            withdrawable=to_decimal(perp.get("withdrawable"), ZERO),
            margin_used=to_decimal(margin.get("totalMarginUsed"), ZERO),
            total_notional=to_decimal(margin.get("totalNtlPos"), ZERO),
            total_raw_usd=to_decimal(margin.get("totalRawUsd"), ZERO),
            cross_account_value=to_decimal(cross.get("accountValue"), ZERO),
            cross_margin_used=to_decimal(cross.get("totalMarginUsed"), ZERO),
            maintenance_margin_used=to_decimal(perp.get("crossMaintenanceMarginUsed"), ZERO),
            positions=positions,
            spot_balances=balances,
            time_ms=int(perp.get("time") or 0),
        )

    def position(self, coin: str) -> Position | None:
        return next((p for p in self.positions if p.coin == coin), None)


@dataclass(frozen=True, slots=True)
class Market:
    """One tradable perp: what the pre-trade gate and the UI need."""

    coin: str
    asset: int
    sz_decimals: int
    max_leverage: int
    mid: Decimal | None = None
    mark_price: Decimal | None = None
    is_spot: bool = False
    is_delisted: bool = False
    only_isolated: bool = False


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    size: Decimal
    orders: int = 0


@dataclass(frozen=True, slots=True)
class L2Book:
    coin: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    time_ms: int

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> L2Book:
        levels = raw.get("levels") or [[], []]

        def side(items: list[dict[str, Any]]) -> tuple[BookLevel, ...]:
            return tuple(
                BookLevel(to_decimal(x["px"]), to_decimal(x["sz"]), int(x.get("n", 0)))
                for x in items
            )

        return cls(
            coin=str(raw.get("coin", "")),
            bids=side(levels[0]),
            asks=side(levels[1]),
            time_ms=int(raw.get("time") or 0),
        )


@dataclass(frozen=True, slots=True)
class Candle:
    time_ms: int
    close_time_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int = 0

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> Candle:
        return cls(
            time_ms=int(raw["t"]),
            close_time_ms=int(raw.get("T", raw["t"])),
            open=to_decimal(raw["o"]),
            high=to_decimal(raw["h"]),
            low=to_decimal(raw["l"]),
            close=to_decimal(raw["c"]),
            volume=to_decimal(raw.get("v"), ZERO),
            trades=int(raw.get("n", 0)),
        )


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The outcome of a non-order signed action (cancel, leverage, vault transfer, staking, …).

    A refusal by the exchange is raised as an ``ExchangeError``; this value is the success reply,
    with the exchange's raw ``data`` kept for callers that want it.
    """

    ok: bool
    action: str
    detail: str = ""
    data: Any = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class VaultSummary:
    address: str
    name: str
    leader: str
    apr: Decimal | None = None
    tvl: Decimal | None = None
    is_closed: bool = False

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> VaultSummary:
        nested = raw.get("summary")
        summary: dict[str, Any] = nested if isinstance(nested, dict) else raw
        return cls(
            address=str(summary.get("vaultAddress") or summary.get("address") or "").lower(),
            name=str(summary.get("name") or ""),
            leader=str(summary.get("leader") or "").lower(),
            apr=_optional_decimal(raw.get("apr", summary.get("apr"))),
            tvl=_optional_decimal(summary.get("tvl")),
            is_closed=bool(summary.get("isClosed", False)),
        )


@dataclass(frozen=True, slots=True)
class VaultFollower:
    user: str
    equity: Decimal
    pnl: Decimal
    all_time_pnl: Decimal
    days_following: int
    entry_time_ms: int | None
    lockup_until_ms: int | None

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> VaultFollower:
        return cls(
            user=str(raw.get("user") or "").lower(),
            equity=to_decimal(raw.get("vaultEquity"), ZERO),
            pnl=to_decimal(raw.get("pnl"), ZERO),
            all_time_pnl=to_decimal(raw.get("allTimePnl"), ZERO),
            days_following=int(raw.get("daysFollowing") or 0),
            entry_time_ms=raw.get("vaultEntryTime"),
            lockup_until_ms=raw.get("lockupUntil"),
        )


@dataclass(frozen=True, slots=True)
class VaultDetails:
    address: str
    name: str
    leader: str
    description: str
    apr: Decimal | None
    leader_fraction: Decimal | None
    leader_commission: Decimal | None
    max_distributable: Decimal | None
    max_withdrawable: Decimal | None
    is_closed: bool
    allow_deposits: bool
    follower_state: VaultFollower | None
    followers: tuple[VaultFollower, ...] = ()

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> VaultDetails:
        state = raw.get("followerState")
        return cls(
            address=str(raw.get("vaultAddress") or "").lower(),
            name=str(raw.get("name") or ""),
            leader=str(raw.get("leader") or "").lower(),
            description=str(raw.get("description") or ""),
            apr=_optional_decimal(raw.get("apr")),
            leader_fraction=_optional_decimal(raw.get("leaderFraction")),
            leader_commission=_optional_decimal(raw.get("leaderCommission")),
            max_distributable=_optional_decimal(raw.get("maxDistributable")),
            max_withdrawable=_optional_decimal(raw.get("maxWithdrawable")),
            is_closed=bool(raw.get("isClosed", False)),
            allow_deposits=bool(raw.get("allowDeposits", True)),
            follower_state=VaultFollower.from_wire(state) if isinstance(state, dict) else None,
            followers=tuple(VaultFollower.from_wire(f) for f in raw.get("followers") or []),
        )


@dataclass(frozen=True, slots=True)
class VaultEquity:
    vault_address: str
    equity: Decimal
    locked_until_ms: int | None = None

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> VaultEquity:
        return cls(
            vault_address=str(raw.get("vaultAddress") or "").lower(),
            equity=to_decimal(raw.get("equity"), ZERO),
            locked_until_ms=raw.get("lockedUntilTimestamp"),
        )


@dataclass(frozen=True, slots=True)
class Validator:
    validator: str
    signer: str
    name: str
    description: str
    stake: Decimal
    commission: Decimal
    is_active: bool
    is_jailed: bool

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> Validator:
        return cls(
            validator=str(raw.get("validator") or "").lower(),
            signer=str(raw.get("signer") or "").lower(),
            name=str(raw.get("name") or ""),
            description=str(raw.get("description") or ""),
            # The exchange counts stake in HYPE's wei (8 decimals); the desk speaks HYPE.
            stake=to_decimal(raw.get("stake"), ZERO).scaleb(-HYPE_WEI_DECIMALS),
            commission=to_decimal(raw.get("commission"), ZERO),
            is_active=bool(raw.get("isActive", True)),
            is_jailed=bool(raw.get("isJailed", False)),
        )


@dataclass(frozen=True, slots=True)
class Delegation:
    validator: str
    amount: Decimal
    locked_until_ms: int | None = None

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> Delegation:
        return cls(
            validator=str(raw.get("validator") or "").lower(),
            amount=to_decimal(raw.get("amount"), ZERO),
            locked_until_ms=raw.get("lockedUntilTimestamp"),
        )


@dataclass(frozen=True, slots=True)
class StakingSummary:
    delegated: Decimal
    undelegated: Decimal
    total_pending_withdrawal: Decimal
    pending_withdrawals: int

    @classmethod
    def from_wire(cls, raw: dict[str, Any] | None) -> StakingSummary:
        raw = raw or {}
        return cls(
            delegated=to_decimal(raw.get("delegated"), ZERO),
            undelegated=to_decimal(raw.get("undelegated"), ZERO),
            total_pending_withdrawal=to_decimal(raw.get("totalPendingWithdrawal"), ZERO),
            pending_withdrawals=int(raw.get("nPendingWithdrawals") or 0),
        )
