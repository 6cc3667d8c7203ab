"""Start a user's bot as a sandboxed OS process, with its channel as the only way out.

Two kinds (docs/bots-sandbox.md says what each enforces):

- `bwrap` — bubblewrap: own user, pid, network, ipc, uts and mount namespaces, no further user
  namespaces, a filesystem of read-only binds (/usr, the standard library, the bot's run
  directory) plus a size-limited tmpfs /tmp, uid/gid 65534, dies with its parent. When the server
  runs as root, bwrap itself is started as the sandbox uid: under a user namespace created by
  root the bot would map to host uid 0, for which the kernel never enforces RLIMIT_NPROC.
- `process` — the weak fallback for machines without usable user namespaces: a clean process
  (`env={}`, `python -I -S`, no inherited descriptors but the channel, own session, SIGKILL when
  the parent dies) with the same resource limits, but the server's uid and filesystem view.

Both are started with `env={}` (bwrap's own pid-1 helper would otherwise show the server's
environment at /proc/1/environ), `close_fds=True` and `pass_fds=(channel,)`, and no secret ever
appears in their arguments (/proc/<pid>/cmdline is readable). Limits are applied by the bot
runtime before any user code runs (see hyperdesk.bots.limits for why not in a `preexec_fn`).

A caller must know: PR_SET_PDEATHSIG fires when the *thread* that started the process exits,
so launch a bot from a thread that lives as long as the bot (the actor that owns it).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import site
import socket
import subprocess
import sysconfig
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Literal

import hyperdesk.bots
from hyperdesk.bots.wire import MAX_MESSAGE_BYTES
from hyperdesk.sandbox.channel import Channel
from hyperdesk.sandbox.python_home import base_executable, python_home
from hyperdesk.sandbox.scratch import scratch_dir

SandboxKind = Literal["bwrap", "process"]

BWRAP = "/usr/bin/bwrap"
BOT_DIR_INSIDE = Path("/bot")
_BOOT = (
    "import sys; sys.path.insert(0, {runtime!r}); "
    "from hyperdesk.bots.runtime import main; sys.exit(main(sys.argv[1:]))"
)
_STDERR_TAIL_BYTES = 4096
_SIGNAL_REASONS = {
    signal.SIGKILL: "killed (SIGKILL)",
    signal.SIGXCPU: "CPU time limit exceeded",
    signal.SIGXFSZ: "file size limit exceeded",
    signal.SIGSEGV: "crashed (SIGSEGV)",
    signal.SIGABRT: "aborted (SIGABRT)",
    signal.SIGTERM: "terminated (SIGTERM)",
}


class SandboxUnavailable(RuntimeError):
    """The requested sandbox kind cannot run on this machine."""


@dataclass(frozen=True)
class SandboxSpec:
    """Limits for one bot process. Defaults suit a small trading bot; the settings override them."""

    memory_bytes: int = 1024 * 1024 * 1024  # RLIMIT_AS (address space, so a bit generous)
    cpu_seconds: int = 3600  # RLIMIT_CPU: CPU time over the process's whole life
    max_open_files: int = 128  # RLIMIT_NOFILE
    max_processes: int = 64  # RLIMIT_NPROC: processes and threads of the sandbox uid
    max_file_bytes: int = 16 * 1024 * 1024  # RLIMIT_FSIZE: largest file it may write
    tmpfs_bytes: int = 16 * 1024 * 1024  # size of /tmp inside bwrap (the only writable place)
    uid: int = 65534
    gid: int = 65534
    max_message_bytes: int = MAX_MESSAGE_BYTES
    # Extra directories bound read-only and put on the bot's sys.path (an operator's
    # site-packages with numpy, say). Never the server's own environment.
    extra_paths: tuple[Path, ...] = field(default_factory=tuple)

    def limits(self) -> dict[str, int]:
        return {
            "memory_bytes": self.memory_bytes,
            "cpu_seconds": self.cpu_seconds,
            "max_open_files": self.max_open_files,
            "max_processes": self.max_processes,
            "max_file_bytes": self.max_file_bytes,
        }


class BotProcess:
    """A running bot: its OS process, its trusted channel end and why it ended.

    `pid` is the process the server started (bwrap's monitor for the bwrap kind); killing it
    takes the whole sandbox with it. Methods may be called from any thread.
    """

    def __init__(
        self,
        popen: subprocess.Popen[bytes],
        channel: Channel,
        kind: SandboxKind,
        run_dir: Path,
    ) -> None:
        self._popen = popen
        self.channel = channel
        self.kind: SandboxKind = kind
        self._run_dir = run_dir
        self._kill_reason: str | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def run_dir(self) -> Path:
        """The host directory holding the bot's files (removed by `close`)."""
        return self._run_dir

    @property
    def returncode(self) -> int | None:
        return self._popen.poll()

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code, or None if still running after `timeout` seconds."""
        try:
            return self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self, reason: str = "stopped by the server") -> None:
        """SIGKILL the process group (the first reason given is the one reported)."""
        with self._lock:
            if self._kill_reason is None and self._popen.poll() is None:
                self._kill_reason = reason
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._popen.pid, signal.SIGKILL)

    @property
    def exit_reason(self) -> str | None:
        """Why the bot ended, in words for its owner; None while it runs."""
        code = self.returncode
        if code is None:
            return None
        if self._kill_reason is not None:
            return self._kill_reason
        if self.kind == "bwrap" and code > 128:
            code = -(code - 128)  # bwrap reports a signalled child as 128 + signal
        if code == 0:
            return "exited"
        if code < 0:
            try:
                number = signal.Signals(-code)
            except ValueError:
                return f"killed by signal {-code}"
            return _SIGNAL_REASONS.get(number, f"killed by {number.name}")
        return f"exited with code {code}"

    def stderr_tail(self) -> str:
        """The end of what the process wrote to its raw stderr (bwrap or interpreter errors)."""
        path = self._run_dir / "stderr"
        try:
            with path.open("rb") as handle:
                handle.seek(max(0, path.stat().st_size - _STDERR_TAIL_BYTES))
                return handle.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self, timeout: float = 5.0) -> None:
        """Kill if still running, reap, close the channel and remove the run directory."""
        if self.returncode is None:
            self.kill()
        self.wait(timeout)
        self.channel.close()
        shutil.rmtree(self._run_dir, ignore_errors=True)

    def __enter__(self) -> BotProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def launch_bot(
    code: str | os.PathLike[str],
    spec: SandboxSpec | None = None,
    *,
    kind: SandboxKind | None = None,
) -> BotProcess:
    """Start the bot whose source is `code` (text, or a path to a .py file).

    `kind` None picks `detect_sandbox()`. The caller speaks the protocol over
    `BotProcess.channel` (the runtime first sends `hello`, then waits for `start`).
    """
    spec = spec or SandboxSpec()
    kind = kind or detect_sandbox()
    source = Path(code).read_text() if isinstance(code, os.PathLike) else code
    run_dir = scratch_dir("bot")
    try:
        bot_dir = _prepare_bot_dir(run_dir, source, kind)
        channel, bot_socket = Channel.pair(max_message_bytes=spec.max_message_bytes)
        with bot_socket, (run_dir / "stderr").open("wb") as stderr:
            inside = BOT_DIR_INSIDE if kind == "bwrap" else bot_dir
            config = {
                "fd": bot_socket.fileno(),
                "bot_file": str(inside / "bot.py"),
                "limits": spec.limits(),
                "max_message_bytes": spec.max_message_bytes,
                "extra_paths": [str(path) for path in spec.extra_paths],
                "parent_pid": os.getpid() if kind == "process" else None,
            }
            if kind == "bwrap":
                argv, drop_to = _bwrap_argv(bot_dir, spec, config)
            else:
                argv, drop_to = _process_argv(bot_dir, config), None
            popen = _start(argv, bot_socket, stderr, drop_to)
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return BotProcess(popen, channel, kind, run_dir)


def raise_open_file_limit(wanted: int = 65536) -> int:
    """Lift the server's soft limit on open files towards its hard limit; returns the new limit.

    Each running bot holds a few descriptors in the server (its channel, its process), so the
    common default soft limit of 1024 would stop a laptop at a few hundred bots.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


@cache
def detect_sandbox() -> SandboxKind:
    """'bwrap' if a bwrap sandbox really starts here (user namespaces may be blocked)."""
    return "bwrap" if bwrap_problem() is None else "process"


def bwrap_problem() -> str | None:
    """None if a trivial bot starts under bwrap, else what went wrong (for the operator's log)."""
    if not os.access(BWRAP, os.X_OK):
        return f"{BWRAP} is not installed"
    probe = "class Bot:\n    def __init__(self, api, config):\n        pass\n"
    try:
        bot = launch_bot(probe, kind="bwrap")
    except (OSError, SandboxUnavailable) as exc:
        return str(exc)
    with bot:
        error: Exception | None = None
        message = None
        try:
            message = bot.channel.recv(timeout=10.0)
        except Exception as exc:  # a closed channel or garbage: either way, not usable
            error = exc
        if message is not None and message.get("type") == "hello":
            return None
        bot.kill("sandbox probe")
        bot.wait(5.0)
        return f"bwrap did not start a bot ({error or 'no hello'}): {bot.stderr_tail().strip()}"


def _start(
    argv: list[str], bot_socket: socket.socket, stderr: IO[bytes], drop_to: tuple[int, int] | None
) -> subprocess.Popen[bytes]:
    """Popen with a clean environment and only the channel inherited; `drop_to` is (uid, gid)."""
    return subprocess.Popen(  # noqa: S603 — argv is built here, never from user input
        argv,
        env={},
        close_fds=True,
        pass_fds=(bot_socket.fileno(),),
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        cwd="/",
        user=drop_to[0] if drop_to else None,
        group=drop_to[1] if drop_to else None,
        extra_groups=[] if drop_to else None,
    )


def _prepare_bot_dir(run_dir: Path, source: str, kind: SandboxKind) -> Path:
    """`run_dir/bot`: the runtime package (stdlib-only) and the user's code, made read-only."""
    bot_dir = run_dir / "bot"
    runtime = bot_dir / "runtime" / "hyperdesk"
    shutil.copytree(
        Path(hyperdesk.bots.__file__).parent,
        runtime / "bots",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (runtime / "__init__.py").write_text('"""Only the bot runtime lives here."""\n')
    (bot_dir / "bot.py").write_text(source)
    for path in bot_dir.rglob("*"):
        path.chmod(0o555 if path.is_dir() else 0o444)
    bot_dir.chmod(0o555)
    if kind == "bwrap" and os.geteuid() == 0:
        # bwrap runs as the sandbox uid (see the module docstring) and must reach the bot's
        # files; the random directory name stays unlistable to others.
        run_dir.chmod(0o711)
    return bot_dir


def _process_argv(bot_dir: Path, config: dict[str, object]) -> list[str]:
    boot = _BOOT.format(runtime=str(bot_dir / "runtime"))
    return [str(base_executable()), "-I", "-S", "-B", "-c", boot, json.dumps(config)]


def _bwrap_argv(
    bot_dir: Path, spec: SandboxSpec, config: dict[str, object]
) -> tuple[list[str], tuple[int, int] | None]:
    home = python_home()
    argv = [
        BWRAP,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--uid", str(spec.uid),
        "--gid", str(spec.gid),
        "--hostname", "bot",
        "--ro-bind", "/usr", "/usr",
    ]  # fmt: skip
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    # /tmp first, so a bind below it (an extra path under /tmp) is not hidden by the tmpfs.
    argv += ["--size", str(spec.tmpfs_bytes), "--perms", "1777", "--tmpfs", "/tmp"]  # noqa: S108
    if home.mount_point == Path("/usr"):
        # A system interpreter: /usr is already bound; replace its stdlib with the copy's.
        argv += [
            "--ro-bind",
            str(home.stdlib_dir),
            str(home.mount_point / "lib" / home.stdlib_dir.name),
        ]
    else:
        argv += ["--ro-bind", str(home.source), str(home.mount_point)]
    empty = bot_dir.parent / "empty"
    empty.mkdir(mode=0o555, exist_ok=True)
    for hidden in _site_dirs_under_usr(home.mount_point):
        argv += ["--ro-bind", str(empty), str(hidden)]
    for extra in spec.extra_paths:
        argv += ["--ro-bind", str(extra), str(extra)]
    argv += [
        "--ro-bind", str(bot_dir), str(BOT_DIR_INSIDE),
        "--proc", "/proc",
        "--dev", "/dev",
        # bwrap's root and /dev are unbounded tmpfs mounts: read-only, /tmp is the only
        # writable (and size-limited) place.
        "--remount-ro", "/dev",
        "--remount-ro", "/",
        "--chdir", "/tmp",  # noqa: S108 — the sandbox's private tmpfs
        "--",
        str(home.executable), "-I", "-S", "-B", "-c",
        _BOOT.format(runtime=str(BOT_DIR_INSIDE / "runtime")),
        json.dumps(config),
    ]  # fmt: skip
    return argv, ((spec.uid, spec.gid) if os.geteuid() == 0 else None)


def _site_dirs_under_usr(python_prefix: Path) -> list[Path]:
    """Package directories visible through the /usr bind (a system Python's, or the server's)."""
    candidates = {Path(path) for path in site.getsitepackages()}
    candidates.add(Path(sysconfig.get_paths()["purelib"]))
    candidates.update(Path("/usr/lib").glob("python3*/dist-packages"))
    candidates.update(Path("/usr/local/lib").glob("python3*/*-packages"))
    return sorted(
        path
        for path in candidates
        if path.is_dir() and path.is_relative_to("/usr") and not path.is_relative_to(python_prefix)
    )


def wait_for_exit(bot: BotProcess, timeout: float) -> int | None:
    """Wait up to `timeout` for the bot to exit on its own, then kill it; the exit code."""
    deadline = time.monotonic() + timeout
    code = bot.wait(max(0.0, deadline - time.monotonic()))
    if code is None:
        bot.kill("did not stop in time")
        code = bot.wait(5.0)
    return code


__all__ = [
    "BotProcess",
    "SandboxKind",
    "SandboxSpec",
    "SandboxUnavailable",
    "bwrap_problem",
    "detect_sandbox",
    "launch_bot",
    "wait_for_exit",
]
