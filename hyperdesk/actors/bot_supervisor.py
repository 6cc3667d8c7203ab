"""BotSupervisor: starts, stops and restarts bots, one-for-one, with their state in the database.

Place in the tree (architecture.md)::

    FastAPI routes ──ask (timeout)──► BotSupervisor ── one per server, started by the runtime
                                        │  start_bot / stop_bot / restart_bot / status / recover
                                        │◄── tell: BotExited (a child reports its end)
                                        │◄── tell: _BackoffDue (a timer thread that only tells)
                                        └── BotProcessActor × one per running bot

pykka has no supervision; this is it, small. Decisions are pure (`restart_policy.decide`):
per bot a restart policy (`permanent`, `transient` default, `temporary`), exponential backoff
with jitter, a reset after a long healthy run, an intensity limit that marks a bot FAILED, and
abuse kills that go straight to FAILED. The owner's stop is final: a late exit or a pending
timer never restarts a bot its owner stopped. Each child is addressed by bot id and its run id,
so a report from an old run is ignored.

Persisted on every transition: `desired_state`, `status` (stopped, starting, running, backoff,
failed), `restarts`, `last_error`, a `BotRun` per process and `BotEvent`s for the owner. On
server start `recover()` starts every bot whose desired state is running (FAILED ones wait for
their owner). A server shutdown stops the processes but keeps the desired state.

Asks answer quickly except `stop_bot`/`restart_bot`, which wait (bounded) for the process to
exit so the caller sees the bot stopped. A child never asks this actor.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pykka
from sqlalchemy import select

from hyperdesk.actors.bot_process import (
    BotExited,
    BotLaunch,
    BotProcessActor,
    ProcessInfo,
    cancel_bot_orders,
)
from hyperdesk.bots_engine import restart_policy as rp
from hyperdesk.bots_engine.engine_config import EngineConfig
from hyperdesk.errors import NotFound, ServiceUnavailable
from hyperdesk.persistence.database import transaction
from hyperdesk.persistence.models import Bot, BotEvent, BotRun, Wallet

if TYPE_CHECKING:
    from hyperdesk.services import Services

log = logging.getLogger(__name__)

Schedule = Callable[[float, Callable[[], None]], Callable[[], None]]


def thread_timer(delay: float, action: Callable[[], None]) -> Callable[[], None]:
    """Run `action` (which only tells) after `delay` seconds on a timer thread; the canceller."""
    timer = threading.Timer(delay, action)
    timer.daemon = True
    timer.start()
    return timer.cancel


@dataclass(frozen=True)
class _BackoffDue:
    bot_id: int
    generation: int


@dataclass
class _Child:
    ref: pykka.ActorRef[Any]
    run_id: int
    pid: int


class BotSupervisor(pykka.ThreadingActor):
    def __init__(
        self,
        services: Services,
        config: EngineConfig,
        *,
        real_money: bool = False,
        allow_weak_sandbox: bool = False,
        clock: Callable[[], float] = time.monotonic,
        schedule: Schedule = thread_timer,
        uniform: Callable[[], float] = random.random,
    ) -> None:
        super().__init__()
        self._services = services
        self._config = config
        self._real_money = real_money
        self._allow_weak = allow_weak_sandbox
        self._clock = clock
        self._schedule = schedule
        self._uniform = uniform
        self._children: dict[int, _Child] = {}
        self._states: dict[int, rp.SupervisionState] = {}
        self._timers: dict[int, Callable[[], None]] = {}
        self._generation: dict[int, int] = {}

    # -- asks ----------------------------------------------------------------------------------

    def start_bot(self, bot_id: int) -> None:
        """The owner starts the bot: everything is forgotten (FAILED, counters) and it runs."""
        self._require_sandbox()
        self._require_bot(bot_id)
        if bot_id in self._children:
            return
        self._cancel_timer(bot_id)
        self._states[bot_id] = rp.owner_started(self._clock())
        self._update(bot_id, desired_state="running", restarts=0, last_error=None)
        self._event(bot_id, None, "start_requested", {})
        self._launch(bot_id)

    def stop_bot(self, bot_id: int) -> None:
        """The owner stops the bot; it stays stopped whatever happens next."""
        bot = self._require_bot(bot_id)
        self._states[bot_id] = rp.owner_stopped(self._states.get(bot_id, rp.SupervisionState()))
        self._cancel_timer(bot_id)
        self._update(bot_id, desired_state="stopped")
        child = self._children.pop(bot_id, None)
        if child is not None:
            exited = self._stop_child(child, cancel_orders=not bot.keep_orders_on_stop)
            self._end_run(exited)
        elif not bot.keep_orders_on_stop:
            # Crashed and waiting (backoff) or FAILED: its resting orders may still be open.
            cancel_bot_orders(self._services, bot.user_id, bot.wallet_id, bot_id)
        self._update(bot_id, status="stopped")
        self._event(bot_id, child.run_id if child else None, "stopped", {"by": "owner"})

    def restart_bot(self, bot_id: int) -> None:
        self._require_sandbox()
        self.stop_bot(bot_id)
        self.start_bot(bot_id)

    def status(self, bot_id: int) -> ProcessInfo | None:
        """The running process's pid, start time and capital snapshot; None when not running."""
        child = self._children.get(bot_id)
        if child is None:
            return None
        try:
            info: ProcessInfo = child.ref.proxy().info().get(timeout=self._config.ask_timeout)
        except pykka.ActorDeadError:
            return None
        return info

    def running(self) -> tuple[int, ...]:
        return tuple(sorted(self._children))

    def recover(self) -> int:
        """Start every bot whose desired state is running (after the server's reconciliation);
        how many were started."""
        with self._services.sessions() as session:
            ids = session.scalars(
                select(Bot.id).where(Bot.desired_state == "running", Bot.status != "failed")
            ).all()
        started = 0
        for bot_id in ids:
            if bot_id in self._children:
                continue
            try:
                self._require_sandbox()
            except ServiceUnavailable as exc:
                self._update(bot_id, status="stopped", last_error=exc.message)
                continue
            self._states[bot_id] = rp.SupervisionState(running_since=self._clock())
            self._event(bot_id, None, "recovered", {})
            if self._launch(bot_id):
                started += 1
        return started

    # -- tells ---------------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, BotExited):
            self._on_exit(message)
        elif isinstance(message, _BackoffDue):
            self._on_backoff_due(message)
        return None

    def on_stop(self) -> None:
        """Server shutdown: stop every process, keep desired states (they run again next start)."""
        for cancel in self._timers.values():
            cancel()
        self._timers.clear()
        children, self._children = self._children, {}
        pending = []
        for bot_id, child in children.items():
            try:
                pending.append((bot_id, child, child.ref.proxy().begin_stop(False).get(timeout=5)))
            except Exception:
                pending.append((bot_id, child, None))
        for bot_id, child, future in pending:
            exited = None
            if future is not None:
                with contextlib.suppress(Exception):
                    exited = future.get(timeout=self._config.stop_grace_seconds + 10)
            with contextlib.suppress(Exception):
                child.ref.stop(timeout=5)
            with contextlib.suppress(Exception):
                self._end_run(exited or BotExited(bot_id, child.run_id, rp.ExitKind.USER_STOP,
                                                  "the server stopped", None))  # fmt: skip
                self._update(bot_id, status="stopped")

    # -- internals -----------------------------------------------------------------------------

    def _launch(self, bot_id: int) -> bool:
        launch = self._new_run(bot_id)
        if launch is None:
            return False
        ref = BotProcessActor.start(launch, self._services, self._config, self.actor_ref)
        try:
            pid = ref.proxy().launch().get(timeout=self._config.ask_timeout)
        except Exception as exc:
            log.warning("bot %s could not start: %s", bot_id, exc)
            with contextlib.suppress(Exception):
                ref.stop(timeout=5)
            self._children[bot_id] = _Child(ref, launch.run_id, 0)
            self._on_exit(
                BotExited(bot_id, launch.run_id, rp.ExitKind.CRASH, f"could not start: {exc}", None)
            )
            return False
        self._children[bot_id] = _Child(ref, launch.run_id, pid)
        state = self._states.get(bot_id, rp.SupervisionState())
        self._states[bot_id] = rp.started(state, self._clock())
        self._update(bot_id, status="running")
        self._event(bot_id, launch.run_id, "started", {"pid": pid})
        return True

    def _new_run(self, bot_id: int) -> BotLaunch | None:
        with transaction(self._services.sessions) as session:
            bot = session.get(Bot, bot_id)
            if bot is None:
                return None
            wallet = session.get(Wallet, bot.wallet_id)
            if wallet is None:
                bot.status, bot.last_error = "failed", "the bot's wallet is gone"
                return None
            run = BotRun(bot_id=bot.id, version=bot.version)
            session.add(run)
            bot.status = "starting"
            session.flush()
            return BotLaunch(
                bot_id=bot.id,
                user_id=bot.user_id,
                wallet_id=bot.wallet_id,
                account=wallet.account_address,
                run_id=run.id,
                code=bot.code,
                config=dict(bot.config or {}),
                tick_seconds=float(bot.tick_seconds),
                capital=bot.capital,
                leverage=bot.leverage,
                keep_orders_on_stop=bot.keep_orders_on_stop,
            )

    def _on_exit(self, exited: BotExited) -> None:
        child = self._children.get(exited.bot_id)
        if child is None or child.run_id != exited.run_id:
            return  # a report from an earlier run, or a bot its owner already stopped
        del self._children[exited.bot_id]
        with contextlib.suppress(Exception):
            child.ref.stop(block=False)
        self._end_run(exited)
        bot_id = exited.bot_id
        with self._services.sessions() as session:
            policy = session.scalar(select(Bot.restart_policy).where(Bot.id == bot_id))
        if policy is None:
            return  # deleted meanwhile
        decision = rp.decide(
            self._states.get(bot_id, rp.SupervisionState()),
            exited.kind,
            self._clock(),
            policy=rp.RestartPolicy(policy),
            params=self._config.restart,
            uniform=self._uniform,
        )
        self._states[bot_id] = decision.state
        detail = {"exit": str(exited.kind), "reason": exited.reason, "decision": decision.reason}
        if decision.restart:
            # Events first: whoever sees the new status finds the event that explains it.
            self._event(bot_id, exited.run_id, "backoff", {**detail, "delay": decision.delay})
            self._update_restarts(bot_id, exited.reason)
            generation = self._generation.get(bot_id, 0) + 1
            self._generation[bot_id] = generation
            ref = self.actor_ref
            due = _BackoffDue(bot_id, generation)
            self._timers[bot_id] = self._schedule(decision.delay, lambda: _tell(ref, due))
        elif decision.fail:
            self._event(bot_id, exited.run_id, "failed", detail)
            self._update(bot_id, status="failed", last_error=f"{exited.reason} ({decision.reason})")
        elif exited.kind is rp.ExitKind.USER_STOP:
            self._update(bot_id, status="stopped")
        else:
            error = exited.reason if exited.kind is not rp.ExitKind.NORMAL else None
            self._event(bot_id, exited.run_id, "exited", detail)
            self._update(bot_id, status="stopped", desired_state="stopped", last_error=error)

    def _on_backoff_due(self, due: _BackoffDue) -> None:
        if self._generation.get(due.bot_id) != due.generation:
            return
        self._timers.pop(due.bot_id, None)
        state = self._states.get(due.bot_id, rp.SupervisionState())
        if not rp.may_restart(state) or due.bot_id in self._children:
            return
        with self._services.sessions() as session:
            desired = session.scalar(select(Bot.desired_state).where(Bot.id == due.bot_id))
        if desired != "running":
            return
        self._launch(due.bot_id)

    def _stop_child(self, child: _Child, *, cancel_orders: bool) -> BotExited | None:
        try:
            future = child.ref.proxy().begin_stop(cancel_orders).get(timeout=10)
            exited: BotExited = future.get(timeout=self._config.stop_grace_seconds + 30)
        except Exception:
            log.warning("a bot's process actor did not stop cleanly; stopping it", exc_info=True)
            exited_none: BotExited | None = None
            with contextlib.suppress(Exception):
                child.ref.stop(timeout=5)
            return exited_none
        with contextlib.suppress(Exception):
            child.ref.stop(timeout=5)
        return exited

    def _cancel_timer(self, bot_id: int) -> None:
        self._generation[bot_id] = self._generation.get(bot_id, 0) + 1
        cancel = self._timers.pop(bot_id, None)
        if cancel is not None:
            cancel()

    def _require_sandbox(self) -> None:
        if self._config.sandbox_kind == "process" and self._real_money and not self._allow_weak:
            raise ServiceUnavailable(
                "Bots cannot run here: bubblewrap is unavailable and this server trades real "
                "money. Install bubblewrap (with user namespaces allowed) or set "
                "HYPERDESK_ALLOW_WEAK_SANDBOX=true to accept the weaker process sandbox.",
                code="WEAK_SANDBOX_REFUSED",
            )

    def _require_bot(self, bot_id: int) -> Bot:
        with self._services.sessions() as session:
            bot = session.get(Bot, bot_id)
            if bot is None:
                raise NotFound("Bot not found.")
            session.expunge(bot)
            return bot

    def _update(self, bot_id: int, **fields: Any) -> None:
        with transaction(self._services.sessions) as session:
            bot = session.get(Bot, bot_id)
            if bot is None:
                return
            for name, value in fields.items():
                setattr(bot, name, value)
            news = {
                "bot_id": bot.id,
                "status": bot.status,
                "desired_state": bot.desired_state,
                "restarts": bot.restarts,
                "last_error": bot.last_error,
            }
            user_id = bot.user_id
        with contextlib.suppress(Exception):  # the owner's browsers; the database is the truth
            self._services.hub.publish_user(user_id, {"channel": "bot_status", "data": news})

    def _update_restarts(self, bot_id: int, reason: str) -> None:
        with transaction(self._services.sessions) as session:
            bot = session.get(Bot, bot_id)
            if bot is not None:
                bot.status = "backoff"
                bot.restarts += 1
                bot.last_error = reason
        self._update(bot_id)  # publishes the new status

    def _end_run(self, exited: BotExited | None) -> None:
        if exited is None:
            return
        with transaction(self._services.sessions) as session:
            run = session.get(BotRun, exited.run_id)
            if run is not None and run.ended_at is None:
                run.ended_at = datetime.now(UTC)
                run.exit_code = exited.exit_code
                run.exit_reason = exited.reason

    def _event(self, bot_id: int, run_id: int | None, kind: str, detail: dict[str, Any]) -> None:
        try:
            with transaction(self._services.sessions) as session:
                if session.get(Bot, bot_id) is not None:
                    session.add(BotEvent(bot_id=bot_id, run_id=run_id, kind=kind, detail=detail))
        except Exception:
            log.exception("bot %s: could not record event %s", bot_id, kind)


def _tell(ref: pykka.ActorRef[Any], message: Any) -> None:
    with contextlib.suppress(pykka.ActorDeadError):
        ref.tell(message)
