"""The embedded paper exchange as its own OS process, started and stopped with the app.

``python main.py`` trades on a paper exchange it starts itself. Run inside the app it would share
the app's interpreter and GIL: every tick of its price process and every order it matches would
take CPU from the app's request threads, and the app would measure slower than against a remote
exchange. Like Hyperliquid, it is remote instead: ``python -m hyperdesk.paper`` with the same flags
an operator would use, its state in the app's data directory (``--state``).

* **Dies with the app.** On Linux the child asks the kernel for SIGTERM when the app is gone
  (``PR_SET_PDEATHSIG``), so a killed app leaves no exchange holding the port and the state file;
  SIGTERM is the exchange's clean stop, which saves its state a last time.
* **Waits for its predecessor.** After a kill, the old exchange may still be saving when the app
  starts again: the state file's lock (or the port) is then taken, and the start is retried until
  ``startup_timeout`` — never two exchanges on one state.
* **No secrets.** The child gets the app's environment without any ``HYPERDESK_*`` variable.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import hyperdesk

log = logging.getLogger(__name__)

_READY = "paper exchange on "
_RETRYABLE = ("is in use by another process", "Address already in use")
_PROJECT_ROOT = Path(hyperdesk.__file__).resolve().parent.parent


class PaperProcessError(RuntimeError):
    """The paper exchange process could not be started."""


class PaperProcess:
    def __init__(
        self,
        *,
        state_file: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        startup_timeout: float = 60.0,
        stop_timeout: float = 15.0,
    ) -> None:
        self.state_file = state_file
        self.host = host
        self.port = port
        self.seed = seed
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.base_url: str | None = None
        self._process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "hyperdesk.paper",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--seed",
            str(self.seed),
            "--state",
            str(self.state_file),
            "--log-level",
            "warning",
        ]

    def start(self) -> str:
        """Start the exchange; returns its base URL once it serves."""
        deadline = time.monotonic() + self.startup_timeout
        while True:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
                self.command(),
                cwd=_PROJECT_ROOT,
                env=_child_environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
            errors: list[str] = []
            stderr = _forward(process.stderr, logging.WARNING, errors)
            base_url = self._wait_ready(process, deadline)
            if base_url is not None:
                self._process = process
                self.base_url = base_url
                _forward(process.stdout, logging.INFO)
                log.info("paper exchange process %s serving at %s", process.pid, base_url)
                return base_url
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            _stop_process(process, self.stop_timeout)
            stderr.join(timeout=5)
            text = "".join(errors)
            if any(reason in text for reason in _RETRYABLE) and time.monotonic() < deadline:
                time.sleep(0.2)  # the previous exchange is still saving and letting go
                continue
            raise PaperProcessError(
                "the paper exchange did not start: " + (text.strip()[-500:] or "no output")
            )

    def _wait_ready(self, process: subprocess.Popen[str], deadline: float) -> str | None:
        assert process.stdout is not None
        while time.monotonic() < deadline and process.poll() is None:
            ready, _, _ = select.select([process.stdout], [], [], 0.2)
            if not ready:
                continue
            line = process.stdout.readline()
            if line.startswith(_READY):
                return line[len(_READY) :].split()[0]
        return None

    def stop(self) -> None:
        """SIGTERM (the exchange saves its state and exits), SIGKILL past ``stop_timeout``."""
        process, self._process = self._process, None
        if process is not None:
            _stop_process(process, self.stop_timeout)


def _stop_process(process: subprocess.Popen[str], timeout: float) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("paper exchange process %s did not stop; killing it", process.pid)
            process.kill()
            process.wait(timeout=5)


def _child_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERDESK_")}
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = str(_PROJECT_ROOT) + (os.pathsep + path if path else "")
    return env


def _die_with_parent() -> None:  # runs in the child between fork and exec
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _forward(stream: object, level: int, keep: list[str] | None = None) -> threading.Thread:
    """Drain a pipe of the child on a daemon thread, so it never blocks on a full pipe; lines
    go to our log (and to ``keep``, for the start-up error)."""

    def drain() -> None:
        for line in stream:  # type: ignore[attr-defined]
            if keep is not None:
                keep.append(line)
            if line.strip():
                log.log(level, "paper exchange: %s", line.rstrip())

    thread = threading.Thread(target=drain, name="paper-exchange-output", daemon=True)
    thread.start()
    return thread
