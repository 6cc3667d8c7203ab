"""The README's way of running the app: `python main.py`, as a real OS process over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]


def _request(url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - loopback only
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _start(tmp_path: Path, database_url: str, **env: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HYPERDESK_PORT": str(port),
        "HYPERDESK_DATA_DIR": str(tmp_path / "data"),
        "HYPERDESK_DATABASE_URL": database_url,
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "main.py"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, f"http://127.0.0.1:{port}"


def test_main_serves_health_docs_and_accounts_then_stops_cleanly_on_sigterm(
    tmp_path, empty_database_url
):
    database_url = empty_database_url
    process, base = _start(tmp_path, database_url)
    try:
        wait_until(lambda: _request(f"{base}/api/health")[0] == 200, timeout=60, message="health")
        status, health = _request(f"{base}/api/health")
        assert health["status"] == "ok"
        with urllib.request.urlopen(f"{base}/api/docs", timeout=5) as docs:  # noqa: S310
            assert docs.status == 200

        credentials = {"username": "alice", "password": "correct horse battery"}
        assert _request(f"{base}/api/auth/register", credentials)[0] == 201
        status, token = _request(f"{base}/api/auth/login", credentials)
        assert status == 200
        status, me = _request(f"{base}/api/auth/me", token=token["access_token"])
        assert (status, me["username"]) == (200, "alice")

        secret = tmp_path / "data" / "jwt.secret"
        assert secret.stat().st_mode & 0o777 == 0o600
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output


@pytest.mark.parametrize("network", ["testnet", "mainnet"])
def test_a_real_network_refuses_to_start_without_its_secrets(tmp_path, database_url, network):
    process, _ = _start(tmp_path, database_url, HYPERDESK_NETWORK=network)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "cannot start" in output
    assert "jwt.secret" in output or "HYPERDESK_JWT_SECRET_FILE" in output
    assert not (tmp_path / "data" / "jwt.secret").exists()


def test_a_real_network_refuses_to_start_without_its_master_key(tmp_path, database_url):
    secret = tmp_path / "data" / "jwt.secret"
    secret.parent.mkdir(parents=True)
    secret.write_text("ab" * 32)
    process, _ = _start(tmp_path, database_url, HYPERDESK_NETWORK="testnet")
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "master key file" in output
    assert "rotate-master-key" in output
    assert not (tmp_path / "data" / "master.keys").exists()
