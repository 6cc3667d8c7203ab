"""Moving a manual clock forward *through* the engine, not past it.

A test that jumps a ``ManualClock`` an hour ahead and runs one tick sees one price step, one
trigger check and one funding round at the end of the hour: a stop that the price path would
have crossed and left again never fires. ``advance`` instead runs the engine's own tick every
``config.price_tick_interval_ms`` of simulated time, so prices, triggers, scheduled cancels,
vault equity and whatever else a tick does (funding, liquidations) happen along the way, as they
would have with the real clock.

Long jumps are cut into at most ``MAX_STEPS`` equal ticks (a tick costs a few milliseconds):
advancing a week takes ``MAX_STEPS`` ticks of ~100 simulated minutes each, not 604 800.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hyperdesk.paper.clock import ManualClock

if TYPE_CHECKING:
    from hyperdesk.paper.exchange import PaperExchange

MAX_STEPS = 100
"""Most engine ticks one ``advance`` runs; longer jumps use longer ticks."""


class ClockNotManual(TypeError):
    """Only a ``ManualClock`` can be moved by hand; the real clock moves by itself."""


def step_ms(exchange: PaperExchange, ms: int) -> int:
    """Simulated milliseconds per tick when advancing by ``ms``."""
    interval = max(1, exchange.config.price_tick_interval_ms)
    return max(interval, -(-ms // MAX_STEPS))


def advance(exchange: PaperExchange, ms: int) -> int:
    """Move the exchange's ``ManualClock`` forward by ``ms``, ticking the engine on the way.

    ``ms == 0`` runs one tick at the current time. Returns the new time. Other requests may be
    served between two ticks (each tick takes the exchange's lock on its own), as they would be
    while real time passes.
    """
    clock = exchange.clock
    if not isinstance(clock, ManualClock):
        raise ClockNotManual("the clock is not a ManualClock; `ms` cannot be used")
    if ms < 0:
        raise ValueError("time cannot go backwards")
    if ms == 0:
        exchange.tick()
        return clock.now_ms()
    step = step_ms(exchange, ms)
    remaining = ms
    while remaining > 0:
        moved = min(step, remaining)
        clock.advance(ms=moved)
        exchange.tick()
        remaining -= moved
    return clock.now_ms()
