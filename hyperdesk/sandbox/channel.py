"""The trusted end of a bot's socket pair: bounded frames, strict JSON, typed violations.

Everything that arrives here was written by hostile code. The reader therefore

- learns a frame's length from its 4-byte header and refuses an oversized frame before reading
  its body (a bot announcing or sending 100 MB costs the server four bytes of buffer);
- decodes strictly: invalid UTF-8, malformed JSON, NaN/Infinity, duplicate keys, nesting deep
  enough to exhaust the recursion limit, or a top level that is not an object all raise
  `ProtocolViolation`, never anything that escapes as a crash;
- never unpickles (the reason this is not a `multiprocessing` Pipe);
- goes broken after the first violation: framing is lost, so every later `recv` raises again.

`recv(timeout)` is meant for one reader thread (e.g. the thread of the actor that owns the bot);
`send` may be called from any thread and gives up after `send_timeout` if the bot stops reading.
The frame format itself lives in hyperdesk.bots.wire, which the sandboxed runtime shares.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from typing import Any, NoReturn

from hyperdesk.bots.wire import HEADER, MAX_MESSAGE_BYTES, FrameTooLarge, encode_frame

__all__ = ["Channel", "ChannelClosed", "ProtocolViolation"]

_READ_CHUNK = 64 * 1024
_MAX_NESTING = 64


class ProtocolViolation(Exception):
    """The bot sent something that is not a valid message; `code` says what kind of garbage."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ChannelClosed(Exception):
    """The bot's end is gone (it exited, or closed its socket), or the send timed out."""


class Channel:
    """Length-prefixed JSON over one end of a Unix socket pair."""

    def __init__(
        self,
        sock: socket.socket,
        *,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        send_timeout: float = 5.0,
    ) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._max = max_message_bytes
        self._send_timeout = send_timeout
        self._buffer = bytearray()
        self._send_lock = threading.Lock()
        self._recv_lock = threading.Lock()
        self._violation: ProtocolViolation | None = None
        self._closed = False
        self.bytes_received = 0

    @classmethod
    def pair(cls, *, max_message_bytes: int = MAX_MESSAGE_BYTES) -> tuple[Channel, socket.socket]:
        """A trusted `Channel` and the raw socket to hand to the bot process."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        return cls(ours, max_message_bytes=max_message_bytes), theirs

    @property
    def max_message_bytes(self) -> int:
        return self._max

    def fileno(self) -> int:
        return self._sock.fileno()

    def send(self, message: dict[str, Any]) -> None:
        """Send one message; ChannelClosed if the bot is gone or does not read within the timeout."""
        try:
            frame = memoryview(encode_frame(message, self._max))
        except FrameTooLarge as exc:
            raise ValueError(str(exc)) from exc
        deadline = time.monotonic() + self._send_timeout
        with self._send_lock:
            while frame:
                if self._closed:
                    raise ChannelClosed("channel closed")
                try:
                    sent = self._sock.send(frame)
                except BlockingIOError:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise ChannelClosed("the bot stopped reading its channel") from None
                    _wait_for(self._sock, select.POLLOUT, min(remaining, 0.5))
                    continue
                except OSError as exc:
                    raise ChannelClosed(f"send failed: {exc}") from exc
                frame = frame[sent:]

    def recv(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next message, or None if none arrived within `timeout` seconds (None: wait forever).

        Raises ProtocolViolation for a bad frame (and for every call after one) and ChannelClosed
        when the bot's end is closed.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._recv_lock:
            while True:
                if self._violation is not None:
                    raise self._violation
                body = self._take_frame()
                if body is not None:
                    return self._decode(body)
                if self._closed:
                    raise ChannelClosed("channel closed")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                if _wait_for(self._sock, select.POLLIN, remaining):
                    self._fill()

    def close(self) -> None:
        self._closed = True
        self._sock.close()

    def _needed(self) -> int:
        """How many bytes the current frame still lacks (header first, then body)."""
        if len(self._buffer) < HEADER.size:
            return HEADER.size - len(self._buffer)
        (length,) = HEADER.unpack_from(self._buffer)
        return HEADER.size + length - len(self._buffer)

    def _fill(self) -> None:
        # Never read past the current frame's end, so the buffer is bounded by one frame.
        try:
            chunk = self._sock.recv(min(self._needed(), _READ_CHUNK))
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._closed = True
            return
        self.bytes_received += len(chunk)
        self._buffer += chunk

    def _take_frame(self) -> bytes | None:
        if len(self._buffer) < HEADER.size:
            return None
        (length,) = HEADER.unpack_from(self._buffer)
        if length > self._max:
            self._fail("OVERSIZE", f"frame of {length} bytes exceeds the {self._max}-byte cap")
        if len(self._buffer) < HEADER.size + length:
            return None
        body = bytes(self._buffer[HEADER.size : HEADER.size + length])
        del self._buffer[: HEADER.size + length]
        return body

    def _decode(self, body: bytes) -> dict[str, Any]:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._fail("INVALID_UTF8", str(exc))
        brackets = text.count("[") + text.count("{")
        if brackets > _MAX_NESTING and _nesting_depth(text) > _MAX_NESTING:
            self._fail("BAD_JSON", f"nesting deeper than {_MAX_NESTING}")
        try:
            value = json.loads(
                text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys
            )
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            self._fail("BAD_JSON", str(exc)[:200])
        if not isinstance(value, dict):
            self._fail("BAD_JSON", "a message must be a JSON object")
        return value

    def _fail(self, code: str, message: str) -> NoReturn:
        self._violation = ProtocolViolation(code, message)
        self._buffer.clear()
        raise self._violation


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key in object")
    return result


def _nesting_depth(text: str) -> int:
    """Bracket depth, ignoring strings; checked before json.loads so no recursion is spent."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _wait_for(sock: socket.socket, events: int, timeout: float | None) -> bool:
    """Wait until `sock` is ready for `events` (or closed); False on timeout.

    poll, not select: select cannot watch a descriptor numbered 1024 or more, and a server
    running a thousand bots holds that many channels.
    """
    poller = select.poll()
    poller.register(sock, events)
    return bool(poller.poll(None if timeout is None else max(0, int(timeout * 1000) + 1)))
