"""Liveness and what this server is connected to."""

from __future__ import annotations

from fastapi import APIRouter

from hyperdesk.http.deps import ServicesDep
from hyperdesk.http.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(services: ServicesDep) -> HealthOut:
    database_ok = services.database_ok()
    return HealthOut(
        status="ok" if database_ok else "degraded",
        network=services.settings.network.value,
        database="ok" if database_ok else "unavailable",
        sandbox=services.sandbox,
        exchange_url=services.exchange_url,
    )
