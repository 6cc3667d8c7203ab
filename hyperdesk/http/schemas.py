"""Request and response models of the public API (api.md). Requests forbid unknown fields."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hyperdesk.accounts.passwords import MAX_LENGTH, MIN_LENGTH

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")


class StrictIn(BaseModel):
    """Base of every request body: an unexpected field is an error, never silently assigned."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


def _check_password(value: str) -> str:
    if len(value) < MIN_LENGTH:
        raise ValueError(f"The password must be at least {MIN_LENGTH} characters long.")
    if len(value) > MAX_LENGTH:
        raise ValueError(f"The password must be at most {MAX_LENGTH} characters long.")
    return value


class RegisterIn(StrictIn):
    username: str = Field(examples=["alice"])
    password: str = Field(examples=["correct horse battery"])

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if not USERNAME_PATTERN.match(value):
            raise ValueError(
                "The username must be 3 to 32 characters: letters, digits, '_', '.' or '-', "
                "starting with a letter or digit."
            )
        return value

    _password = field_validator("password")(_check_password)


class LoginIn(StrictIn):
    username: str = Field(max_length=64)
    password: str = Field(max_length=MAX_LENGTH)


class PasswordChangeIn(StrictIn):
    current_password: str = Field(max_length=MAX_LENGTH)
    new_password: str

    _new_password = field_validator("new_password")(_check_password)


class UserOut(BaseModel):
    id: int
    username: str


class MeOut(UserOut):
    created_at: datetime


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 scheme name
    expires_in: int


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    network: str
    database: Literal["ok", "unavailable"]
    sandbox: str
    exchange_url: str
