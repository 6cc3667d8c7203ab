"""The paper exchange's market model from a JSON file and flags: typed, and strict about typos."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from hyperdesk.paper.__main__ import main
from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.config_file import ConfigFileError, apply_market_config


def test_market_knobs_coins_and_price_model_are_applied():
    config = apply_market_config(
        PaperConfig(),
        {
            "volatility_scale": 1.5,
            "funding_enabled": False,
            "synthetic_refill_half_life_ms": 10_000,
            "price_model": {"jumps_per_day": 0},
            "coins": {
                "BTC": {
                    "annual_volatility": 0.6,
                    "market_weight": 0.95,
                    "liquidity": {"level_notional": "300000"},
                },
                "PURR/USDC": {"liquidity": {"half_spread_bps": "8"}},
            },
        },
    )
    btc = next(p for p in config.perps if p.name == "BTC")
    purr = next(p for p in config.spot_pairs if p.name == "PURR/USDC")
    assert (config.volatility_scale, config.funding_enabled) == (1.5, False)
    assert config.synthetic_refill_half_life_ms == 10_000
    assert config.price_model.jumps_per_day == 0
    assert (btc.annual_volatility, btc.market_weight) == (0.6, 0.95)
    assert btc.liquidity.level_notional == Decimal(300_000)
    assert purr.liquidity.half_spread_bps == Decimal(8)
    assert [p.name for p in config.perps] == [p.name for p in PaperConfig().perps]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"volatilty_scale": 2}, "volatilty_scale: not a market setting"),
        ({"min_notional": "1"}, "min_notional: not a market setting"),
        ({"funding_enabled": "no"}, "funding_enabled must be true or false"),
        ({"synthetic_level_notional": 25000.5}, "must be a decimal string"),
        ({"synthetic_level_notional": "lots"}, "is not a decimal number"),
        ({"coins": {"NOPE": {}}}, "coins.NOPE: no such market"),
        ({"coins": {"ETH": {"market_weight": 1.5}}}, "between 0 and 1"),
        ({"coins": {"ETH": {"initial_px": "1"}}}, "initial_px: not a market setting"),
        ({"price_model": {"regimes": []}}, "price_model.regimes: not a market setting"),
        ([], "must be a JSON object"),
    ],
)
def test_a_wrong_key_or_type_is_refused_with_its_name(raw, message):
    with pytest.raises(ConfigFileError, match=message):
        apply_market_config(PaperConfig(), raw)


def test_the_server_does_not_start_on_a_bad_file(tmp_path, capsys):
    path = tmp_path / "market.json"
    path.write_text(json.dumps({"coins": {"ETH": {"annual_volatility": -1}}}))
    assert main(["--port", "0", "--config", str(path)]) == 2
    assert "coins.ETH.annual_volatility must be a number ≥ 0" in capsys.readouterr().err


def test_flags_override_the_file(tmp_path):
    import argparse

    from hyperdesk.paper.__main__ import _market_options

    path = tmp_path / "market.json"
    path.write_text(json.dumps({"volatility_scale": 3, "funding_enabled": True}))
    args = argparse.Namespace(config=path, volatility_scale=0.0, no_funding=True)
    config = _market_options(PaperConfig(), args)
    assert (config.volatility_scale, config.funding_enabled) == (0.0, False)
