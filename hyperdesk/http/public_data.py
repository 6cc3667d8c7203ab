"""The dependency that hands public market routes the shared cache of public market data."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hyperdesk.trading.public_data import PublicMarketData


async def get_public_data(request: Request) -> PublicMarketData:
    # async: a plain attribute read needs no trip through the worker thread pool
    public: PublicMarketData = request.app.state.public_data
    return public


PublicDataDep = Annotated[PublicMarketData, Depends(get_public_data)]
