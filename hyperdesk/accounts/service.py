"""Registration, login and password changes: the rules, independent of HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.accounts.hash_gate import HashGate
from hyperdesk.accounts.passwords import DUMMY_HASH, hash_password, verify_password
from hyperdesk.accounts.session_cache import FactCache
from hyperdesk.accounts.throttle import EventRateLimit, LoginThrottle, source_key
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
    """Every password check or hash passes the hash gate; every attempt is counted per source.

    `client_ip` is the real client (see `hyperdesk.http.forwarded`); limits key on
    `source_key(client_ip)`. No database session is held while a request waits for, or spends
    time in, password hashing.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        tokens: TokenService,
        *,
        throttle: LoginThrottle,
        registrations: EventRateLimit,
        login_requests: EventRateLimit,
        hash_gate: HashGate,
        user_cache: FactCache[int, tuple[int, UserView]] | None = None,
    ) -> None:
        self._sessions = sessions
        # user id → (token version, view): `authenticate` reads the database only on a miss;
        # a password change here invalidates the user's entry.
        self._users: FactCache[int, tuple[int, UserView]] = user_cache or FactCache()
        self._tokens = tokens
        self._throttle = throttle
        self._registrations = registrations
        self._login_requests = login_requests
        self._hash_gate = hash_gate

    @property
    def hash_gate(self) -> HashGate:
        return self._hash_gate

    def register(self, username: str, password: str, *, client_ip: str) -> UserView:
        self._registrations.hit(source_key(client_ip))
        with self._sessions() as session:
            if session.scalar(select(User.id).where(User.username == username)) is not None:
                raise Conflict("That username is taken.", code="USERNAME_TAKEN")
        with self._hash_gate.slot():
            password_hash = hash_password(password)
        try:
            with transaction(self._sessions) as session:
                user = User(username=username, password_hash=password_hash)
                session.add(user)
                session.flush()
                return _view(user)
        except IntegrityError as exc:  # a concurrent registration won the race
            raise Conflict("That username is taken.", code="USERNAME_TAKEN") from exc

    def login(self, username: str, password: str, *, client_ip: str) -> IssuedToken:
        source = source_key(client_ip)
        self._login_requests.hit(source)
        self._throttle.check(source, username)
        with self._sessions() as session:
            user = session.scalar(select(User).where(User.username == username))
        with self._hash_gate.slot():
            matches, new_hash = verify_password(
                password, user.password_hash if user else DUMMY_HASH
            )
        if user is None or not matches:
            self._throttle.record_failure(source, username)
            raise Unauthorized(BAD_CREDENTIALS, code="BAD_CREDENTIALS")
        self._throttle.record_success(source, username)
        if new_hash:
            self._replace_hash(user.id, user.password_hash, new_hash)
        # The token carries the version read before the check: a password changed meanwhile
        # has bumped it, and this token is then already invalid.
        token = self._tokens.issue(user.id, user.token_version)
        return IssuedToken(access_token=token, expires_in=self._tokens.lifetime_seconds)

    def _replace_hash(self, user_id: int, old_hash: str, new_hash: str) -> None:
        """Upgrade a stored hash, unless the password was changed since it was read."""
        with transaction(self._sessions) as session:
            session.execute(
                update(User)
                .where(User.id == user_id, User.password_hash == old_hash)
                .values(password_hash=new_hash)
            )

    def claimed_user_id(self, token: str) -> int | None:
        """The user id a token we signed (and that has not expired) names, else None.

        No database lookup, so cheap enough for every request: the request budgets use it to
        charge a logged-in user's own budget. It does not prove the token is still valid
        (password changes): routes call ``authenticate`` for that.
        """
        try:
            return self._tokens.decode(token).user_id
        except Unauthorized:
            return None

    def known_user(self, token: str) -> UserView | None:
        """`authenticate` from memory alone: the user, or None when that needs the database or
        a signature check (then call `authenticate`). Cheap enough for the event loop."""
        claims = self._tokens.known(token)
        cached = self._users.get(claims.user_id) if claims is not None else None
        if claims is None or cached is None:
            return None
        version, view = cached
        if version != claims.token_version:
            raise Unauthorized("The access token is no longer valid.", code="INVALID_TOKEN")
        return view

    def authenticate(self, token: str) -> UserView:
        """The user a bearer token speaks for, if it is valid and issued since the last password change."""
        claims = self._tokens.decode(token)
        cached = self._users.get(claims.user_id)
        if cached is None:
            generation = self._users.generation()
            with self._sessions() as session:
                user = session.get(User, claims.user_id)
                if user is None:
                    raise Unauthorized("The access token is no longer valid.", code="INVALID_TOKEN")
                cached = (user.token_version, _view(user))
            self._users.put(claims.user_id, cached, generation)
        version, view = cached
        if version != claims.token_version:
            raise Unauthorized("The access token is no longer valid.", code="INVALID_TOKEN")
        return view

    def change_password(
        self, user_id: int, current_password: str, new_password: str, *, client_ip: str
    ) -> None:
        source = source_key(client_ip)
        self._login_requests.hit(source)
        with self._sessions() as session:
            user = session.get(User, user_id)
            if user is None:
                raise Unauthorized("The access token is no longer valid.", code="INVALID_TOKEN")
            username, stored_hash = user.username, user.password_hash
        # A stolen token must not become an unlimited oracle for the password itself.
        self._throttle.check(source, username)
        with self._hash_gate.slot():
            matches, _ = verify_password(current_password, stored_hash)
        if not matches:
            self._throttle.record_failure(source, username)
            raise Unauthorized("The current password is wrong.", code="BAD_CREDENTIALS")
        with self._hash_gate.slot():
            new_hash = hash_password(new_password)
        with transaction(self._sessions) as session:
            user = session.get(User, user_id)
            if user is None:
                raise Unauthorized("The access token is no longer valid.", code="INVALID_TOKEN")
            if user.password_hash != stored_hash:
                raise Conflict(
                    "The password was changed meanwhile; log in again.", code="PASSWORD_CHANGED"
                )
            user.password_hash = new_hash
            user.token_version += 1
        # After the commit: a request that read the old version meanwhile cannot store it now.
        self._users.invalidate(lambda cached_id: cached_id == user_id)


def _view(user: User) -> UserView:
    return UserView(id=user.id, username=user.username, created_at=user.created_at)
