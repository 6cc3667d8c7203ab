"""What the bot supervisor does when a bot's process ends: pure decisions, no clock, no timers.

Shape (architecture.md)::

    BotSupervisor (actor: owns one SupervisionState per bot, the timers and the processes)
        │  process ended ──► decide(state, exit, now, policy=…) ──► Decision
        │                        restart after ``delay`` │ stay stopped │ mark FAILED, tell owner
        └── BotProcessActor × one per running bot

The actor calls ``started`` when a process starts, ``owner_stopped`` when the owner stops the
bot, ``decide`` when a process ends, and ``may_restart`` when a backoff timer fires (the owner
may have stopped the bot during the delay). ``now`` is any clock in seconds, injected; use wall
clock seconds if the state is persisted across server restarts (security.md §2: persist desired
state and counters).

Semantics (OTP restart types, security.md §2):

* ``permanent``: restarted after any exit; ``transient`` (default): restarted only after a crash;
  ``temporary``: never restarted.
* A kill for abuse (memory, protocol violations, flooding, capital abuse) marks the bot FAILED at
  once, whatever the policy.
* The owner's stop is final: nothing the process does afterwards (a crash while stopping, a
  pending backoff timer) restarts it. Only the owner starting the bot again does, with a fresh
  ``SupervisionState``.
* A FAILED bot is never restarted by the supervisor.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum


class RestartPolicy(StrEnum):
    PERMANENT = "permanent"
    TRANSIENT = "transient"
    TEMPORARY = "temporary"


class ExitKind(StrEnum):
    """Why a bot's process ended, as the process actor classified it."""

    NORMAL = "normal"  # the bot returned / exited with status 0
    CRASH = "crash"  # an exception, a non-zero exit, a missed heartbeat
    ABUSE = "abuse"  # killed by us: memory, protocol violations, flooding
    USER_STOP = "user_stop"  # the owner stopped it


@dataclass(frozen=True, slots=True)
class RestartParams:
    """Backoff and intensity numbers (tests pass small values).

    * ``base_delay`` 1 s doubling to ``max_delay`` 300 s, each ±``jitter`` 10 %: Kubernetes'
      CrashLoopBackOff shape (10 s … 300 s, security.md §2) with a shorter first step, because a
      bot that trips over a transient network error should be back within seconds, not ten.
      Jitter keeps bots of one user (who crashed together, e.g. on one bad market event) from
      restarting in lockstep.
    * ``reset_after`` 600 s: Kubernetes resets its backoff after 10 minutes of clean running; a
      bot that ran that long was healthy, and its next crash starts from ``base_delay`` again.
    * ``max_restarts`` 5 within ``window`` 60 s: OTP's default (1 in 5 s) assumes immediate
      restarts; with our backoff a bot that dies at start restarts after 1, 2, 4, 8 and 16 s, so
      its sixth crash comes about 31 s after the first and would be a sixth restart inside the
      minute: it is marked FAILED and its owner told instead of looping. A bot that crashes less
      than once a minute keeps being restarted, at most every ``max_delay``.
    """

    base_delay: float = 1.0
    max_delay: float = 300.0
    jitter: float = 0.1
    reset_after: float = 600.0
    max_restarts: int = 5
    window: float = 60.0

    def __post_init__(self) -> None:
        if not 0 < self.base_delay <= self.max_delay:
            raise ValueError("need 0 < base_delay <= max_delay")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter is a fraction in [0, 1)")
        if self.max_restarts < 0 or self.window <= 0 or self.reset_after <= 0:
            raise ValueError("max_restarts >= 0, window > 0 and reset_after > 0")


DEFAULT_PARAMS = RestartParams()


@dataclass(frozen=True, slots=True)
class SupervisionState:
    """One bot's supervision counters (a value: every transition returns a new one).

    ``restart_times`` are the times of restarts decided inside the intensity window;
    ``backoff_step`` counts restarts since the last healthy run (the ``n`` of the backoff)."""

    restart_times: tuple[float, ...] = ()
    backoff_step: int = 0
    running_since: float | None = None
    stopped_by_owner: bool = False
    failed: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """``restart`` after ``delay`` seconds, or not; ``fail`` marks the bot FAILED (tell the
    owner). ``state`` is the bot's state after this decision; ``reason`` is for people."""

    restart: bool
    delay: float
    fail: bool
    reason: str
    state: SupervisionState


def owner_started(now: float) -> SupervisionState:
    """The owner (re)started the bot: everything is forgotten, including FAILED."""
    return SupervisionState(running_since=now)


def started(state: SupervisionState, now: float) -> SupervisionState:
    """The supervisor started the bot's process (after a backoff)."""
    return replace(state, running_since=now)


def owner_stopped(state: SupervisionState) -> SupervisionState:
    """The owner stopped the bot; from now on the supervisor never restarts it."""
    return replace(state, stopped_by_owner=True)


def may_restart(state: SupervisionState) -> bool:
    """Whether a backoff timer that fires now may still start the bot."""
    return not (state.stopped_by_owner or state.failed)


def backoff_delay(step: int, params: RestartParams, uniform: Callable[[], float]) -> float:
    """``min(base · 2^(step−1), cap)`` scaled by a jitter factor in ``[1 − j, 1 + j)``;
    ``uniform`` returns a float in ``[0, 1)`` (``random.random``; tests inject their own)."""
    exponent = min(max(step, 1) - 1, 60)  # 2^60 s outgrows any cap; avoids float overflow
    delay = min(params.base_delay * 2.0**exponent, params.max_delay)
    return delay * (1.0 + params.jitter * (2.0 * uniform() - 1.0))


def decide(
    state: SupervisionState,
    exit_kind: ExitKind,
    now: float,
    *,
    policy: RestartPolicy = RestartPolicy.TRANSIENT,
    params: RestartParams = DEFAULT_PARAMS,
    uniform: Callable[[], float] = random.random,
) -> Decision:
    """What to do now that the bot's process has ended with ``exit_kind`` at time ``now``."""
    stopped = replace(state, running_since=None)
    if exit_kind is ExitKind.USER_STOP or state.stopped_by_owner:
        return Decision(
            False, 0.0, False, "stopped by its owner", replace(stopped, stopped_by_owner=True)
        )
    if state.failed:
        return Decision(False, 0.0, False, "failed; waiting for its owner to start it", stopped)
    if exit_kind is ExitKind.ABUSE:
        return Decision(
            False, 0.0, True, "killed for abuse; not restarted", replace(stopped, failed=True)
        )
    if policy is RestartPolicy.TEMPORARY:
        return Decision(False, 0.0, False, f"{exit_kind} exit of a temporary bot", stopped)
    if exit_kind is ExitKind.NORMAL and policy is RestartPolicy.TRANSIENT:
        return Decision(False, 0.0, False, "finished normally", stopped)

    healthy = state.running_since is not None and now - state.running_since >= params.reset_after
    step = 1 if healthy else state.backoff_step + 1
    recent = tuple(t for t in state.restart_times if now - t < params.window)
    if len(recent) + 1 > params.max_restarts:
        return Decision(
            False,
            0.0,
            True,
            f"more than {params.max_restarts} restarts within {params.window:g} s",
            replace(stopped, restart_times=recent, failed=True),
        )
    delay = backoff_delay(step, params, uniform)
    return Decision(
        True,
        delay,
        False,
        f"{exit_kind} exit; restart {step} after {delay:.1f} s",
        replace(stopped, restart_times=(*recent, now), backoff_step=step),
    )
