"""Accounts, positions and the margin arithmetic of Hyperliquid's clearinghouse.

Cross positions share the account's USDC (``Account.usdc``: deposits, realised PnL and fees);
an isolated position owns ``Position.isolated_margin`` moved out of that cash. Everything the
``clearinghouseState`` response shows is derived here from those numbers and the mark prices, using
the formulas checked against real responses in the protocol reference §3.3 and §9.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from hyperdesk.paper.instruments import Instrument

ZERO = Decimal(0)


@dataclass
class LeverageSetting:
    """Per-coin margin mode and leverage, as set by ``updateLeverage``."""

    is_cross: bool
    value: int


@dataclass
class Position:
    """A one-way perp position."""

    coin: str
    szi: Decimal
    entry_px: Decimal
    isolated_margin: Decimal = ZERO
    cum_funding_all_time: Decimal = ZERO
    cum_funding_since_open: Decimal = ZERO
    cum_funding_since_change: Decimal = ZERO


@dataclass
class Agent:
    """An approved API wallet acting for ``master``."""

    address: str
    master: str
    name: str
    valid_until: int | None


@dataclass
class Account:
    """One user's perp and spot state."""

    address: str
    usdc: Decimal = ZERO
    positions: dict[str, Position] = field(default_factory=dict)
    leverage: dict[str, LeverageSetting] = field(default_factory=dict)
    spot: dict[int, Decimal] = field(default_factory=dict)
    spot_entry_ntl: dict[int, Decimal] = field(default_factory=dict)
    cum_volume: Decimal = ZERO
    n_requests: int = 0
    last_request_ms: int = 0
    """When the last action was counted (the throttled budget allows one every 10 s)."""
    scheduled_cancel_ms: int | None = None
    scheduled_cancel_triggers: dict[int, int] = field(default_factory=dict)
    """Triggers per UTC day number (Hyperliquid allows 10 a day)."""


@dataclass(frozen=True)
class PositionView:
    """Derived numbers of one position at the current mark."""

    position: Position
    leverage: LeverageSetting
    mark: Decimal
    position_value: Decimal
    unrealized_pnl: Decimal
    margin_used: Decimal
    maintenance: Decimal
    return_on_equity: Decimal


@dataclass(frozen=True)
class MarginSummary:
    """Account-level numbers of ``clearinghouseState``."""

    views: list[PositionView]
    account_value: Decimal
    total_ntl: Decimal
    total_raw_usd: Decimal
    total_margin_used: Decimal
    cross_account_value: Decimal
    cross_ntl: Decimal
    cross_raw_usd: Decimal
    cross_margin_used: Decimal
    cross_maintenance: Decimal
    withdrawable: Decimal
    """Shown on the wire: cross account value minus cross margin used (matches real responses)."""
    transferable: Decimal
    """What a transfer out may take: keeps max(initial margin, 10% of position value)."""


def leverage_for(
    account: Account, instrument: Instrument, default_leverage: int
) -> LeverageSetting:
    """The user's setting for a coin, or the default (cross, capped at the asset's max)."""
    setting = account.leverage.get(instrument.coin)
    if setting is not None:
        return setting
    return LeverageSetting(True, min(default_leverage, instrument.max_leverage))


def view_position(
    position: Position, instrument: Instrument, leverage: LeverageSetting, mark: Decimal
) -> PositionView:
    size = abs(position.szi)
    value = size * mark
    upnl = position.szi * (mark - position.entry_px)
    margin = value / leverage.value if leverage.is_cross else position.isolated_margin + upnl
    entry_margin = position.entry_px * size / leverage.value
    roe = upnl / entry_margin if entry_margin else ZERO
    return PositionView(
        position,
        leverage,
        mark,
        value,
        upnl,
        margin,
        value * instrument.maintenance_fraction,
        roe,
    )


def summarize(
    account: Account,
    instruments: dict[str, Instrument],
    marks: dict[str, Decimal],
    default_leverage: int,
) -> MarginSummary:
    """Compute every figure of ``clearinghouseState`` for ``account``."""
    views = [
        view_position(
            pos,
            instruments[coin],
            leverage_for(account, instruments[coin], default_leverage),
            marks[coin],
        )
        for coin, pos in account.positions.items()
    ]
    cross = [v for v in views if v.leverage.is_cross]
    isolated = [v for v in views if not v.leverage.is_cross]
    cross_value = account.usdc + sum((v.unrealized_pnl for v in cross), ZERO)
    cross_ntl = sum((v.position_value for v in cross), ZERO)
    cross_margin = sum((v.margin_used for v in cross), ZERO)
    cross_maintenance = sum((v.maintenance for v in cross), ZERO)
    isolated_value = sum((v.margin_used for v in isolated), ZERO)
    account_value = cross_value + isolated_value
    signed_cross = sum((v.position.szi * v.mark for v in cross), ZERO)
    signed_all = sum((v.position.szi * v.mark for v in views), ZERO)
    # Removing margin must leave max(initial margin, 10% of the position value) (protocol §9.2).
    locked = max(cross_margin, cross_ntl / 10)
    return MarginSummary(
        views=views,
        account_value=account_value,
        total_ntl=sum((v.position_value for v in views), ZERO),
        total_raw_usd=account_value - signed_all,
        total_margin_used=cross_margin + isolated_value,
        cross_account_value=cross_value,
        cross_ntl=cross_ntl,
        cross_raw_usd=cross_value - signed_cross,
        cross_margin_used=cross_margin,
        cross_maintenance=cross_maintenance,
        # Never more than the account owns (an isolated position under water lowers it).
        withdrawable=max(ZERO, min(cross_value - cross_margin, account_value)),
        transferable=max(ZERO, min(cross_value - locked, account_value)),
    )


def liquidation_price(
    view: PositionView, instrument: Instrument, summary: MarginSummary
) -> Decimal | None:
    """Hyperliquid's liquidation price formula (protocol §9.3); None when it would be <= 0.

    ``liq = mark - side * margin_available / |szi| / (1 - l * side)`` with ``l`` the maintenance
    fraction; for cross the margin available is the cross account value minus cross maintenance.
    """
    size = abs(view.position.szi)
    if size == 0:
        return None
    side = Decimal(1) if view.position.szi > 0 else Decimal(-1)
    if view.leverage.is_cross:
        available = summary.cross_account_value - summary.cross_maintenance
    else:
        available = view.margin_used - view.maintenance
    fraction = instrument.maintenance_fraction
    price = view.mark - side * available / size / (1 - fraction * side)
    if price <= 0:
        return None
    return price


def fill_direction(start: Decimal, is_buy: bool, end: Decimal) -> str:
    """The ``dir`` text of a perp fill."""
    if start == 0 or ((start > 0) == (end > 0) and abs(end) > abs(start)):
        return "Open Long" if is_buy else "Open Short"
    if (start > 0) != (end > 0) and end != 0:
        return "Short > Long" if is_buy else "Long > Short"
    return "Close Short" if is_buy else "Close Long"
