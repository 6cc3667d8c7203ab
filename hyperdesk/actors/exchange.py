"""``ExchangeActor``: the only door through which exchange actions are signed and sent.

Shape (architecture.md, "The actor system")::

    ExchangeClient (thread-safe handle used by routes, bots' trusted side, other actors)
        │ ask (quick: routing only, on a wallet's first use; the client keeps the route)
        ▼
    ExchangeActor (one per network) ── owns the HyperliquidAPI, the shared rate limiter,
        │                              the wallet → signer routing and every child below
        ├── SignerActor × one per signer address   signed calls of that signer, one at a time
        └── ReaderActor × N (small pool)           info calls, retried with backoff

* **Per-signer serialization.** Each ``SignerActor`` owns its signer's SDK ``Exchange`` and nonce
  counter and handles one message at a time, so nonces strictly increase per signer while
  different signers (users, bots) sign and send in parallel.
* **Reads in a pool, not on the routing thread.** Reads are independent, may be slow and are
  retried with backoff; running them on the ExchangeActor's own thread would put every signed
  call's routing behind them, and running them on a signer would put a user's order behind a
  chart. A few reader actors give bounded parallelism (the shared rate limiter, not the pool
  size, is what keeps the platform inside Hyperliquid's budget).
* **Writes first, reads shed.** A signer's thread is a write lane for the rate limiter (its
  orders, cancels and cloid lookups go ahead of every read). Reads are admitted only while fewer
  than ``max_pending_reads`` are under way, waiting at most ``read_queue_wait`` for a place, and
  a read that gets no weight within the API's ``read_wait`` is shed with ``RateLimited`` (429 +
  Retry-After) rather than retried: no unbounded queue that keeps spending after a flood.
* **Keys.** The lead's ``key_provider(wallet_id) -> (private_key_hex, account_address | None)``
  is called on the ExchangeActor thread the first time a wallet signs; the key goes straight
  into a ``SigningWallet`` (masked repr) inside that signer's child and is never logged, returned
  or put in a message. ``forget_wallet`` drops the child and with it the key (call it when a wallet
  is deleted or its key replaced).
* **Pre-trade gate.** ``SignerActor.place_order`` runs ``validate_order`` against market metadata
  before signing; a refusal is a reply (``OrderResult(status="error")``), not an exception.
* **Failure semantics (pykka).** Every call is an ``ask`` with a timeout; an exception raised by a
  message method goes back to the caller and the actor lives on. An order whose ask times out is
  answered ``unknown`` with its cloid (generated here before sending) — it may still execute,
  and is reconciled by cloid, never resent.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import pykka
from anyio import to_thread

from hyperdesk.exchange.answer_priority import ANSWERS
from hyperdesk.exchange.errors import (
    ExchangeRejected,
    ExchangeTimeout,
    RateLimited,
    TransientExchangeError,
    agent_revoked,
)
from hyperdesk.exchange.hyperliquid import HyperliquidAPI, SigningWallet, new_cloid
from hyperdesk.exchange.models import (
    AccountSummary,
    ActionResult,
    Candle,
    Delegation,
    Fill,
    L2Book,
    Market,
    OpenOrder,
    OrderRequest,
    OrderResult,
    OrderStatusInfo,
    StakingSummary,
    Validator,
    VaultDetails,
    VaultEquity,
    VaultSummary,
)
from hyperdesk.exchange.ratelimit import WeightedRateLimiter
from hyperdesk.exchange.validation import validate_order

logger = logging.getLogger(__name__)

#: ``key_provider(wallet_id) -> (private_key_hex, account_address or None)``; the account address
#: is the master an API (agent) wallet trades for, ``None`` when the key is the account's own.
KeyProvider = Callable[[int], tuple[str, str | None]]

#: Reads that may be under way (asked of a reader, or waiting in its mailbox) at once, and how long
#: a further read waits for a place before it is shed.
DEFAULT_MAX_PENDING_READS = 16
DEFAULT_READ_QUEUE_WAIT = 1.0

#: ``on_agent_gone(wallet_id, error)``: the exchange refused a wallet's agent key as unknown
#: (revoked, replaced or expired). Called on the caller's thread; must not raise.
AgentGoneListener = Callable[[int, ExchangeRejected], None]

_READ_METHODS = frozenset(
    {
        "markets",
        "market",
        "mids",
        "mid",
        "l2_book",
        "candles",
        "account_summary",
        "open_orders",
        "fills_since",
        "order_status",
        "vaults",
        "vault_details",
        "vault_equities",
        "validators",
        "delegations",
        "staking_summary",
        "faucet",
        "info_request",
        "submit_user_signed",
    }
)


@dataclass(frozen=True, slots=True)
class SignedCall:
    """A signed call whose caller waits on an event loop, not on a thread of its own.

    ``before_send`` runs first, on the signer's thread (the order path records its order row
    there: one thread hand-off per order instead of three); if it raises, nothing is sent.
    ``on_answer`` runs on the signer's thread as soon as the exchange has answered, whatever
    became of the caller (cancelled, timed out): bookkeeping that must follow every answer belongs
    there. ``reply(result, error)`` is then called exactly once, also on the signer's thread.
    """

    method: str
    args: tuple[Any, ...]
    reply: Callable[[Any, BaseException | None], None]
    before_send: Callable[[], None] | None = None
    on_answer: Callable[[Any], None] | None = None
    answering: bool = False  # an order request's call (`AnswerPriority`)


@dataclass(frozen=True, slots=True)
class SignerRoute:
    """Where a wallet's signed calls go: its signer's child actor and the account it trades."""

    signer: pykka.ActorProxy[SignerActor]
    signer_address: str
    account_address: str


class SignerActor(pykka.ThreadingActor):
    """Signs and sends every action of one signer, one at a time (runs on its own thread)."""

    def __init__(self, api: HyperliquidAPI, wallet: SigningWallet) -> None:
        super().__init__()
        self._api = api
        self._wallet = wallet

    def __str__(self) -> str:
        return f"SignerActor({self._wallet.address}, {self.actor_urn})"

    def on_start(self) -> None:
        self._api.mark_write_lane()

    def on_stop(self) -> None:
        self._api.forget_signer(self._wallet.address)

    def on_receive(self, message: Any) -> Any:
        """A `SignedCall` is told straight to the actor (``actor_ref.tell``): no proxy call and
        no future for an answer that goes back through ``call.reply`` anyway."""
        if isinstance(message, SignedCall):
            return self.submit(message)
        return super().on_receive(message)

    def submit(self, call: SignedCall) -> None:
        """Tell. Run ``call`` and hand its outcome to ``call.reply`` (see ``SignedCall``)."""
        with ANSWERS.serving(call.answering):
            try:
                if call.before_send is not None:
                    call.before_send()
                result = getattr(self, call.method)(*call.args)
            except Exception as exc:
                call.reply(None, exc)
                return
            if call.on_answer is not None:
                try:
                    call.on_answer(result)
                except Exception:
                    logger.exception("%s: bookkeeping after the answer failed", call.method)
            call.reply(result, None)

    def place_order(self, request: OrderRequest) -> OrderResult:
        """Ask. Pre-trade gate, then place; never raises for an exchange refusal."""
        cloid = request.cloid or new_cloid()
        request = replace(request, cloid=cloid)
        market = self._api.market(request.coin)
        if request.order_type == "market" and request.price is None and market is not None:
            # One mid read serves both the notional check and the slippage-bounded price.
            request = replace(request, price=self._api.mid(request.coin))
        rejection = validate_order(request, market)
        if rejection is not None:
            return OrderResult(
                status="error",
                cloid=cloid,
                error_code=str(rejection.code),
                error_message=rejection.message,
            )
        return self._api.place_order(self._wallet, request)

    def modify_order(self, oid: int | str, request: OrderRequest) -> OrderResult:
        """Ask. Replace a resting order (oid or cloid) after the same pre-trade gate."""
        request = replace(request, cloid=request.cloid or new_cloid())
        rejection = validate_order(request, self._api.market(request.coin))
        if rejection is not None:
            return OrderResult(
                status="error",
                cloid=request.cloid,
                error_code=str(rejection.code),
                error_message=rejection.message,
            )
        return self._api.modify_order(self._wallet, oid, request)

    def cancel(self, coin: str, oid: int) -> ActionResult:
        return self._api.cancel(self._wallet, coin, oid)

    def cancel_by_cloid(self, coin: str, cloid: str) -> ActionResult:
        return self._api.cancel_by_cloid(self._wallet, coin, cloid)

    def update_leverage(self, coin: str, leverage: int, is_cross: bool) -> ActionResult:
        return self._api.update_leverage(self._wallet, coin, leverage, is_cross=is_cross)

    def vault_transfer(self, vault_address: str, usd: Decimal, is_deposit: bool) -> ActionResult:
        return self._api.vault_transfer(self._wallet, vault_address, usd, is_deposit=is_deposit)

    def delegate(self, validator: str, hype: Decimal) -> ActionResult:
        return self._api.delegate(self._wallet, validator, hype)

    def undelegate(self, validator: str, hype: Decimal) -> ActionResult:
        return self._api.undelegate(self._wallet, validator, hype)


class ReaderActor(pykka.ThreadingActor):
    """Runs info calls; transient failures are retried with exponential backoff."""

    def __init__(
        self,
        api: HyperliquidAPI,
        *,
        retries: int,
        backoff: float,
        sleep: Callable[[float], None],
    ) -> None:
        super().__init__()
        self._api = api
        self._retries = retries
        self._backoff = backoff
        self._sleep = sleep

    def read(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Ask. Call ``HyperliquidAPI.<method>``; only read methods are allowed."""
        if method not in _READ_METHODS:
            raise ValueError(f"{method!r} is not a read")
        # The faucet is a write (paper only): never repeat it.
        attempts = 1 if method == "faucet" else self._retries + 1
        for attempt in range(attempts):
            try:
                return getattr(self._api, method)(*args, **kwargs)
            except RateLimited:
                raise  # shed: trying again would only queue behind the same budget
            except TransientExchangeError as exc:
                if attempt + 1 >= attempts:
                    raise
                delay = self._backoff * (2**attempt)
                logger.info("read %s failed (%s); retry in %.2fs", method, exc.code, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")


class ExchangeActor(pykka.ThreadingActor):
    """One per network: routes signed calls to per-signer children and owns every child.

    Its own thread does no exchange I/O; its messages are quick (routing, first-use key lookup),
    so it never becomes the bottleneck the architecture warns about.
    """

    def __init__(
        self,
        api: HyperliquidAPI,
        key_provider: KeyProvider,
        *,
        readers: int = 4,
        read_retries: int = 2,
        read_backoff: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        stop_timeout: float = 10.0,
    ) -> None:
        super().__init__()
        self._api = api
        self._key_provider = key_provider
        self._reader_count = max(1, readers)
        self._read_retries = read_retries
        self._read_backoff = read_backoff
        self._sleep = sleep
        self._stop_timeout = stop_timeout
        self._readers: tuple[pykka.ActorProxy[ReaderActor], ...] = ()
        self._signers: dict[str, pykka.ActorRef[SignerActor]] = {}
        self._routes: dict[int, SignerRoute] = {}

    def on_start(self) -> None:
        self._readers = tuple(
            ReaderActor.start(
                self._api,
                retries=self._read_retries,
                backoff=self._read_backoff,
                sleep=self._sleep,
            ).proxy()
            for _ in range(self._reader_count)
        )

    def on_stop(self) -> None:
        """Stop every child (signers first: in-flight orders finish), then close HTTP sessions."""
        for ref in list(self._signers.values()):
            _stop_quietly(ref, self._stop_timeout)
        for reader in self._readers:
            _stop_quietly(reader.actor_ref, self._stop_timeout)
        self._signers.clear()
        self._routes.clear()
        self._api.close()

    def on_failure(self, *exc_info: Any) -> None:
        self.on_stop()

    # -- messages (ask; run on the ExchangeActor thread) -----------------------------------------

    def readers(self) -> tuple[pykka.ActorProxy[ReaderActor], ...]:
        return self._readers

    def api(self) -> HyperliquidAPI:
        """The API object, for what needs no I/O: cached market metadata and the budget."""
        return self._api

    def route(self, wallet_id: int) -> SignerRoute:
        """The signer child for ``wallet_id``, started on first use."""
        route = self._routes.get(wallet_id)
        if route is not None and route.signer.actor_ref.is_alive():
            return route
        key_hex, account_address = self._key_provider(wallet_id)
        wallet = SigningWallet(key_hex, account_address)
        del key_hex
        ref = self._signers.get(wallet.address)
        if ref is None or not ref.is_alive():
            ref = SignerActor.start(self._api, wallet)
            self._signers[wallet.address] = ref
        route = SignerRoute(ref.proxy(), wallet.address, wallet.account_address)
        self._routes[wallet_id] = route
        return route

    def forget_wallet(self, wallet_id: int) -> None:
        """Drop a wallet's route, and its signer child (and key) if no other wallet uses it."""
        route = self._routes.pop(wallet_id, None)
        if route is None:
            return
        if any(r.signer_address == route.signer_address for r in self._routes.values()):
            return
        ref = self._signers.pop(route.signer_address, None)
        if ref is not None:
            _stop_quietly(ref, self._stop_timeout)

    def signer_count(self) -> int:
        return len(self._signers)


def _revocation(route: SignerRoute, outcome: Any) -> ExchangeRejected | None:
    """The AGENT_REVOKED error an outcome reveals: the exchange refused the route's agent key as
    unknown, by raising or in an order's error result. None for any other outcome."""
    if isinstance(outcome, ExchangeRejected):
        text = outcome.message
    elif isinstance(outcome, OrderResult) and outcome.status == "error":
        text = outcome.error_message or ""
    else:
        return None
    return agent_revoked(route.signer_address, route.account_address, text)


def _as_revoked(result: OrderResult, gone: ExchangeRejected) -> OrderResult:
    return replace(result, error_code=str(gone.code), error_message=gone.message)


def _unknown(request: OrderRequest, timeout: ExchangeTimeout) -> OrderResult:
    """An order that may or may not exist: settled later by its cloid, never resent."""
    return OrderResult(
        status="unknown",
        cloid=request.cloid,
        error_code=str(timeout.code),
        error_message=timeout.message,
    )


def _settle(answer: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """On the loop: a caller that gave up (timed out, cancelled) has nothing left to settle."""
    if answer.done():
        return
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(result)


def _expire(answer: asyncio.Future[Any]) -> None:
    """On the loop, once the caller's patience is spent; the signer's late answer then settles
    nothing (its bookkeeping still runs, in ``on_answer``)."""
    if not answer.done():
        answer.set_exception(TimeoutError())


def _stop_quietly(ref: pykka.ActorRef[Any], timeout: float) -> None:
    try:
        ref.stop(block=True, timeout=timeout)
    except pykka.Timeout:
        logger.warning("%s did not stop within %ss", ref, timeout)


class ExchangeClient:
    """The handle the rest of the platform uses; safe to call from any thread.

    Every method asks an actor with a timeout and returns a model (or raises a typed
    ``ExchangeError``). Signed calls take the platform's ``wallet_id``; the key is looked up by the
    ExchangeActor, never passed by the caller. Do not call it from inside a SignerActor or
    ReaderActor (a child must not ask its parent).
    """

    def __init__(
        self,
        actor_ref: pykka.ActorRef[ExchangeActor],
        *,
        timeout: float = 30.0,
        on_agent_gone: AgentGoneListener | None = None,
        max_pending_reads: int = DEFAULT_MAX_PENDING_READS,
        read_queue_wait: float = DEFAULT_READ_QUEUE_WAIT,
    ):
        self.actor_ref = actor_ref
        self.timeout = timeout
        self._on_agent_gone = on_agent_gone
        self._exchange = actor_ref.proxy()
        self._readers = self._exchange.readers().get(timeout=timeout)
        self._api: HyperliquidAPI = self._exchange.api().get(timeout=timeout)
        self._next_reader = itertools.count()
        self._read_places = threading.BoundedSemaphore(max(1, max_pending_reads))
        self._read_queue_wait = read_queue_wait
        # wallet id → its signer's route, so an order asks its signer directly instead of asking
        # the ExchangeActor first: one actor hop less, and no routing thread shared by all users.
        self._routes: dict[int, SignerRoute] = {}

    @property
    def meta_loaded(self) -> bool:
        """True once market metadata answers from memory (``market`` then reads nothing)."""
        return self._api.meta_loaded

    @property
    def rate_limiter(self) -> WeightedRateLimiter:
        """The one exchange weight budget every call of this network spends (for monitoring)."""
        return self._api.rate_limiter

    @classmethod
    def start(
        cls,
        api: HyperliquidAPI,
        key_provider: KeyProvider,
        *,
        timeout: float | None = None,
        on_agent_gone: AgentGoneListener | None = None,
        max_pending_reads: int = DEFAULT_MAX_PENDING_READS,
        read_queue_wait: float = DEFAULT_READ_QUEUE_WAIT,
        **actor_options: Any,
    ) -> ExchangeClient:
        """Start an ExchangeActor (and its readers) for ``api``'s network and wrap it.

        The default ask timeout covers the worst case of one order: rate-limit wait, the HTTP
        call and the cloid lookups that may follow it.
        """
        if timeout is None:
            timeout = api.timeout * (2 + api.resolve_attempts) + api.rate_limit_wait + 5
        ref = ExchangeActor.start(api, key_provider, **actor_options)
        return cls(
            ref,
            timeout=timeout,
            on_agent_gone=on_agent_gone,
            max_pending_reads=max_pending_reads,
            read_queue_wait=read_queue_wait,
        )

    def stop(self, timeout: float | None = None) -> None:
        """Stop the ExchangeActor and, through it, every signer and reader."""
        if self.actor_ref.is_alive():
            _stop_quietly(self.actor_ref, timeout or self.timeout)

    # -- signed ---------------------------------------------------------------------------------

    def route(self, wallet_id: int) -> SignerRoute:
        route = self._routes.get(wallet_id)
        if route is not None and route.signer.actor_ref.is_alive():
            return route
        route = self._exchange.route(wallet_id).get(timeout=self.timeout)
        self._routes[wallet_id] = route
        return route

    def forget_wallet(self, wallet_id: int) -> None:
        self._routes.pop(wallet_id, None)
        self._exchange.forget_wallet(wallet_id).get(timeout=self.timeout)
        self._routes.pop(wallet_id, None)  # a route fetched while the actor was forgetting it

    def _signed(self, wallet_id: int, method: str, *args: Any) -> Any:
        route = self.route(wallet_id)
        try:
            result = getattr(route.signer, method)(*args).get(timeout=self.timeout)
        except pykka.Timeout:
            raise self._no_answer(method) from None
        except ExchangeRejected as exc:
            gone = _revocation(route, exc)
            if gone is None:
                raise
            self._report_agent_gone(wallet_id, gone)
            raise gone from None
        gone = _revocation(route, result)
        if gone is not None:
            self._report_agent_gone(wallet_id, gone)
            result = _as_revoked(result, gone)
        return result

    async def signed_async(
        self,
        wallet_id: int,
        method: str,
        *args: Any,
        before_send: Callable[[], None] | None = None,
        on_answer: Callable[[Any], None] | None = None,
    ) -> Any:
        """``_signed`` for a caller on an event loop: the signer replies to the loop, so no
        thread waits for the exchange. Same errors and timeout; see ``SignedCall`` for the
        hooks."""
        route = self._routes.get(wallet_id)
        if route is None or not route.signer.actor_ref.is_alive():
            route = await to_thread.run_sync(self.route, wallet_id)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()

        def reply(result: Any, error: BaseException | None) -> None:
            loop.call_soon_threadsafe(_settle, answer, result, error)

        call = SignedCall(
            method,
            args,
            reply,
            before_send=before_send,
            on_answer=on_answer,
            answering=ANSWERS.in_answer(),
        )
        try:
            route.signer.actor_ref.tell(call)
        except pykka.ActorDeadError:
            self._routes.pop(wallet_id, None)
            route = await to_thread.run_sync(self.route, wallet_id)
            route.signer.actor_ref.tell(call)
        # Awaited directly, with a timer, not through `asyncio.wait_for`: its wrapping costs the
        # answer two more turns of the loop.
        timer = loop.call_later(self.timeout, _expire, answer)
        try:
            result = await answer
        except TimeoutError:
            raise self._no_answer(method) from None
        except ExchangeRejected as exc:
            gone = _revocation(route, exc)
            if gone is None:
                raise
            await to_thread.run_sync(self._report_agent_gone, wallet_id, gone)
            raise gone from None
        finally:
            timer.cancel()
        gone = _revocation(route, result)
        if gone is not None:
            await to_thread.run_sync(self._report_agent_gone, wallet_id, gone)
            result = _as_revoked(result, gone)
        return result

    def _no_answer(self, method: str) -> ExchangeTimeout:
        return ExchangeTimeout(
            f"{method}: no answer within {self.timeout}s; the outcome is unknown"
        )

    def _report_agent_gone(self, wallet_id: int, gone: ExchangeRejected) -> None:
        """An agent key the exchange no longer knows is reported here, for every action (the
        listener writes to the database: callers on the event loop run this in a worker)."""
        if self._on_agent_gone is None:
            return
        try:
            self._on_agent_gone(wallet_id, gone)
        except Exception:
            logger.exception("could not report the revoked agent of wallet %s", wallet_id)

    def place_order(self, wallet_id: int, request: OrderRequest) -> OrderResult:
        """Place an order for the wallet's account; ``unknown`` (with the cloid) on timeout."""
        request = replace(request, cloid=request.cloid or new_cloid())
        try:
            return self._signed(wallet_id, "place_order", request)
        except ExchangeTimeout as exc:
            return _unknown(request, exc)

    async def place_order_async(
        self,
        wallet_id: int,
        request: OrderRequest,
        *,
        before_send: Callable[[], None] | None = None,
        on_answer: Callable[[Any], None] | None = None,
    ) -> OrderResult:
        """``place_order`` for a caller on an event loop (see ``SignedCall`` for the hooks)."""
        request = replace(request, cloid=request.cloid or new_cloid())
        try:
            return await self.signed_async(
                wallet_id, "place_order", request, before_send=before_send, on_answer=on_answer
            )
        except ExchangeTimeout as exc:
            return _unknown(request, exc)

    async def modify_order_async(
        self,
        wallet_id: int,
        oid: int | str,
        request: OrderRequest,
        *,
        on_answer: Callable[[Any], None] | None = None,
    ) -> OrderResult:
        request = replace(request, cloid=request.cloid or new_cloid())
        try:
            return await self.signed_async(
                wallet_id, "modify_order", oid, request, on_answer=on_answer
            )
        except ExchangeTimeout as exc:
            return _unknown(request, exc)

    def cancel(self, wallet_id: int, coin: str, oid: int) -> ActionResult:
        return self._signed(wallet_id, "cancel", coin, oid)

    def cancel_by_cloid(self, wallet_id: int, coin: str, cloid: str) -> ActionResult:
        return self._signed(wallet_id, "cancel_by_cloid", coin, cloid)

    def update_leverage(
        self, wallet_id: int, coin: str, leverage: int, *, is_cross: bool = True
    ) -> ActionResult:
        return self._signed(wallet_id, "update_leverage", coin, leverage, is_cross)

    def vault_deposit(self, wallet_id: int, vault_address: str, usd: Decimal) -> ActionResult:
        return self._signed(wallet_id, "vault_transfer", vault_address, usd, True)

    def vault_withdraw(self, wallet_id: int, vault_address: str, usd: Decimal) -> ActionResult:
        return self._signed(wallet_id, "vault_transfer", vault_address, usd, False)

    def delegate(self, wallet_id: int, validator: str, hype: Decimal) -> ActionResult:
        return self._signed(wallet_id, "delegate", validator, hype)

    def undelegate(self, wallet_id: int, validator: str, hype: Decimal) -> ActionResult:
        return self._signed(wallet_id, "undelegate", validator, hype)

    # -- reads ----------------------------------------------------------------------------------

    def _read(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """One read through the pool, if a place is free within ``read_queue_wait``; else shed.

        The places bound what can wait in the readers' mailboxes, so a burst of reads is refused
        at once instead of queueing behind the budget and spending it long after the burst.
        """
        if not self._read_places.acquire(timeout=self._read_queue_wait):
            raise RateLimited(
                f"{method}: too many exchange reads under way; try again shortly",
                detail={"retry_after_seconds": 1},
            )
        try:
            reader = self._readers[next(self._next_reader) % len(self._readers)]
            return reader.read(method, args, kwargs).get(timeout=self.timeout)
        except pykka.Timeout:
            raise ExchangeTimeout(f"{method}: no answer within {self.timeout}s") from None
        finally:
            self._read_places.release()

    def markets(self) -> tuple[Market, ...]:
        return self._read("markets")

    def market_catalog(self) -> tuple[Market, ...]:
        """Every listed market without mids (metadata only; no ``allMids`` read)."""
        return self._read("markets", with_mids=False)

    def market(self, coin: str) -> Market | None:
        """One market's metadata: from memory once loaded, so the order path never queues."""
        if self._api.meta_loaded:
            return self._api.market(coin)
        return self._read("market", coin)

    def mids(self) -> dict[str, Decimal]:
        return self._read("mids")

    def l2_book(self, coin: str) -> L2Book:
        return self._read("l2_book", coin)

    def candles(self, coin: str, interval: str, start_ms: int, end_ms: int) -> tuple[Candle, ...]:
        return self._read("candles", coin, interval, start_ms, end_ms)

    def account_summary(self, address: str) -> AccountSummary:
        return self._read("account_summary", address)

    def open_orders(self, address: str) -> tuple[OpenOrder, ...]:
        return self._read("open_orders", address)

    def fills_since(
        self, address: str, start_ms: int, end_ms: int | None = None
    ) -> tuple[Fill, ...]:
        return self._read("fills_since", address, start_ms, end_ms)

    def order_status(self, address: str, oid_or_cloid: int | str) -> OrderStatusInfo:
        return self._read("order_status", address, oid_or_cloid)

    def vaults(self, known: tuple[str, ...] = ()) -> tuple[VaultSummary, ...]:
        return self._read("vaults", tuple(known))

    def info_request(self, body: dict[str, Any]) -> Any:
        """A raw ``/info`` request through the read pool and the shared rate limiter."""
        return self._read("info_request", body)

    def vault_details(self, vault_address: str, user: str | None = None) -> VaultDetails:
        return self._read("vault_details", vault_address, user)

    def vault_equities(self, user: str) -> tuple[VaultEquity, ...]:
        return self._read("vault_equities", user)

    def validators(self) -> tuple[Validator, ...]:
        return self._read("validators")

    def delegations(self, user: str) -> tuple[Delegation, ...]:
        return self._read("delegations", user)

    def staking_summary(self, user: str) -> StakingSummary:
        return self._read("staking_summary", user)

    def submit_user_signed(
        self, action: dict[str, Any], nonce: int, signature: dict[str, Any]
    ) -> ActionResult:
        """A user-signed action signed outside the desk (a browser wallet's approveAgent). No key
        of ours signs it, so it needs no signer actor; the API spends write weight for it."""
        return self._read("submit_user_signed", action, nonce, signature)

    def faucet(self, address: str, usd: Decimal, *, hype: Decimal = Decimal(0)) -> None:
        """Paper network only (``HyperliquidAPI.faucet`` refuses real networks)."""
        self._read("faucet", address, usd, hype=hype)
