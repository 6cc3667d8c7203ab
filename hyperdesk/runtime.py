"""Assembles and tears down the whole server: database, secrets, paper exchange, actor system.

Start order follows dependencies (storage, secrets, exchange, actors, reconciliation); stop runs
in reverse, so nothing is left talking to a component that has already gone.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text

from hyperdesk.accounts.assembly import account_service
from hyperdesk.accounts.tokens import TokenService
from hyperdesk.bots_engine.service import BotService
from hyperdesk.errors import ConfigurationError
from hyperdesk.exchange.answer_priority import ANSWERS
from hyperdesk.keystore import KeystoreError, ensure_keyring
from hyperdesk.persistence.checkpoints import WalCheckpointer
from hyperdesk.persistence.database import (
    make_engine,
    make_session_factory,
    make_unflushed_engine,
)
from hyperdesk.persistence.migrate import upgrade_to_head
from hyperdesk.secret_files import ensure_private_dir, load_or_create_jwt_secret
from hyperdesk.services import Services
from hyperdesk.settings import DEFAULT_VAULTS, HYPERLIQUID_URLS, Settings

log = logging.getLogger(__name__)


def detect_sandbox() -> str:
    """Which bot sandbox this machine can offer; the bot engine refines this with a live probe."""
    return "bubblewrap" if shutil.which("bwrap") else "process"


class Runtime:
    def __init__(self, settings: Settings, *, paper_config: object | None = None) -> None:
        self.settings = settings
        self.paper_config = paper_config
        self._stops: list[Callable[[], object]] = []  # results are ignored
        self.engine: Engine | None = None
        self.services: Services | None = None
        self.paper: object | None = None

    def start(self) -> Services:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Services:
        from hyperdesk.actors.exchange import ExchangeClient
        from hyperdesk.actors.market_stream import MarketStreamActor
        from hyperdesk.exchange.hyperliquid import HyperliquidAPI
        from hyperdesk.exchange.ratelimit import WeightedRateLimiter
        from hyperdesk.trading.earn import EarnService
        from hyperdesk.trading.fills import FillRecorder
        from hyperdesk.trading.history import TradeHistory
        from hyperdesk.trading.market_view import MarketView
        from hyperdesk.trading.orders import OrderService
        from hyperdesk.trading.outbox import Outbox
        from hyperdesk.trading.reconcile import reconcile
        from hyperdesk.wallets.reverify import AgentReverifier
        from hyperdesk.wallets.service import (
            WalletService,
            exchange_agent_verifier,
            exchange_role_lookup,
        )

        settings = self.settings
        ensure_private_dir(settings.data_dir)  # 0700: the database and secrets live here
        jwt_secret = load_or_create_jwt_secret(
            settings.resolved_jwt_secret_file, create=settings.generates_secrets
        )
        try:
            keyring = ensure_keyring(
                settings.resolved_master_key_file, create=settings.generates_secrets
            )
        except KeystoreError as exc:
            raise ConfigurationError(str(exc)) from None

        engine = make_engine(settings.resolved_database_url, background_checkpoints=True)
        self.engine = engine
        self._stops.append(engine.dispose)
        upgrade_to_head(engine)
        if engine.dialect.name == "sqlite":
            self._stops.append(WalCheckpointer(engine).start().stop)
        sessions = make_session_factory(engine)
        unflushed = make_unflushed_engine(engine)
        self.unflushed_engine = unflushed
        if unflushed is not engine:
            self._stops.append(unflushed.dispose)

        exchange_url = self._start_exchange()
        # Orders, cancels and modifies go ahead of reads in the one weight budget (ratelimit.py).
        limiter = WeightedRateLimiter(
            capacity=settings.resolved_exchange_weight_per_minute,
            write_reserve=settings.exchange_write_reserve,
        )
        api = HyperliquidAPI(
            exchange_url, rate_limiter=limiter, read_wait=settings.exchange_read_wait_seconds
        )
        # The exchange actor asks the wallets for keys and the wallets ask the exchange whether an
        # agent is approved; the key provider only runs once a wallet signs, after both exist.
        # An agent key the exchange refuses as unknown is reported back to the services, which
        # stop trusting the wallet (the listener, too, only runs once a wallet signs).
        exchange = ExchangeClient.start(
            api,
            lambda wallet_id: wallets.key_for(wallet_id),
            on_agent_gone=lambda wallet_id, error: services.on_agent_gone(wallet_id, error),
            max_pending_reads=settings.exchange_max_pending_reads,
        )
        self._stops.append(exchange.stop)
        wallets = WalletService(
            sessions,
            keyring,
            exchange_agent_verifier(exchange.info_request),
            exchange_role_lookup(exchange.info_request),
        )

        fills = FillRecorder(sessions)
        # Bookkeeping writes owed after the exchange answered (order results, cancels, ...).
        outbox = Outbox()
        self._stops.append(outbox.stop)
        market = MarketView()
        tokens = TokenService(jwt_secret, lifetime_seconds=settings.access_token_minutes * 60)
        services = Services(
            settings=settings,
            sessions=sessions,
            accounts=account_service(settings, sessions, tokens),
            exchange_url=exchange_url,
            sandbox=detect_sandbox(),
            database_ok=lambda: _ping(engine),
            wallets=wallets,
            exchange=exchange,
            orders=OrderService(
                sessions,
                exchange,
                fills,
                market,
                outbox,
                wallets.owners,
                flush_order_rows=settings.order_row_flush,
                unflushed=unflushed,
            ),
            earn=EarnService(sessions, exchange, outbox),
            fills=fills,
            history=TradeHistory(sessions),
            bots=BotService(sessions, max_bots_per_user=settings.max_bots_per_user),
            market=market,
            known_vaults=self._known_vaults(),
        )

        # Agents approved while we were down become trusted, and those revoked or expired stop
        # being trusted; then catch up with what happened while we were down, before anything
        # new is streamed.
        wallets.reverify_agents()
        reconcile(sessions, exchange, fills)

        stream_ref = MarketStreamActor.start(
            exchange_url,
            exchange.info_request,
            fills_sink=services.on_stream_fills,
            fills_stored_through=services.on_fills_stored_through,
            order_updates_sink=services.on_stream_orders,
            max_ws_users=settings.stream_max_users,
            max_subscriptions=settings.stream_max_subscriptions,
            poll_interval=settings.stream_poll_seconds,
            before_frame=ANSWERS.yield_to_answers,
        )
        self._stops.append(lambda: stream_ref.stop(timeout=10))
        stream = stream_ref.proxy()
        market.stream = stream
        stream.subscribe({"type": "allMids"}, services.on_mids).get(timeout=10)
        for wallet in wallets.all_wallets():
            services.on_wallet_added(wallet)
        self._start_bot_supervisor(services)
        if settings.agent_reverify_seconds > 0:
            reverifier = AgentReverifier(services.reverify_agents, settings.agent_reverify_seconds)
            reverifier.start()
            self._stops.append(reverifier.stop)

        self.services = services
        return services

    def _start_bot_supervisor(self, services: Services) -> None:
        """After the stream (bots' fills) and reconciliation; registered last, so stopped first:
        bot processes end before the exchange and stream they trade through."""
        from hyperdesk.actors.bot_supervisor import BotSupervisor
        from hyperdesk.bots_engine.engine_config import EngineConfig
        from hyperdesk.sandbox.launcher import detect_sandbox as probe_sandbox
        from hyperdesk.sandbox.launcher import raise_open_file_limit

        settings = self.settings
        raise_open_file_limit()
        kind = probe_sandbox()
        if kind == "process":
            log.warning(
                "bubblewrap is unavailable: bots run in the weaker process sandbox%s",
                "" if settings.is_paper or settings.allow_weak_sandbox else " — refused here",
            )
        supervisor_ref = BotSupervisor.start(
            services,
            EngineConfig.from_settings(settings, kind),
            real_money=not settings.is_paper,
            allow_weak_sandbox=settings.allow_weak_sandbox,
        )
        self._stops.append(lambda: supervisor_ref.stop(timeout=60))
        services.supervisor = supervisor_ref.proxy()
        started = services.supervisor.recover().get(timeout=120)
        if started:
            log.info("started %d bots whose desired state is running", started)

    def _known_vaults(self) -> tuple[str, ...]:
        if self.settings.vaults:
            return tuple(v.lower() for v in self.settings.vaults)
        if self.settings.is_paper:
            from hyperdesk.paper.config import PaperConfig

            config = self.paper_config or PaperConfig()
            return tuple(v.address for v in config.vaults)  # type: ignore[attr-defined]
        return DEFAULT_VAULTS[self.settings.network]

    def _start_exchange(self) -> str:
        if self.settings.exchange_url:
            return self.settings.exchange_url
        if not self.settings.is_paper:
            return HYPERLIQUID_URLS[self.settings.network]
        # The paper world outlives the process: saved in the (0700) data dir, restored at start.
        state_path = self.settings.paper_state_file or self.settings.data_dir / "paper-state.json"
        if self.paper_config is None:
            return self._start_paper_process(state_path)
        return self._start_paper_in_process(state_path)

    def _start_paper_process(self, state_path: Path) -> str:
        """The default: its own OS process (``python -m hyperdesk.paper``), so the exchange
        shares no interpreter, GIL or CPU time slice with the app (architecture.md)."""
        from hyperdesk.paper_process import PaperProcess, PaperProcessError

        process = PaperProcess(
            state_file=state_path,
            port=self.settings.paper_port,
            seed=self.settings.paper_seed,
        )
        try:
            base_url = process.start()
        except PaperProcessError as exc:
            raise ConfigurationError(str(exc)) from None
        self.paper = process
        self._stops.append(process.stop)
        log.info("paper exchange serving Hyperliquid's protocol at %s", base_url)
        return base_url

    def _start_paper_in_process(self, state_path: Path) -> str:
        """For a test's own ``PaperConfig`` (an object no command-line flag carries)."""
        from hyperdesk.paper.clock import SystemClock
        from hyperdesk.paper.config import PaperConfig
        from hyperdesk.paper.exchange import PaperExchange
        from hyperdesk.paper.persistence import StateFileError, open_durable
        from hyperdesk.paper.runner import PaperServer

        config = self.paper_config or PaperConfig(seed=self.settings.paper_seed)
        exchange = PaperExchange(config, SystemClock())  # type: ignore[arg-type]
        try:
            snapshotter, _ = open_durable(exchange, state_path)
        except StateFileError as exc:
            raise ConfigurationError(str(exc)) from None
        self._stops.append(snapshotter.stop)  # runs after server.stop: the final snapshot
        server = PaperServer(exchange, host="127.0.0.1", port=self.settings.paper_port)
        base_url = server.start()
        self.paper = server
        self._stops.append(server.stop)
        log.info("paper exchange serving Hyperliquid's protocol at %s", base_url)
        return base_url

    def stop(self) -> None:
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception:
                log.exception("error while stopping %s", stop)


def _ping(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        log.warning("database ping failed", exc_info=True)
        return False
