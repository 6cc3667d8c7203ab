"""One settings object for the whole server, read from `HYPERDESK_*` environment variables.

Defaults need nothing: a data directory under the working directory, a SQLite file in it, the
embedded paper exchange, http://127.0.0.1:8000. Secrets are never settings values themselves —
only paths to files — so they never sit in the server's environment, where a same-uid process
could read them from `/proc/<pid>/environ`.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Network(StrEnum):
    PAPER = "paper"
    TESTNET = "testnet"
    MAINNET = "mainnet"


HYPERLIQUID_URLS = {
    Network.TESTNET: "https://api.hyperliquid-testnet.xyz",
    Network.MAINNET: "https://api.hyperliquid.xyz",
}


HYPERLIQUID_WEIGHT_PER_MINUTE = 1200
# The paper exchange enforces no REST budget unless configured to; a laptop desk should not
# throttle itself to Hyperliquid's 20 weight a second against it.
PAPER_WEIGHT_PER_MINUTE = 1_000_000

# Hyperliquidity Provider, the protocol vault, on each network; the paper exchange lists its own.
DEFAULT_VAULTS = {
    Network.TESTNET: ("0xa15099a30bbf2e68942d6f4c43d70d04faeab0a0",),
    Network.MAINNET: ("0xdfc24b077bc1425ad1dea75bcb6f8158e10df303",),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HYPERDESK_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        default=Path("data"), description="where the SQLite file and dev secrets live"
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to a SQLite file in data_dir"
    )
    network: Network = Network.PAPER
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    jwt_secret_file: Path | None = Field(
        default=None, description="defaults to data_dir/jwt.secret"
    )
    master_key_file: Path | None = Field(
        default=None, description="wallet master keyring; defaults to data_dir/master.keys"
    )
    access_token_minutes: int = Field(default=60, ge=1, le=24 * 60)

    login_attempts_per_window: int = Field(
        default=10, ge=1, description="failed logins per (username, client IP) per login window"
    )
    login_window_seconds: int = Field(default=300, ge=1)
    registrations_per_hour: int = Field(default=20, ge=1, description="per client IP")

    exchange_url: str | None = Field(
        default=None,
        description="Hyperliquid base URL; the embedded paper exchange's on the paper network",
    )
    paper_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port")
    paper_seed: int = 1

    exchange_weight_per_minute: int | None = Field(
        default=None,
        ge=1,
        description="request weight this server may spend per minute; default 1200 (Hyperliquid's "
        "per-IP budget) on real networks, unlimited in practice on the embedded paper exchange",
    )
    vaults: tuple[str, ...] = Field(
        default=(), description="vault addresses to list; empty = the network's known vaults"
    )
    stream_max_users: int = Field(
        default=10, ge=0, le=10, description="wallets streamed over the websocket; the rest poll"
    )
    stream_poll_seconds: float = Field(default=5.0, gt=0, description="poll interval of the rest")

    # -- live websocket and upstream subscription budget --
    live_sockets_per_user: int = Field(
        default=5,
        ge=1,
        description="open /api/ws sockets per user; one more is refused (close code 4429)",
    )
    stream_max_subscriptions: int = Field(
        default=1000,
        ge=40,
        description="upstream websocket subscriptions this server may hold (Hyperliquid allows "
        "1000 per IP); 3 per streamed wallet are kept for user data, market topics get the rest",
    )

    # -- agent wallet verification --
    agent_reverify_seconds: float = Field(
        default=600.0,
        ge=0,
        description="how often every agent (API) wallet's approval is asked again (userRole, "
        "weight 60 per distinct agent); 0 = only at start-up, on demand and when the exchange "
        "refuses the key",
    )

    # -- login hardening, trusted proxies and the database password file --
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="reverse proxies (addresses or CIDR networks, comma-separated or a JSON list) "
        "whose X-Forwarded-For names the real client; empty = the socket peer is the client",
    )
    login_failures_per_ip: int = Field(
        default=50,
        ge=1,
        description="failed logins from one client IP, over all usernames, per login window",
    )
    login_requests_per_minute: int = Field(
        default=30,
        ge=1,
        description="login and password-change attempts per client IP per minute, successful "
        "or not (each costs a password hash)",
    )
    password_hash_slots: int = Field(
        default=4,
        ge=1,
        description="password hashes computed at once; each argon2 hash holds 19 MiB",
    )
    password_hash_queue: int = Field(
        default=16,
        ge=0,
        description="requests that may wait for a hashing slot; more are refused at once (503)",
    )
    password_hash_wait_seconds: float = Field(
        default=2.0,
        ge=0,
        description="how long a request waits for a hashing slot before a 503 with Retry-After",
    )
    database_password_file: Path | None = Field(
        default=None,
        description="file holding the database password, merged into the database URL when the "
        "engine is made (keeps the password out of the environment)",
    )

    # -- request budgets, public data caches and exchange budget priority --
    requests_per_user_per_second: float = Field(
        default=20.0, gt=0, description="API requests a logged-in user may make per second"
    )
    requests_per_user_burst: int = Field(
        default=120, ge=1, description="API requests a logged-in user may make at once"
    )
    requests_per_ip_per_second: float = Field(
        default=10.0, gt=0, description="API requests without a valid login, per client IP"
    )
    requests_per_ip_burst: int = Field(
        default=60, ge=1, description="API requests without a valid login a client IP may burst"
    )
    heavy_requests_per_user_per_minute: float = Field(
        default=2.0,
        gt=0,
        description="wallet creations and verifications per user per minute (each asks the "
        "exchange's userRole, weight 60 of the desk's 1200 a minute)",
    )
    heavy_requests_per_user_burst: int = Field(
        default=5, ge=1, description="wallet creations and verifications a user may burst"
    )
    request_refusal_delay_seconds: float = Field(
        default=0.5,
        ge=0,
        description="a 429 for an exhausted request budget is held back this long at most, so "
        "clients looping past Retry-After cannot flood the CPU with refusals",
    )
    request_budget_max_clients: int = Field(
        default=10_000, ge=100, description="users and IPs whose request budgets are remembered"
    )
    quote_cache_seconds: float = Field(
        default=2.0, gt=0, description="public mids, books, trades and recent candles are reused"
    )
    reference_cache_seconds: float = Field(
        default=30.0, gt=0, description="public market list, vaults and validators are reused"
    )
    exchange_write_reserve: float = Field(
        default=0.25,
        ge=0,
        lt=1,
        description="part of the exchange weight budget reads may never use: kept for orders, "
        "cancels and modifies",
    )
    exchange_read_wait_seconds: float = Field(
        default=2.0, ge=0, description="longest an exchange read waits for weight before a 429"
    )
    exchange_max_pending_reads: int = Field(
        default=16, ge=1, description="exchange reads under way at once; more are refused (429)"
    )

    # -- bots --
    max_bots_per_user: int = Field(
        default=50, ge=1, le=10_000, description="bots one user may keep"
    )

    # -- bot engine --
    bot_memory_bytes: int = Field(
        default=1024**3, ge=64 * 1024**2, description="a bot's address-space limit (RLIMIT_AS)"
    )
    bot_cpu_seconds: int = Field(
        default=3600, ge=1, description="CPU seconds over a bot process's life (RLIMIT_CPU)"
    )
    bot_max_open_files: int = Field(default=128, ge=16, description="RLIMIT_NOFILE of a bot")
    bot_max_processes: int = Field(
        default=64, ge=1, description="processes and threads of a bot (RLIMIT_NPROC)"
    )
    bot_max_file_bytes: int = Field(
        default=16 * 1024**2, ge=0, description="largest file a bot may write (RLIMIT_FSIZE)"
    )
    bot_tmpfs_bytes: int = Field(
        default=16 * 1024**2, ge=1024**2, description="size of a bot's private /tmp (bubblewrap)"
    )
    bot_heartbeat_seconds: float = Field(
        default=10.0, gt=0, description="ping interval; a bot that misses one ping is killed"
    )
    bot_stop_grace_seconds: float = Field(
        default=5.0, ge=0, description="how long a stopping bot may take before it is killed"
    )
    bot_backoff_base_seconds: float = Field(
        default=1.0, gt=0, description="first restart delay after a crash (doubles each time)"
    )
    bot_backoff_cap_seconds: float = Field(
        default=300.0, gt=0, description="longest restart delay after repeated crashes"
    )
    bot_restart_intensity: int = Field(
        default=5, ge=0, description="restarts allowed within the window before a bot is FAILED"
    )
    bot_restart_window_seconds: float = Field(
        default=60.0, gt=0, description="the window of the restart intensity limit"
    )
    bot_healthy_reset_seconds: float = Field(
        default=600.0, gt=0, description="a run this long resets the restart backoff"
    )
    bot_max_messages_per_second: int = Field(
        default=200, ge=1, description="messages a bot may send per second before it is killed"
    )
    bot_max_invalid_requests: int = Field(
        default=20, ge=1, description="malformed requests tolerated before a bot is killed"
    )
    bot_max_log_lines: int = Field(
        default=10_000, ge=100, description="log lines kept per bot (older ones are deleted)"
    )
    bot_max_state_bytes: int = Field(
        default=64 * 1024, ge=1024, description="size of a bot's persistent key-value state"
    )

    # -- paper exchange durability --
    paper_state_file: Path | None = Field(
        default=None,
        description="where the embedded paper exchange keeps its whole state across restarts; "
        "defaults to data_dir/paper-state.json",
    )

    # -- the order path --
    access_log: bool = Field(
        default=False,
        description="log a line per HTTP request (uvicorn's access log); off, it saves about a "
        "tenth of a millisecond of CPU on every order",
    )
    order_row_flush: bool = Field(
        default=False,
        description="PostgreSQL: wait for the WAL flush when committing the row an order is "
        "recorded by before it is sent. Off, that commit survives an app crash (like SQLite's "
        "WAL) but the last ~0.6 s of them may be lost if the database server itself crashes; "
        "on, every order waits for the disk (3-5 ms here)",
    )

    allow_weak_sandbox: bool = Field(
        default=False, description="let real-money networks run bots without bubblewrap"
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxy_list(cls, value: object) -> object:
        # `HYPERDESK_TRUSTED_PROXIES=172.30.0.1,10.0.0.0/8` is how operators write it; a JSON
        # list works too.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return tuple(json.loads(text))
            return tuple(part.strip() for part in text.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from hyperdesk.http.forwarded import parse_network

        try:
            return tuple(str(parse_network(item)) for item in value)
        except ValueError as exc:
            raise ValueError(f"trusted_proxies: {exc}") from None

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_scheme(cls, value: str | None) -> str | None:
        # Operators paste `postgres://` or `postgresql://` URLs; SQLAlchemy needs a driver we ship.
        if value is None:
            return None
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg2://" + value[len(prefix) :]
        return value

    @property
    def resolved_database_url(self) -> str:
        """The URL to connect with, with the password from `database_password_file` if set."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'hyperdesk.db').as_posix()}"
        if self.database_password_file is None:
            return url
        from hyperdesk.persistence.database import url_with_password
        from hyperdesk.secret_files import read_secret_file

        password = read_secret_file(self.database_password_file, what="database password")
        return url_with_password(url, password)

    @property
    def resolved_jwt_secret_file(self) -> Path:
        return self.jwt_secret_file or self.data_dir / "jwt.secret"

    @property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or self.data_dir / "master.keys"

    @property
    def resolved_exchange_weight_per_minute(self) -> int:
        if self.exchange_weight_per_minute is not None:
            return self.exchange_weight_per_minute
        return PAPER_WEIGHT_PER_MINUTE if self.is_paper else HYPERLIQUID_WEIGHT_PER_MINUTE

    @property
    def is_paper(self) -> bool:
        return self.network is Network.PAPER

    @property
    def is_mainnet(self) -> bool:
        """Signed actions name "Mainnet" only here; testnet and paper sign as "Testnet"."""
        return self.network is Network.MAINNET

    @property
    def generates_secrets(self) -> bool:
        """Only the paper network may invent its own secrets; real money needs operator-made ones."""
        return self.is_paper
