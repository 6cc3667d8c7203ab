"""Run the paper exchange server inside the current process.

``PaperServer(exchange).start()`` serves the protocol app with uvicorn on a background thread and
returns the base URL once the server accepts connections; ``stop()`` shuts it down. When the
engine's clock is the real clock, a ticker thread advances the simulation (prices, synthetic
liquidity, funding, …) every ``config.price_tick_interval_ms``; with a ``ManualClock`` the caller
drives time itself (``exchange.tick()`` or ``POST /_paper/tick``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from typing import TYPE_CHECKING, Any

import uvicorn

from hyperdesk.paper.clock import SystemClock
from hyperdesk.paper.server import create_paper_app

if TYPE_CHECKING:
    from hyperdesk.paper.exchange import PaperExchange

log = logging.getLogger(__name__)


class _NotifyingServer(uvicorn.Server):
    """A uvicorn server that signals a threading.Event once it is listening."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self._ready.set()

    def install_signal_handlers(self) -> None:
        # The embedding process owns signals (uvicorn only installs them on the main thread
        # anyway; being explicit keeps behaviour identical across uvicorn versions).
        return


class PaperServer:
    """A paper exchange served on ``host:port`` from background threads.

    ``port=0`` picks a free port; the chosen one is in ``base_url`` after ``start()``. ``ticker``
    can be forced off (deterministic tests) or on; by default it runs only for a ``SystemClock``.
    """

    def __init__(
        self,
        exchange: PaperExchange,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ticker: bool | None = None,
        log_level: str = "warning",
        startup_timeout_s: float = 10.0,
    ) -> None:
        self.exchange = exchange
        self.host = host
        self.port = port
        self.ticker_enabled = isinstance(exchange.clock, SystemClock) if ticker is None else ticker
        self.log_level = log_level
        self.startup_timeout_s = startup_timeout_s
        self.app = create_paper_app(exchange)
        self._server: _NotifyingServer | None = None
        self._thread: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self._stop_ticker = threading.Event()
        self._error: BaseException | None = None
        self.base_url: str | None = None

    @property
    def ws_url(self) -> str:
        if self.base_url is None:
            raise RuntimeError("server not started")
        return "ws" + self.base_url[len("http") :] + "/ws"

    def start(self) -> str:
        """Start serving; returns the base URL (``http://host:port``) once connections work."""
        if self._thread is not None:
            raise RuntimeError("PaperServer already started")
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            access_log=False,
            proxy_headers=False,  # rate limits key on the socket peer, not a spoofable header
            ws_per_message_deflate=False,
            lifespan="on",
            timeout_graceful_shutdown=3,
        )
        ready = threading.Event()
        self._server = _NotifyingServer(config, ready)

        def serve() -> None:
            try:
                asyncio.run(self._server.serve(sockets=[sock]))  # type: ignore[union-attr]
            except BaseException as exc:  # surfaced by start()
                self._error = exc
            finally:
                ready.set()
                sock.close()

        self._thread = threading.Thread(target=serve, name="paper-server", daemon=True)
        self._thread.start()
        if not ready.wait(self.startup_timeout_s):
            self.stop()
            raise RuntimeError(f"paper server did not start within {self.startup_timeout_s}s")
        if self._error is not None or not self._server.started:
            raise RuntimeError("paper server failed to start") from self._error
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.base_url = f"http://{host}:{self.port}"
        if self.ticker_enabled:
            self._ticker = threading.Thread(
                target=self._tick_loop, name="paper-ticker", daemon=True
            )
            self._ticker.start()
        log.info("paper exchange serving on %s", self.base_url)
        return self.base_url

    def _tick_loop(self) -> None:
        interval_s = self.exchange.config.price_tick_interval_ms / 1000
        while not self._stop_ticker.wait(interval_s):
            try:
                self.exchange.tick()
            except Exception:  # a bad tick must not stop time for good
                log.exception("paper exchange tick failed")

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the ticker and the server (closing websockets); idempotent."""
        self._stop_ticker.set()
        if self._ticker is not None:
            self._ticker.join(timeout_s)
            self._ticker = None
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("paper server thread did not stop within %ss", timeout_s)
            self._thread = None

    def __enter__(self) -> PaperServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
