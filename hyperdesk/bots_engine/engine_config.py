"""The bot engine's numbers, taken once from `Settings` (the one configuration object).

Actors receive this frozen value instead of the whole settings, so a test can state exactly the
small heartbeat and backoff values it runs with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hyperdesk.bots_engine.restart_policy import RestartParams
from hyperdesk.sandbox.launcher import SandboxKind, SandboxSpec
from hyperdesk.settings import Settings


@dataclass(frozen=True)
class EngineConfig:
    sandbox_kind: SandboxKind
    spec: SandboxSpec = field(default_factory=SandboxSpec)
    restart: RestartParams = field(default_factory=RestartParams)
    heartbeat_seconds: float = 10.0
    stop_grace_seconds: float = 5.0
    max_messages_per_second: int = 200
    max_invalid_requests: int = 20
    max_log_lines: int = 10_000
    max_state_bytes: int = 64 * 1024
    ask_timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings, sandbox_kind: SandboxKind) -> EngineConfig:
        return cls(
            sandbox_kind=sandbox_kind,
            spec=SandboxSpec(
                memory_bytes=settings.bot_memory_bytes,
                cpu_seconds=settings.bot_cpu_seconds,
                max_open_files=settings.bot_max_open_files,
                max_processes=settings.bot_max_processes,
                max_file_bytes=settings.bot_max_file_bytes,
                tmpfs_bytes=settings.bot_tmpfs_bytes,
            ),
            restart=RestartParams(
                base_delay=settings.bot_backoff_base_seconds,
                max_delay=max(settings.bot_backoff_cap_seconds, settings.bot_backoff_base_seconds),
                reset_after=settings.bot_healthy_reset_seconds,
                max_restarts=settings.bot_restart_intensity,
                window=settings.bot_restart_window_seconds,
            ),
            heartbeat_seconds=settings.bot_heartbeat_seconds,
            stop_grace_seconds=settings.bot_stop_grace_seconds,
            max_messages_per_second=settings.bot_max_messages_per_second,
            max_invalid_requests=settings.bot_max_invalid_requests,
            max_log_lines=settings.bot_max_log_lines,
            max_state_bytes=settings.bot_max_state_bytes,
        )
