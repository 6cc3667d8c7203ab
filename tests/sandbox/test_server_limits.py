"""The server lifts its own open-file limit so a thousand bots' channels fit."""

from __future__ import annotations

import resource

import pytest

from hyperdesk.sandbox.launcher import raise_open_file_limit


def test_the_soft_limit_is_raised_towards_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip(f"the hard limit on open files here is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    try:
        assert raise_open_file_limit(4096) == 4096
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == 4096
        assert raise_open_file_limit(2048) == 4096  # never lowered
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
