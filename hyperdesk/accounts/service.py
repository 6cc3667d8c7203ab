"""Registration, login and password changes: the rules, independent of HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.accounts.passwords import DUMMY_HASH, hash_password, verify_password
from hyperdesk.accounts.throttle import EventRateLimit, LoginThrottle
from hyperdesk.accounts.tokens import TokenService
from hyperdesk.errors import Conflict, Unauthorized
from hyperdesk.persistence.database import transaction
from hyperdesk.persistence.models import User

BAD_CREDENTIALS = "Invalid username or password."


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    created_at: datetime


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


class AccountService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        tokens: TokenService,
        throttle: LoginThrottle,
        registrations: EventRateLimit,
    ) -> None:
        self._sessions = sessions
        self._tokens = tokens
        self._throttle = throttle
        self._registrations = registrations

    def register(self, username: str, password: str, *, client_ip: str) -> UserView:
        self._registrations.hit(client_ip)
        try:
            with transaction(self._sessions) as session:
                if session.scalar(select(User.id).where(User.username == username)) is not None:
                    raise Conflict("That username is taken.", code="USERNAME_TAKEN")
                user = User(username=username, password_hash=hash_password(password))
                session.add(user)
                session.flush()
                return _view(user)
        except IntegrityError as exc:  # a concurrent registration won the race
            raise Conflict("That username is taken.", code="USERNAME_TAKEN") from exc

    def login(self, username: str, password: str, *, client_ip: str) -> IssuedToken:
        self._throttle.check(client_ip, username)
        with transaction(self._sessions) as session:
            user = session.scalar(select(User).where(User.username == username))
            matches, new_hash = verify_password(
                password, user.password_hash if user else DUMMY_HASH
            )
            if user is None or not matches:
                self._throttle.record_failure(client_ip, username)
                raise Unauthorized(BAD_CREDENTIALS, code="BAD_CREDENTIALS")
            if new_hash:
                user.password_hash = new_hash
            self._throttle.record_success(client_ip, username)
            token = self._tokens.issue(user.id, user.token_version)
        return IssuedToken(access_token=token, expires_in=self._tokens.lifetime_seconds)

    def authenticate(self, token: str) -> UserView:
        """The user a bearer token speaks for, if it is valid and issued since the last password change."""
        claims = self._tokens.decode(token)
        with self._sessions() as session:
            user = session.get(User, claims.user_id)
            if user is None or user.token_version != claims.token_version:
                raise Unauthorized("The access token is no longer valid.", code="INVALID_TOKEN")
            return _view(user)

    def change_password(
        self, user_id: int, current_password: str, new_password: str, *, client_ip: str
    ) -> None:
        with transaction(self._sessions) as session:
            user = session.get(User, user_id)
            if user is None:
                raise Unauthorized("The access token is no longer valid.", code="INVALID_TOKEN")
            # A stolen token must not become an unlimited oracle for the password itself.
            self._throttle.check(client_ip, user.username)
            matches, _ = verify_password(current_password, user.password_hash)
            if not matches:
                self._throttle.record_failure(client_ip, user.username)
                raise Unauthorized("The current password is wrong.", code="BAD_CREDENTIALS")
            user.password_hash = hash_password(new_password)
            user.token_version += 1


def _view(user: User) -> UserView:
    return UserView(id=user.id, username=user.username, created_at=user.created_at)
