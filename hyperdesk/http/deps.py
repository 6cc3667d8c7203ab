"""FastAPI dependencies: the services container and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hyperdesk.accounts.service import UserView
from hyperdesk.errors import Unauthorized
from hyperdesk.http.forwarded import parse_networks, resolve_client_ip
from hyperdesk.services import Services
from hyperdesk.trading.public_data import PublicMarketData

_bearer = HTTPBearer(auto_error=False, description="an access token from /api/auth/login")


async def get_services(request: Request) -> Services:
    # async: a plain attribute read needs no trip through the worker thread pool
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_public_data(request: Request) -> PublicMarketData:
    # async: a plain attribute read needs no trip through the worker thread pool
    public: PublicMarketData = request.app.state.public_data
    return public


PublicDataDep = Annotated[PublicMarketData, Depends(get_public_data)]


async def current_user(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> UserView:
    bearer = credentials is not None and credentials.scheme.lower() == "bearer"
    token = credentials.credentials if credentials is not None and bearer else None
    return await user_of_token(services, token)


async def user_of_token(services: Services, token: str | None) -> UserView:
    """The caller a bearer token speaks for. async: a token and user already checked are
    answered from memory on the event loop; only a first sight (signature check, database read)
    takes a worker thread."""
    if not token:
        raise Unauthorized(
            "Log in first: send `Authorization: Bearer <token>`.", code="NOT_AUTHENTICATED"
        )
    user = services.accounts.known_user(token)
    if user is not None:
        return user
    return await run_in_threadpool(services.accounts.authenticate, token)


CurrentUser = Annotated[UserView, Depends(current_user)]


def client_ip(request: Request) -> str:
    """The real client's address: the socket peer, or — when that peer is one of the operator's
    trusted proxies (`HYPERDESK_TRUSTED_PROXIES`) — the client named in `X-Forwarded-For`.

    Every per-client limit (login throttling, registrations, request budgets) keys on this, so
    behind a proxy it must not collapse all clients into the proxy's address, and it must not let
    a client outside the proxies pick its own address with a forged header.
    """
    app = request.scope.get("app")  # absent when called from outside the application
    services = getattr(app.state, "services", None) if app is not None else None
    proxies = services.settings.trusted_proxies if services is not None else ()
    return resolve_client_ip(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        parse_networks(proxies),
    )
