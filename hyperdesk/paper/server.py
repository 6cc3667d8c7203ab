"""The paper exchange's HTTP protocol server: ``POST /info``, ``POST /exchange``, websocket ``/ws``.

It speaks Hyperliquid's wire protocol closely enough that the unmodified official SDK works against
it by changing only ``base_url``. The engine (``PaperExchange``) owns all state; this module only
decodes requests, authenticates them (signature, signer → account, expiry, nonce) and encodes
answers the way Hyperliquid does:

* business errors: HTTP 200 ``{"status": "err", "response": "<text>"}``;
* a body that cannot be decoded: HTTP 422 ``text/plain`` (Hyperliquid's axum text);
* rate limited: HTTP 429 with the JSON body ``null``.

Paper-only additions: ``POST /faucet`` and the admin hooks under ``/_paper/``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeGuard

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from hyperdesk.paper import manual_time, signing
from hyperdesk.paper.clock import ManualClock
from hyperdesk.paper.nonces import NonceError
from hyperdesk.paper.numbers import parse_decimal
from hyperdesk.paper.ws import WebsocketHub

if TYPE_CHECKING:
    from hyperdesk.paper.exchange import PaperExchange

log = logging.getLogger(__name__)

DESERIALIZE_ERROR = "Failed to deserialize the JSON body into the target type"
MAX_ADVANCE_MS = 366 * 86_400_000
"""Largest ``/_paper/tick`` jump: a year (a bigger one is a typo, not a test)."""

# Info request weights (protocol reference §11); every other type weighs 20. Both tables are
# looked up with the request's untrusted JSON ``type`` value, hence the ``object`` keys.
_INFO_WEIGHTS: dict[str, int] = {
    "l2Book": 2,
    "allMids": 2,
    "clearinghouseState": 2,
    "orderStatus": 2,
    "spotClearinghouseState": 2,
    "exchangeStatus": 2,
    "userRole": 60,
}
# Info types whose weight grows by 1 per 20 returned items (per 60 for candleSnapshot).
_INFO_ITEM_WEIGHTED: dict[str, int] = {
    "recentTrades": 20,
    "historicalOrders": 20,
    "userFills": 20,
    "userFillsByTime": 20,
    "fundingHistory": 20,
    "userFunding": 20,
    "userTwapSliceFills": 20,
    "delegatorHistory": 20,
    "delegatorRewards": 20,
    "candleSnapshot": 60,
}


class MalformedRequest(ValueError):
    """The body cannot be decoded into a request; answered with HTTP 422 ``text/plain``."""


class RateLimited(Exception):
    """The client IP exceeded its weight budget; answered with HTTP 429 and body ``null``."""


def _json_response(body: Any, status_code: int = 200) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status_code,
        media_type="application/json",
    )


class _AnswerThenEvents(Response):
    """An action's answer that, once sent (or failed to send), lets its websocket events go
    (`WebsocketHub.answer_first`)."""

    def __init__(self, body: Any, release: Callable[[], None]) -> None:
        super().__init__(json.dumps(body, separators=(",", ":")), media_type="application/json")
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _unprocessable(detail: str) -> PlainTextResponse:
    return PlainTextResponse(f"{DESERIALIZE_ERROR}: {detail}", status_code=422)


def _err(message: str) -> dict[str, Any]:
    return {"status": "err", "response": message}


# ---------------------------------------------------------------------------------------------
# Rate limiting


class WeightLimiter:
    """A token bucket per client IP: ``per_minute`` weight, refilled continuously.

    Monotonic wall time, not the exchange clock: the limit protects the server process, and a
    ManualClock that never moves would otherwise lock a client out for good.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # ip -> (tokens, last refill)
        self._lock = threading.Lock()

    def charge(self, ip: str, weight: int) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(ip, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * self.per_minute / 60.0)
            if tokens < weight:
                self._buckets[ip] = (tokens, now)
                raise RateLimited
            self._buckets[ip] = (tokens - weight, now)


# ---------------------------------------------------------------------------------------------
# The request pipeline (shared by HTTP and websocket "post" requests)


@dataclass(frozen=True)
class Envelope:
    action: dict[str, Any]
    nonce: int
    signature: dict[str, Any]
    vault_address: str | None
    expires_after: int | None

    @property
    def action_type(self) -> str:
        return self.action["type"]


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_address(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 42 or value[:2] not in ("0x", "0X"):
        return False
    try:
        bytes.fromhex(value[2:])
    except ValueError:
        return False
    return True


def parse_envelope(body: Any) -> Envelope:
    """Decode an ``/exchange`` body or raise ``MalformedRequest``."""
    if not isinstance(body, dict):
        raise MalformedRequest("expected a JSON object")
    action = body.get("action")
    if not isinstance(action, dict):
        raise MalformedRequest("missing field `action`")
    if not isinstance(action.get("type"), str):
        raise MalformedRequest("missing field `type` in `action`")
    nonce = body.get("nonce")
    if not _is_int(nonce) or not 0 <= nonce < 2**64:
        raise MalformedRequest("missing or invalid field `nonce`")
    signature = body.get("signature")
    if not isinstance(signature, dict):
        raise MalformedRequest("missing field `signature`")
    try:
        signing.parse_signature(signature)
    except signing.SignatureError as exc:
        raise MalformedRequest(str(exc)) from None
    vault_address = body.get("vaultAddress")
    if vault_address is not None and not _is_address(vault_address):
        raise MalformedRequest("invalid field `vaultAddress`")
    expires_after = body.get("expiresAfter")
    if expires_after is not None and (not _is_int(expires_after) or not 0 <= expires_after < 2**64):
        raise MalformedRequest("invalid field `expiresAfter`")
    return Envelope(
        action=action,
        nonce=nonce,
        signature=signature,
        vault_address=vault_address.lower() if vault_address else None,
        expires_after=expires_after,
    )


def exchange_weight(action: dict[str, Any]) -> int:
    """IP weight of an action: ``1 + floor(batch_length / 40)``."""
    batch = action.get("orders") or action.get("cancels") or action.get("modifies") or []
    return 1 + (len(batch) // 40 if isinstance(batch, list) else 0)


def base_info_weight(body: Any) -> int:
    """Weight of an info request before its answer is known; junk bodies cost the default."""
    kind = body.get("type") if isinstance(body, dict) else None
    return _INFO_WEIGHTS.get(kind, 20) if isinstance(kind, str) else 20


def info_weight(body: dict[str, Any], result: Any) -> int:
    weight = base_info_weight(body)
    kind = body.get("type")
    per = _INFO_ITEM_WEIGHTED.get(kind) if isinstance(kind, str) else None
    if per and isinstance(result, list):
        weight += len(result) // per
    return weight


class ProtocolCore:
    """Authentication and dispatch of ``/info`` and ``/exchange`` requests; thread-safe."""

    def __init__(self, exchange: PaperExchange) -> None:
        self.exchange = exchange
        config = exchange.config
        self.is_mainnet = bool(config.is_mainnet)
        self.nonces = exchange.nonces  # saved with the exchange's state

    def info(self, body: Any) -> Any:
        from hyperdesk.paper.exchange import InfoError

        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            raise MalformedRequest("missing field `type`")
        try:
            return self.exchange.info(body)
        except InfoError as exc:
            raise MalformedRequest(str(exc)) from None

    def recover_signer(self, env: Envelope) -> str:
        """Lower-case signer address; ``SignatureError`` if the fields cannot be decoded."""
        if signing.is_user_signed(env.action_type):
            return signing.recover_user_signed_signer(
                env.action, env.signature, is_mainnet=self.is_mainnet
            )
        return signing.recover_l1_signer(
            env.action,
            env.signature,
            nonce=env.nonce,
            vault_address=env.vault_address,
            expires_after=env.expires_after,
            is_mainnet=self.is_mainnet,
        )

    def execute(self, body: Any) -> dict[str, Any]:
        """Run the §13.2 pipeline; returns the response body or raises ``MalformedRequest``.

        Nothing is recorded (not even the nonce) unless the whole action decodes, the signature
        recovers a known signer, the action has not expired and the nonce is acceptable. Once
        recorded, a nonce is never given back: releasing one could re-open an older nonce it had
        pushed out of a full set, and so let a captured old action be replayed.
        """
        env = parse_envelope(body)
        action = env.action
        problem = self.exchange.decode_error(action)
        if problem is not None:
            raise MalformedRequest(problem)
        user_signed = signing.is_user_signed(action["type"])
        if user_signed:
            chain = action.get("hyperliquidChain")
            expected = signing.network_name(self.is_mainnet)
            if chain != expected:
                return _err(f"Invalid hyperliquidChain {chain!r}: this exchange is {expected}.")
            action_nonce = signing.user_signed_nonce(action)
            if _is_int(action_nonce) and action_nonce != env.nonce:
                return _err(
                    f"Invalid nonce: action nonce {action_nonce} does not match "
                    f"request nonce {env.nonce}"
                )
        try:
            signer = self.recover_signer(env)
        except signing.UnrecoverableSignature:
            return _err("Unable to recover signer.")
        except signing.SignatureError as exc:
            raise MalformedRequest(str(exc)) from None

        account = self.exchange.resolve_signer(signer)
        if account is None:
            return _err(f"User or API Wallet {signer} does not exist.")
        if user_signed and env.expires_after is not None:
            return _err("expiresAfter is not supported for user-signed actions.")

        now = self.exchange.clock.now_ms()
        if env.expires_after is not None and now > env.expires_after:
            return _err(f"Action expired: expiresAfter {env.expires_after} < time {now}.")
        # On a manual clock a test may have moved the exchange days away from the wall clock
        # the SDK signs nonces with: a nonce in time by either clock is in time.
        wall = time.time_ns() // 1_000_000 if isinstance(self.exchange.clock, ManualClock) else None
        try:
            self.nonces.reserve(signer, env.nonce, now, wall_ms=wall)
        except NonceError as exc:
            return _err(str(exc))
        # What an agent may do, vault leadership and everything else is the engine's business.
        result = self.exchange.execute(
            account=account, signer=signer, action=action, vault_address=env.vault_address
        )
        message = result.get("response") if result.get("status") == "err" else None
        if isinstance(message, str) and message.startswith(DESERIALIZE_ERROR):
            # Only if a handler finds more than ``decode`` did; the nonce stays used.
            raise MalformedRequest(message[len(DESERIALIZE_ERROR) :].lstrip(": "))
        return result


# ---------------------------------------------------------------------------------------------
# The Starlette application


async def _read_json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad JSON, bad UTF-8 and integers over Python's 4300-digit limit.
        raise MalformedRequest(f"invalid JSON: {str(exc)[:200]}") from None


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def create_paper_app(exchange: PaperExchange) -> Starlette:
    """Build the ASGI app serving ``exchange`` over Hyperliquid's protocol.

    The app registers one listener on the engine (at startup) that forwards events to websocket
    subscribers; create one app per engine.
    """
    core = ProtocolCore(exchange)
    hub = WebsocketHub(exchange, core)
    budget = exchange.config.rest_weight_per_minute
    limiter = WeightLimiter(budget) if budget else None
    snapshots: list[str] = []  # POST /_paper/snapshot (JSON text); id = position + 1
    snapshots_lock = threading.Lock()

    def charge(request: Request, weight: int) -> None:
        if limiter is not None:
            limiter.charge(_client_ip(request), weight)

    async def info_endpoint(request: Request) -> Response:
        try:
            body = await _read_json(request)
            charge(request, base_info_weight(body))
            result = await run_in_threadpool(core.info, body)
            if limiter is not None:
                extra = info_weight(body, result) - base_info_weight(body)
                if extra > 0:  # charged after the fact, like the real per-item weight
                    with contextlib.suppress(RateLimited):
                        charge(request, extra)
        except MalformedRequest as exc:
            return _unprocessable(str(exc))
        except RateLimited:
            return _json_response(None, 429)
        return _json_response(result)

    async def exchange_endpoint(request: Request) -> Response:
        try:
            body = await _read_json(request)
            action = body.get("action") if isinstance(body, dict) else None
            charge(request, exchange_weight(action) if isinstance(action, dict) else 1)
            with hub.answer_first() as release:
                result = await run_in_threadpool(core.execute, body)
        except MalformedRequest as exc:
            return _unprocessable(str(exc))
        except RateLimited:
            return _json_response(None, 429)
        return _AnswerThenEvents(result, release)

    async def faucet_endpoint(request: Request) -> Response:
        try:
            body = await _read_json(request)
            if not isinstance(body, dict) or not _is_address(body.get("user")):
                raise MalformedRequest("missing or invalid field `user`")
            usd = _decimal_field(body, "usd", "0")
            hype = _decimal_field(body, "hype", "0")
        except MalformedRequest as exc:
            return _unprocessable(str(exc))
        await run_in_threadpool(exchange.faucet, body["user"].lower(), usd, hype=hype)
        return _json_response({"status": "ok"})

    async def tick_endpoint(request: Request) -> Response:
        """Advance a ManualClock by ``{"ms": n}``, ticking the engine through that time
        (``manual_time.advance``); ``{}`` runs one tick now."""
        try:
            body = await _read_json(request) if await request.body() else {}
            ms = body.get("ms", 0) if isinstance(body, dict) else 0
            if not _is_int(ms) or not 0 <= ms <= MAX_ADVANCE_MS:
                raise MalformedRequest("invalid field `ms`")
        except MalformedRequest as exc:
            return _unprocessable(str(exc))
        if ms == 0:
            await run_in_threadpool(exchange.tick)
        else:
            try:
                await run_in_threadpool(manual_time.advance, exchange, ms)
            except manual_time.ClockNotManual as exc:
                return _unprocessable(str(exc))
        return _json_response({"status": "ok", "time": exchange.clock.now_ms()})

    async def snapshot_endpoint(request: Request) -> Response:
        """Keep the whole exchange state in memory under a new id (tests roll back to it)."""
        state = await run_in_threadpool(exchange.export_state)
        with snapshots_lock:  # kept as text: a restore can never alter a kept snapshot
            snapshots.append(json.dumps(state))
            snapshot_id = str(len(snapshots))
        return _json_response({"status": "ok", "snapshot": snapshot_id})

    async def reset_endpoint(request: Request) -> Response:
        """Put back a snapshot (``{"snapshot": id}``) or a freshly started exchange (``{}``)."""
        try:
            body = await _read_json(request) if await request.body() else {}
            if not isinstance(body, dict):
                raise MalformedRequest("expected a JSON object")
            snapshot_id = body.get("snapshot")
            if snapshot_id is not None and not isinstance(snapshot_id, str):
                raise MalformedRequest("invalid field `snapshot`")
        except MalformedRequest as exc:
            return _unprocessable(str(exc))
        if snapshot_id is None:
            state = await run_in_threadpool(_fresh_state, exchange)
        else:
            with snapshots_lock:
                index = int(snapshot_id) - 1 if snapshot_id.isdigit() else -1
                saved = snapshots[index] if 0 <= index < len(snapshots) else None
            if saved is None:
                return _json_response(_err(f"Unknown snapshot {snapshot_id!r}."))
            state = json.loads(saved)
        await run_in_threadpool(exchange.restore_state, state)
        return _json_response({"status": "ok", "time": exchange.clock.now_ms()})

    async def price_endpoint(request: Request) -> Response:
        try:
            body = await _read_json(request)
            if not isinstance(body, dict) or not isinstance(body.get("coin"), str):
                raise MalformedRequest("missing field `coin`")
            px = _decimal_field(body, "px", None)
        except MalformedRequest as exc:
            return _unprocessable(str(exc))
        try:
            await run_in_threadpool(exchange.set_price, body["coin"], px)
        except (KeyError, ValueError) as exc:
            return _json_response(_err(f"Cannot set price: {exc}"))
        return _json_response({"status": "ok"})

    async def drop_connections_endpoint(request: Request) -> Response:
        dropped = await hub.drop_all()
        return _json_response({"status": "ok", "dropped": dropped})

    async def health_endpoint(request: Request) -> Response:
        return _json_response(
            {
                "status": "ok",
                "time": exchange.clock.now_ms(),
                "network": signing.network_name(core.is_mainnet),
                "websockets": hub.connection_count(),
                "subscriptions": hub.subscription_count(),
            }
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        hub.attach_to_running_loop()
        try:
            yield
        finally:
            await hub.drop_all()

    app = Starlette(
        routes=[
            Route("/info", info_endpoint, methods=["POST"]),
            Route("/exchange", exchange_endpoint, methods=["POST"]),
            Route("/faucet", faucet_endpoint, methods=["POST"]),
            Route("/_paper/tick", tick_endpoint, methods=["POST"]),
            Route("/_paper/snapshot", snapshot_endpoint, methods=["POST"]),
            Route("/_paper/reset", reset_endpoint, methods=["POST"]),
            Route("/_paper/price", price_endpoint, methods=["POST"]),
            Route("/_paper/drop_connections", drop_connections_endpoint, methods=["POST"]),
            Route("/_paper/health", health_endpoint, methods=["GET"]),
            WebSocketRoute("/ws", hub.endpoint),
        ],
        lifespan=lifespan,
    )
    app.state.core = core
    app.state.hub = hub
    return app


def _fresh_state(exchange: PaperExchange) -> dict[str, Any]:
    """The state of a just-started exchange of the same configuration, at the current time."""
    from hyperdesk.paper.exchange import PaperExchange

    return PaperExchange(exchange.config, exchange.clock).export_state()


def _decimal_field(body: dict[str, Any], name: str, default: str | None) -> Decimal:
    """A non-negative bounded decimal (``numbers.parse_decimal``): ``1e-999990`` must not become
    a balance that every later view prints as a million characters."""
    raw = body.get(name, default)
    if raw is None:
        raise MalformedRequest(f"missing field `{name}`")
    if isinstance(raw, float):
        raw = str(raw)
    try:
        value = parse_decimal(raw)
    except ValueError as exc:
        raise MalformedRequest(f"invalid field `{name}`: {exc}") from None
    if value < 0:
        raise MalformedRequest(f"invalid field `{name}`: must not be negative")
    return value
