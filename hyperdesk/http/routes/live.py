"""`/api/ws`: live mids, books, and the caller's own orders and fills."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from hyperdesk.errors import DomainError
from hyperdesk.exchange.errors import ExchangeError

router = APIRouter()
log = logging.getLogger(__name__)

_COIN = re.compile(r"^[A-Za-z0-9@/:_-]{1,32}$")
#: The largest client message in UTF-8 bytes; the server's websocket frame limit
#: (`ws_max_size`, set in hyperdesk/cli.py) is the same, so nothing larger is even buffered.
MAX_CLIENT_MESSAGE = 4096
MAX_TOPICS = 50
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_MANY_SOCKETS = 4429
#: How often an open socket's token is checked again: an expired token, or one revoked by a
#: password change, stops the socket within this many seconds.
REAUTH_SECONDS = 30.0


@router.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    services = websocket.app.state.services
    await websocket.accept()
    token: object = websocket.query_params.get("token")
    try:
        if not token:
            token = await _token_from_first_message(websocket)
        if not isinstance(token, str):
            raise DomainError("Send the access token first.", code="NOT_AUTHENTICATED")
        user = await run_in_threadpool(services.accounts.authenticate, token)
    except DomainError as exc:
        await _refuse(websocket, exc, CLOSE_UNAUTHORIZED)
        return

    hub = services.hub
    try:
        connection = hub.connect(user.id, services.settings.live_sockets_per_user)
    except DomainError as exc:
        await _refuse(websocket, exc, CLOSE_TOO_MANY_SOCKETS)
        return
    await websocket.send_json({"channel": "ready", "data": {"user_id": user.id}})
    tasks = {
        asyncio.create_task(_receive_loop(websocket, services, connection)),
        asyncio.create_task(_send_loop(websocket, services, connection, token)),
    }
    try:
        # Either side ends the socket: the client leaves, or the sender closes it (too slow,
        # token expired or revoked) and nothing more may be read or answered.
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            with contextlib.suppress(WebSocketDisconnect):
                task.result()
    finally:
        hub.disconnect(connection)
        for task in tasks:
            task.cancel()
        for topic in list(connection.topics):
            await run_in_threadpool(services.release_topic, topic)


async def _receive_text(websocket: WebSocket) -> str | None:
    """The next text frame; None for a binary one (which `receive_text` would crash on)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    return message.get("text")


async def _token_from_first_message(websocket: WebSocket) -> object:
    try:
        text = await asyncio.wait_for(_receive_text(websocket), timeout=10)
    except (TimeoutError, WebSocketDisconnect):
        return None
    if text is not None and _too_large(text):
        raise DomainError("Messages are limited to 4 KiB.", code="TOO_LARGE")
    try:
        first = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return first.get("token") if isinstance(first, dict) else None


def _too_large(text: str) -> bool:
    return len(text) > MAX_CLIENT_MESSAGE or len(text.encode()) > MAX_CLIENT_MESSAGE


async def _refuse(websocket: WebSocket, exc: DomainError, close_code: int) -> None:
    with contextlib.suppress(Exception):
        await websocket.send_json(
            {"channel": "error", "data": {"code": exc.code, "message": exc.message}}
        )
        await websocket.close(code=close_code, reason=exc.code)


async def _receive_loop(websocket: WebSocket, services: Any, connection: Any) -> None:
    while True:
        text = await _receive_text(websocket)
        reply: dict[str, Any] | None
        if text is None:
            reply = _error("BAD_MESSAGE", "Messages must be JSON text, not binary.")
        else:
            reply = await _handle(services, connection, text)
        if reply is not None:
            await websocket.send_json(reply)


async def _send_loop(websocket: WebSocket, services: Any, connection: Any, token: str) -> None:
    loop = asyncio.get_running_loop()
    check_at = loop.time() + REAUTH_SECONDS
    while True:
        if loop.time() >= check_at:
            try:
                await run_in_threadpool(services.accounts.authenticate, token)
            except DomainError as exc:
                await _refuse(websocket, exc, CLOSE_UNAUTHORIZED)
                return
            check_at = loop.time() + REAUTH_SECONDS
        try:
            message = await asyncio.wait_for(connection.queue.get(), check_at - loop.time())
        except TimeoutError:
            continue
        if message is None:
            await websocket.close(code=1013, reason="too slow to keep up")
            return
        await websocket.send_json(message)


async def _handle(services: Any, connection: Any, text: str) -> dict[str, Any] | None:
    if _too_large(text):
        return _error("TOO_LARGE", "Messages are limited to 4 KiB.")
    try:
        message = json.loads(text)
    except ValueError:
        return _error("BAD_MESSAGE", "Messages must be JSON.")
    if not isinstance(message, dict):
        return _error("BAD_MESSAGE", "Messages must be JSON objects.")
    op, channel, coin = message.get("op"), message.get("channel"), message.get("coin")
    if op == "ping":
        return {"channel": "pong"}
    if op not in ("subscribe", "unsubscribe") or channel not in ("mids", "book"):
        return _error("BAD_MESSAGE", "Use {op: subscribe|unsubscribe, channel: mids|book, coin?}.")
    if channel == "book" and (not isinstance(coin, str) or not _COIN.match(coin)):
        return _error("BAD_MESSAGE", "A book subscription needs a coin.")
    topic = "mids" if channel == "mids" else f"book:{coin}"
    if op == "subscribe":
        if topic not in connection.topics:
            if len(connection.topics) >= MAX_TOPICS:
                return _error("TOO_MANY", f"At most {MAX_TOPICS} subscriptions per connection.")
            try:
                await _acquire(services, connection, topic)
            except (DomainError, ExchangeError) as exc:
                return _error(str(exc.code), exc.message)
    elif topic in connection.topics:
        connection.topics.discard(topic)
        await run_in_threadpool(services.release_topic, topic)
    return {
        "channel": "subscribed" if op == "subscribe" else "unsubscribed",
        "data": {"topic": topic},
    }


async def _acquire(services: Any, connection: Any, topic: str) -> None:
    """Subscribe upstream, then record the topic on the connection so it is released when the
    socket ends. The subscription runs on to the end even if the socket is torn down meanwhile
    (it holds the stream's lock); then it is released at once instead of left behind."""
    future = asyncio.get_running_loop().run_in_executor(None, services.acquire_topic, topic)
    future.add_done_callback(lambda done: _settle(services, connection, topic, done))
    await asyncio.shield(future)


def _settle(services: Any, connection: Any, topic: str, done: asyncio.Future[None]) -> None:
    """On the event loop, when a subscription was made (or refused)."""
    if done.cancelled() or done.exception() is not None:
        return
    if connection.closed:
        asyncio.get_running_loop().run_in_executor(None, _release_quietly, services, topic)
    else:
        connection.topics.add(topic)


def _release_quietly(services: Any, topic: str) -> None:
    try:
        services.release_topic(topic)
    except Exception:
        log.exception("could not release %s", topic)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"channel": "error", "data": {"code": code, "message": message}}
