"""An in-memory paper exchange on a manual clock, with helpers that read like the SDK."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from hyperdesk.paper.clock import ManualClock
from hyperdesk.paper.config import PaperConfig
from hyperdesk.paper.exchange import Event, PaperExchange

ALICE = "0x" + "a1" * 20
BOB = "0x" + "b2" * 20
BTC, ETH = 0, 1


class Desk:
    """A PaperExchange plus recorded events and one-line order helpers."""

    def __init__(self, config: PaperConfig | None = None) -> None:
        self.clock = ManualClock()
        self.ex = PaperExchange(
            config or PaperConfig(volatility_scale=0.0, candle_history_minutes=30), self.clock
        )
        self.events: list[Event] = []
        self.ex.add_listener(self.events.append)

    def act(
        self, user: str, action: dict, *, signer: str | None = None, vault: str | None = None
    ) -> dict:
        return self.ex.execute(
            account=user, signer=signer or user, action=action, vault_address=vault
        )

    def order(
        self,
        user: str,
        asset: int,
        is_buy: bool,
        px: str,
        sz: str,
        *,
        tif: str = "Gtc",
        reduce_only: bool = False,
        cloid: str | None = None,
        trigger: dict | None = None,
        grouping: str = "na",
    ) -> Any:
        wire = {
            "a": asset,
            "b": is_buy,
            "p": px,
            "s": sz,
            "r": reduce_only,
            "t": {"trigger": trigger} if trigger else {"limit": {"tif": tif}},
        }
        if cloid:
            wire["c"] = cloid
        response = self.act(user, {"type": "order", "orders": [wire], "grouping": grouping})
        assert response["status"] == "ok", response
        return response["response"]["data"]["statuses"][0]

    def info(self, **body: Any) -> Any:
        return self.ex.info(body)

    def state(self, user: str) -> dict:
        return self.info(type="clearinghouseState", user=user)

    def position(self, user: str, coin: str) -> dict | None:
        for entry in self.state(user)["assetPositions"]:
            if entry["position"]["coin"] == coin:
                return entry["position"]
        return None

    def mid(self, coin: str) -> Decimal:
        return Decimal(self.info(type="allMids")[coin])

    def channel(self, name: str) -> list[Event]:
        return [e for e in self.events if e.channel == name]


@pytest.fixture
def desk() -> Desk:
    d = Desk()
    d.ex.faucet(ALICE, Decimal(100_000))
    d.ex.faucet(BOB, Decimal(100_000))
    return d


def config_with(**changes: Any) -> PaperConfig:
    return replace(PaperConfig(volatility_scale=0.0, candle_history_minutes=30), **changes)
