"""The trusted channel: bounded frames and strict JSON; garbage is a typed ProtocolViolation."""

from __future__ import annotations

import json
import os
import pickle
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hyperdesk.bots.wire import BotChannel
from hyperdesk.sandbox.channel import Channel, ChannelClosed, ProtocolViolation


@pytest.fixture
def ends() -> Iterator[tuple[Channel, socket.socket]]:
    channel, theirs = Channel.pair(max_message_bytes=1024)
    yield channel, theirs
    channel.close()
    theirs.close()


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


class _RunsCode:
    """Unpickling this object would create `marker` (what a bot would do to a pickling reader)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def test_round_trip_between_the_bot_and_the_trusted_end(
    ends: tuple[Channel, socket.socket],
) -> None:
    channel, theirs = ends
    bot = BotChannel(theirs, max_bytes=1024)

    bot.send({"type": "log", "level": "info", "message": "héllo"})
    channel.send({"type": "ping", "nonce": 1})

    assert channel.recv(timeout=5) == {"type": "log", "level": "info", "message": "héllo"}
    assert bot.recv() == {"type": "ping", "nonce": 1}


def test_recv_returns_none_at_the_timeout(ends: tuple[Channel, socket.socket]) -> None:
    channel, _ = ends
    assert channel.recv(timeout=0.05) is None


def test_a_frame_split_across_writes_is_reassembled(ends: tuple[Channel, socket.socket]) -> None:
    channel, theirs = ends
    data = frame(b'{"type":"ready"}')
    theirs.sendall(data[:3])
    assert channel.recv(timeout=0.05) is None
    theirs.sendall(data[3:])
    assert channel.recv(timeout=5) == {"type": "ready"}


def test_an_oversized_frame_is_refused_from_its_header(ends: tuple[Channel, socket.socket]) -> None:
    channel, theirs = ends
    theirs.sendall(struct.pack(">I", 100 * 1024 * 1024) + b"x" * 4096)

    with pytest.raises(ProtocolViolation) as caught:
        channel.recv(timeout=5)

    assert caught.value.code == "OVERSIZE"
    assert channel.bytes_received <= 4 + 1024  # the body was never read
    with pytest.raises(ProtocolViolation):  # framing is lost: the channel stays broken
        channel.recv(timeout=0)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"\xff\xfe not utf-8", "INVALID_UTF8"),
        (b"{not json", "BAD_JSON"),
        (b"[1, 2]", "BAD_JSON"),
        (b'{"type": "x", "n": NaN}', "BAD_JSON"),
        (b'{"type": "x", "n": Infinity}', "BAD_JSON"),
        (b'{"type": "a", "type": "b"}', "BAD_JSON"),
        (b"[" * 500 + b"]" * 500, "BAD_JSON"),
        (b'{"n": ' + b"1" * 900 + b"}", None),  # a long integer is valid JSON, and bounded
    ],
)
def test_strict_decoding(
    ends: tuple[Channel, socket.socket], body: bytes, code: str | None
) -> None:
    channel, theirs = ends
    theirs.sendall(frame(body))
    if code is None:
        assert channel.recv(timeout=5) == json.loads(body)
        return
    with pytest.raises(ProtocolViolation) as caught:
        channel.recv(timeout=5)
    assert caught.value.code == code


@pytest.mark.parametrize("protocol", [0, pickle.HIGHEST_PROTOCOL])
def test_pickle_bytes_are_rejected_and_never_unpickled(
    ends: tuple[Channel, socket.socket], tmp_path: Path, protocol: int
) -> None:
    channel, theirs = ends
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_RunsCode(marker), protocol=protocol)
    theirs.sendall(frame(payload))

    with pytest.raises(ProtocolViolation):
        channel.recv(timeout=5)

    assert not marker.exists()


def test_a_closed_bot_end_raises_channel_closed(ends: tuple[Channel, socket.socket]) -> None:
    channel, theirs = ends
    theirs.sendall(frame(b'{"type": "ready"}'))
    theirs.close()
    assert channel.recv(timeout=5) == {"type": "ready"}
    with pytest.raises(ChannelClosed):
        channel.recv(timeout=5)


def test_send_gives_up_when_the_bot_stops_reading() -> None:
    channel, theirs = Channel.pair()
    slow = Channel(channel._sock, send_timeout=0.2)  # the same socket with a short timeout
    message = {"type": "ping", "nonce": 1, "pad": "x" * 60_000}

    def flood() -> None:
        for _ in range(10_000):  # fills the socket buffer; the bot never reads
            slow.send(message)

    try:
        with pytest.raises(ChannelClosed):
            flood()
    finally:
        channel.close()
        theirs.close()


def test_an_oversized_outgoing_message_is_refused(ends: tuple[Channel, socket.socket]) -> None:
    channel, _ = ends
    with pytest.raises(ValueError, match="exceeds"):
        channel.send({"type": "start", "config": {"blob": "x" * 2000}})


def test_one_reader_thread_and_several_senders(ends: tuple[Channel, socket.socket]) -> None:
    channel, theirs = ends
    bot = BotChannel(theirs, max_bytes=1024)
    received: list[dict[str, object]] = []

    def read() -> None:
        while len(received) < 200:
            message = channel.recv(timeout=10)
            assert message is not None
            received.append(message)

    reader = threading.Thread(target=read)
    reader.start()

    def send_fifty(n: int) -> None:
        for i in range(50):
            bot.send({"type": "pong", "nonce": n * 100 + i})

    senders = [threading.Thread(target=send_fifty, args=(n,)) for n in range(4)]
    for sender in senders:
        sender.start()
    for thread in [*senders, reader]:
        thread.join(timeout=20)

    assert sorted(m["nonce"] for m in received) == sorted(  # type: ignore[type-var]
        n * 100 + i for n in range(4) for i in range(50)
    )


def test_a_channel_numbered_past_1024_still_works() -> None:
    """A server with a thousand bots holds descriptors above select()'s limit of 1024."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2048:
        pytest.skip(f"the hard limit on open files here is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2048), hard))
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    high = socket.socket(fileno=os.dup2(ours.fileno(), 1500))
    ours.close()
    channel = Channel(high, max_message_bytes=1024)
    bot = BotChannel(theirs, max_bytes=1024)
    try:
        assert channel.fileno() >= 1024
        assert channel.recv(timeout=0.05) is None
        bot.send({"type": "log", "level": "info", "message": "from far up"})
        assert channel.recv(timeout=5) == {"type": "log", "level": "info", "message": "from far up"}
        channel.send({"type": "ping", "nonce": 2})
        assert bot.recv() == {"type": "ping", "nonce": 2}
    finally:
        channel.close()
        theirs.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
