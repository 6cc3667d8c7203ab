"""Accounts: register, log in, who am I, change password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from hyperdesk.http.deps import CurrentUser, ServicesDep, client_ip
from hyperdesk.http.schemas import LoginIn, MeOut, PasswordChangeIn, RegisterIn, TokenOut, UserOut

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserOut)
def register(
    body: RegisterIn, services: ServicesDep, ip: Annotated[str, Depends(client_ip)]
) -> UserOut:
    user = services.accounts.register(body.username, body.password, client_ip=ip)
    return UserOut(id=user.id, username=user.username)


@router.post("/login", response_model=TokenOut)
def login(body: LoginIn, services: ServicesDep, ip: Annotated[str, Depends(client_ip)]) -> TokenOut:
    issued = services.accounts.login(body.username, body.password, client_ip=ip)
    return TokenOut(access_token=issued.access_token, expires_in=issued.expires_in)


@router.get("/me", response_model=MeOut)
def me(user: CurrentUser) -> MeOut:
    return MeOut(id=user.id, username=user.username, created_at=user.created_at)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    body: PasswordChangeIn,
    user: CurrentUser,
    services: ServicesDep,
    ip: Annotated[str, Depends(client_ip)],
) -> Response:
    services.accounts.change_password(
        user.id, body.current_password, body.new_password, client_ip=ip
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
