"""Assembles and tears down the whole server: database, secrets, paper exchange, actor system.

Start order follows dependencies (storage, secrets, exchange, actors); stop runs in reverse, so
nothing is left talking to a component that has already gone.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable

from sqlalchemy import Engine, text

from hyperdesk.accounts.service import AccountService
from hyperdesk.accounts.throttle import LoginThrottle
from hyperdesk.accounts.tokens import TokenService
from hyperdesk.persistence.database import make_engine, make_session_factory
from hyperdesk.persistence.migrate import upgrade_to_head
from hyperdesk.secret_files import load_or_create_jwt_secret
from hyperdesk.services import Services
from hyperdesk.settings import HYPERLIQUID_URLS, Settings

log = logging.getLogger(__name__)


def detect_sandbox() -> str:
    """Which bot sandbox this machine can offer; the bot engine refines this with a live probe."""
    return "bubblewrap" if shutil.which("bwrap") else "process"


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stops: list[Callable[[], None]] = []
        self.engine: Engine | None = None
        self.services: Services | None = None

    def start(self) -> Services:
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        jwt_secret = load_or_create_jwt_secret(
            settings.resolved_jwt_secret_file, create=settings.generates_secrets
        )

        engine = make_engine(settings.resolved_database_url)
        self.engine = engine
        self._stops.append(engine.dispose)
        upgrade_to_head(engine)
        sessions = make_session_factory(engine)

        exchange_url = self._start_exchange()

        tokens = TokenService(jwt_secret, lifetime_seconds=settings.access_token_minutes * 60)
        throttle = LoginThrottle(
            max_failures=settings.login_attempts_per_window,
            window_seconds=settings.login_window_seconds,
        )
        self.services = Services(
            settings=settings,
            sessions=sessions,
            accounts=AccountService(sessions, tokens, throttle),
            exchange_url=exchange_url,
            sandbox=detect_sandbox(),
            database_ok=lambda: _ping(engine),
        )
        return self.services

    def _start_exchange(self) -> str:
        if self.settings.exchange_url:
            return self.settings.exchange_url
        if not self.settings.is_paper:
            return HYPERLIQUID_URLS[self.settings.network]
        return ""

    def stop(self) -> None:
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception:
                log.exception("error while stopping %s", stop)


def _ping(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        log.warning("database ping failed", exc_info=True)
        return False
