"""A loopback HTTP proxy in front of the paper exchange that can lose exchange answers.

It is the honest way to reproduce "the order reached the exchange but the answer never came
back" (a timeout or a connection reset): the request really is forwarded and executed, then the
proxy closes the client's connection without answering. ``blackhole`` instead drops the request
before forwarding (the exchange never sees it).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class LossyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.lose_next_order_answer = False
        self.blackhole_next_order = False
        self.forwarded_orders = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output quiet
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                is_order = False
                if self.path == "/exchange":
                    try:
                        is_order = json.loads(body)["action"]["type"] == "order"
                    except (ValueError, KeyError, TypeError):
                        is_order = False
                with proxy._lock:
                    blackhole = is_order and proxy.blackhole_next_order
                    lose = is_order and proxy.lose_next_order_answer and not blackhole
                    if blackhole:
                        proxy.blackhole_next_order = False
                    if lose:
                        proxy.lose_next_order_answer = False
                if blackhole:
                    self.close_connection = True
                    return
                answer = requests.post(
                    proxy.upstream + self.path,
                    data=body,
                    headers={"Content-Type": "application/json"},
                    timeout=10,
                )
                if is_order:
                    with proxy._lock:
                        proxy.forwarded_orders += 1
                if lose:
                    self.close_connection = True  # executed upstream, answer lost
                    return
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "text/plain"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LossyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
