"""The browser app's first load: bytes over the wire and time until it can be used.

The real app (``python main.py`` as a subprocess: embedded paper exchange, SQLite in a temporary
directory) serves the built ``frontend/dist``; headless Chromium (Debian's, ``/usr/bin/chromium``)
opens it on loopback with an empty cache, ``--runs`` times, each in a fresh browser context:

* transferred: every response's encoded body plus headers (what crossed the socket, gzipped
  where the server compresses), and the same bodies uncompressed, for the login page a new
  visitor gets;
* interactive: ``performance.now()`` (from the start of navigation) when the login form's inputs
  exist, rendered by the app with their handlers attached;
* trade screen: after logging in, the time from clicking "Trade" until the candle chart has drawn
  (market list, candles, book and account fetched over the API).

Not a test: it prints figures (median and worst of the runs).

    (cd frontend && npm ci && npm run build)
    .venv/bin/python bench/frontend_load.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PASSWORD = uuid.uuid4().hex


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_app(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HYPERDESK_PORT": str(port),
        "HYPERDESK_DATA_DIR": str(data_dir),
    }
    process = subprocess.Popen(
        [sys.executable, "main.py"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/health", timeout=2).status_code == 200:
                return process, base
        except requests.RequestException:
            pass
        if process.poll() is not None:
            raise SystemExit("the app exited while starting")
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the app did not start within 90 s")


def _first_load(browser: object, base: str) -> tuple[int, int, float]:
    context = browser.new_context(base_url=base)  # type: ignore[attr-defined]
    page = context.new_page()
    responses: list[object] = []
    page.on("response", lambda response: responses.append(response))
    page.goto("/")
    ready_ms = page.wait_for_function(
        "() => document.querySelector('input[name=username]') && performance.now()"
    ).json_value()
    page.wait_for_load_state("networkidle")
    wire = plain = 0
    for response in responses:
        sizes = response.request.sizes()  # type: ignore[attr-defined]
        wire += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        plain += len(response.body())  # type: ignore[attr-defined]
    context.close()
    return wire, plain, float(ready_ms)


def _trade_screen(browser: object, base: str, username: str) -> float:
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()
    started = page.evaluate("performance.now()")
    page.get_by_role("link", name="Trade", exact=True).click()
    page.locator("[data-testid=chart] canvas").first.wait_for()
    page.wait_for_function("() => document.querySelector('[data-testid=book] tr')")
    elapsed = page.evaluate("performance.now()") - started
    context.close()
    return float(elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not (REPO / "frontend" / "dist" / "index.html").is_file():
        raise SystemExit("build the app first: (cd frontend && npm ci && npm run build)")

    with tempfile.TemporaryDirectory(prefix="hyperdesk-bench-") as tmp:
        process, base = _start_app(Path(tmp))
        try:
            username = f"bench{uuid.uuid4().hex[:8]}"
            credentials = {"username": username, "password": PASSWORD}
            requests.post(f"{base}/api/auth/register", json=credentials, timeout=10)
            token = requests.post(f"{base}/api/auth/login", json=credentials, timeout=10).json()
            auth = {"Authorization": f"Bearer {token['access_token']}"}
            requests.post(f"{base}/api/wallets", json={"label": "bench"}, headers=auth, timeout=30)

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
                _first_load(browser, base)  # warm the server's gzip cache and the OS
                loads = [_first_load(browser, base) for _ in range(args.runs)]
                trades = [_trade_screen(browser, base, username) for _ in range(args.runs)]
                version = browser.version
                browser.close()
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)

    wire = [w for w, _, _ in loads]
    plain = [p for _, p, _ in loads]
    ready = [r for _, _, r in loads]
    print(f"chromium {version}, {args.runs} runs, cold cache each, loopback")
    print(
        f"first load transferred: {statistics.median(wire) / 1024:.1f} KiB compressed "
        f"({statistics.median(plain) / 1024:.1f} KiB uncompressed)"
    )
    print(
        f"first load interactive: median {statistics.median(ready):.0f} ms, "
        f"worst {max(ready):.0f} ms"
    )
    print(
        f"trade screen drawn after login: median {statistics.median(trades):.0f} ms, "
        f"worst {max(trades):.0f} ms"
    )


if __name__ == "__main__":
    main()
