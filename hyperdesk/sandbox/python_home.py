"""A read-only copy of the interpreter's prefix with the standard library only, for bwrap.

Why a copy rather than a bind of `sys.base_prefix`:
- bwrap is started as the unprivileged sandbox uid (see launcher), and the prefix may sit where
  that uid cannot walk (pyenv under /root, mode 0700); a bind needs the source reachable;
- the prefix's own site-packages may hold the server and its dependencies (a Docker image
  installs the app into /usr/local), which a bot must not see.

The copy holds `bin/pythonX.Y`, `lib/libpythonX.Y*` and `lib/pythonX.Y` without `site-packages`
and the test suite, made of hard links where the filesystem allows (fast, no extra space) and
copies otherwise. It is built once per server process, mounted at the original prefix inside the
sandbox (the interpreter's RUNPATH may name it), and removed at exit.
"""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from hyperdesk.sandbox.scratch import scratch_dir, sweep_stale

_SKIPPED_DIRS = frozenset({"site-packages", "dist-packages", "test", "idlelib", "tkinter"})
_lock = threading.Lock()
_home: PythonHome | None = None


@dataclass(frozen=True)
class PythonHome:
    source: Path  # the stdlib-only copy on the host
    mount_point: Path  # where it appears inside the sandbox: the original base prefix
    executable: Path  # the interpreter's path inside the sandbox

    @property
    def stdlib_dir(self) -> Path:
        return self.source / "lib" / _version_dir()


def base_executable() -> Path:
    """The real interpreter behind a venv (a venv's python would read pyvenv.cfg)."""
    candidate = Path(sys.base_prefix) / "bin" / _version_dir()
    return (
        candidate if candidate.exists() else Path(getattr(sys, "_base_executable", sys.executable))
    )


def python_home() -> PythonHome:
    """The stdlib-only copy, built on first use (thread-safe)."""
    global _home
    with _lock:
        if _home is None:
            _home = _build()
        return _home


def _version_dir() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def _build() -> PythonHome:
    prefix = Path(sys.base_prefix)
    sweep_stale()  # once per server, before its first bot: what a killed server left behind
    target = scratch_dir("python")
    atexit.register(shutil.rmtree, target, True)
    os.chmod(target, 0o755)  # noqa: S103 — the sandbox uid reads it; it holds only the stdlib
    executable = base_executable()
    (target / "bin").mkdir(mode=0o755)
    _link_or_copy(executable.resolve(), target / "bin" / _version_dir())
    (target / "lib").mkdir(mode=0o755)
    for library in (prefix / "lib").glob(f"lib{_version_dir()}*.so*"):
        _link_or_copy(library.resolve(), target / "lib" / library.name)
    _copy_tree(prefix / "lib" / _version_dir(), target / "lib" / _version_dir())
    return PythonHome(
        source=target,
        mount_point=prefix,
        executable=prefix / "bin" / _version_dir(),
    )


def _copy_tree(source: Path, target: Path) -> None:
    target.mkdir(mode=0o755)
    for entry in os.scandir(source):
        destination = target / entry.name
        if entry.is_dir(follow_symlinks=False):
            if entry.name not in _SKIPPED_DIRS:
                _copy_tree(Path(entry.path), destination)
        elif entry.is_file(follow_symlinks=True):
            _link_or_copy(Path(entry.path), destination)


def _link_or_copy(source: Path, destination: Path) -> None:
    mode = source.stat().st_mode
    if not mode & stat.S_IROTH:
        return  # not readable by others: not something the sandbox should see either
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
        os.chmod(destination, 0o755 if mode & stat.S_IXUSR else 0o644)
