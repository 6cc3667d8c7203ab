"""The FastAPI application factory. Routes are thin: they validate, then call services or actors."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI

from hyperdesk import __version__
from hyperdesk.http.body_limit import BodySizeLimitMiddleware
from hyperdesk.http.errors import install_error_handlers
from hyperdesk.http.frontend import install_frontend
from hyperdesk.http.order_endpoints import OrderEndpoints
from hyperdesk.http.request_budget import RequestBudget, RequestBudgetMiddleware, TokenBuckets
from hyperdesk.http.routes import auth, bots, earn, health, live, markets, orders, trades, wallets
from hyperdesk.http.security_headers import SecurityHeadersMiddleware
from hyperdesk.services import Services
from hyperdesk.trading.public_data import PublicMarketData

FRONTEND_DIR = Path(__file__).resolve().parents[2] / "frontend" / "dist"


def create_app(services: Services, *, frontend_dir: Path = FRONTEND_DIR) -> FastAPI:
    app = FastAPI(
        title="Hyperdesk",
        version=__version__,
        description="A self-hosted trading desk for Hyperliquid.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.services = services
    app.state.public_data = _public_data(services)
    install_error_handlers(app)
    app.add_middleware(OrderEndpoints)  # innermost of ours: every check above applies to it
    app.add_middleware(BodySizeLimitMiddleware)
    # before any worker thread or exchange weight is spent on a request over its budget
    app.add_middleware(RequestBudgetMiddleware, budget=_request_budget(services))
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: a refusal carries the headers too

    api = APIRouter(prefix="/api")
    # Routes are matched in the order they were included: the order routes, the hottest path
    # (every manual order, modify and cancel), are tried first. No other path overlaps theirs.
    api.include_router(orders.router)
    api.include_router(health.router)
    api.include_router(auth.router)
    api.include_router(wallets.router)
    api.include_router(markets.router)
    api.include_router(trades.router)
    api.include_router(earn.router)
    api.include_router(bots.router)
    api.include_router(live.router)
    app.include_router(api)

    install_frontend(app, frontend_dir)  # last: it answers every other GET
    return app


def _public_data(services: Services) -> PublicMarketData:
    settings = services.settings
    return PublicMarketData(
        services.exchange,
        services.market,
        quote_ttl=settings.quote_cache_seconds,
        reference_ttl=settings.reference_cache_seconds,
        known_vaults=services.known_vaults,
    )


def _request_budget(services: Services) -> RequestBudget:
    settings = services.settings
    clients = settings.request_budget_max_clients
    return RequestBudget(
        users=TokenBuckets(
            burst=settings.requests_per_user_burst,
            per_second=settings.requests_per_user_per_second,
            max_keys=clients,
        ),
        ips=TokenBuckets(
            burst=settings.requests_per_ip_burst,
            per_second=settings.requests_per_ip_per_second,
            max_keys=clients,
        ),
        heavy=TokenBuckets(
            burst=settings.heavy_requests_per_user_burst,
            per_second=settings.heavy_requests_per_user_per_minute / 60,
            max_keys=clients,
        ),
        user_of=services.accounts.claimed_user_id,
        refusal_delay=settings.request_refusal_delay_seconds,
    )
