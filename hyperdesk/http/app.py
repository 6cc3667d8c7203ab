"""The FastAPI application factory. Routes are thin: they validate, then call services or actors."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from hyperdesk import __version__
from hyperdesk.http.body_limit import BodySizeLimitMiddleware
from hyperdesk.http.errors import install_error_handlers
from hyperdesk.http.routes import auth, earn, health, live, markets, orders, trades, wallets
from hyperdesk.http.security_headers import SecurityHeadersMiddleware
from hyperdesk.services import Services

FRONTEND_DIR = Path(__file__).resolve().parents[2] / "frontend"


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
    install_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: a refusal carries the headers too

    api = APIRouter(prefix="/api")
    api.include_router(health.router)
    api.include_router(auth.router)
    api.include_router(wallets.router)
    api.include_router(markets.router)
    api.include_router(orders.router)
    api.include_router(trades.router)
    api.include_router(earn.router)
    api.include_router(live.router)
    app.include_router(api)

    if frontend_dir.is_dir():
        app.mount("/", StaticFiles(directory=frontend_dir, html=True), name="frontend")
    return app
