"""Scratch directories of the bot sandbox, named after the server that made them.

A server stopped cleanly removes its bots' run directories and its stdlib copy; one killed with
`kill -9` cannot. Each name carries the pid of the server that made it, so the next server can
remove the directories whose maker is gone and leave a live server's alone.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

_NAME = re.compile(r"^hyperdesk-(bot|python)-(\d+)-")


def scratch_dir(kind: str) -> Path:
    """A new private directory for `kind` ("bot" or "python") in the system's temp dir."""
    return Path(tempfile.mkdtemp(prefix=f"hyperdesk-{kind}-{os.getpid()}-"))


def sweep_stale(parent: Path | None = None) -> list[Path]:
    """Remove scratch directories whose server is no longer running; returns what went."""
    removed = []
    for entry in (parent or Path(tempfile.gettempdir())).iterdir():
        match = _NAME.match(entry.name)
        if match is None or not entry.is_dir() or entry.is_symlink():
            continue
        pid = int(match.group(2))
        if pid == os.getpid() or _alive(pid):
            continue
        _make_writable(entry)
        shutil.rmtree(entry, ignore_errors=True)
        if not entry.exists():
            removed.append(entry)
    if removed:
        log.info("removed %d sandbox directories left by servers that are gone", len(removed))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: certainly not ours to clean up after
    return True


def _make_writable(root: Path) -> None:
    """Bot directories are made read-only for the sandbox; their owner may still remove them."""
    for directory, _subdirs, _files in os.walk(root):
        try:
            os.chmod(directory, 0o700)
        except OSError:
            continue
