"""`/api/ws`: live mids, books, and the caller's own orders and fills."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from hyperdesk.errors import DomainError

router = APIRouter()

_COIN = re.compile(r"^[A-Za-z0-9@/:_-]{1,32}$")
MAX_CLIENT_MESSAGE = 4096
MAX_TOPICS = 50


@router.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    services = websocket.app.state.services
    await websocket.accept()
    token = websocket.query_params.get("token")
    if not token:
        try:
            first = json.loads(await asyncio.wait_for(websocket.receive_text(), timeout=10))
            token = first.get("token") if isinstance(first, dict) else None
        except (TimeoutError, ValueError, WebSocketDisconnect):
            token = None
    try:
        if not isinstance(token, str):
            raise DomainError("Send the access token first.", code="NOT_AUTHENTICATED")
        user = await run_in_threadpool(services.accounts.authenticate, token)
    except DomainError as exc:
        with contextlib.suppress(Exception):
            await websocket.send_json(
                {"channel": "error", "data": {"code": exc.code, "message": exc.message}}
            )
            await websocket.close(code=4401)
        return

    hub = services.hub
    connection = hub.connect(user.id)
    await websocket.send_json({"channel": "ready", "data": {"user_id": user.id}})
    sender = asyncio.create_task(_send_loop(websocket, connection))
    try:
        while True:
            text = await websocket.receive_text()
            reply = await _handle(services, connection, text)
            if reply is not None:
                await websocket.send_json(reply)
    except WebSocketDisconnect:
        pass
    finally:
        hub.disconnect(connection)
        sender.cancel()
        for topic in list(connection.topics):
            await run_in_threadpool(services.release_topic, topic)


async def _send_loop(websocket: WebSocket, connection: Any) -> None:
    while True:
        message = await connection.queue.get()
        if message is None:
            await websocket.close(code=1013, reason="too slow to keep up")
            return
        await websocket.send_json(message)


async def _handle(services: Any, connection: Any, text: str) -> dict[str, Any] | None:
    if len(text) > MAX_CLIENT_MESSAGE:
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
            connection.topics.add(topic)
            await run_in_threadpool(services.acquire_topic, topic)
    elif topic in connection.topics:
        connection.topics.discard(topic)
        await run_in_threadpool(services.release_topic, topic)
    return {
        "channel": "subscribed" if op == "subscribe" else "unsubscribed",
        "data": {"topic": topic},
    }


def _error(code: str, message: str) -> dict[str, Any]:
    return {"channel": "error", "data": {"code": code, "message": message}}
