"""SQLite's WAL is copied back by the checkpointer's thread, never inside an app's commit."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from hyperdesk.persistence.checkpoints import WalCheckpointer
from hyperdesk.persistence.database import make_engine
from tests.helpers import wait_until

PAGE = 4096
#: SQLite's own threshold: a commit that finds the log past this many pages checkpoints it.
AUTOCHECKPOINT_PAGES = 1000


def _write_pages(engine: Engine, pages: int) -> None:
    """Many small commits, each adding about one page of log."""
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS filler (v BLOB)"))
    for _ in range(pages):
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO filler (v) VALUES (randomblob(3000))"))


def _log_size(path: Path) -> int:
    return path.with_name(path.name + "-wal").stat().st_size


def test_commits_leave_the_log_alone_when_checkpoints_run_in_the_background(tmp_path):
    default_path, background_path = tmp_path / "default.db", tmp_path / "background.db"
    default = make_engine(f"sqlite:///{default_path}")
    background = make_engine(f"sqlite:///{background_path}", background_checkpoints=True)
    try:
        _write_pages(default, 1500)
        _write_pages(background, 1500)
        # By default a commit past the threshold copied the log back and it started over.
        assert _log_size(default_path) < (AUTOCHECKPOINT_PAGES + 200) * PAGE
        assert _log_size(background_path) > (AUTOCHECKPOINT_PAGES + 400) * PAGE
    finally:
        default.dispose()
        background.dispose()


def test_the_checkpointer_copies_the_whole_log_back_on_its_own_thread(tmp_path):
    path = tmp_path / "app.db"
    engine = make_engine(f"sqlite:///{path}", background_checkpoints=True)
    _write_pages(engine, 200)
    checkpointer = WalCheckpointer(engine, interval=0.05).start()
    try:
        # SQLite's own answer: every frame in the log is in the database file.
        wait_until(
            lambda: (
                checkpointer.last is not None
                and checkpointer.last[1] >= 200
                and checkpointer.last[1] == checkpointer.last[2]
            ),
            message="a checkpoint that copied the whole log",
        )
    finally:
        checkpointer.stop()
        engine.dispose()
