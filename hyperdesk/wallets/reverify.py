"""The periodic re-verification of agent wallets: a timer thread, started and stopped by the runtime.

An agent's approval can be revoked, replaced or expire on the exchange without anyone telling us;
the exchange's refusal of an order catches that only when the wallet trades. A wallet that only
watches its account would keep receiving the account's fills, so every approval is asked again
on a fixed interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class AgentReverifier:
    """Runs ``check()`` every ``interval`` seconds on its own daemon thread until stopped.

    ``check`` does the work (ask the exchange, store the answers, follow or unfollow accounts);
    this class only owns the timer, so a test can run ``check`` directly without waiting.
    """

    def __init__(self, check: Callable[[], object], interval: float) -> None:
        if interval <= 0:
            raise ValueError("the re-verification interval must be positive")
        self._check = check
        self._interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="agent-reverify", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._check()
            except Exception:  # a failed pass must not end the timer; the next one retries
                log.exception("agent wallet re-verification failed")
