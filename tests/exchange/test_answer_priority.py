"""`AnswerPriority`: stream frames wait while an order request is busy on the CPU, not while it
waits for the exchange, and never longer than their budget allows."""

from __future__ import annotations

import asyncio
import threading

from hyperdesk.exchange.answer_priority import AnswerPriority
from tests.helpers import wait_until


def _frame_in_thread(priority: AnswerPriority) -> threading.Event:
    """A stream thread handling one frame; the event is set once it went ahead."""
    handled = threading.Event()

    def stream() -> None:
        priority.yield_to_answers()
        handled.set()

    threading.Thread(target=stream, daemon=True).start()
    return handled


def test_a_frame_goes_ahead_at_once_when_no_request_is_busy():
    priority = AnswerPriority(max_wait=30.0)
    assert _frame_in_thread(priority).wait(5)


def test_a_frame_waits_while_a_request_is_busy_and_goes_when_it_is_answered():
    priority = AnswerPriority(max_wait=30.0)
    with priority.answering():
        handled = _frame_in_thread(priority)
        wait_until(lambda: priority.waiting == 1, message="the frame did not wait")
        assert not handled.is_set()
    assert handled.wait(5)
    assert priority.busy == 0


def test_a_frame_goes_while_the_request_waits_for_the_exchange():
    """The signer marks its call idle around the post; a signed call of no order request (a
    bot's, say) changes nothing."""
    priority = AnswerPriority(max_wait=30.0)
    with priority.answering():
        assert priority.in_answer()
        answering = priority.in_answer()
        with priority.serving(answering), priority.awaiting_exchange():
            assert priority.busy == 0
            assert _frame_in_thread(priority).wait(5)
        assert priority.busy == 1
        with priority.serving(False), priority.awaiting_exchange():
            assert priority.busy == 1
    assert not priority.in_answer()
    assert priority.busy == 0


def test_the_request_flag_follows_the_requests_own_task():
    priority = AnswerPriority()

    async def request() -> bool:
        with priority.answering():
            await asyncio.sleep(0)
            return priority.in_answer()

    async def elsewhere(started: asyncio.Event) -> bool:
        await started.wait()
        return priority.in_answer()

    async def both() -> tuple[bool, bool]:
        started = asyncio.Event()
        other = asyncio.create_task(elsewhere(started))
        started.set()
        return await request(), await other

    assert asyncio.run(both()) == (True, False)


class StreamThread:
    """One stream thread handling frames when told to; `handled` counts those it went on with."""

    def __init__(self, priority: AnswerPriority) -> None:
        self.handled = 0
        self._frames = threading.Semaphore(0)
        self._priority = priority
        threading.Thread(target=self._run, daemon=True).start()

    def frame(self) -> None:
        self._frames.release()

    def _run(self) -> None:
        while True:
            self._frames.acquire()
            self._priority.yield_to_answers()
            self.handled += 1


def test_a_busy_desk_holds_a_stream_thread_back_for_at_most_its_share_of_the_time():
    """Requests busy all the time: the thread's budget (at most `max_wait`, refilled at
    `max_share` of the clock) runs out, and then its frames go ahead without waiting."""
    now = [0.0]
    priority = AnswerPriority(max_wait=1.0, max_share=0.25, clock=lambda: now[0])
    stream = StreamThread(priority)
    with priority.answering():
        stream.frame()
        wait_until(lambda: priority.waiting == 1, message="the first frame did not wait")
        now[0] = 1.0  # it waited the whole budget (on this clock)
    wait_until(lambda: stream.handled == 1, message="the first frame was not let go")

    with priority.answering():
        stream.frame()  # the budget is spent: no waiting
        wait_until(lambda: stream.handled == 2, message="a frame waited without a budget")
        assert priority.held == 1

        now[0] = 1.0 + 1.0 / 0.25  # long enough to refill the budget in full
        stream.frame()
        wait_until(lambda: priority.waiting == 1, message="a refilled budget did not wait")
    wait_until(lambda: stream.handled == 3, message="the frame was not let go")
    assert priority.held == 2
