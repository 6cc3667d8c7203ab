"""Order requests before stream frames: a stream thread holds a frame back, briefly, while an
order request is busy on the CPU, and handles it while the request waits for the exchange.

The exchange pushes an order's update on the websocket right after it answers the order (the
paper exchange does so by design, Hyperliquid at about the same moment). Handling that frame —
websocket-client's frame parsing, JSON, the stream actor, the live hub — is ~0.25 ms of Python
that, handled at once, competes for the GIL with the order's own answer on its way out (the
signer thread handing it to the event loop, the loop writing the response) or, held only until
the response is written, with the next request's first steps. Nothing in the app is busier
than an order request and nothing is idler than one waiting for the exchange, so a request is
*busy* from its arrival until its action is posted and again from the exchange's answer until
its response is written, and frames wait for a moment when no request is busy. In
`bench/order_hop_floor.py`, with and without this in one run: placement p50 −0.09 and −0.25 ms
(two runs; 488 of 610 frames held, ~0.8 ms each, in `bench/order_path_cpu.py`).

Bounded both ways, so the stream can never be starved by a busy desk: a frame waits at most
``max_wait``, and each stream thread has a budget of waiting time that refills at ``max_share``
of the clock (a token bucket holding at most ``max_wait``): however many requests are busy, no
stream thread spends more than that share of its time held back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: Set on the event loop while an order request is served (the request's own task context).
_ANSWERING: ContextVar[bool] = ContextVar("hyperdesk_answering", default=False)


class _Budget:
    """One stream thread's waiting time left (seconds), as of ``at``."""

    __slots__ = ("at", "left")

    def __init__(self, left: float, at: float) -> None:
        self.left = left
        self.at = at


class AnswerPriority:
    """See the module docstring. One per process (`ANSWERS`): the requests, the signer threads
    and the stream threads of a process share one CPU budget."""

    def __init__(
        self,
        *,
        max_wait: float = 0.002,
        max_share: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_wait = max_wait
        self._max_share = max_share
        self._clock = clock
        self._idle = threading.Condition(threading.Lock())
        self._busy = 0
        self._waiting = 0
        self._held = 0
        self._budgets = threading.local()  # each stream thread's `_Budget`
        self._serving = threading.local()  # on a signer thread: its call is an order request's

    @contextmanager
    def answering(self) -> Iterator[None]:
        """On the event loop, around an order request: from its arrival until its response is
        written. The signed call it makes carries `in_answer()` to the signer."""
        token = _ANSWERING.set(True)
        self._busier(1)
        try:
            yield
        finally:
            self._busier(-1)
            _ANSWERING.reset(token)

    @staticmethod
    def in_answer() -> bool:
        """True inside `answering` (on the event loop, in the request's task)."""
        return _ANSWERING.get()

    @contextmanager
    def serving(self, answering: bool) -> Iterator[None]:
        """On a signer thread, around one signed call; ``answering``: it is an order request's."""
        self._serving.value = answering
        try:
            yield
        finally:
            self._serving.value = False

    @contextmanager
    def awaiting_exchange(self) -> Iterator[None]:
        """On a signer thread, around the post: an order request's call is idle meanwhile."""
        if not getattr(self._serving, "value", False):
            yield
            return
        self._busier(-1)
        try:
            yield
        finally:
            self._busier(1)

    def _busier(self, change: int) -> None:
        with self._idle:
            self._busy += change
            if self._busy == 0:
                self._idle.notify_all()

    def yield_to_answers(self) -> None:
        """On a stream thread, before it handles a frame: wait while an order request is busy,
        within the bounds above."""
        budget = self._budget()
        now = self._clock()
        budget.left = min(self._max_wait, budget.left + (now - budget.at) * self._max_share)
        budget.at = now
        if budget.left <= 0:
            return
        with self._idle:
            if self._busy == 0:
                return
            self._held += 1
            self._waiting += 1
            try:
                self._idle.wait_for(lambda: self._busy == 0, timeout=budget.left)
            finally:
                self._waiting -= 1
        done = self._clock()
        budget.left -= done - now
        budget.at = done

    def _budget(self) -> _Budget:
        budget: _Budget | None = getattr(self._budgets, "budget", None)
        if budget is None:
            budget = self._budgets.budget = _Budget(self._max_wait, self._clock())
        return budget

    @property
    def busy(self) -> int:
        """Order requests busy on the CPU right now."""
        with self._idle:
            return self._busy

    @property
    def held(self) -> int:
        """Frames held back so far (for tests and monitoring)."""
        with self._idle:
            return self._held

    @property
    def waiting(self) -> int:
        """Stream threads holding a frame back right now (for tests and monitoring)."""
        with self._idle:
            return self._waiting


#: The process's one `AnswerPriority`.
ANSWERS = AnswerPriority()
