"""FastAPI dependencies: the services container and the authenticated caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hyperdesk.accounts.service import UserView
from hyperdesk.errors import Unauthorized
from hyperdesk.services import Services

_bearer = HTTPBearer(auto_error=False, description="an access token from /api/auth/login")


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def current_user(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> UserView:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(
            "Log in first: send `Authorization: Bearer <token>`.", code="NOT_AUTHENTICATED"
        )
    return services.accounts.authenticate(credentials.credentials)


CurrentUser = Annotated[UserView, Depends(current_user)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
