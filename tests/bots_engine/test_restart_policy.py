"""Supervision decisions, with an injected clock (plain numbers) and injected jitter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperdesk.bots_engine.restart_policy import (
    Decision,
    ExitKind,
    RestartParams,
    RestartPolicy,
    SupervisionState,
    backoff_delay,
    decide,
    may_restart,
    owner_started,
    owner_stopped,
    started,
)

PARAMS = RestartParams(
    base_delay=1.0, max_delay=300.0, jitter=0.1, reset_after=600.0, max_restarts=5, window=60.0
)


def no_jitter() -> float:
    return 0.5  # factor 1 + 0.1 · (2 · 0.5 − 1) = 1


def crash(
    state: SupervisionState,
    now: float,
    policy: RestartPolicy = RestartPolicy.TRANSIENT,
    kind: ExitKind = ExitKind.CRASH,
) -> Decision:
    return decide(state, kind, now, policy=policy, params=PARAMS, uniform=no_jitter)


def crash_loop(count: int) -> list[Decision]:
    """A bot that dies the moment it starts, restarted each time as the decision says."""
    now, state, decisions = 0.0, owner_started(0.0), []
    for _ in range(count):
        decision = crash(state, now)
        decisions.append(decision)
        if not decision.restart:
            break
        now += decision.delay
        state = started(decision.state, now)
    return decisions


def test_crash_is_restarted_after_its_backoff_doubling_to_the_cap() -> None:
    params = RestartParams(max_restarts=100)
    state, now, delays = owner_started(0.0), 0.0, []
    for _ in range(12):
        decision = decide(state, ExitKind.CRASH, now, params=params, uniform=no_jitter)
        assert decision.restart
        assert not decision.fail
        delays.append(decision.delay)
        now += decision.delay + 100.0  # crashes far apart: the intensity limit is not reached
        state = started(decision.state, now - 100.0)
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0, 300.0, 300.0]


@pytest.mark.parametrize(("draw", "factor"), [(0.0, 0.9), (0.5, 1.0), (0.999999, 1.1)])
def test_jitter_stays_within_ten_percent(draw: float, factor: float) -> None:
    assert backoff_delay(4, PARAMS, lambda: draw) == pytest.approx(8.0 * factor, rel=1e-5)


@given(step=st.integers(min_value=1, max_value=10_000), draw=st.floats(0.0, 1.0, exclude_max=True))
def test_any_delay_is_the_capped_doubling_within_ten_percent(step: int, draw: float) -> None:
    nominal = min(2.0 ** min(step - 1, 60), 300.0)
    assert 0.9 * nominal <= backoff_delay(step, PARAMS, lambda: draw) <= 1.1 * nominal


def test_too_many_crashes_mark_the_bot_failed_and_stop_restarting() -> None:
    decisions = crash_loop(10)
    assert [d.restart for d in decisions] == [True] * 5 + [False]
    last = decisions[-1]
    assert last.fail
    assert last.state.failed
    assert "more than 5 restarts within 60 s" in last.reason
    assert not may_restart(last.state)
    # Whatever the dead process reports afterwards, a FAILED bot stays down.
    later = crash(last.state, 10_000.0, policy=RestartPolicy.PERMANENT)
    assert not later.restart
    assert not later.fail


def test_crashes_spread_wider_than_the_window_keep_being_restarted() -> None:
    state, now = owner_started(0.0), 0.0
    for _ in range(20):
        decision = crash(state, now)
        assert decision.restart
        now += 61.0
        state = started(decision.state, now)


def test_a_long_healthy_run_resets_the_backoff() -> None:
    decisions = crash_loop(4)
    assert [d.delay for d in decisions] == [1.0, 2.0, 4.0, 8.0]
    state = started(decisions[-1].state, 100.0)
    short_run = crash(state, 100.0 + 599.0)
    assert short_run.delay == 16.0
    state = started(short_run.state, 1_000.0)
    healthy_run = crash(state, 1_000.0 + 600.0)
    assert healthy_run.restart
    assert healthy_run.delay == 1.0


@pytest.mark.parametrize(
    ("policy", "kind", "restarted"),
    [
        (RestartPolicy.PERMANENT, ExitKind.CRASH, True),
        (RestartPolicy.PERMANENT, ExitKind.NORMAL, True),
        (RestartPolicy.TRANSIENT, ExitKind.CRASH, True),
        (RestartPolicy.TRANSIENT, ExitKind.NORMAL, False),
        (RestartPolicy.TEMPORARY, ExitKind.CRASH, False),
        (RestartPolicy.TEMPORARY, ExitKind.NORMAL, False),
    ],
)
def test_restart_policy_decides_which_exits_are_restarted(
    policy: RestartPolicy, kind: ExitKind, restarted: bool
) -> None:
    decision = crash(owner_started(0.0), 5.0, policy=policy, kind=kind)
    assert decision.restart is restarted
    assert not decision.fail
    assert decision.delay == (1.0 if restarted else 0.0)


def test_transient_is_the_default_policy() -> None:
    state = owner_started(0.0)
    assert not decide(state, ExitKind.NORMAL, 1.0, uniform=no_jitter).restart
    assert decide(state, ExitKind.CRASH, 1.0, uniform=no_jitter).restart


@pytest.mark.parametrize("policy", list(RestartPolicy))
def test_abuse_goes_straight_to_failed_whatever_the_policy(policy: RestartPolicy) -> None:
    decision = crash(owner_started(0.0), 3_600.0, policy=policy, kind=ExitKind.ABUSE)
    assert not decision.restart
    assert decision.fail
    assert decision.state.failed
    assert not may_restart(decision.state)


@pytest.mark.parametrize("policy", list(RestartPolicy))
@pytest.mark.parametrize("kind", list(ExitKind))
def test_a_users_stop_is_never_undone(policy: RestartPolicy, kind: ExitKind) -> None:
    # The owner stops the bot; the process then ends in any way (a crash while stopping, too).
    state = owner_stopped(owner_started(0.0))
    decision = crash(state, 1.0, policy=policy, kind=kind)
    assert not decision.restart
    assert not decision.fail
    assert decision.state.stopped_by_owner
    assert not may_restart(decision.state)
    # And whatever ends after that, at any time, is not restarted either.
    again = crash(decision.state, 10_000.0, policy=policy, kind=ExitKind.CRASH)
    assert not again.restart


def test_a_stop_during_the_backoff_cancels_the_pending_restart() -> None:
    decision = crash(owner_started(0.0), 1.0, policy=RestartPolicy.PERMANENT)
    assert decision.restart
    assert may_restart(decision.state)
    # The owner stops the bot while its backoff timer runs; the timer then fires.
    assert not may_restart(owner_stopped(decision.state))


def test_user_stop_exit_is_final_for_a_permanent_bot() -> None:
    decision = crash(
        owner_started(0.0), 1.0, policy=RestartPolicy.PERMANENT, kind=ExitKind.USER_STOP
    )
    assert not decision.restart
    assert not may_restart(decision.state)


def test_the_owner_starting_again_clears_failed_and_the_counters() -> None:
    failed = crash_loop(10)[-1].state
    assert failed.failed
    fresh = owner_started(500.0)
    assert may_restart(fresh)
    decision = crash(fresh, 500.0)
    assert decision.restart
    assert decision.delay == 1.0


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="base_delay"):
        RestartParams(base_delay=10.0, max_delay=5.0)
    with pytest.raises(ValueError, match="jitter"):
        RestartParams(jitter=1.5)
