"""BotSupervisor with real sandboxed bot processes and a hand-driven backoff timer.

The timer is injected: the test sees every delay the supervisor asks for and fires it when it
chooses, so backoff is instant and "a timer that fires after the owner's stop" is reproducible.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from hyperdesk.actors.bot_supervisor import BotSupervisor
from hyperdesk.bots_engine.engine_config import EngineConfig
from hyperdesk.bots_engine.restart_policy import RestartParams
from hyperdesk.bots_engine.service import NewBot
from hyperdesk.persistence.models import Bot, BotEvent, BotRun
from hyperdesk.sandbox.launcher import SandboxSpec, detect_sandbox
from tests.fixtures.app import import_funded_key
from tests.helpers import wait_until

CRASH_BOT = "import os\nclass Bot:\n    def __init__(self, api, config):\n        os._exit(3)\n"
CLEAN_EXIT_BOT = (
    "import sys\nclass Bot:\n    def __init__(self, api, config):\n        sys.exit(0)\n"
)
FLOOD_BOT = (
    "class Bot:\n    def __init__(self, api, config):\n        pass\n"
    "    def on_start(self):\n        while True:\n            print('spam')\n"
)


@dataclass
class _Timer:
    delay: float
    action: Callable[[], None]
    cancelled: bool = False


class ManualTimers:
    """The supervisor's `schedule`: records timers; the test fires them."""

    def __init__(self) -> None:
        self.timers: list[_Timer] = []
        self._lock = threading.Lock()

    def __call__(self, delay: float, action: Callable[[], None]) -> Callable[[], None]:
        timer = _Timer(delay, action)
        with self._lock:
            self.timers.append(timer)

        def cancel() -> None:
            timer.cancelled = True

        return cancel

    def fire(self, index: int) -> None:
        self.timers[index].action()  # fired even if cancelled: the supervisor must ignore it


@pytest.fixture
def timers() -> ManualTimers:
    return ManualTimers()


@pytest.fixture
def supervisor(services, timers) -> Iterator:
    config = EngineConfig(
        sandbox_kind=detect_sandbox(),
        spec=SandboxSpec(),
        restart=RestartParams(base_delay=1.0, max_delay=8.0, max_restarts=3, window=600),
        heartbeat_seconds=5.0,
        stop_grace_seconds=2.0,
        max_messages_per_second=100,
    )
    ref = BotSupervisor.start(services, config, schedule=timers, uniform=lambda: 0.5)
    yield ref.proxy()
    ref.stop(timeout=30)


@pytest.fixture
def wallet(client, alice, paper_server):
    return import_funded_key(client, alice, paper_server)[1]


def _bot(services, alice, wallet, code, **fields):
    draft = NewBot(name=fields.pop("name", "bot"), code=code, wallet_id=wallet["id"],
                   capital=1000, **fields)  # fmt: skip
    return services.bots.create(alice.id, draft).id


def _row(services, bot_id):
    with services.sessions() as session:
        bot = session.get(Bot, bot_id)
        session.expunge(bot)
        return bot


def _count(services, model, bot_id):
    with services.sessions() as session:
        return session.scalar(select(func.count(model.id)).where(model.bot_id == bot_id))


def test_backoff_doubles_and_each_restart_waits_for_its_timer(services, supervisor, timers,
                                                              alice, wallet):  # fmt: skip
    bot_id = _bot(services, alice, wallet, CRASH_BOT)
    supervisor.start_bot(bot_id).get(timeout=30)
    wait_until(lambda: len(timers.timers) == 1, 20, message="first backoff timer")
    assert _row(services, bot_id).status == "backoff"
    assert _count(services, BotRun, bot_id) == 1  # nothing restarts before its timer fires

    timers.fire(0)
    wait_until(lambda: len(timers.timers) == 2, 20, message="second backoff timer")
    assert [t.delay for t in timers.timers] == [1.0, 2.0]
    assert _row(services, bot_id).restarts == 2


def test_a_backoff_timer_firing_after_the_owners_stop_starts_nothing(services, supervisor, timers,
                                                                     alice, wallet):  # fmt: skip
    bot_id = _bot(services, alice, wallet, CRASH_BOT)
    supervisor.start_bot(bot_id).get(timeout=30)
    wait_until(lambda: len(timers.timers) == 1, 20)
    supervisor.stop_bot(bot_id).get(timeout=30)
    assert timers.timers[0].cancelled

    timers.fire(0)
    assert supervisor.running().get(timeout=10) == ()  # asks queue behind the fired tell
    row = _row(services, bot_id)
    assert (row.status, row.desired_state) == ("stopped", "stopped")
    assert _count(services, BotRun, bot_id) == 1


def test_a_transient_bot_is_not_restarted_after_a_clean_exit(services, supervisor, timers,
                                                             alice, wallet):  # fmt: skip
    bot_id = _bot(services, alice, wallet, CLEAN_EXIT_BOT)
    supervisor.start_bot(bot_id).get(timeout=30)
    wait_until(lambda: _row(services, bot_id).status == "stopped", 20)
    assert _row(services, bot_id).desired_state == "stopped"
    assert timers.timers == []


def test_a_flooding_bot_is_killed_as_abuse_and_marked_failed_at_once(services, supervisor, timers,
                                                                     alice, wallet):  # fmt: skip
    bot_id = _bot(services, alice, wallet, FLOOD_BOT, restart_policy="permanent")
    supervisor.start_bot(bot_id).get(timeout=30)
    row = wait_until(lambda: (r := _row(services, bot_id)).status == "failed" and r, 30)
    assert "flooding" in row.last_error
    assert timers.timers == []
    with services.sessions() as session:
        kinds = session.scalars(select(BotEvent.kind).where(BotEvent.bot_id == bot_id)).all()
    assert "failed" in kinds


def test_real_money_with_the_weak_sandbox_refuses_to_start_bots(services, alice, wallet):
    from hyperdesk.errors import ServiceUnavailable

    config = EngineConfig(sandbox_kind="process")
    ref = BotSupervisor.start(services, config, real_money=True, allow_weak_sandbox=False)
    try:
        bot_id = _bot(services, alice, wallet, CLEAN_EXIT_BOT)
        with pytest.raises(ServiceUnavailable) as refused:
            ref.proxy().start_bot(bot_id).get(timeout=30)
        assert refused.value.code == "WEAK_SANDBOX_REFUSED"
        row = _row(services, bot_id)
        assert (row.status, row.desired_state) == ("stopped", "stopped")
        assert _count(services, BotRun, bot_id) == 0
    finally:
        ref.stop(timeout=30)


def test_a_bots_log_keeps_its_newest_lines_each_cut_at_4_kb(services, timers, alice, wallet):
    from hyperdesk.persistence.models import BotLog

    code = (
        "import sys\nclass Bot:\n    def __init__(self, api, config):\n"
        "        print('x' * 10000)\n"
        "        for i in range(250):\n            print(f'line {i}')\n"
        "        sys.exit(0)\n"
    )
    config = EngineConfig(
        sandbox_kind=detect_sandbox(), max_log_lines=100, max_messages_per_second=1000
    )
    ref = BotSupervisor.start(services, config, schedule=timers)
    try:
        bot_id = _bot(services, alice, wallet, code)
        ref.proxy().start_bot(bot_id).get(timeout=30)
        wait_until(lambda: _row(services, bot_id).status == "stopped", 20)
        with services.sessions() as session:
            lines = session.scalars(
                select(BotLog.message).where(BotLog.bot_id == bot_id).order_by(BotLog.id)
            ).all()
        assert len(lines) == 100
        assert lines[-1] == "line 249"
    finally:
        ref.stop(timeout=30)

    with services.sessions() as session:
        assert session.scalar(select(func.max(func.length(BotLog.message)))) <= 4096
