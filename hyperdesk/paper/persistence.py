"""Keeping the paper exchange's state in one file, so a restart or a crash does not wipe it.

The file is written whole, atomically: the new snapshot goes to a temporary file in the same
directory, is fsynced, renamed over the old one and the directory is fsynced. A crash (even
``kill -9`` or a power cut) therefore leaves either the previous complete snapshot or the new
complete one, never a mix. A ``Snapshotter`` thread saves about every second while anything
changed, and once more on a clean stop, so a crash loses at most the last moment — never the
matching hot path, which only bumps a counter.

Format (readable with any text tool): one header line of JSON — ``format``, ``version``,
``saved_at_ms`` and the ``sha256`` of the body — then the body, the JSON of
``PaperExchange.export_state()``. A file with another format or version, a checksum that does not
match, or a body that does not fit the configuration is refused with ``StateFileError`` and a
message saying what to do; it is never loaded halfway or replaced silently.

One process at a time: the file is guarded by an exclusive ``flock`` on ``<file>.lock`` for as
long as a ``StateFile`` is open (the kernel drops it when the process dies, even by ``kill -9``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hyperdesk.paper.state_codec import StateMismatch

if TYPE_CHECKING:
    from hyperdesk.paper.exchange import PaperExchange

log = logging.getLogger(__name__)

FORMAT = "hyperdesk-paper-state"
VERSION = 1
FILE_MODE = 0o600
DEFAULT_INTERVAL_S = 1.0


class StateFileError(RuntimeError):
    """The state file cannot be used; the message tells the operator what is wrong."""


class StateFile:
    """One state file, locked for this process while open. ``close()`` releases the lock."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._tmp = self.path.with_name(f".{self.path.name}.tmp")
        self._lock_file: IO[bytes] | None = self._acquire_lock()

    def _acquire_lock(self) -> IO[bytes]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        handle = os.fdopen(fd, "r+b")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StateFileError(
                f"the paper exchange state {self.path} is in use by another process "
                "(only one paper exchange may own a state file)"
            ) from None
        return handle

    @property
    def is_open(self) -> bool:
        return self._lock_file is not None

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing the descriptor releases the flock
            self._lock_file = None

    def read(self) -> dict[str, Any] | None:
        """The saved state, or None if there is no file yet; ``StateFileError`` if unusable."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        header_line, newline, body = raw.partition(b"\n")
        try:
            header = json.loads(header_line)
        except ValueError:
            header = None
        if not newline or not isinstance(header, dict) or header.get("format") != FORMAT:
            raise StateFileError(
                f"{self.path} is not a paper exchange state file; move it away to start afresh"
            )
        if header.get("version") != VERSION:
            raise StateFileError(
                f"{self.path} has state format version {header.get('version')!r}, this version "
                f"of Hyperdesk reads version {VERSION}; use the matching Hyperdesk version or "
                "move the file away to start afresh"
            )
        if hashlib.sha256(body).hexdigest() != header.get("sha256"):
            raise StateFileError(
                f"{self.path} is damaged (checksum mismatch); restore it from a backup or move "
                "it away to start afresh"
            )
        try:
            state = json.loads(body)
        except ValueError:
            state = None
        if not isinstance(state, dict):
            raise StateFileError(f"{self.path} holds no state object")
        return state

    def write(self, state: dict[str, Any], now_ms: int) -> None:
        """Replace the file atomically with ``state`` (0600, fsynced, directory fsynced)."""
        body = json.dumps(state, separators=(",", ":"), allow_nan=False).encode()
        header = {
            "format": FORMAT,
            "version": VERSION,
            "saved_at_ms": now_ms,
            "sha256": hashlib.sha256(body).hexdigest(),
        }
        fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(header).encode() + b"\n")
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(self._tmp, FILE_MODE)  # an older temp file may have had other bits
            os.replace(self._tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                self._tmp.unlink()
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def restore(exchange: PaperExchange, state_file: StateFile) -> bool:
    """Load the saved state into ``exchange`` if there is one; True if something was loaded."""
    state = state_file.read()
    if state is None:
        return False
    try:
        exchange.restore_state(state)
    except StateMismatch as exc:
        raise StateFileError(f"{state_file.path}: {exc}") from None
    log.info("paper exchange state restored from %s", state_file.path)
    return True


class Snapshotter:
    """Saves the exchange's state about every ``interval_s`` while it changes, and on ``stop()``.

    Serialising happens under the exchange's lock (a consistent picture), writing outside it.
    A failed save is logged and retried next round; the previous snapshot stays intact.
    """

    def __init__(
        self,
        exchange: PaperExchange,
        state_file: StateFile,
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
    ) -> None:
        self.exchange = exchange
        self.state_file = state_file
        self.interval_s = interval_s
        self._saved_revision: int | None = None
        self._stop = threading.Event()
        self._save_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("Snapshotter already started")
        self._thread = threading.Thread(target=self._loop, name="paper-snapshots", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.save()
            except Exception:
                log.exception("saving the paper exchange state to %s failed", self.state_file.path)

    def save(self, *, force: bool = False) -> bool:
        """Write a snapshot if anything changed since the last one; True if one was written."""
        with self._save_lock:
            revision = self.exchange.revision
            if not force and revision == self._saved_revision:
                return False
            state = self.exchange.export_state()
            self.state_file.write(state, time.time_ns() // 1_000_000)
            self._saved_revision = revision
            return True

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the thread, write a final snapshot and release the file; idempotent.

        Stop whatever changes the exchange (server, ticker) first, so the last snapshot is the
        last state.
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        if not self.state_file.is_open:
            return
        try:
            self.save()
        finally:
            self.state_file.close()


def open_durable(
    exchange: PaperExchange, path: Path, *, interval_s: float = DEFAULT_INTERVAL_S
) -> tuple[Snapshotter, bool]:
    """Lock ``path``, restore what it holds into ``exchange`` and start saving.

    Returns the running snapshotter and whether a saved state was loaded. On any error the lock
    is released and nothing is started.
    """
    state_file = StateFile(path)
    try:
        restored = restore(exchange, state_file)
        snapshotter = Snapshotter(exchange, state_file, interval_s=interval_s)
        snapshotter.save(force=True)  # the file exists (and is ours) from the first moment
        snapshotter.start()
    except BaseException:
        state_file.close()
        raise
    return snapshotter, restored
