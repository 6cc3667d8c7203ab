"""The app as production runs it (Runtime + uvicorn on loopback) against a live paper exchange
(real clock, ticking prices), and the built browser app it serves. Shared by the browser tests
and `bench/frontend_load.py`."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from hyperdesk.http.app import FRONTEND_DIR, create_app
from hyperdesk.http.routes.live import MAX_CLIENT_MESSAGE
from hyperdesk.paper.clock import SystemClock
from hyperdesk.runtime import Runtime
from hyperdesk.services import Services
from hyperdesk.settings import Settings
from tests.fixtures.paper import PaperHandle, paper_test_config, start_paper_server
from tests.helpers import free_port, wait_until

FRONTEND_SOURCES = FRONTEND_DIR.parent
CHROMIUM = Path("/usr/bin/chromium")


@dataclass
class Served:
    base_url: str
    services: Services
    paper: PaperHandle


def ensure_frontend_built() -> Path:
    """`frontend/dist`, built first when missing (npm ci when node_modules is missing too)."""
    if (FRONTEND_DIR / "index.html").is_file():
        return FRONTEND_DIR
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("frontend/dist is missing and npm is not installed to build it")
    if not (FRONTEND_SOURCES / "node_modules").is_dir():
        subprocess.run([npm, "ci"], cwd=FRONTEND_SOURCES, check=True, timeout=600)
    subprocess.run([npm, "run", "build"], cwd=FRONTEND_SOURCES, check=True, timeout=600)
    if not (FRONTEND_DIR / "index.html").is_file():
        raise RuntimeError("npm run build did not produce frontend/dist/index.html")
    return FRONTEND_DIR


def snapshot_frontend(target: Path) -> Path:
    """A private copy of the built app: a rebuild of `frontend/dist` during the run (it is
    emptied first) must not pull the files from under the server."""
    return Path(shutil.copytree(ensure_frontend_built(), target))


@contextmanager
def serve_app(data_dir: Path, frontend_dir: Path = FRONTEND_DIR) -> Iterator[Served]:
    """Everything a browser needs, on free loopback ports; stopped on exit."""
    paper = start_paper_server(paper_test_config(), SystemClock())
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'hyperdesk.db'}",
        exchange_url=paper.base_url,
        stream_poll_seconds=0.2,
        # every test registers its own user from 127.0.0.1
        registrations_per_hour=1000,
        login_requests_per_minute=1000,
        heavy_requests_per_user_burst=20,
    )
    runtime = Runtime(settings)
    try:
        services = runtime.start()
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(services, frontend_dir=frontend_dir),
                host="127.0.0.1",
                port=port,
                log_level="warning",
                ws_max_size=MAX_CLIENT_MESSAGE,
                timeout_graceful_shutdown=2,
            )
        )
        thread = threading.Thread(target=server.run, name="uvicorn-browser", daemon=True)
        thread.start()
        try:
            wait_until(lambda: server.started, timeout=30, message="uvicorn to start")
            yield Served(f"http://127.0.0.1:{port}", services, paper)
        finally:
            server.should_exit = True
            thread.join(timeout=30)
    finally:
        runtime.stop()
        paper.close()
