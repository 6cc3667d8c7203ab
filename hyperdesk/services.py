"""What the HTTP layer may use: persistence, account rules and handles to the actor system.

Routes never build these themselves; the runtime (or a test) assembles one `Services` and hands
it to `create_app`, so every dependency is explicit and replaceable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from hyperdesk.accounts.service import AccountService
from hyperdesk.settings import Settings


@dataclass
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    accounts: AccountService
    exchange_url: str
    sandbox: str
    database_ok: Callable[[], bool]
