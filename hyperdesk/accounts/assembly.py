"""Builds the account service with the limits the settings ask for, in one place."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.accounts.hash_gate import HashGate
from hyperdesk.accounts.service import AccountService
from hyperdesk.accounts.throttle import EventRateLimit, LoginThrottle
from hyperdesk.accounts.tokens import TokenService
from hyperdesk.settings import Settings


def account_service(
    settings: Settings, sessions: sessionmaker[Session], tokens: TokenService
) -> AccountService:
    return AccountService(
        sessions,
        tokens,
        throttle=LoginThrottle(
            max_failures=settings.login_attempts_per_window,
            max_failures_per_source=settings.login_failures_per_ip,
            window_seconds=settings.login_window_seconds,
        ),
        registrations=EventRateLimit(
            max_events=settings.registrations_per_hour, window_seconds=3600
        ),
        login_requests=EventRateLimit(
            max_events=settings.login_requests_per_minute,
            window_seconds=60,
            message="Too many login attempts from this address. Try again later.",
        ),
        hash_gate=HashGate(
            slots=settings.password_hash_slots,
            queue=settings.password_hash_queue,
            wait_seconds=settings.password_hash_wait_seconds,
        ),
    )
