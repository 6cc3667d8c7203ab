"""The frame format of the bot channel, shared by the sandboxed runtime and the trusted side.

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON (one object).
Length-prefixed rather than newline-delimited so the reader learns the size from the first four
bytes and can refuse an oversized frame without buffering it. The format is JSON and only JSON:
`multiprocessing` connections unpickle what they receive, which lets the sending side run code
in the receiver.

This module runs inside the sandbox, so it imports only the standard library.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from typing import Any

HEADER = struct.Struct(">I")
MAX_MESSAGE_BYTES = 64 * 1024


class FrameTooLarge(ValueError):
    """An outgoing message does not fit in one frame."""


def encode_frame(message: dict[str, Any], max_bytes: int = MAX_MESSAGE_BYTES) -> bytes:
    """One frame for `message`; NaN and infinities are refused (they are not JSON)."""
    body = json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    if len(body) > max_bytes:
        raise FrameTooLarge(f"message of {len(body)} bytes exceeds the {max_bytes}-byte frame cap")
    return HEADER.pack(len(body)) + body


class BotChannel:
    """The bot's blocking end of the socket pair.

    `send` may be called from any thread; `recv` from one reader thread only. The bot trusts what
    the server sends, so decoding here is plain; the strict, bounded reader is the trusted side's
    (hyperdesk.sandbox.channel).
    """

    def __init__(self, sock: socket.socket, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self._sock = sock
        self._max_bytes = max_bytes
        self._send_lock = threading.Lock()

    @classmethod
    def from_fd(cls, fd: int, max_bytes: int = MAX_MESSAGE_BYTES) -> BotChannel:
        return cls(socket.socket(fileno=fd), max_bytes)

    def send(self, message: dict[str, Any]) -> None:
        frame = encode_frame(message, self._max_bytes)
        with self._send_lock:
            self._sock.sendall(frame)

    def recv(self) -> dict[str, Any]:
        """The next message; EOFError when the server closed the channel."""
        (length,) = HEADER.unpack(self._read_exactly(HEADER.size))
        if length > self._max_bytes:
            raise EOFError(f"server frame of {length} bytes exceeds the cap")
        message = json.loads(self._read_exactly(length).decode("utf-8"))
        if not isinstance(message, dict):
            raise EOFError("server sent a frame that is not a JSON object")
        return message

    def close(self) -> None:
        self._sock.close()

    def _read_exactly(self, size: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < size:
            chunk = self._sock.recv(size - len(chunks))
            if not chunk:
                raise EOFError("channel closed")
            chunks += chunk
        return bytes(chunks)
