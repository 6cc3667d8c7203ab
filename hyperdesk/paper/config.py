"""Settings of the paper exchange: instruments, fees, lock-ups, limits.

One frozen object, passed explicitly to the engine and the server. Values Hyperliquid does not
document (see the protocol reference §14) are fields here so a test or an operator can change them;
the defaults are our best guess and are listed in docs/paper-exchange.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from hyperdesk.paper.prices import PriceModel


@dataclass(frozen=True)
class LiquiditySpec:
    """How deep, tight and resilient the synthetic market of one coin is.

    Any field left None takes the ``PaperConfig.synthetic_*`` default, so a test can tune one knob
    for every coin at once and an operator can make one coin thinner than the rest.
    """

    half_spread_bps: Decimal | None = None
    level_spacing_bps: Decimal | None = None
    level_notional: Decimal | None = None
    """USD size of the best level; the k-th level is worth ``k`` times as much."""
    refill_half_life_ms: int | None = None
    """What a taker consumed comes back by half over this time (and the mid with it)."""
    taker_flow_notional_per_s: Decimal | None = None
    """USD a second that simulated takers trade into resting user orders the market crossed."""
    print_notional: Decimal | None = None
    """Typical USD size of one synthetic print on the tape (synthetic_prints.py)."""


@dataclass(frozen=True)
class PerpSpec:
    """A perpetual contract; its asset id is its position in ``PaperConfig.perps``."""

    name: str
    sz_decimals: int
    max_leverage: int
    initial_px: Decimal
    annual_volatility: float
    only_isolated: bool = False
    impact_notional: Decimal = Decimal(6_000)
    """USD notional whose average fill price is the impact bid/ask of the premium (funding)."""
    market_weight: float = 0.7
    """Loading on the common market factor (0..1): two coins' returns correlate ``w_i * w_j``."""
    liquidity: LiquiditySpec = LiquiditySpec()


@dataclass(frozen=True)
class SpotTokenSpec:
    """A spot token; ``index`` is its token index in ``spotMeta.tokens``."""

    name: str
    index: int
    sz_decimals: int
    wei_decimals: int
    token_id: str
    full_name: str | None = None


@dataclass(frozen=True)
class SpotPairSpec:
    """A spot pair; its asset id is ``10000 + index`` and its coin name is ``name``."""

    name: str
    index: int
    base: int
    quote: int
    initial_px: Decimal
    annual_volatility: float
    liquidity: LiquiditySpec = LiquiditySpec()
    market_weight: float = 0.4
    """Loading on the market factor when the pair has its own price (no perp of its base)."""


@dataclass(frozen=True)
class VaultSpec:
    """A paper vault whose equity follows a seeded random strategy."""

    address: str
    name: str
    leader: str
    description: str
    initial_tvl: Decimal
    annual_drift: float
    annual_volatility: float
    allow_deposits: bool = True
    lockup_s: int | None = None
    """Overrides ``PaperConfig.vault_lockup_s`` for this vault."""


@dataclass(frozen=True)
class ValidatorSpec:
    """A staking validator shown by ``validatorSummaries``."""

    address: str
    signer: str
    name: str
    description: str
    commission: Decimal
    stake_wei: int
    predicted_apr: Decimal
    is_jailed: bool = False


def _liquidity(
    half_spread: str, spacing: str, level: int, half_life_s: int, flow: int
) -> LiquiditySpec:
    return LiquiditySpec(
        Decimal(half_spread), Decimal(spacing), Decimal(level), half_life_s * 1000, Decimal(flow)
    )


# Rough shapes of Hyperliquid's books: majors quote within a bp with millions in the first 10 bp
# and refill in seconds; small coins are wider, thinner and slower.
BTC_LIQUIDITY = _liquidity("1", "2", 150_000, 3, 1_000_000)
ETH_LIQUIDITY = _liquidity("1", "5", 100_000, 4, 600_000)
SOL_LIQUIDITY = _liquidity("1", "4", 40_000, 6, 150_000)
HYPE_LIQUIDITY = _liquidity("1.5", "5", 30_000, 8, 100_000)
DOGE_LIQUIDITY = _liquidity("3", "8", 10_000, 10, 40_000)
PURR_LIQUIDITY = _liquidity("5", "10", 2_000, 20, 5_000)
HYPE_SPOT_LIQUIDITY = _liquidity("3", "8", 10_000, 10, 30_000)


def _default_perps() -> tuple[PerpSpec, ...]:
    # Market weights: BTC/ETH minute returns correlate 0.9 * 0.89 = 0.80, as in the real market.
    return (
        PerpSpec(
            "BTC", 5, 40, Decimal("100000"), 0.55, impact_notional=Decimal(20_000),
            liquidity=BTC_LIQUIDITY, market_weight=0.9,
        ),
        PerpSpec(
            "ETH", 4, 25, Decimal("3500"), 0.70, impact_notional=Decimal(20_000),
            liquidity=ETH_LIQUIDITY, market_weight=0.89,
        ),
        PerpSpec("SOL", 2, 20, Decimal("150"), 0.90, liquidity=SOL_LIQUIDITY, market_weight=0.8),
        PerpSpec("HYPE", 2, 10, Decimal("40"), 1.10, liquidity=HYPE_LIQUIDITY, market_weight=0.6),
        PerpSpec("DOGE", 0, 10, Decimal("0.15"), 1.00, liquidity=DOGE_LIQUIDITY, market_weight=0.7),
    )  # fmt: skip


def _default_tokens() -> tuple[SpotTokenSpec, ...]:
    return (
        SpotTokenSpec("USDC", 0, 8, 8, "0x6d1e7cde53ba9467b783cb7c530ce054"),
        SpotTokenSpec("PURR", 1, 0, 5, "0xc1fb593aeffbeb02f85e0308e9956a90", "Purr"),
        SpotTokenSpec("HYPE", 2, 2, 8, "0x7317beb7cceed72ef0b346074cc8e7ab", "Hyperliquid"),
    )


def _default_pairs() -> tuple[SpotPairSpec, ...]:
    return (
        SpotPairSpec("PURR/USDC", 0, 1, 0, Decimal("0.2"), 1.2, PURR_LIQUIDITY),
        SpotPairSpec("@1", 1, 2, 0, Decimal("40"), 1.1, HYPE_SPOT_LIQUIDITY),
    )


def _default_vaults() -> tuple[VaultSpec, ...]:
    return (
        VaultSpec(
            "0xa15099a30bbf2e68942d6f4c43d70d04faeab0a0",
            "Hyperliquidity Provider (HLP)",
            "0x677d831aef5328190852e24f13c46cac05f984e7",
            "Paper copy of the protocol vault: market making and liquidations.",
            Decimal("250000000"),
            0.15,
            0.08,
        ),
        VaultSpec(
            "0x1111111111111111111111111111111111111111",
            "Paper Momentum",
            "0x2222222222222222222222222222222222222222",
            "Trend following on majors (simulated).",
            Decimal("1500000"),
            0.25,
            0.45,
        ),
        VaultSpec(
            "0x3333333333333333333333333333333333333333",
            "Paper Basis",
            "0x4444444444444444444444444444444444444444",
            "Delta-neutral funding capture (simulated).",
            Decimal("800000"),
            0.10,
            0.05,
        ),
    )


def _default_validators() -> tuple[ValidatorSpec, ...]:
    return (
        ValidatorSpec(
            "0x5ac99df645f3414876c816caa18b2d234024b487",
            "0x5ac99df645f3414876c816caa18b2d234024b488",
            "Paper Foundation 1",
            "Simulated validator.",
            Decimal("0.01"),
            40_000_000 * 10**8,
            Decimal("0.0237"),
        ),
        ValidatorSpec(
            "0xa82fe73bbd768bdad07d0f6b2c2dc1a6ffbd2bd4",
            "0xa82fe73bbd768bdad07d0f6b2c2dc1a6ffbd2bd5",
            "Paper Staking Co",
            "Simulated validator with a higher commission.",
            Decimal("0.05"),
            12_000_000 * 10**8,
            Decimal("0.0225"),
        ),
        ValidatorSpec(
            "0xef22f260eec3b7d1edebe53359f5ca584c18d5ac",
            "0xef22f260eec3b7d1edebe53359f5ca584c18d5ad",
            "Paper Jailed Node",
            "Simulated jailed validator (no rewards).",
            Decimal("0.02"),
            2_000_000 * 10**8,
            Decimal("0"),
            is_jailed=True,
        ),
    )


@dataclass(frozen=True)
class PaperConfig:
    """Everything the paper exchange (engine and server) can be tuned with."""

    seed: int = 0
    perps: tuple[PerpSpec, ...] = field(default_factory=_default_perps)
    spot_tokens: tuple[SpotTokenSpec, ...] = field(default_factory=_default_tokens)
    spot_pairs: tuple[SpotPairSpec, ...] = field(default_factory=_default_pairs)
    vaults: tuple[VaultSpec, ...] = field(default_factory=_default_vaults)
    validators: tuple[ValidatorSpec, ...] = field(default_factory=_default_validators)

    # Fees (Hyperliquid's base tier).
    perp_taker_fee: Decimal = Decimal("0.00045")
    perp_maker_fee: Decimal = Decimal("0.00015")
    spot_taker_fee: Decimal = Decimal("0.0007")
    spot_maker_fee: Decimal = Decimal("0.0004")

    # Orders.
    min_notional: Decimal = Decimal(10)
    default_leverage: int = 20
    """Leverage of an asset the user never configured: cross, capped at the asset's max."""
    append_asset_to_order_errors: bool = True
    """Live servers append `` asset=N`` to per-order errors; the docs do not."""
    trigger_market_slippage: Decimal = Decimal("0.10")
    schedule_cancel_min_delay_ms: int = 5_000
    schedule_cancel_max_per_day: int = 10
    max_open_orders: int = 1000
    user_fills_newest_first: bool = True
    """Ordering of ``userFills`` (the real API: newest first)."""
    user_fills_by_time_newest_first: bool = False
    """Ordering of ``userFillsByTime``; the real default is uncertain (protocol §3.9)."""
    max_fills_per_response: int = 2000
    address_rate_limit: bool = False
    """Refuse actions over Hyperliquid's per-address budget (address_limit.py); off on paper."""
    address_rate_limit_buffer: int = 10_000
    """Actions every address may send before its traded volume counts (Hyperliquid: 10 000)."""

    # Vaults.
    vault_lockup_s: int = 86_400
    vault_min_deposit: Decimal = Decimal(5)
    vault_leader_profit_share: Decimal = Decimal("0.10")

    # Staking.
    staking_delegation_lockup_s: int = 86_400
    staking_withdrawal_delay_s: int = 7 * 86_400
    staking_max_pending_withdrawals: int = 5

    # Agents.
    max_named_agents: int = 3

    # Price process and synthetic liquidity.
    price_tick_interval_ms: int = 1_000
    """How often the server's ticker thread should call ``PaperExchange.tick``."""
    volatility_scale: float = 1.0
    """Multiplies every instrument's annual volatility (0 freezes prices)."""
    price_model: PriceModel = field(default_factory=PriceModel)
    """Grid step, volatility regimes and jumps of the price process (prices.py)."""
    perp_basis_band: Decimal = Decimal("0.02")
    """Most a perp's quotes may stand over or under its oracle (``set_basis`` is clamped to it).
    A token's perp and spot pair share the oracle, so this also bounds their basis."""
    synthetic_levels: int = 20
    synthetic_half_spread_bps: Decimal = Decimal(1)
    synthetic_level_spacing_bps: Decimal = Decimal(5)
    synthetic_level_notional: Decimal = Decimal(25_000)
    """USD size of the best synthetic level; deeper levels grow linearly."""
    synthetic_refill_half_life_ms: int = 5_000
    synthetic_taker_flow_notional_per_s: Decimal = Decimal(250_000)
    """The ``synthetic_*`` values are defaults; each instrument's ``LiquiditySpec`` overrides them
    (the default instruments all do, see ``BTC_LIQUIDITY`` and the others above)."""
    market_maker_address: str = "0x000000000000000000000000000000000000beef"
    synthetic_prints_enabled: bool = True
    """Let the simulated market print its own trades (tape, candles, 24 h volume); they fill no
    user order and touch no account (synthetic_prints.py)."""
    synthetic_prints_per_minute: float = 12.0
    """Mean number of synthetic prints a minute per coin (0 = none)."""
    synthetic_print_notional: Decimal = Decimal(5_000)
    """Typical USD size of a synthetic print; a coin's ``LiquiditySpec.print_notional`` overrides."""
    candle_history_minutes: int = 24 * 60
    """Minutes of 1m candle history synthesised before start so charts are not empty."""

    # Mark price, funding and liquidations (protocol reference §9.3, §9.4).
    mark_basis_ema_ms: int = 150_000
    """Time constant of the EMA of (mid - oracle) in the mark price's first input."""
    mark_book_ema_ms: int = 30_000
    """Time constant of the EMA of median(bid, ask, last trade), the third input when no CEX
    prices exist (Hyperliquid's rule when only two inputs are present)."""
    funding_enabled: bool = True
    funding_interval_ms: int = 3_600_000
    funding_sample_ms: int = 5_000
    """The premium is sampled on this grid and averaged over each funding interval."""
    funding_interest_rate_8h: Decimal = Decimal("0.0001")
    """Baseline interest rate per 8 hours (0.01 %), i.e. 0.00125 % an hour."""
    funding_premium_clamp: Decimal = Decimal("0.0005")
    """``F = P + clamp(interest - P, -c, c)`` on the 8-hour scale."""
    funding_cap_per_interval: Decimal = Decimal("0.04")
    """Hyperliquid caps funding at 4 % an hour."""
    liquidations_enabled: bool = True
    liquidation_partial_threshold: Decimal = Decimal(100_000)
    """Positions worth more than this (USD) are liquidated in slices (100k mainnet, 10k testnet)."""
    liquidation_partial_fraction: Decimal = Decimal("0.2")
    liquidation_cooldown_ms: int = 30_000
    liquidation_backstop_fraction: Decimal = Decimal(2) / Decimal(3)
    """Below this share of maintenance margin the liquidator vault takes the positions over."""
    liquidator_address: str = "0x2e3d94f0562703b25c83308a05046ddaf9a8dd14"
    """Counterparty of backstop liquidations (the ``liquidator`` of ``userEvents``)."""

    # Protocol server settings (used by the server, not the engine).
    is_mainnet: bool = False
    nonce_set_size: int = 100
    nonce_window_past_ms: int = 2 * 86_400_000
    nonce_window_future_ms: int = 86_400_000
    ws_max_users: int = 10
    ws_max_connections: int = 100
    ws_max_subscriptions: int = 1000
    ws_idle_timeout_s: int = 60
    rest_weight_per_minute: int | None = None
    """IP weight budget per minute (the real one is 1200); None = not enforced."""
