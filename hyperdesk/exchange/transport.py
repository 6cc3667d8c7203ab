"""``ActionTransport``: how a signer's actions reach ``/exchange``.

Every order, cancel and modify is one POST on this path, so its client cost is paid on every
trade. Measured here against a trivial local server, per call: ``requests`` (what the SDK posts
with) spends about 0.3-0.9 ms of CPU depending on the machine's load, ``urllib3`` (which
``requests`` sits on) 0.16-0.17 ms, and the standard library's ``http.client`` on one kept-alive
connection 0.09-0.11 ms. Against the paper exchange, ``http.client`` still spent ~0.22 ms of CPU
per action (its headers go through the ``email`` parser, its reads through a buffered file) and
the request and its answer ~0.2 ms more of wall time than one ``sendall`` of the whole request and
``httptools``'s C parser (llhttp, what uvicorn parses requests with) over the same socket: ~0.05 ms.
So ``http.client`` only makes connections (TCP, a proxy's CONNECT tunnel, TLS and its checks) and
the request and answer go over its socket directly.

The transport keeps what matters of the SDK's client: a timeout on every call, proxies from the
environment (read once), TLS verification, a connection the server dropped while idle replaced
before it is used, and no retries of its own: a send whose outcome is unknown is the caller's to
resolve by cloid, never to repeat.

One transport per signer, used only from that signer's actor thread (one connection, no lock).
"""

from __future__ import annotations

import http.client
import json
import os
import select
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httptools
import requests


class SendRefused(Exception):
    """Nothing reached the server (no connection could be made): certainly not applied."""


class SendUnknown(Exception):
    """The request may have reached the server, but no complete answer came back."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _Reading:
    """``httptools`` callbacks gathering one final answer (an interim 1xx one is skipped)."""

    __slots__ = ("chunks", "complete", "headers_done", "interim", "keep_alive", "parser", "sized")

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.complete = False
        self.keep_alive = False
        self._start()

    def _start(self) -> None:
        self.chunks: list[bytes] = []
        self.headers_done = False
        self.interim = False
        self.sized = False  # a Content-Length or a chunked body: it does not end at close

    def on_header(self, name: bytes, _value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.sized = True

    def on_headers_complete(self) -> None:
        self.headers_done = True
        self.interim = self.parser.get_status_code() < 200

    def on_body(self, data: bytes) -> None:
        self.chunks.append(data)

    def on_message_complete(self) -> None:
        if self.interim:
            self._start()  # the final answer follows on the same connection
        else:
            self.complete = True
            # Asked here: once the message is done, the parser no longer knows.
            self.keep_alive = self.parser.should_keep_alive()


class ActionTransport:
    def __init__(self, base_url: str, *, timeout: float) -> None:
        target = urlsplit(base_url)
        if target.scheme not in ("http", "https") or not target.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._timeout = timeout
        self._https = target.scheme == "https"
        default_port = 443 if self._https else 80
        self._host = target.hostname
        self._port = target.port or default_port
        self._path = target.path.rstrip("/") + "/exchange"
        self._tls: ssl.SSLContext | None = None
        if self._https:
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            self._tls = ssl.create_default_context(cafile=bundle or None)
        proxy = _proxy_for(base_url)
        self._proxy = urlsplit(proxy) if proxy else None
        # Through a proxy, plain HTTP asks it for the absolute URL; HTTPS tunnels (CONNECT).
        self._target = (
            base_url.rstrip("/") + "/exchange"
            if self._proxy is not None and not self._https
            else self._path
        )
        name = f"[{self._host}]" if ":" in self._host else self._host  # an IPv6 literal
        host = name if self._port == default_port else f"{name}:{self._port}"
        self._head = (
            f"POST {self._target} HTTP/1.1\r\nHost: {host}\r\n"
            "Accept-Encoding: identity\r\nContent-Type: application/json\r\nContent-Length: "
        ).encode("ascii")
        self._connection: http.client.HTTPConnection | None = None

    def post(self, payload: dict[str, Any]) -> Answer:
        body = json.dumps(payload, separators=(",", ":")).encode()
        connection = self._connected()
        sock = connection.sock
        try:
            sock.sendall(b"%s%d\r\n\r\n%s" % (self._head, len(body), body))
            status, data, keep_alive = _answer(sock)
        except (OSError, httptools.HttpParserError) as exc:
            self.close()
            raise SendUnknown(f"{type(exc).__name__}: {exc}") from exc
        if not keep_alive:
            self.close()
        return Answer(status, data)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connected(self) -> http.client.HTTPConnection:
        """The kept-alive connection, or a new one; `SendRefused` if none can be made."""
        connection = self._connection
        if connection is not None and _dropped(connection):
            self.close()
            connection = None
        if connection is None:
            connection = self._new_connection()
            try:
                connection.connect()
            except OSError as exc:
                connection.close()
                raise SendRefused(f"{type(exc).__name__}: {exc}") from exc
            self._connection = connection
        return connection

    def _new_connection(self) -> http.client.HTTPConnection:
        host, port = self._host, self._port
        if self._proxy is not None:
            host = self._proxy.hostname or host
            port = self._proxy.port or (443 if self._proxy.scheme == "https" else 80)
        if self._https:
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                host, port, timeout=self._timeout, context=self._tls
            )
            if self._proxy is not None:
                connection.set_tunnel(self._host, self._port)
            return connection
        return http.client.HTTPConnection(host, port, timeout=self._timeout)


def _answer(sock: Any) -> tuple[int, bytes, bool]:
    """Read one whole answer: its status, body, and whether the connection stays open.
    ``OSError`` (a timeout too) or ``HttpParserError`` when no complete, well-formed one came."""
    reading = _Reading()
    while not reading.complete:
        data = sock.recv(65536)
        if not data:
            if reading.headers_done and not reading.sized and not reading.interim:
                break  # a body that ends when the connection does
            raise ConnectionError("the connection closed before the answer was complete")
        reading.parser.feed_data(data)
    return reading.parser.get_status_code(), b"".join(reading.chunks), reading.keep_alive


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """True when the server closed the idle connection (it is readable: end of file or a stray
    byte); sending on it would end in an error after the request may have been written."""
    sock = connection.sock
    if sock is None:
        return True
    poller = select.poll()  # not select(): a process with many signers has descriptors > 1023
    poller.register(sock, select.POLLIN)
    try:
        return bool(poller.poll(0))
    except OSError:
        return True


def _proxy_for(base_url: str) -> str | None:
    """The proxy the environment names for this URL (``HTTPS_PROXY``, ``NO_PROXY``, …), read the
    way ``requests`` reads it, once."""
    proxies = requests.utils.get_environ_proxies(base_url)
    scheme = urlsplit(base_url).scheme
    return proxies.get(scheme) or proxies.get("all")
