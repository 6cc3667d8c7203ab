"""The market model from a JSON file: `python -m hyperdesk.paper --config market.json`.

Only knobs of the market are settable this way — volatility, correlation, jumps and regimes,
depth and resilience, funding — each checked against its field's type, so a typo is an error
at start, not a silently ignored key::

    {
      "volatility_scale": 1.5,
      "funding_enabled": false,
      "synthetic_refill_half_life_ms": 10000,
      "price_model": {"jumps_per_day": 0},
      "coins": {
        "BTC": {"annual_volatility": 0.6, "market_weight": 0.9,
                "liquidity": {"level_notional": "300000"}},
        "PURR/USDC": {"liquidity": {"half_spread_bps": "8"}}
      }
    }

Decimal fields take strings (or integers); floats are refused there, as everywhere money is.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from hyperdesk.paper.config import LiquiditySpec, PaperConfig, PerpSpec, SpotPairSpec
from hyperdesk.paper.prices import PriceModel

#: Top-level `PaperConfig` fields a file may set: the market model, not the exchange's rules.
MARKET_FIELDS = frozenset(
    {
        "volatility_scale",
        "perp_basis_band",
        "synthetic_levels",
        "synthetic_half_spread_bps",
        "synthetic_level_spacing_bps",
        "synthetic_level_notional",
        "synthetic_refill_half_life_ms",
        "synthetic_taker_flow_notional_per_s",
        "mark_basis_ema_ms",
        "mark_book_ema_ms",
        "funding_enabled",
        "funding_interval_ms",
        "funding_sample_ms",
    }
)
COIN_FIELDS = frozenset({"annual_volatility", "market_weight", "liquidity"})
PRICE_MODEL_FIELDS = frozenset({"step_ms", "jumps_per_day", "jump_size"})


class ConfigFileError(ValueError):
    """The file cannot configure the market; the message names the key and why."""


def load_market_config(path: Path, base: PaperConfig) -> PaperConfig:
    try:
        raw = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigFileError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ConfigFileError(f"{path} is not JSON: {exc}") from None
    return apply_market_config(base, raw)


def apply_market_config(base: PaperConfig, raw: Any) -> PaperConfig:
    """`base` with the market knobs of `raw` (the parsed file) applied."""
    table = _table(raw, "the file")
    coins = table.pop("coins", {})
    price_model = table.pop("price_model", None)
    changes = _coerce(PaperConfig, table, MARKET_FIELDS, "")
    if price_model is not None:
        model_changes = _coerce(
            PriceModel, _table(price_model, "price_model"), PRICE_MODEL_FIELDS, "price_model."
        )
        changes["price_model"] = dataclasses.replace(base.price_model, **model_changes)
    config = dataclasses.replace(base, **changes)
    return _apply_coins(config, _table(coins, "coins"))


def _apply_coins(config: PaperConfig, coins: dict[str, Any]) -> PaperConfig:
    perps = {p.name: p for p in config.perps}
    pairs = {p.name: p for p in config.spot_pairs}
    for name, raw in coins.items():
        spec: PerpSpec | SpotPairSpec | None = perps.get(name) or pairs.get(name)
        if spec is None:
            known = ", ".join(sorted([*perps, *pairs]))
            raise ConfigFileError(f"coins.{name}: no such market (markets: {known})")
        values = _table(raw, f"coins.{name}")
        liquidity = values.pop("liquidity", None)
        changes = _coerce(type(spec), values, COIN_FIELDS - {"liquidity"}, f"coins.{name}.")
        if liquidity is not None:
            fields = frozenset(f.name for f in dataclasses.fields(LiquiditySpec))
            tuned = _coerce(
                LiquiditySpec, _table(liquidity, f"coins.{name}.liquidity"), fields,
                f"coins.{name}.liquidity.",
            )  # fmt: skip
            changes["liquidity"] = dataclasses.replace(spec.liquidity, **tuned)
        if changes.get("market_weight", 0) > 1:
            raise ConfigFileError(f"coins.{name}.market_weight must be between 0 and 1")
        updated = dataclasses.replace(spec, **changes)
        if isinstance(updated, PerpSpec):
            perps[name] = updated
        else:
            pairs[name] = updated
    return dataclasses.replace(
        config, perps=tuple(perps.values()), spot_pairs=tuple(pairs.values())
    )


def _table(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigFileError(f"{where} must be a JSON object")
    return dict(raw)


def _coerce(
    cls: type, values: dict[str, Any], allowed: frozenset[str], prefix: str
) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in allowed:
            raise ConfigFileError(
                f"{prefix}{key}: not a market setting (settable: {', '.join(sorted(allowed))})"
            )
        out[key] = _value(hints[key], value, prefix + key)
    return out


def _value(hint: Any, value: Any, where: str) -> Any:
    optional = type(None) in typing.get_args(hint)
    kinds = [k for k in typing.get_args(hint) if k is not type(None)] or [hint]
    kind = kinds[0]
    if value is None and optional:
        return None
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigFileError(f"{where} must be true or false")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigFileError(f"{where} must be a whole number ≥ 0")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigFileError(f"{where} must be a number ≥ 0")
        return float(value)
    if kind is Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ConfigFileError(f'{where} must be a decimal string such as "2.5"')
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ConfigFileError(f"{where}: {value!r} is not a decimal number") from None
        if not number.is_finite() or number < 0:
            raise ConfigFileError(f"{where} must be a finite decimal ≥ 0")
        return number
    raise ConfigFileError(f"{where} cannot be set from a file")
