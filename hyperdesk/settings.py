"""One settings object for the whole server, read from `HYPERDESK_*` environment variables.

Defaults need nothing: a data directory under the working directory, a SQLite file in it, the
embedded paper exchange, http://127.0.0.1:8000. Secrets are never settings values themselves —
only paths to files — so they never sit in the server's environment, where a same-uid process
could read them from `/proc/<pid>/environ`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    login_attempts_per_window: int = Field(default=10, ge=1)
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

    allow_weak_sandbox: bool = Field(
        default=False, description="let real-money networks run bots without bubblewrap"
    )

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
        return self.database_url or f"sqlite:///{(self.data_dir / 'hyperdesk.db').as_posix()}"

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
    def generates_secrets(self) -> bool:
        """Only the paper network may invent its own secrets; real money needs operator-made ones."""
        return self.is_paper
