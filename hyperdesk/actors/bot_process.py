"""BotProcessActor: owns one running bot's sandboxed OS process and speaks its protocol.

Place in the tree (architecture.md)::

    BotSupervisor ──ask: launch / begin_stop / info──► BotProcessActor (one per running bot)
          ▲                                               ├── CapitalManagerActor (ask)
          └──────────── tell: BotExited ──────────────────┤── FillListenerActor (tells us fills)
                                                          └── reader thread, heartbeat ticker
                                                               (threads that only `tell` us)

Threads: `launch` runs on this actor's thread, so the process's PR_SET_PDEATHSIG is tied to a
thread that lives as long as the bot (hyperdesk/sandbox/launcher.py). A reader thread turns
every channel frame into a validated model (hyperdesk/sandbox/messages.py) and `tell`s it here;
it also enforces the per-bot message budget, so a flood never reaches this mailbox. A ticker
`tell`s a heartbeat: a ping that is still unanswered at the next tick kills the bot
("stopped answering heartbeats").

Requests from the bot are hostile input served on this thread: an order passes the capital
manager (reserve under the order's cloid, or `CAPITAL_LIMIT` and nothing is sent), then the
trading service's pre-trade gate and the exchange actor, then its answer goes back to the book.
A refusal is an error *response* to the bot; garbage, flooding and repeated malformed requests
kill it as abuse.

Exit: when the process ends the actor classifies it (normal, crash, abuse, user stop), tells the
supervisor `BotExited` — never asks it — and stops itself. A graceful stop (`begin_stop`) sends
`stop`, keeps serving the bot's requests while `on_stop` runs, kills it at the deadline, cancels
its resting orders unless the owner asked to keep them, and completes the returned future.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pykka
from sqlalchemy import delete, select

from hyperdesk.actors.capital_manager import CapitalManagerActor, load_book
from hyperdesk.actors.fill_listener import (
    BotFillEvent,
    FillListenerActor,
    lower_priority,
    raise_priority,
)
from hyperdesk.bots_engine.capital import CapitalSnapshot, OrderIntent
from hyperdesk.bots_engine.engine_config import EngineConfig
from hyperdesk.bots_engine.process_policy import MessageBudget, cut_log_line, state_size
from hyperdesk.bots_engine.restart_policy import ExitKind
from hyperdesk.errors import DomainError
from hyperdesk.exchange.models import OrderRequest, plain_decimal
from hyperdesk.persistence.database import transaction
from hyperdesk.persistence.models import Bot, BotLog, Wallet
from hyperdesk.sandbox.channel import ChannelClosed, ProtocolViolation
from hyperdesk.sandbox.launcher import BotProcess, launch_bot
from hyperdesk.sandbox.messages import (
    PROTOCOL_VERSION,
    BookRequest,
    BotError,
    BotMessage,
    CancelRequest,
    CandlesRequest,
    CapitalRequest,
    ErrorDetail,
    Fill,
    Hello,
    InvalidRequest,
    Log,
    MidRequest,
    OpenOrdersRequest,
    OrderUpdate,
    Ping,
    PlaceOrderRequest,
    Pong,
    PositionsRequest,
    Ready,
    Response,
    Start,
    StateDeleteRequest,
    StateGetRequest,
    StateSetRequest,
    Stop,
    parse_bot_message,
)
from hyperdesk.trading.cloids import bot_id_of, new_cloid

if TYPE_CHECKING:
    from hyperdesk.services import Services

log = logging.getLogger(__name__)

MARKET_SLIPPAGE = Decimal("0.05")
LOG_TRIM_EVERY = 200
#: Streamed mids older than this are not used as marks (the stream is down or lagging).
MARK_MAX_AGE_SECONDS = 30.0
#: How often a bot's reader thread wakes with nothing to read, to notice a process that died
#: while something else still holds its channel open (rare: a normal exit closes the channel at
#: once). A thousand idle bots waking every second kept the server's threads fighting for the GIL.
READER_WAKE_SECONDS = 30.0
#: Settled cancels remembered to ignore the stream's echo of them (a cloid is never reused).
SETTLED_CANCELS_KEPT = 10_000
_INTERVAL_MS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
}


@dataclass(frozen=True)
class BotLaunch:
    """Everything one run of a bot starts with (a running bot keeps it until restarted)."""

    bot_id: int
    user_id: int
    wallet_id: int
    account: str
    run_id: int
    code: str
    config: dict[str, Any]
    tick_seconds: float
    capital: Decimal
    leverage: Decimal
    keep_orders_on_stop: bool


@dataclass(frozen=True)
class BotExited:
    """Event up to the supervisor: the run `run_id` of bot `bot_id` is over, and why."""

    bot_id: int
    run_id: int
    kind: ExitKind
    reason: str
    exit_code: int | None


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    started_at: float  # wall-clock seconds
    capital: CapitalSnapshot | None


# -- private messages (tells from our own threads) ---------------------------------------------


@dataclass(frozen=True)
class _Inbound:
    message: BotMessage


@dataclass(frozen=True)
class _BadRequest:
    request_id: int
    message: str


@dataclass(frozen=True)
class _Abuse:
    reason: str


@dataclass(frozen=True)
class _Ended:
    code: int | None


@dataclass(frozen=True)
class _OrderUpdateEvent:
    update: dict[str, Any]


@dataclass(frozen=True)
class _HeartbeatDue:
    pass


@dataclass(frozen=True)
class _StopDeadline:
    pass


@dataclass(frozen=True)
class _SettleCancel:
    """Free a canceled order's reservation, after the bot has its answer (and before its next
    request: this actor's messages are handled in order)."""

    cloid: str


class BotProcessActor(pykka.ThreadingActor):
    def __init__(
        self,
        launch: BotLaunch,
        services: Services,
        config: EngineConfig,
        supervisor: pykka.ActorRef[Any],
    ) -> None:
        super().__init__()
        self._launch = launch
        self._services = services
        self._config = config
        self._supervisor = supervisor
        self._bot: BotProcess | None = None
        self._capital_ref: pykka.ActorRef[Any] | None = None
        self._capital: Any = None
        self._listener_ref: pykka.ActorRef[Any] | None = None
        self._registered = False
        self._started_at = 0.0
        self._halt = threading.Event()  # stops the ticker
        self._ping_nonce = 0
        self._ping_sent_at: float | None = None
        self._fill_seq = 0
        self._update_seq = 0
        self._settled: OrderedDict[str, None] = OrderedDict()  # cloids whose cancel is booked
        self._exit: tuple[ExitKind, str] | None = None
        self._bot_error: str | None = None
        self._stopping: pykka.ThreadingFuture[BotExited] | None = None
        self._cancel_on_stop = False
        self._done = False
        self._logs_since_trim = 0

    # -- asks from the supervisor -------------------------------------------------------------

    def launch(self) -> int:
        """Build the capital book, start the children and the sandboxed process; its pid.

        Runs on this actor's thread (PR_SET_PDEATHSIG). An exception reaches the supervisor,
        which counts it as a crash; `on_stop` cleans up whatever was started."""
        launch, services = self._launch, self._services
        book = load_book(services.sessions, launch.bot_id, launch.capital, launch.leverage)
        self._capital_ref = CapitalManagerActor.start(book)
        self._capital = self._capital_ref.proxy()
        self._listener_ref = FillListenerActor.start(self._capital, self.actor_ref)
        listener = self._listener_ref
        me = self.actor_ref
        count = services.bot_fills.register(
            launch.bot_id,
            launch.account,
            listener.tell,
            lambda update: _tell_quietly(me, _OrderUpdateEvent(update)),
        )
        self._registered = True
        if count == 1:
            self._stream_priority(raise_priority)
        self._bot = launch_bot(launch.code, self._config.spec, kind=self._config.sandbox_kind)
        self._started_at = time.time()
        threading.Thread(
            target=_read_channel,
            args=(self._bot, self.actor_ref, self._config),
            name=f"bot-{launch.bot_id}-reader",
            daemon=True,
        ).start()
        self._send(Start(config=launch.config, tick_seconds=launch.tick_seconds))
        threading.Thread(
            target=_tick,
            args=(self.actor_ref, self._config.heartbeat_seconds, self._halt),
            name=f"bot-{launch.bot_id}-heartbeat",
            daemon=True,
        ).start()
        return self._bot.pid

    def begin_stop(self, cancel_orders: bool) -> pykka.ThreadingFuture[BotExited]:
        """Ask the bot to stop; the future completes once it has exited (killed at the
        deadline) and, if `cancel_orders`, its resting orders were canceled."""
        future: pykka.ThreadingFuture[BotExited] = pykka.ThreadingFuture()
        if self._done:
            future.set(BotExited(self._launch.bot_id, self._launch.run_id, ExitKind.USER_STOP,
                                 "stopped by its owner", None))  # fmt: skip
            return future
        self._stopping = future
        self._cancel_on_stop = cancel_orders
        with contextlib.suppress(ChannelClosed, ValueError):
            self._send(Stop(reason="stopped by its owner"))
        timer = threading.Timer(
            self._config.stop_grace_seconds, _tell_quietly, (self.actor_ref, _StopDeadline())
        )
        timer.daemon = True
        timer.start()
        return future

    def info(self) -> ProcessInfo:
        snapshot = None
        if self._capital is not None:
            with contextlib.suppress(Exception):
                snapshot = self._snapshot()
        pid = self._bot.pid if self._bot is not None else 0
        return ProcessInfo(pid, self._started_at, snapshot)

    # -- tells ---------------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        if self._done:
            return None
        if isinstance(message, _Inbound):
            self._on_bot_message(message.message)
        elif isinstance(message, _BadRequest):
            self._respond_error(message.request_id, "INVALID_REQUEST", message.message)
        elif isinstance(message, _Abuse):
            self._kill(ExitKind.ABUSE, message.reason)
        elif isinstance(message, _HeartbeatDue):
            self._heartbeat()
        elif isinstance(message, BotFillEvent):
            self._fill_seq += 1
            with contextlib.suppress(ChannelClosed, ValueError):
                self._send(Fill(seq=self._fill_seq, fill=message.fill))
        elif isinstance(message, _OrderUpdateEvent):
            status, order = message.update.get("status"), message.update.get("order")
            if isinstance(status, str) and status.endswith("anceled") and isinstance(order, dict):
                # Canceled outside the bot (its owner, the exchange), or the stream's echo of
                # the bot's own cancel: free the reservation once.
                self._settle_cancel(str(order.get("cloid")), _filled_of(order))
            self._update_seq += 1
            with contextlib.suppress(ChannelClosed, ValueError):
                self._send(OrderUpdate(seq=self._update_seq, update=message.update))
        elif isinstance(message, _SettleCancel):
            self._settle_cancel(message.cloid)
        elif isinstance(message, _StopDeadline):
            if self._bot is not None and self._bot.returncode is None:
                self._bot.kill("did not stop in time")
        elif isinstance(message, _Ended):
            self._finish(message.code)
        return None

    def on_failure(self, *_exc: object) -> None:
        log.error("bot %s: process actor failed", self._launch.bot_id)

    def on_stop(self) -> None:
        self._halt.set()
        if self._bot is not None:
            self._bot.close(timeout=5.0)
        if self._registered:
            self._registered = False
            if self._services.bot_fills.unregister(self._launch.bot_id) == 0:
                self._stream_priority(lower_priority)
        for ref in (self._listener_ref, self._capital_ref):
            if ref is not None:
                with contextlib.suppress(Exception):
                    ref.stop(timeout=5)
        if not self._done:
            self._done = True
            self._report(ExitKind.CRASH, "the bot's process actor stopped", None)

    # -- the bot's messages --------------------------------------------------------------------

    def _on_bot_message(self, message: BotMessage) -> None:
        if isinstance(message, Hello):
            if message.protocol != PROTOCOL_VERSION:
                self._kill(ExitKind.CRASH, f"unsupported bot protocol {message.protocol}")
        elif isinstance(message, Pong):
            if message.nonce == self._ping_nonce:
                self._ping_sent_at = None
        elif isinstance(message, Log):
            self._store_log(message.level, message.message)
        elif isinstance(message, BotError):
            self._bot_error = f"{message.code}: {message.message}"[-2000:]
            self._store_log("error", message.message)
        elif isinstance(message, Ready):
            pass
        elif hasattr(message, "method"):
            self._serve(message)

    def _serve(self, request: Any) -> None:
        try:
            result = self._answer(request)
        except DomainError as exc:
            self._respond_error(request.id, exc.code, exc.message)
            return
        except Exception:
            log.exception("bot %s: request %s failed", self._launch.bot_id, request.method)
            self._respond_error(request.id, "INTERNAL_ERROR", "the server could not answer")
            return
        with contextlib.suppress(ChannelClosed, ValueError):
            self._send(Response(id=request.id, ok=True, result=result))

    def _answer(self, request: Any) -> Any:
        launch, exchange = self._launch, self._services.exchange
        if isinstance(request, PlaceOrderRequest):
            return self._place(request)
        if isinstance(request, CancelRequest):
            return self._cancel(request.params.coin, request.params.oid)
        if isinstance(request, OpenOrdersRequest):
            return [_order_json(o) for o in self._own_open_orders()]
        if isinstance(request, PositionsRequest):
            snapshot = self._snapshot()
            return [
                {
                    "coin": coin,
                    "size": plain_decimal(p.size),
                    "entry_price": plain_decimal(p.entry_price),
                    "unrealized_pnl": plain_decimal(p.unrealized_pnl),
                }
                for coin, p in snapshot.positions.items()
                if p.size != 0
            ]
        if isinstance(request, CapitalRequest):
            return _capital_json(self._snapshot())
        if isinstance(request, MidRequest):
            mid = self._mid(request.params.coin)
            if mid is None:
                raise DomainError(f"no mid price for {request.params.coin}", code="NO_PRICE")
            return plain_decimal(mid)
        if isinstance(request, BookRequest):
            book = exchange.l2_book(request.params.coin)
            return {
                "coin": book.coin,
                "bids": [{"price": plain_decimal(x.price), "size": plain_decimal(x.size)}
                         for x in book.bids],
                "asks": [{"price": plain_decimal(x.price), "size": plain_decimal(x.size)}
                         for x in book.asks],
                "time": book.time_ms,
            }  # fmt: skip
        if isinstance(request, CandlesRequest):
            p = request.params
            end = int(time.time() * 1000)
            start = end - _INTERVAL_MS[p.interval] * p.limit
            candles = exchange.candles(p.coin, p.interval, start, end)[-p.limit :]
            return [
                {
                    "time": c.time_ms,
                    "open": plain_decimal(c.open),
                    "high": plain_decimal(c.high),
                    "low": plain_decimal(c.low),
                    "close": plain_decimal(c.close),
                    "volume": plain_decimal(c.volume),
                }
                for c in candles
            ]
        if isinstance(request, StateGetRequest):
            state = self._load_state()
            key = request.params.key
            return {"found": key in state, "value": state.get(key)}
        if isinstance(request, StateSetRequest | StateDeleteRequest):
            return self._change_state(request)
        raise DomainError(f"unknown method {launch.bot_id}", code="UNKNOWN_METHOD")

    def _place(self, request: PlaceOrderRequest) -> dict[str, Any]:
        p, launch = request.params, self._launch
        if self._services.exchange.market(p.coin) is None:
            raise DomainError(f"no market named {p.coin!r}", code="UNKNOWN_COIN")
        if p.order_type == "limit":
            if p.price is None:
                raise DomainError("a limit order needs a price", code="INVALID_ORDER")
            limit_price = p.price
        else:
            mid = p.price or self._mid(p.coin)
            if mid is None:
                raise DomainError(f"no mid price for {p.coin}", code="NO_PRICE")
            factor = 1 + MARKET_SLIPPAGE if p.side == "buy" else 1 - MARKET_SLIPPAGE
            limit_price = mid * factor
        cloid = new_cloid(launch.bot_id)
        intent = OrderIntent(cloid, p.coin, p.side, p.size, limit_price, p.reduce_only)
        self._refresh_marks()
        try:
            refusal = self._capital.submit(intent).get(timeout=self._config.ask_timeout)
        except ValueError as exc:
            raise DomainError(str(exc), code="INVALID_ORDER") from None
        if refusal is not None:
            raise DomainError(refusal.message, code=refusal.code)
        order = OrderRequest(
            coin=p.coin,
            is_buy=p.side == "buy",
            size=p.size,
            price=p.price,
            order_type=p.order_type,
            tif=p.tif,
            reduce_only=p.reduce_only,
        )
        try:
            placed = self._services.orders.place(
                launch.user_id, launch.wallet_id, order, bot_id=launch.bot_id, cloid=cloid
            )
        except DomainError:
            self._book_result(cloid, "error", Decimal(0))
            raise
        except Exception:
            # The outcome is unknown: the reservation stays until the cloid is resolved.
            self._book_result(cloid, "unknown", Decimal(0))
            raise
        result = placed.result
        self._book_result(cloid, result.status, result.filled_size)
        with contextlib.suppress(Exception):
            self._services.publish_fills(placed.new_fills)
        return {
            "status": result.status,
            "oid": result.oid,
            "cloid": cloid,
            "filled_size": plain_decimal(result.filled_size),
            "avg_price": plain_decimal(result.avg_price) if result.avg_price is not None else None,
        }

    def _book_result(self, cloid: str, status: Any, filled: Decimal) -> None:
        """Told, not asked: the bot need not wait for it, and the capital manager handles its
        messages in order, so the bot's next order is checked against this result."""
        self._capital.order_result(cloid, status, filled)

    def _cancel(self, coin: str, oid: int) -> dict[str, Any]:
        launch = self._launch
        cloid = self._services.orders.bot_order_cloid(launch.bot_id, launch.wallet_id, oid, coin)
        if cloid is None:
            raise DomainError("this bot has no order with that oid", code="ORDER_NOT_FOUND")
        self._services.orders.cancel(launch.user_id, launch.wallet_id, oid)
        # Settling may ask the exchange how much had filled: that waits until the answer is out.
        self.actor_ref.tell(_SettleCancel(cloid))
        return {"oid": oid, "canceled": True}

    def _settle_cancel(self, cloid: str, filled: Decimal | None = None) -> None:
        """Free the canceled order's reservation, keeping what had filled (fills may be late).

        `filled` comes with the stream's update (original size minus size at the cancel); without
        it the exchange is asked by cloid. Each cancel is settled once: the bot's own cancel is
        echoed by the stream, and a second `orderStatus` read would only repeat the first.
        """
        if cloid in self._settled:
            return
        try:
            if filled is None:
                status = self._services.exchange.order_status(self._launch.account, cloid)
                if status.order is None:
                    return
                filled = status.order.orig_size - status.order.size
            self._capital.cancel_confirmed(cloid, filled).get(timeout=self._config.ask_timeout)
        except Exception:
            log.warning("bot %s: could not settle the cancel of %s", self._launch.bot_id, cloid)
            return
        self._settled[cloid] = None
        if len(self._settled) > SETTLED_CANCELS_KEPT:
            self._settled.popitem(last=False)

    def _own_open_orders(self) -> list[Any]:
        orders = self._services.exchange.open_orders(self._launch.account)
        return [o for o in orders if bot_id_of(o.cloid) == self._launch.bot_id]

    def _mid(self, coin: str) -> Decimal | None:
        mid = self._services.market.mid(coin)
        return mid if mid is not None else self._services.exchange.mids().get(coin)

    def _snapshot(self) -> CapitalSnapshot:
        self._refresh_marks()
        snapshot: CapitalSnapshot = self._capital.snapshot().get(timeout=self._config.ask_timeout)
        return snapshot

    def _refresh_marks(self) -> None:
        """Hand the capital manager the streamed mids (its mailbox keeps them ahead of the ask
        that follows). Without a fresh stream the book keeps its last marks."""
        mids = self._services.market.fresh_mids(MARK_MAX_AGE_SECONDS)
        if mids:
            self._capital.refresh_marks(mids)

    def _load_state(self) -> dict[str, Any]:
        with self._services.sessions() as session:
            state = session.scalar(select(Bot.state).where(Bot.id == self._launch.bot_id))
        return dict(state or {})

    def _change_state(self, request: StateSetRequest | StateDeleteRequest) -> dict[str, Any]:
        with transaction(self._services.sessions) as session:
            bot = session.get(Bot, self._launch.bot_id)
            if bot is None:
                raise DomainError("the bot is gone", code="NOT_FOUND")
            state = dict(bot.state or {})
            if isinstance(request, StateSetRequest):
                state[request.params.key] = request.params.value
                if state_size(state) > self._config.max_state_bytes:
                    raise DomainError(
                        f"the bot's state may hold at most {self._config.max_state_bytes} bytes",
                        code="STATE_TOO_LARGE",
                    )
            else:
                state.pop(request.params.key, None)
            bot.state = state
        return {"ok": True}

    def _store_log(self, level: str, message: str) -> None:
        launch = self._launch
        line = cut_log_line(message)
        now = datetime.now(UTC)
        try:
            with transaction(self._services.sessions) as session:
                session.add(
                    BotLog(
                        bot_id=launch.bot_id, run_id=launch.run_id, time=now,
                        level=level, message=line,
                    )
                )  # fmt: skip
            self._logs_since_trim += 1
            if self._logs_since_trim >= LOG_TRIM_EVERY:
                self._trim_logs()
        except Exception:
            log.exception("bot %s: could not store a log line", launch.bot_id)
            return
        with contextlib.suppress(Exception):
            self._services.hub.publish_user(
                launch.user_id,
                {
                    "channel": "bot_logs",
                    "data": {
                        "bot_id": launch.bot_id,
                        "level": level,
                        "message": line,
                        "time": int(now.timestamp() * 1000),
                    },
                },
            )

    def _trim_logs(self) -> None:
        self._logs_since_trim = 0
        trim_logs(self._services, self._launch.bot_id, self._config.max_log_lines)

    # -- lifecycle -----------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        if self._bot is None or self._stopping is not None:
            return
        now = time.monotonic()
        if self._ping_sent_at is not None:
            self._kill(ExitKind.CRASH, "stopped answering heartbeats")
            return
        self._ping_nonce += 1
        self._ping_sent_at = now
        with contextlib.suppress(ChannelClosed, ValueError):
            self._send(Ping(nonce=self._ping_nonce))

    def _kill(self, kind: ExitKind, reason: str) -> None:
        if self._exit is None:
            self._exit = (kind, reason)
            log.warning("bot %s killed: %s", self._launch.bot_id, reason)
        if self._bot is not None:
            self._bot.kill(reason)

    def _finish(self, code: int | None) -> None:
        bot = self._bot
        if self._stopping is not None:
            kind, reason = ExitKind.USER_STOP, "stopped by its owner"
        elif self._exit is not None:
            kind, reason = self._exit
        elif self._bot_error is not None:
            kind, reason = ExitKind.CRASH, self._bot_error
        elif code == 0:
            kind, reason = ExitKind.NORMAL, "exited"
        else:
            reason = (bot.exit_reason if bot is not None else None) or f"exited with code {code}"
            tail = bot.stderr_tail().strip()[-500:] if bot is not None else ""
            kind, reason = ExitKind.CRASH, f"{reason}: {tail}" if tail else reason
        if self._stopping is not None and self._cancel_on_stop:
            self._cancel_resting_orders()
        self._trim_logs()
        self._done = True
        self._report(kind, reason, code)
        self.stop()

    def _report(self, kind: ExitKind, reason: str, code: int | None) -> None:
        exited = BotExited(self._launch.bot_id, self._launch.run_id, kind, reason, code)
        if self._stopping is not None:
            self._stopping.set(exited)
        else:
            _tell_quietly(self._supervisor, exited)

    def _cancel_resting_orders(self) -> None:
        launch = self._launch
        for cloid in cancel_bot_orders(
            self._services, launch.user_id, launch.wallet_id, launch.bot_id
        ):
            self._settle_cancel(cloid)

    def _respond_error(self, request_id: int, code: str, message: str) -> None:
        error = ErrorDetail(code=code if code.isupper() else "ERROR", message=message[:1000])
        with contextlib.suppress(ChannelClosed, ValueError):
            self._send(Response(id=request_id, ok=False, error=error))

    def _send(self, message: Any) -> None:
        if self._bot is not None:
            self._bot.channel.send(message.model_dump(mode="json"))

    def _stream_priority(self, change: Any) -> None:
        services, account = self._services, self._launch.account
        try:
            change(services.stream, account, services.fills.cursor_ms(account))
        except Exception:
            log.warning("bot %s: could not change the stream priority of %s", self, account)


def cancel_bot_orders(services: Services, user_id: int, wallet_id: int, bot_id: int) -> list[str]:
    """Cancel the bot's resting orders (its cloids name it); the cloids canceled. Failures are
    logged: the owner sees the orders still open and can cancel them by hand."""
    with services.sessions() as session:
        account = session.scalar(select(Wallet.account_address).where(Wallet.id == wallet_id))
    if account is None:
        return []
    try:
        orders = services.exchange.open_orders(account)
    except Exception:
        log.exception("bot %s: could not list its resting orders to cancel", bot_id)
        return []
    canceled = []
    for order in orders:
        if bot_id_of(order.cloid) != bot_id:
            continue
        try:
            services.orders.cancel(user_id, wallet_id, order.oid)
            canceled.append(order.cloid or "")
        except Exception:
            log.exception("bot %s: could not cancel order %s", bot_id, order.oid)
    return [c for c in canceled if c]


def trim_logs(services: Services, bot_id: int, keep: int) -> None:
    """Delete all but the newest `keep` log lines of a bot."""
    with transaction(services.sessions) as session:
        cutoff = session.scalar(
            select(BotLog.id)
            .where(BotLog.bot_id == bot_id)
            .order_by(BotLog.id.desc())
            .offset(keep)
            .limit(1)
        )
        if cutoff is not None:
            session.execute(delete(BotLog).where(BotLog.bot_id == bot_id, BotLog.id <= cutoff))


def _capital_json(s: CapitalSnapshot) -> dict[str, Any]:
    return {
        "allocation": plain_decimal(s.allocation),
        "leverage": plain_decimal(s.leverage),
        "limit": plain_decimal(s.limit),
        "used": plain_decimal(s.used),
        "available": plain_decimal(s.available),
        "realized_pnl": plain_decimal(s.realized_pnl),
        "unrealized_pnl": plain_decimal(s.unrealized_pnl),
        "fees": plain_decimal(s.fees),
        "equity": plain_decimal(s.equity),
    }


def capital_json(snapshot: CapitalSnapshot) -> dict[str, Any]:
    """The capital snapshot in the platform's JSON shape (decimals as text)."""
    return _capital_json(snapshot)


def _order_json(o: Any) -> dict[str, Any]:
    return {
        "coin": o.coin,
        "side": o.side,
        "price": plain_decimal(o.price),
        "size": plain_decimal(o.size),
        "orig_size": plain_decimal(o.orig_size),
        "oid": o.oid,
        "cloid": o.cloid,
        "reduce_only": o.reduce_only,
        "time": o.timestamp_ms,
    }


def _filled_of(order: dict[str, Any]) -> Decimal | None:
    """Original size minus remaining size of an `orderUpdates` order, if it says both."""
    try:
        return Decimal(str(order["origSz"])) - Decimal(str(order["sz"]))
    except (KeyError, ArithmeticError, ValueError, TypeError):
        return None


def _tell_quietly(ref: pykka.ActorRef[Any], message: Any) -> None:
    with contextlib.suppress(pykka.ActorDeadError):
        ref.tell(message)


def _tick(ref: pykka.ActorRef[Any], interval: float, halt: threading.Event) -> None:
    """Heartbeat ticker thread: tells the actor every `interval` seconds until halted."""
    while not halt.wait(interval):
        try:
            ref.tell(_HeartbeatDue())
        except pykka.ActorDeadError:
            return


def _read_channel(bot: BotProcess, ref: pykka.ActorRef[Any], config: EngineConfig) -> None:
    """Reader thread: frames → validated messages → tells. Enforces the message budget here, so
    a flood never fills the actor's mailbox; ends by telling `_Ended` once the process is gone."""
    budget = MessageBudget(config.max_messages_per_second, time.monotonic())
    invalid = 0

    def tell(message: Any) -> bool:
        try:
            ref.tell(message)
            return True
        except pykka.ActorDeadError:
            bot.kill("its supervisor is gone")
            return False

    while True:
        try:
            raw = bot.channel.recv(timeout=READER_WAKE_SECONDS)
        except ChannelClosed:
            break
        except ProtocolViolation as exc:
            tell(_Abuse(f"protocol violation ({exc.code}): {exc.message}"[:500]))
            break
        except (OSError, ValueError):  # the actor closed the channel (server shutdown)
            break
        if raw is None:
            if bot.returncode is not None:
                break
            continue
        if not budget.allow(time.monotonic()):
            tell(_Abuse(f"flooding: more than {config.max_messages_per_second} messages a second"))
            break
        try:
            message = parse_bot_message(raw)
        except InvalidRequest as exc:
            invalid += 1
            if invalid > config.max_invalid_requests:
                tell(_Abuse(f"more than {config.max_invalid_requests} malformed requests"))
                break
            if not tell(_BadRequest(exc.request_id, exc.message)):
                return
            continue
        except ProtocolViolation as exc:
            tell(_Abuse(f"protocol violation ({exc.code}): {exc.message}"[:500]))
            break
        if not tell(_Inbound(message)):
            return
    # The channel is done: the process exits by itself, or is killed by the actor (abuse), or
    # closed its channel and lingers — then it is killed after the grace period.
    code = bot.wait(max(config.stop_grace_seconds, 1.0))
    if code is None:
        bot.kill("closed its channel")
        code = bot.wait(10.0)
    tell(_Ended(code))
