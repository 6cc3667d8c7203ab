"""Resource limits and parent-death signal, applied by the runtime before any user code runs.

They are applied inside the sandboxed process rather than in a `preexec_fn` (which is unsafe in
a threaded server such as the actor system) or on bwrap (where `RLIMIT_NPROC` would count every
process of the launching uid on the host instead of the bot's own). Once lowered, a hard limit
cannot be raised again without CAP_SYS_RESOURCE, which the bot does not have.

This module runs inside the sandbox, so it imports only the standard library.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal

_LIMITS = {
    "memory_bytes": resource.RLIMIT_AS,
    "max_open_files": resource.RLIMIT_NOFILE,
    "max_processes": resource.RLIMIT_NPROC,
    "max_file_bytes": resource.RLIMIT_FSIZE,
}
_PR_SET_PDEATHSIG = 1
# Seconds between SIGXCPU (soft limit; a bot may catch it) and SIGKILL (hard limit).
CPU_GRACE_SECONDS = 2


def apply_limits(limits: dict[str, int]) -> None:
    """Set soft = hard for each named limit; `cpu_seconds` gets a short grace to the kill."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for name, which in _LIMITS.items():
        if name in limits:
            resource.setrlimit(which, (limits[name], limits[name]))
    if "cpu_seconds" in limits:
        cpu = limits["cpu_seconds"]
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + CPU_GRACE_SECONDS))


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel for SIGKILL when the parent dies; exit now if it already has.

    The weak sandbox needs this (bwrap has --die-with-parent). The check after prctl closes the
    race where the parent died before the signal was armed.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:
        os._exit(1)
