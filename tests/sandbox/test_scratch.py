"""Scratch directories left by a killed server are removed by the next one, a live one's kept."""

from __future__ import annotations

import os
import subprocess
import sys

from hyperdesk.sandbox.scratch import sweep_stale


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _read_only_tree(path):
    (path / "bot").mkdir(parents=True)
    (path / "bot" / "bot.py").write_text("class Bot: ...\n")
    (path / "bot" / "bot.py").chmod(0o444)
    (path / "bot").chmod(0o555)


def test_only_directories_of_servers_that_are_gone_are_removed(tmp_path):
    stale = tmp_path / f"hyperdesk-bot-{_dead_pid()}-abc"
    stale_home = tmp_path / f"hyperdesk-python-{_dead_pid()}-def"
    live = tmp_path / f"hyperdesk-bot-{os.getppid()}-ghi"
    mine = tmp_path / f"hyperdesk-python-{os.getpid()}-jkl"
    unrelated = tmp_path / "hyperdesk-bench-bots-123-x"
    for path in (stale, stale_home, live, mine, unrelated):
        _read_only_tree(path)

    removed = sweep_stale(tmp_path)

    assert sorted(removed) == sorted([stale, stale_home])
    assert not stale.exists()
    assert not stale_home.exists()
    assert live.exists()
    assert mine.exists()
    assert unrelated.exists()
