"""Request and response models for wallets, markets, orders, trades, vaults and staking."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, PlainSerializer, SecretStr

from hyperdesk.exchange.models import plain_decimal
from hyperdesk.http.schemas import StrictIn
from hyperdesk.protocol.decimal_bounds import check_bounds

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


#: A decimal that travels as an exact JSON string without exponent (api.md).
DecimalStr = Annotated[Decimal, PlainSerializer(plain_decimal, return_type=str, when_used="json")]


MAX_AMOUNT = Decimal(10**15)

#: Platform ids are INTEGER columns and exchange ids (oids) and times BIGINT: a number outside
#: those ranges names nothing and must be refused here, not overflow the database driver.
MAX_ID = 2**31 - 1
MAX_INT64 = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Oid = Annotated[int, Field(ge=0, le=MAX_INT64)]
TimeMs = Annotated[int, Field(ge=0, le=MAX_INT64, description="ms")]


def _bounded(value: Decimal) -> Decimal:
    """Refuse what Decimal accepts but cannot handle safely (``decimal_bounds``): ``1e-999999999``
    would pass ``> 0`` and later be flushed to ``0`` or written out as a million digits."""
    return check_bounds(value)


def _positive_finite(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than zero")
    if value >= MAX_AMOUNT:
        raise ValueError(f"must be below {MAX_AMOUNT:,}")
    return value


def _address(value: str) -> str:
    if not _ADDRESS.match(value):
        raise ValueError("must be 0x followed by 40 hex digits")
    return value.lower()


#: Every money field in a request is one of these two: a decimal inside the documented bounds
#: (finite, at most 30 decimal places and 28 significant digits, below 1e30), optionally positive.
BoundedDecimal = Annotated[Decimal, AfterValidator(_bounded)]
PositiveDecimal = Annotated[Decimal, AfterValidator(_bounded), AfterValidator(_positive_finite)]
Address = Annotated[str, AfterValidator(_address)]
Coin = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9@/:_-]+$")]


class WalletIn(StrictIn):
    label: str = Field(min_length=1, max_length=100)
    private_key: SecretStr | None = Field(
        default=None, description="hex; omit to generate a new key on the server"
    )
    account_address: Address | None = Field(
        default=None, description="the master account an API (agent) wallet trades for"
    )


ChainId = Annotated[
    int, Field(ge=1, le=2**53 - 1, description="the chain the browser wallet signs on (EIP-155)")
]


class BrowserConnectIn(StrictIn):
    label: str = Field(min_length=1, max_length=100)
    account_address: Address = Field(description="the account whose owner signs in the browser")
    chain_id: ChainId = 0x66EEE


class ApprovalPrepareIn(StrictIn):
    chain_id: ChainId = 0x66EEE


class ApprovalSubmitIn(StrictIn):
    nonce: TimeMs = Field(description="the nonce of the prepared approval (ms)")
    chain_id: ChainId = Field(description="the chain id the typed data was signed with")
    signature: str = Field(
        min_length=132, max_length=132, description="eth_signTypedData_v4's answer, 0x + 130 hex"
    )


class WalletPatch(StrictIn):
    label: str = Field(min_length=1, max_length=100)


class WalletOut(BaseModel):
    id: int
    label: str
    address: str
    account_address: str
    is_agent: bool
    verified: bool = Field(
        description="holds the account's own key, or the exchange lists it as an approved agent"
    )
    verified_at: datetime | None = Field(
        default=None, description="when the exchange last confirmed the approval (agents)"
    )
    verification_checked_at: datetime | None = Field(
        default=None, description="when the exchange was last asked (agents; periodically)"
    )
    verification_error: str | None = Field(
        default=None,
        description="why the wallet is not (or no longer) verified, or why the last check failed",
    )
    created_at: datetime
    warnings: list[str] = []


class ApprovalOut(BaseModel):
    wallet: WalletOut
    nonce: int
    chain_id: int
    agent_name: str
    typed_data: dict[str, Any] = Field(
        description="EIP-712 document for eth_signTypedData_v4 (Hyperliquid's approveAgent)"
    )


class FaucetIn(StrictIn):
    amount: PositiveDecimal = Field(le=Decimal(1_000_000), description="paper USDC")
    hype: BoundedDecimal = Field(default=Decimal(0), ge=0, le=Decimal(1_000_000))


class LeverageIn(StrictIn):
    coin: Coin
    leverage: int = Field(ge=1, le=100)
    cross: bool = True


class PositionOut(BaseModel):
    coin: str
    size: DecimalStr
    entry_price: DecimalStr | None
    unrealized_pnl: DecimalStr
    leverage: int
    leverage_type: str
    liquidation_price: DecimalStr | None
    margin_used: DecimalStr
    position_value: DecimalStr


class SpotBalanceOut(BaseModel):
    coin: str
    total: DecimalStr
    hold: DecimalStr


class AccountOut(BaseModel):
    address: str
    account_value: DecimalStr
    withdrawable: DecimalStr
    margin_used: DecimalStr
    maintenance_margin_used: DecimalStr
    total_notional: DecimalStr
    positions: list[PositionOut]
    spot_balances: list[SpotBalanceOut]
    stream_mode: str | None = None


class MarketOut(BaseModel):
    coin: str
    sz_decimals: int
    max_leverage: int
    mid: DecimalStr | None


class LevelOut(BaseModel):
    price: DecimalStr
    size: DecimalStr


class BookOut(BaseModel):
    coin: str
    bids: list[LevelOut]
    asks: list[LevelOut]
    time: int


class TradePrintOut(BaseModel):
    time: int
    side: Literal["buy", "sell"]
    price: DecimalStr
    size: DecimalStr
    tid: int


class CandleOut(BaseModel):
    time: int
    open: DecimalStr
    high: DecimalStr
    low: DecimalStr
    close: DecimalStr
    volume: DecimalStr


class OrderIn(StrictIn):
    wallet_id: Id
    coin: Coin
    side: Literal["buy", "sell"]
    type: Literal["limit", "market"] = "limit"
    size: PositiveDecimal
    price: PositiveDecimal | None = None
    tif: Literal["Gtc", "Ioc", "Alo"] = "Gtc"
    reduce_only: bool = False
    slippage: BoundedDecimal = Field(default=Decimal("0.05"), gt=0, le=Decimal("0.5"))
    trigger_price: PositiveDecimal | None = None
    trigger_kind: Literal["tp", "sl"] | None = None


class OrderModifyIn(StrictIn):
    wallet_id: Id
    price: PositiveDecimal | None = None
    size: PositiveDecimal | None = None


class OrderOut(BaseModel):
    id: int | None = None
    status: str
    oid: int | None
    cloid: str | None
    filled_size: DecimalStr
    avg_price: DecimalStr | None


class OpenOrderOut(BaseModel):
    coin: str
    side: str
    price: DecimalStr
    size: DecimalStr
    orig_size: DecimalStr
    oid: int
    cloid: str | None
    reduce_only: bool
    order_type: str
    is_trigger: bool
    trigger_price: DecimalStr | None
    time: int
    bot_id: int | None


class TradeOut(BaseModel):
    id: int
    wallet_id: int
    bot_id: int | None
    source: str
    coin: str
    side: str
    price: DecimalStr
    size: DecimalStr
    fee: DecimalStr
    closed_pnl: DecimalStr
    direction: str
    time: int
    tid: int
    oid: int
    cloid: str | None


class TradePageOut(BaseModel):
    items: list[TradeOut]
    next_cursor: int | None


class TradeSummaryOut(BaseModel):
    trades: int
    volume: DecimalStr
    fees: DecimalStr
    realized_pnl: DecimalStr
    net_pnl: DecimalStr


class AmountIn(StrictIn):
    wallet_id: Id
    amount: PositiveDecimal = Field(le=Decimal(10**12))


class StakeIn(StrictIn):
    wallet_id: Id
    validator: Address
    amount: PositiveDecimal = Field(le=Decimal(10**12))


class ActionOut(BaseModel):
    ok: bool
    action: str
    detail: str = ""
