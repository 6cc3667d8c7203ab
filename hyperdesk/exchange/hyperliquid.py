"""``HyperliquidAPI``: the one class that wraps the official SDK (architecture.md, "exchange/").

Everything else in the platform talks to Hyperliquid (or the paper exchange, which speaks the same
protocol) through this class, in terms of the frozen models in ``hyperdesk.exchange.models`` and the
typed errors in ``hyperdesk.exchange.errors``; another exchange can be added later by writing a
sibling class with the same public methods.

Threading. Reads may be called from any thread: each thread gets its own SDK ``Info`` (its own HTTP
session), built from metadata fetched once. Signed calls for one signer must not run concurrently —
the ``ExchangeActor`` serializes them per signer — and each signer gets its own signing key and
kept-alive connection (``ActionTransport``) on first use. Every HTTP call carries a timeout and is
charged to the shared rate limiter first.

Priority. Calls made on a thread marked with ``mark_write_lane`` (the signer actors' threads) are
writes for the rate limiter, reads included: the cloid lookups that settle an order, the mid a
market order is priced from. Every other read waits at most ``read_wait`` seconds for weight and
is then shed with ``RateLimited``, so a crowd of readers can neither starve orders nor queue.

Nonces. The SDK uses the wall clock in milliseconds as the nonce, so two actions of one signer in
the same millisecond collide (``duplicate nonce``). Signed actions are therefore built with the
SDK's own signing helpers and a per-signer nonce that is ``max(now_ms, last + 1)``: strictly
increasing per signer, and still within the exchange's time window.

Orders. Every order carries a cloid (generated when absent). If the HTTP call times out, the
connection resets or the server fails, the order may or may not exist: it is looked up by its
cloid (``orderStatus``), never resent; if the lookup cannot settle it, the result is ``unknown``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

import requests
from eth_account import Account
from hyperliquid.api import API
from hyperliquid.info import Info
from hyperliquid.utils.constants import MAINNET_API_URL, TESTNET_API_URL
from hyperliquid.utils.error import ClientError, ServerError
from hyperliquid.utils.signing import (
    sign_token_delegate_action,
    sign_user_signed_action,
)

from hyperdesk.exchange.answer_priority import ANSWERS
from hyperdesk.exchange.errors import (
    ErrorCode,
    ExchangeError,
    ExchangeRejected,
    ExchangeTimeout,
    ExchangeUnavailable,
    classify,
    clean_message,
    error_from_http,
    error_from_message,
)
from hyperdesk.exchange.l1_signing import L1Signer
from hyperdesk.exchange.models import (
    HYPE_WEI_DECIMALS,
    ZERO,
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
    OrderStatus,
    OrderStatusInfo,
    StakingSummary,
    Validator,
    VaultDetails,
    VaultEquity,
    VaultSummary,
    plain_decimal,
    to_decimal,
)
from hyperdesk.exchange.ratelimit import (
    Priority,
    WeightedRateLimiter,
    exchange_weight,
    info_items_weight,
    info_weight,
)
from hyperdesk.exchange.transport import ActionTransport, SendRefused, SendUnknown
from hyperdesk.protocol import rules

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
DEFAULT_READ_WAIT = 2.0
FILLS_PAGE_SIZE = 500
USD_DECIMALS = 6

_CDEPOSIT_TYPES = [
    {"name": "hyperliquidChain", "type": "string"},
    {"name": "wei", "type": "uint64"},
    {"name": "nonce", "type": "uint64"},
]

# orderStatus status strings → (our status when nothing filled, stable error code).
_REJECTED_STATUS_CODES: dict[str, ErrorCode] = {
    "tickRejected": ErrorCode.TICK_SIZE,
    "minTradeNtlRejected": ErrorCode.MIN_NOTIONAL,
    "perpMarginRejected": ErrorCode.INSUFFICIENT_MARGIN,
    "reduceOnlyRejected": ErrorCode.REDUCE_ONLY,
    "reduceOnlyCanceled": ErrorCode.REDUCE_ONLY,
    "badAloPxRejected": ErrorCode.POST_ONLY_WOULD_MATCH,
    "iocCancelRejected": ErrorCode.IOC_NO_MATCH,
    "badTriggerPxRejected": ErrorCode.TRIGGER_PRICE,
    "marketOrderNoLiquidityRejected": ErrorCode.NO_LIQUIDITY,
    "insufficientSpotBalanceRejected": ErrorCode.INSUFFICIENT_BALANCE,
    "oracleRejected": ErrorCode.PRICE_BAND,
    "perpMaxPositionRejected": ErrorCode.POSITION_LIMIT,
    "marginCanceled": ErrorCode.INSUFFICIENT_MARGIN,
}


def new_cloid() -> str:
    """A random client order id: ``0x`` + 32 hex digits (128 bits)."""
    return "0x" + secrets.token_hex(16)


def decimal_to_wire(value: Decimal) -> str:
    """Canonical wire form of a number, as the SDK's ``float_to_wire`` sends it, but exact.

    No exponent, no trailing zeros, ``-0`` as ``0``: ``Decimal("1100.0")`` → ``"1100"``.
    """
    return plain_decimal(value)


def _scaled_int(amount: Decimal, decimals: int, what: str) -> int:
    scaled = amount.scaleb(decimals)
    whole = scaled.to_integral_value(rounding=ROUND_DOWN)
    if scaled != whole or whole <= 0:
        raise ExchangeRejected(
            ErrorCode.INVALID_NUMBER,
            f"{what} must be positive with at most {decimals} decimals, got {amount}",
        )
    return int(whole)


class SigningWallet:
    """A wallet key ready to sign, with the account it trades for.

    ``address`` is the signer; ``account_address`` is the account whose orders and positions these
    are — the master for an API (agent) wallet, else the signer itself. The key never appears in a
    repr, a log line or an exception message.
    """

    __slots__ = ("_account", "account_address", "address")

    def __init__(self, private_key_hex: str, account_address: str | None = None) -> None:
        try:
            self._account = Account.from_key(private_key_hex)
        except Exception:  # eth_account raises several types; never echo the key
            raise ValueError("not a valid private key") from None
        self.address: str = self._account.address.lower()
        self.account_address: str = (account_address or self.address).lower()

    @property
    def is_agent(self) -> bool:
        return self.account_address != self.address

    @property
    def local_account(self) -> Any:
        """The ``eth_account`` account the SDK signs with (only this module should use it)."""
        return self._account

    def __repr__(self) -> str:
        return (
            f"SigningWallet(address={self.address!r}, "
            f"account_address={self.account_address!r}, key=***)"
        )

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("SigningWallet cannot be pickled")


class _AmbiguousSend(Exception):
    """The action may or may not have reached the exchange (timeout, reset, 5xx, garbage)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _SignerClient:
    """Per-signer state: its L1 signer, the connection its actions are posted on, and its last
    nonce."""

    wallet: SigningWallet
    l1: L1Signer
    transport: ActionTransport
    last_nonce: int = 0

    def next_nonce(self, now_ms: int) -> int:
        self.last_nonce = max(now_ms, self.last_nonce + 1)
        return self.last_nonce


class HyperliquidAPI:
    """Reads and signed actions against one Hyperliquid-compatible network.

    ``base_url`` decides the network exactly like the SDK: it is mainnet only when it equals
    ``MAINNET_API_URL``; anything else signs as testnet (the paper exchange expects that).
    ``clock_ms`` and ``sleep`` are injectable for tests; ``resolve_attempts``/``resolve_backoff``
    bound the cloid lookups after an ambiguous order send. ``on_signed_action(signer, nonce,
    action_type)`` is called just before each signed action is posted (audit log, tests); it
    never receives key material.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        rate_limiter: WeightedRateLimiter | None = None,
        rate_limit_wait: float | None = None,
        read_wait: float = DEFAULT_READ_WAIT,
        resolve_attempts: int = 3,
        resolve_backoff: float = 0.25,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
        sleep: Callable[[float], None] = time.sleep,
        on_signed_action: Callable[[str, int, str], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.is_mainnet = self.base_url == MAINNET_API_URL
        self.timeout = timeout
        self.rate_limiter = rate_limiter or WeightedRateLimiter()
        self.rate_limit_wait = timeout if rate_limit_wait is None else rate_limit_wait
        self.read_wait = min(read_wait, self.rate_limit_wait)
        self._lane = threading.local()  # .writing: this thread's calls are writes
        self.resolve_attempts = max(1, resolve_attempts)
        self.resolve_backoff = resolve_backoff
        self._clock_ms = clock_ms
        self._sleep = sleep
        self._on_signed_action = on_signed_action
        self._meta_lock = threading.Lock()
        self._meta: dict[str, Any] | None = None
        self._spot_meta: dict[str, Any] | None = None
        self._markets: dict[str, Market] = {}
        self._local = threading.local()
        self._signers_lock = threading.Lock()
        self._signers: dict[str, _SignerClient] = {}

    def __repr__(self) -> str:
        return f"HyperliquidAPI(base_url={self.base_url!r}, mainnet={self.is_mainnet})"

    # -- plumbing -------------------------------------------------------------------------------

    def _raw_post(self, client: API, path: str, body: dict[str, Any]) -> Any:
        """POST through an SDK client, mapping every transport failure to a typed error."""
        try:
            return client.post(path, body)
        except requests.Timeout as exc:
            raise ExchangeTimeout(f"no answer from the exchange within {self.timeout}s") from exc
        except requests.ConnectionError as exc:
            raise ExchangeUnavailable("cannot reach the exchange") from exc
        except ClientError as exc:
            if exc.status_code == 429:
                self.rate_limiter.penalize(1.0)
            raise error_from_http(exc.status_code, exc.error_message) from None
        except ServerError as exc:
            raise error_from_http(exc.status_code, exc.message) from None

    def mark_write_lane(self) -> None:
        """From now on, every call from the current thread spends weight as a write.

        Called once by each signer actor on its own thread: whatever it reads, it reads for an
        order, a cancel or a transfer already under way.
        """
        self._lane.writing = True

    def _acquire_info(self, request_type: str) -> None:
        """Charge one ``/info`` request: as a write on a write lane, else as a shed-able read."""
        weight = info_weight(request_type)
        if getattr(self._lane, "writing", False):
            self.rate_limiter.acquire(weight, self.rate_limit_wait, priority=Priority.WRITE)
        else:
            self.rate_limiter.acquire(weight, self.read_wait, priority=Priority.READ)

    @property
    def meta_loaded(self) -> bool:
        """True once market metadata is cached: ``market`` then answers from memory."""
        return self._meta is not None

    def _bootstrap_client(self) -> API:
        client = getattr(self._local, "bootstrap", None)
        if client is None:
            client = API(self.base_url, self.timeout)
            _pin_environment(client.session, self.base_url)
            self._local.bootstrap = client
        return client

    def _ensure_meta(self) -> None:
        if self._meta is not None:
            return
        with self._meta_lock:
            if self._meta is None:
                self._load_meta()

    def _load_meta(self) -> None:
        client = self._bootstrap_client()
        self._acquire_info("spotMeta")
        spot_meta = self._raw_post(client, "/info", {"type": "spotMeta"})
        self._acquire_info("meta")
        meta = self._raw_post(client, "/info", {"type": "meta", "dex": ""})
        if not isinstance(meta, dict) or not isinstance(spot_meta, dict):
            raise ExchangeRejected(ErrorCode.EXCHANGE_ERROR, "the exchange sent no metadata")
        markets: dict[str, Market] = {}
        for index, asset in enumerate(meta.get("universe") or []):
            markets[asset["name"]] = Market(
                coin=asset["name"],
                asset=index,
                sz_decimals=int(asset["szDecimals"]),
                max_leverage=int(asset.get("maxLeverage") or 1),
                is_delisted=bool(asset.get("isDelisted", False)),
                only_isolated=bool(asset.get("onlyIsolated", False)),
            )
        tokens = {t["index"]: t for t in spot_meta.get("tokens") or []}
        for pair in spot_meta.get("universe") or []:
            base = tokens.get(pair["tokens"][0])
            if base is None:
                continue
            markets.setdefault(
                pair["name"],
                Market(
                    coin=pair["name"],
                    asset=10_000 + int(pair["index"]),
                    sz_decimals=int(base["szDecimals"]),
                    max_leverage=1,
                    is_spot=True,
                ),
            )
        self._spot_meta = spot_meta
        self._markets = markets
        self._meta = meta

    def refresh_meta(self) -> None:
        """Forget cached metadata (new listings); the next call fetches it again."""
        with self._meta_lock:
            self._meta = None
            self._local = threading.local()

    def _info(self) -> Info:
        """This thread's SDK ``Info``: no websocket, built from cached metadata (no HTTP)."""
        self._ensure_meta()
        info = getattr(self._local, "info", None)
        if info is None:
            info = Info(
                self.base_url,
                skip_ws=True,
                meta=self._meta,
                spot_meta=self._spot_meta,
                timeout=self.timeout,
            )
            _pin_environment(info.session, self.base_url)
            self._local.info = info
        return info

    def info_request(self, body: dict[str, Any]) -> Any:
        """POST ``/info`` with the right weight charged first; typed errors on failure."""
        request_type = str(body.get("type"))
        self._acquire_info(request_type)
        result = self._raw_post(self._info(), "/info", body)
        if isinstance(result, list):
            extra = info_items_weight(request_type, len(result))
            if extra:
                self.rate_limiter.charge(extra)
        if isinstance(result, dict) and set(result) == {"error"}:
            raise ExchangeRejected(ErrorCode.EXCHANGE_ERROR, str(result["error"])[:200])
        return result

    # -- market data ----------------------------------------------------------------------------

    def markets(self, *, with_mids: bool = True) -> tuple[Market, ...]:
        """Every listed market (perps, then spot pairs), with mids when ``with_mids``."""
        self._ensure_meta()
        mids = self.mids() if with_mids else {}
        return tuple(
            Market(
                coin=m.coin,
                asset=m.asset,
                sz_decimals=m.sz_decimals,
                max_leverage=m.max_leverage,
                mid=mids.get(m.coin),
                is_spot=m.is_spot,
                is_delisted=m.is_delisted,
                only_isolated=m.only_isolated,
            )
            for m in self._markets.values()
        )

    def market(self, coin: str) -> Market | None:
        """Cached metadata of one market (no mid), or ``None`` if the coin is unknown."""
        self._ensure_meta()
        return self._markets.get(coin)

    def markets_by_coin(self) -> dict[str, Market]:
        self._ensure_meta()
        return dict(self._markets)

    def mids(self) -> dict[str, Decimal]:
        raw = self.info_request({"type": "allMids", "dex": ""}) or {}
        return {coin: to_decimal(px) for coin, px in raw.items() if px is not None}

    def mid(self, coin: str) -> Decimal:
        mid = self.mids().get(coin)
        if mid is None:
            raise ExchangeRejected(ErrorCode.UNKNOWN_COIN, f"no mid price for {coin!r}")
        return mid

    def l2_book(self, coin: str) -> L2Book:
        self._require_market(coin)
        raw = self.info_request({"type": "l2Book", "coin": coin})
        if not raw:
            raise ExchangeRejected(ErrorCode.UNKNOWN_COIN, f"no order book for {coin!r}")
        return L2Book.from_wire(raw)

    def candles(self, coin: str, interval: str, start_ms: int, end_ms: int) -> tuple[Candle, ...]:
        self._require_market(coin)
        body = {
            "type": "candleSnapshot",
            "req": {"coin": coin, "interval": interval, "startTime": start_ms, "endTime": end_ms},
        }
        return tuple(Candle.from_wire(c) for c in self.info_request(body) or [])

    # -- accounts -------------------------------------------------------------------------------

    def account_summary(self, address: str) -> AccountSummary:
        """Perp margin summary, positions and spot balances of ``address`` (the master account)."""
        address = address.lower()
        perp = self.info_request({"type": "clearinghouseState", "user": address, "dex": ""})
        spot = self.info_request({"type": "spotClearinghouseState", "user": address})
        return AccountSummary.from_wire(address, perp or {}, spot or {})

    def open_orders(self, address: str) -> tuple[OpenOrder, ...]:
        raw = self.info_request({"type": "frontendOpenOrders", "user": address.lower(), "dex": ""})
        return tuple(OpenOrder.from_wire(o) for o in raw or [])

    def fills_since(
        self, address: str, start_ms: int, end_ms: int | None = None
    ) -> tuple[Fill, ...]:
        """Fills of ``address`` from ``start_ms`` (inclusive), oldest first, paging past 500."""
        address = address.lower()
        seen: dict[int, Fill] = {}
        start = start_ms
        while True:
            page = self.info_request(
                {
                    "type": "userFillsByTime",
                    "user": address,
                    "startTime": start,
                    "endTime": end_ms,
                    "aggregateByTime": False,
                }
            )
            fresh = [Fill.from_wire(address, raw) for raw in page or []]
            new = [f for f in fresh if f.tid not in seen]
            for fill in new:
                seen[fill.tid] = fill
            if len(fresh) < FILLS_PAGE_SIZE or not new:
                break
            start = max(f.time_ms for f in fresh)  # inclusive: same-ms fills deduped by tid
        return tuple(sorted(seen.values(), key=lambda f: (f.time_ms, f.tid)))

    def order_status(self, address: str, oid_or_cloid: int | str) -> OrderStatusInfo:
        """Look an order up by oid (int) or cloid (``0x`` + 32 hex)."""
        raw = self.info_request(
            {"type": "orderStatus", "user": address.lower(), "oid": oid_or_cloid}
        )
        return OrderStatusInfo.from_wire(raw or {})

    # -- vaults and staking (reads) -------------------------------------------------------------

    def vaults(self, known: Iterable[str] = ()) -> tuple[VaultSummary, ...]:
        """Listed vaults: ``vaultSummaries`` where the server has it, else the ``known`` ones.

        ``vaultSummaries`` is undocumented (protocol §2.5) and the paper exchange lacks it, so a
        deployment passes the vault addresses it wants to show (e.g. HLP) as ``known``; those
        are looked up one by one with ``vaultDetails``.
        """
        try:
            raw = self.info_request({"type": "vaultSummaries"}) or []
        except ExchangeRejected as exc:
            if exc.code is not ErrorCode.EXCHANGE_ERROR:
                raise
            raw = None
        if raw:
            return tuple(VaultSummary.from_wire(v) for v in raw if isinstance(v, dict))
        summaries = []
        for address in known:
            details = self.vault_details(address)
            summaries.append(
                VaultSummary(
                    address=details.address or address.lower(),
                    name=details.name,
                    leader=details.leader,
                    apr=details.apr,
                    tvl=None,
                    is_closed=details.is_closed,
                )
            )
        return tuple(summaries)

    def vault_details(self, vault_address: str, user: str | None = None) -> VaultDetails:
        body: dict[str, Any] = {"type": "vaultDetails", "vaultAddress": vault_address.lower()}
        if user:
            body["user"] = user.lower()
        raw = self.info_request(body)
        if not raw:
            raise ExchangeRejected(ErrorCode.VAULT_NOT_FOUND, f"no vault {vault_address}")
        return VaultDetails.from_wire(raw)

    def vault_equities(self, user: str) -> tuple[VaultEquity, ...]:
        raw = self.info_request({"type": "userVaultEquities", "user": user.lower()}) or []
        return tuple(VaultEquity.from_wire(v) for v in raw)

    def validators(self) -> tuple[Validator, ...]:
        raw = self.info_request({"type": "validatorSummaries"}) or []
        return tuple(Validator.from_wire(v) for v in raw)

    def delegations(self, user: str) -> tuple[Delegation, ...]:
        raw = self.info_request({"type": "delegations", "user": user.lower()}) or []
        return tuple(Delegation.from_wire(d) for d in raw)

    def staking_summary(self, user: str) -> StakingSummary:
        return StakingSummary.from_wire(
            self.info_request({"type": "delegatorSummary", "user": user.lower()})
        )

    # -- paper only -----------------------------------------------------------------------------

    def faucet(self, address: str, usd: Decimal, *, hype: Decimal = ZERO) -> None:
        """Credit paper USDC (and HYPE) to ``address``: the paper exchange's ``POST /faucet``."""
        if self.base_url in (MAINNET_API_URL, TESTNET_API_URL):
            raise ExchangeRejected(ErrorCode.NOT_PERMITTED, "the faucet exists only on paper")
        body = {"user": address.lower(), "usd": decimal_to_wire(usd)}
        if hype:
            body["hype"] = decimal_to_wire(hype)
        self.rate_limiter.acquire(1, self.rate_limit_wait)
        result = self._raw_post(self._bootstrap_client(), "/faucet", body)
        if not isinstance(result, dict) or result.get("status") != "ok":
            raise ExchangeRejected(ErrorCode.EXCHANGE_ERROR, f"faucet refused: {result!r}"[:200])

    # -- actions signed elsewhere ---------------------------------------------------------------

    def submit_user_signed(
        self, action: dict[str, Any], nonce: int, signature: dict[str, Any]
    ) -> ActionResult:
        """POST a user-signed action the account's owner signed in their own wallet.

        The desk holds no key for it, so it needs no signer client; it spends write weight like
        any action. A lost answer is reported as unknown: resending the same nonce is refused by
        the exchange, and the caller learns the outcome from the account (e.g. its agents).
        """
        self.rate_limiter.acquire(exchange_weight(1), self.rate_limit_wait, priority=Priority.WRITE)
        body = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}
        try:
            response = self._raw_post(self._bootstrap_client(), "/exchange", body)
        except ExchangeTimeout:
            raise ExchangeTimeout(
                f"{action.get('type')}: outcome unknown (no answer); check the account"
            ) from None
        data = _ok_response(response)
        return ActionResult(ok=True, action=str(action.get("type")), data=data)

    # -- signing --------------------------------------------------------------------------------

    def _client(self, wallet: SigningWallet) -> _SignerClient:
        with self._signers_lock:
            client = self._signers.get(wallet.address)
            if client is None or client.wallet.account_address != wallet.account_address:
                if client is not None:
                    client.transport.close()
                client = _SignerClient(
                    wallet,
                    L1Signer(bytes(wallet.local_account.key)),
                    ActionTransport(self.base_url, timeout=self.timeout),
                    client.last_nonce if client else 0,
                )
                self._signers[wallet.address] = client
            return client

    def forget_signer(self, address: str) -> None:
        """Drop a signer's state (and with it the key it holds) and its connection."""
        with self._signers_lock:
            client = self._signers.pop(address.lower(), None)
        if client is not None:
            client.transport.close()

    def _send(
        self,
        wallet: SigningWallet,
        action: dict[str, Any],
        *,
        batch: int = 1,
        user_signed: tuple[Any, str] | None = None,
        nonce_field: str = "nonce",
    ) -> Any:
        """Sign ``action`` with the next nonce of its signer and POST it to ``/exchange``.

        Raises ``_AmbiguousSend`` when the request may have been applied but no answer arrived, a
        typed ``ExchangeError`` when it certainly was not applied.
        """
        client = self._client(wallet)
        nonce = client.next_nonce(self._clock_ms())
        account = wallet.local_account
        if user_signed is None:
            signature = client.l1.sign(
                action,
                nonce,
                is_mainnet=self.is_mainnet,
                expires_after=None,
            )
        else:
            types, primary = user_signed
            action[nonce_field] = nonce
            if primary == "tokenDelegate":
                signature = sign_token_delegate_action(account, action, self.is_mainnet)
            else:
                signature = sign_user_signed_action(
                    account, action, types, primary, self.is_mainnet
                )
        self.rate_limiter.acquire(
            exchange_weight(batch), self.rate_limit_wait, priority=Priority.WRITE
        )
        if self._on_signed_action is not None:
            self._on_signed_action(wallet.address, nonce, str(action.get("type")))
        payload = {
            "action": action,
            "nonce": nonce,
            "signature": signature,
            "vaultAddress": None,
            "expiresAfter": None,
        }
        try:
            with ANSWERS.awaiting_exchange():
                answer = client.transport.post(payload)
        except SendRefused as exc:
            raise ExchangeUnavailable("cannot connect to the exchange") from exc
        except SendUnknown as exc:
            raise _AmbiguousSend(f"no complete answer within {self.timeout}s") from exc
        if answer.status >= 500:
            raise _AmbiguousSend(f"server error HTTP {answer.status}")
        if answer.status >= 400:
            if answer.status == 429:
                self.rate_limiter.penalize(1.0)
            raise error_from_http(answer.status, _client_error_text(answer.body))
        try:
            return answer.json()
        except ValueError:
            raise _AmbiguousSend("unparsable answer") from None

    def _action(self, wallet: SigningWallet, action: dict[str, Any], **kw: Any) -> ActionResult:
        """Send a non-order action; success → ``ActionResult``, refusal → typed error."""
        kind = str(action.get("type"))
        try:
            response = self._send(wallet, action, **kw)
        except _AmbiguousSend as exc:
            raise ExchangeTimeout(
                f"{kind}: outcome unknown ({exc.reason}); check the account before retrying"
            ) from None
        data = _ok_response(response)
        inner = data.get("data") if isinstance(data, dict) else None
        statuses = inner.get("statuses") if isinstance(inner, dict) else None
        if statuses:
            status = statuses[0]
            if isinstance(status, dict) and "error" in status:
                raise error_from_message(status["error"])
        return ActionResult(ok=True, action=kind, data=data)

    # -- orders ---------------------------------------------------------------------------------

    def _order_wire(self, market: Market, request: OrderRequest, price: Decimal, cloid: str):
        if request.trigger_price is not None and request.trigger_kind is not None:
            order_type: dict[str, Any] = {
                "trigger": {
                    "isMarket": bool(request.trigger_is_market),
                    "triggerPx": decimal_to_wire(request.trigger_price),
                    "tpsl": request.trigger_kind,
                }
            }
        else:
            tif = "Ioc" if request.order_type == "market" else request.tif
            order_type = {"limit": {"tif": tif}}
        # Key order matters: the action is msgpack-hashed for the signature (protocol §4.3).
        return {
            "a": market.asset,
            "b": bool(request.is_buy),
            "p": decimal_to_wire(price),
            "s": decimal_to_wire(request.size),
            "r": bool(request.reduce_only),
            "t": order_type,
            "c": cloid,
        }

    def market_order_price(self, market: Market, request: OrderRequest) -> Decimal:
        """The SDK-style slippage-bounded IOC price: reference (or mid) ± slippage, on the grid."""
        reference = request.price if request.price is not None else self.mid(market.coin)
        factor = (1 + request.slippage) if request.is_buy else (1 - request.slippage)
        return rules.nearest_valid_price(
            reference * factor, market.sz_decimals, is_spot=market.is_spot
        )

    def place_order(self, wallet: SigningWallet, request: OrderRequest) -> OrderResult:
        """Place one order for ``wallet.account_address``; always with a cloid.

        Exchange refusals come back as ``OrderResult(status="error", error_code=…)``; a send
        whose outcome is unknown is resolved by cloid and, failing that, returns ``unknown``.
        Raises typed errors only when the order certainly was not placed for a transport or
        budget reason (``RateLimited``, ``ExchangeUnavailable``).
        """
        cloid = request.cloid or new_cloid()
        if not rules.is_cloid(cloid):
            return _error_result(cloid, ErrorCode.INVALID_NUMBER, "cloid must be 0x + 32 hex")
        market = self.market(request.coin)
        if market is None:
            return _error_result(cloid, ErrorCode.UNKNOWN_COIN, f"unknown coin {request.coin!r}")
        try:
            if request.order_type == "market":
                price = self.market_order_price(market, request)
            elif request.price is None:
                return _error_result(cloid, ErrorCode.INVALID_NUMBER, "a limit order needs a price")
            else:
                price = request.price
            wire = self._order_wire(market, request, price, cloid)
        except ValueError as exc:
            return _error_result(cloid, ErrorCode.INVALID_NUMBER, str(exc))
        action = {"type": "order", "orders": [wire], "grouping": "na"}
        try:
            response = self._send(wallet, action)
        except _AmbiguousSend as exc:
            logger.warning("order %s: %s; resolving by cloid", cloid, exc.reason)
            return self.resolve_order(wallet.account_address, cloid)
        return _order_result(response, cloid, request.size)

    def resolve_order(self, account_address: str, cloid: str) -> OrderResult:
        """Settle an order of unknown outcome by looking up its cloid (never by resending it)."""
        for attempt in range(self.resolve_attempts):
            if attempt:
                self._sleep(self.resolve_backoff * (2 ** (attempt - 1)))
            try:
                info = self.order_status(account_address, cloid)
            except ExchangeError as exc:
                logger.warning("order %s: cloid lookup failed: %s", cloid, exc.code)
                continue
            if info.found:
                return self._result_from_status(account_address, cloid, info)
        return OrderResult(
            status="unknown",
            cloid=cloid,
            error_code=str(ErrorCode.EXCHANGE_TIMEOUT),
            error_message="the exchange did not confirm this order; it will be looked up by cloid",
        )

    def _result_from_status(
        self, account_address: str, cloid: str, info: OrderStatusInfo
    ) -> OrderResult:
        order = info.order
        assert order is not None
        filled = max(ZERO, order.orig_size - order.size)
        avg = self._average_fill_price(account_address, order.oid, order.timestamp_ms, filled)
        status: OrderStatus
        if info.status == "open":
            status = "resting"
        elif info.status in ("filled", "triggered"):
            status = "filled" if info.status == "filled" else "resting"
            if info.status == "filled":
                filled = order.orig_size
        elif filled > 0:
            status = "partially_filled"
        else:
            code = _REJECTED_STATUS_CODES.get(info.status, ErrorCode.EXCHANGE_ERROR)
            return OrderResult(
                status="error",
                cloid=cloid,
                oid=order.oid,
                error_code=str(code),
                error_message=f"order ended {info.status}",
            )
        return OrderResult(
            status=status, cloid=cloid, oid=order.oid, filled_size=filled, avg_price=avg
        )

    def _average_fill_price(
        self, account_address: str, oid: int, since_ms: int, filled: Decimal
    ) -> Decimal | None:
        if filled <= 0:
            return None
        try:
            fills = [f for f in self.fills_since(account_address, since_ms) if f.oid == oid]
        except ExchangeError:
            return None
        size = sum((f.size for f in fills), ZERO)
        if size <= 0:
            return None
        return (sum((f.price * f.size for f in fills), ZERO) / size).normalize()

    def modify_order(self, wallet: SigningWallet, oid: int | str, request: OrderRequest):
        """Replace resting order ``oid`` (int oid or cloid) with ``request`` (a limit order)."""
        cloid = request.cloid or new_cloid()
        market = self.market(request.coin)
        if market is None:
            return _error_result(cloid, ErrorCode.UNKNOWN_COIN, f"unknown coin {request.coin!r}")
        if request.price is None:
            return _error_result(cloid, ErrorCode.INVALID_NUMBER, "a modify needs a price")
        wire = self._order_wire(market, request, request.price, cloid)
        action = {"type": "batchModify", "modifies": [{"oid": oid, "order": wire}]}
        try:
            response = self._send(wallet, action)
        except _AmbiguousSend as exc:
            logger.warning("modify %s: %s; resolving by cloid", cloid, exc.reason)
            return self.resolve_order(wallet.account_address, cloid)
        return _order_result(response, cloid, request.size)

    def cancel(self, wallet: SigningWallet, coin: str, oid: int) -> ActionResult:
        market = self._require_market(coin)
        action = {"type": "cancel", "cancels": [{"a": market.asset, "o": int(oid)}]}
        return self._action(wallet, action)

    def cancel_by_cloid(self, wallet: SigningWallet, coin: str, cloid: str) -> ActionResult:
        market = self._require_market(coin)
        action = {"type": "cancelByCloid", "cancels": [{"asset": market.asset, "cloid": cloid}]}
        return self._action(wallet, action)

    def update_leverage(
        self, wallet: SigningWallet, coin: str, leverage: int, *, is_cross: bool = True
    ) -> ActionResult:
        market = self._require_market(coin)
        if not 1 <= int(leverage) <= market.max_leverage:
            raise ExchangeRejected(
                ErrorCode.INVALID_NUMBER,
                f"leverage must be between 1 and {market.max_leverage} for {coin}",
            )
        action = {
            "type": "updateLeverage",
            "asset": market.asset,
            "isCross": bool(is_cross),
            "leverage": int(leverage),
        }
        return self._action(wallet, action)

    # -- vaults and staking (signed) ------------------------------------------------------------

    def vault_transfer(
        self, wallet: SigningWallet, vault_address: str, usd: Decimal, *, is_deposit: bool
    ) -> ActionResult:
        """Deposit into or withdraw from a vault (``usd`` with at most 6 decimals)."""
        self._require_owner_key(wallet, "vault transfers")
        action = {
            "type": "vaultTransfer",
            "vaultAddress": vault_address.lower(),
            "isDeposit": bool(is_deposit),
            "usd": _scaled_int(usd, USD_DECIMALS, "amount"),
        }
        return self._action(wallet, action)

    def staking_deposit(self, wallet: SigningWallet, hype: Decimal) -> ActionResult:
        """Move HYPE from the spot balance to the staking balance (``cDeposit``)."""
        self._require_owner_key(wallet, "staking")
        wei = _scaled_int(hype, HYPE_WEI_DECIMALS, "amount")
        action = {"type": "cDeposit", "wei": wei, "nonce": 0}
        return self._action(wallet, action, user_signed=(_CDEPOSIT_TYPES, _CDEPOSIT_PRIMARY))

    def token_delegate(
        self, wallet: SigningWallet, validator: str, hype: Decimal, *, is_undelegate: bool
    ) -> ActionResult:
        self._require_owner_key(wallet, "staking")
        action = {
            "validator": validator.lower(),
            "wei": _scaled_int(hype, HYPE_WEI_DECIMALS, "amount"),
            "isUndelegate": bool(is_undelegate),
            "nonce": 0,
            "type": "tokenDelegate",
        }
        return self._action(wallet, action, user_signed=(None, "tokenDelegate"))

    def delegate(self, wallet: SigningWallet, validator: str, hype: Decimal) -> ActionResult:
        """Delegate ``hype`` to ``validator``, first moving any shortfall from spot to staking."""
        summary = self.staking_summary(wallet.account_address)
        shortfall = hype - summary.undelegated
        if shortfall > 0:
            self.staking_deposit(wallet, shortfall)
        return self.token_delegate(wallet, validator, hype, is_undelegate=False)

    def undelegate(self, wallet: SigningWallet, validator: str, hype: Decimal) -> ActionResult:
        """Undelegate back to the staking balance (moving it to spot is a 7-day ``cWithdraw``)."""
        return self.token_delegate(wallet, validator, hype, is_undelegate=True)

    # -- helpers --------------------------------------------------------------------------------

    def _require_market(self, coin: str) -> Market:
        market = self.market(coin)
        if market is None:
            raise ExchangeRejected(ErrorCode.UNKNOWN_COIN, f"unknown coin {coin!r}")
        return market

    @staticmethod
    def _require_owner_key(wallet: SigningWallet, what: str) -> None:
        if wallet.is_agent:
            raise ExchangeRejected(
                ErrorCode.NOT_PERMITTED,
                f"{what} must be signed by the account's own key; an API wallet cannot move funds",
            )

    def close(self) -> None:
        """Close every HTTP session this object opened (on this thread and for every signer)."""
        with self._signers_lock:
            clients = list(self._signers.values())
            self._signers.clear()
        for client in clients:
            client.transport.close()
        for name in ("info", "bootstrap"):
            api = getattr(self._local, name, None)
            if api is not None:
                api.session.close()


_CDEPOSIT_PRIMARY = "HyperliquidTransaction:CDeposit"


def _pin_environment(session: requests.Session, base_url: str) -> None:
    """Read the proxy and CA-bundle environment once for this session, not on every request.

    With ``trust_env`` on, ``requests`` re-scans the whole process environment for proxy
    settings before each call (about 0.4 ms of CPU, on the order path's thread). The environment
    does not change while the server runs, so the same answer is taken once and fixed here.
    """
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and session.verify is True:
        session.verify = bundle
    session.trust_env = False


def _client_error_text(body: bytes) -> str:
    """What a 4xx answer says: its ``msg`` when it is the exchange's JSON error, else the body."""
    text = body.decode(errors="replace")
    try:
        error = json.loads(text)
    except ValueError:
        return text
    if isinstance(error, dict) and isinstance(error.get("msg"), str):
        return error["msg"]
    return text


def _ok_response(response: Any) -> Any:
    """The ``response`` of an ``{"status": "ok"}`` answer; raise the typed error otherwise."""
    if not isinstance(response, dict):
        raise ExchangeRejected(ErrorCode.EXCHANGE_ERROR, f"unexpected answer {response!r}"[:200])
    if response.get("status") == "ok":
        return response.get("response") or {}
    raise error_from_message(str(response.get("response") or response))


def _error_result(cloid: str, code: ErrorCode, message: str, oid: int | None = None):
    return OrderResult(
        status="error", cloid=cloid, oid=oid, error_code=str(code), error_message=message
    )


def _order_result(response: Any, cloid: str, size: Decimal) -> OrderResult:
    """Parse the single status of an ``order``/``batchModify`` answer (protocol §4.5)."""
    if isinstance(response, dict) and response.get("status") == "err":
        text = clean_message(str(response.get("response")))
        return _error_result(cloid, classify(text), text)
    try:
        data = _ok_response(response)
    except ExchangeError as exc:
        return _error_result(cloid, exc.code, exc.message)
    statuses: Iterable[Any] = (data.get("data") or {}).get("statuses") or []
    status = next(iter(statuses), None)
    if isinstance(status, dict) and "resting" in status:
        return OrderResult(status="resting", cloid=cloid, oid=int(status["resting"]["oid"]))
    if isinstance(status, dict) and "filled" in status:
        filled = status["filled"]
        total = to_decimal(filled.get("totalSz"), ZERO)
        return OrderResult(
            status="filled" if total >= size else "partially_filled",
            cloid=cloid,
            oid=int(filled["oid"]),
            filled_size=total,
            avg_price=to_decimal(filled.get("avgPx"), ZERO) or None,
        )
    if isinstance(status, dict) and "error" in status:
        text = clean_message(status["error"])
        return _error_result(cloid, classify(text), text)
    if status in ("waitingForFill", "waitingForTrigger"):
        return OrderResult(status="resting", cloid=cloid)
    return _error_result(cloid, ErrorCode.EXCHANGE_ERROR, f"unexpected order status {status!r}")


__all__ = [
    "DEFAULT_TIMEOUT",
    "HyperliquidAPI",
    "SigningWallet",
    "decimal_to_wire",
    "new_cloid",
]
