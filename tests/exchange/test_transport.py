"""`ActionTransport`: the signer's POST to /exchange, directly or through the environment's proxy,
and the two ways a send can fail (certainly not applied, or outcome unknown)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import requests

from hyperdesk.exchange.transport import ActionTransport, SendRefused, SendUnknown

#: Not a valid action: the exchange answers it with an error, which is all these tests need.
NOT_AN_ACTION = {"action": {"type": "nonsense"}, "nonce": 1, "signature": {}}


class ForwardProxy:
    """An HTTP forward proxy on loopback that records the absolute URLs it was asked for."""

    def __init__(self) -> None:
        self.requested: list[str] = []
        self.upstream = requests.Session()
        self.upstream.trust_env = False  # the test sets HTTP_PROXY to this very proxy
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                return

            def do_POST(self) -> None:
                proxy.requested.append(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream = proxy.upstream.post(
                    self.path, data=body, headers={"Content-Type": "application/json"}, timeout=10
                )
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                self.wfile.write(upstream.content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.upstream.close()


@pytest.fixture
def forward_proxy() -> Iterator[ForwardProxy]:
    proxy = ForwardProxy()
    yield proxy
    proxy.close()


def _no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_an_action_is_posted_to_the_exchange_and_its_answer_read(paper_server, monkeypatch):
    _no_proxy_settings(monkeypatch)
    transport = ActionTransport(paper_server.base_url, timeout=5)
    try:
        answers = [transport.post(NOT_AN_ACTION) for _ in range(3)]  # one kept-alive connection
    finally:
        transport.close()
    assert {a.status for a in answers} == {answers[0].status}
    assert answers[0].body  # the exchange's own answer, whatever it says of the nonsense


def test_the_environments_proxy_is_used(paper_server, forward_proxy, monkeypatch):
    _no_proxy_settings(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", forward_proxy.url)
    transport = ActionTransport(paper_server.base_url, timeout=5)
    try:
        answer = transport.post(NOT_AN_ACTION)
    finally:
        transport.close()
    host = urlsplit(paper_server.base_url).netloc
    assert forward_proxy.requested == [f"http://{host}/exchange"]
    assert answer.body


def test_a_server_that_cannot_be_reached_is_a_send_refused(monkeypatch):
    _no_proxy_settings(monkeypatch)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = ActionTransport(f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(SendRefused):
        transport.post(NOT_AN_ACTION)


def test_a_server_that_takes_the_request_and_never_answers_is_a_send_unknown(monkeypatch):
    _no_proxy_settings(monkeypatch)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    transport = ActionTransport(f"http://127.0.0.1:{port}", timeout=0.3)
    try:
        with pytest.raises(SendUnknown):
            transport.post(NOT_AN_ACTION)
    finally:
        listener.close()


class ClosesAfterEachAnswer:
    """Answers a POST as if keeping the connection alive, then closes it: what a server does to a
    connection left idle past its keep-alive timeout."""

    def __init__(self) -> None:
        self.connections = 0
        self.closed = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                return

            def setup(self) -> None:
                server.connections += 1
                super().setup()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()  # no "Connection: close": the client keeps the connection
                self.wfile.write(b"{}")
                self.close_connection = True

        class Server(ThreadingHTTPServer):
            def shutdown_request(self, request) -> None:
                super().shutdown_request(request)  # the socket is closed here
                server.closed.set()

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_kept_alive_connection_the_server_closed_is_replaced_before_the_next_send(monkeypatch):
    _no_proxy_settings(monkeypatch)
    server = ClosesAfterEachAnswer()
    transport = ActionTransport(server.url, timeout=2)
    try:
        for _ in range(3):
            server.closed.clear()
            assert transport.post(NOT_AN_ACTION).status == 200  # never SendUnknown
            assert server.closed.wait(5)
    finally:
        transport.close()
        server.close()
    assert server.connections == 3


class Scripted:
    """A server that reads each request whole and answers with exactly the bytes it is given
    (one answer per request, in order), recording each request's head; it closes a connection
    after an answer marked to close."""

    def __init__(self, answers: list[tuple[bytes, bool]]) -> None:
        self.heads: list[bytes] = []
        self.connections = 0
        self._answers = list(answers)
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self._answers:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                while self._answers:
                    request = self._read_request(conn)
                    if request is None:
                        break
                    answer, close = self._answers.pop(0)
                    conn.sendall(answer)
                    if close:
                        break

    def _read_request(self, conn: socket.socket) -> bytes | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(body) < length:
            body += conn.recv(65536)
        self.heads.append(head)
        return head

    def close(self) -> None:
        self._listener.close()


def _post_all(answers: list[tuple[bytes, bool]], posts: int) -> tuple[list, Scripted]:
    server = Scripted(answers)
    transport = ActionTransport(server.url, timeout=2)
    try:
        results = []
        for _ in range(posts):
            try:
                results.append(transport.post(NOT_AN_ACTION))
            except SendUnknown as exc:
                results.append(exc)
        return results, server
    finally:
        transport.close()
        server.close()


def test_the_request_names_its_host_type_length_and_asks_for_no_compression(monkeypatch):
    _no_proxy_settings(monkeypatch)
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    results, server = _post_all([(answer, False)], 1)
    assert results[0].status == 200
    request_line, *headers = server.heads[0].decode().split("\r\n")
    assert request_line == "POST /exchange HTTP/1.1"
    fields = {name.lower(): value.strip() for name, value in (h.split(":", 1) for h in headers)}
    assert fields["host"] == urlsplit(server.url).netloc
    assert fields["content-type"] == "application/json"
    assert fields["accept-encoding"] == "identity"
    assert int(fields["content-length"]) > 0


def test_chunked_answers_are_read_whole_and_the_connection_kept(monkeypatch):
    _no_proxy_settings(monkeypatch)
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'4\r\n{"st\r\n9\r\natus":"ok\r\n2\r\n"}\r\n0\r\n\r\n'
    )
    results, server = _post_all([(chunked, False), (chunked, False)], 2)
    assert [r.json() for r in results] == [{"status": "ok"}, {"status": "ok"}]
    assert server.connections == 1


def test_an_interim_answer_is_skipped_for_the_final_one(monkeypatch):
    _no_proxy_settings(monkeypatch)
    answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n[1,2]"[:-1]
    results, _ = _post_all([(answer, False)], 1)
    assert results[0].status == 200
    assert results[0].body == b"[1,2"


def test_an_answer_that_ends_with_its_connection_is_read_and_the_next_send_reconnects(
    monkeypatch,
):
    _no_proxy_settings(monkeypatch)
    until_close = b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"a":1}'
    sized_close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"
    results, server = _post_all([(until_close, True), (sized_close, True)], 2)
    assert results[0].json() == {"a": 1}
    assert results[1].json() == {}
    assert server.connections == 2


def test_an_answer_cut_short_is_a_send_unknown_and_the_connection_replaced(monkeypatch):
    _no_proxy_settings(monkeypatch)
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}"
    whole = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    garbage = b"HTTP/1.1 20x nonsense\r\n\r\n"
    results, server = _post_all([(cut, True), (garbage, True), (whole, False)], 3)
    assert isinstance(results[0], SendUnknown)
    assert isinstance(results[1], SendUnknown)
    assert results[2].status == 200
    assert server.connections == 3
