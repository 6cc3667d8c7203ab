"""The tradable universe: perps (asset = index) and spot pairs (asset = 10000 + pair index)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hyperdesk.paper.config import PaperConfig

SPOT_ASSET_OFFSET = 10_000


@dataclass(frozen=True)
class Instrument:
    """What the engine needs to know about one coin."""

    coin: str
    asset: int
    sz_decimals: int
    is_spot: bool
    max_leverage: int
    initial_px: Decimal
    annual_volatility: float
    base_token: int | None = None
    quote_token: int | None = None

    @property
    def maintenance_fraction(self) -> Decimal:
        """Maintenance margin rate: half the initial margin rate at max leverage."""
        return Decimal(1) / (2 * self.max_leverage)


class Instruments:
    """Lookup by asset id and by coin name."""

    def __init__(self, config: PaperConfig) -> None:
        self._by_asset: dict[int, Instrument] = {}
        tokens = {t.index: t for t in config.spot_tokens}
        for index, perp in enumerate(config.perps):
            self._add(
                Instrument(
                    perp.name,
                    index,
                    perp.sz_decimals,
                    False,
                    perp.max_leverage,
                    perp.initial_px,
                    perp.annual_volatility,
                )
            )
        for pair in config.spot_pairs:
            if pair.base not in tokens or pair.quote not in tokens:
                raise ValueError(f"spot pair {pair.name} names an unknown token")
            self._add(
                Instrument(
                    pair.name,
                    SPOT_ASSET_OFFSET + pair.index,
                    tokens[pair.base].sz_decimals,
                    True,
                    1,
                    pair.initial_px,
                    pair.annual_volatility,
                    pair.base,
                    pair.quote,
                )
            )
        self._by_coin = {i.coin: i for i in self._by_asset.values()}

    def _add(self, instrument: Instrument) -> None:
        self._by_asset[instrument.asset] = instrument

    def by_asset(self, asset: object) -> Instrument | None:
        if isinstance(asset, bool) or not isinstance(asset, int):
            return None
        return self._by_asset.get(asset)

    def by_coin(self, coin: object) -> Instrument | None:
        if not isinstance(coin, str):
            return None
        return self._by_coin.get(coin)

    def all(self) -> list[Instrument]:
        return list(self._by_asset.values())

    def perps(self) -> list[Instrument]:
        return [i for i in self._by_asset.values() if not i.is_spot]

    def spots(self) -> list[Instrument]:
        return [i for i in self._by_asset.values() if i.is_spot]
