"""Stable error codes for everything that can go wrong at the exchange boundary.

Hyperliquid reports business errors as free text (hyperliquid-protocol.md §4.6, §6.2), and the text
varies (live servers append `` asset=N``; docs and live wording differ). Callers — the HTTP layer,
bots, the capital manager — must not parse that text, so it is classified here once into an
``ErrorCode`` and raised as a typed ``ExchangeError``. The exception class decides what a caller may
do: ``TransientExchangeError`` may be retried for reads; ``ExchangeRejected`` never should be.
"""

from __future__ import annotations

import re
from enum import StrEnum


class ErrorCode(StrEnum):
    """Codes shown to users and bots (api.md: ``{"detail": {"code": …, "message": …}}``)."""

    TICK_SIZE = "TICK_SIZE"
    LOT_SIZE = "LOT_SIZE"
    MIN_NOTIONAL = "MIN_NOTIONAL"
    INVALID_NUMBER = "INVALID_NUMBER"
    INSUFFICIENT_MARGIN = "INSUFFICIENT_MARGIN"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    POST_ONLY_WOULD_MATCH = "POST_ONLY_WOULD_MATCH"
    IOC_NO_MATCH = "IOC_NO_MATCH"
    NO_LIQUIDITY = "NO_LIQUIDITY"
    REDUCE_ONLY = "REDUCE_ONLY"
    TRIGGER_PRICE = "TRIGGER_PRICE"
    PRICE_BAND = "PRICE_BAND"
    OPEN_INTEREST_CAP = "OPEN_INTEREST_CAP"
    POSITION_LIMIT = "POSITION_LIMIT"
    UNKNOWN_COIN = "UNKNOWN_COIN"
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    NONCE = "NONCE"
    SIGNATURE = "SIGNATURE"
    ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
    NOT_PERMITTED = "NOT_PERMITTED"
    AGENT_REVOKED = "AGENT_REVOKED"
    VAULT_LOCKED = "VAULT_LOCKED"
    VAULT_NOT_FOUND = "VAULT_NOT_FOUND"
    STAKING_LOCKED = "STAKING_LOCKED"
    RATE_LIMITED = "RATE_LIMITED"
    EXCHANGE_ERROR = "EXCHANGE_ERROR"
    EXCHANGE_TIMEOUT = "EXCHANGE_TIMEOUT"
    EXCHANGE_UNAVAILABLE = "EXCHANGE_UNAVAILABLE"


# Ordered: the first matching pattern wins, so specific texts come before generic ones.
_PATTERNS: tuple[tuple[re.Pattern[str], ErrorCode], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), code)
    for pattern, code in (
        (r"divisible by tick size|invalid price", ErrorCode.TICK_SIZE),
        (r"invalid size|zero size|size must be", ErrorCode.LOT_SIZE),
        (r"minimum value of", ErrorCode.MIN_NOTIONAL),
        (r"post only order would have immediately matched", ErrorCode.POST_ONLY_WOULD_MATCH),
        (r"could not immediately match", ErrorCode.IOC_NO_MATCH),
        (r"no liquidity available", ErrorCode.NO_LIQUIDITY),
        (r"reduce only order would", ErrorCode.REDUCE_ONLY),
        (r"invalid tp/sl price|invalid trigger", ErrorCode.TRIGGER_PRICE),
        (r"too far from oracle|away from the reference price", ErrorCode.PRICE_BAND),
        (r"open interest", ErrorCode.OPEN_INTEREST_CAP),
        (r"margin tier limit", ErrorCode.POSITION_LIMIT),
        (r"insufficient margin", ErrorCode.INSUFFICIENT_MARGIN),
        (r"insufficient [a-z ]*(balance|equity)", ErrorCode.INSUFFICIENT_BALANCE),
        (
            r"never placed, already canceled, or filled|order (was )?not found",
            ErrorCode.ORDER_NOT_FOUND,
        ),
        (r"invalid nonce|nonce", ErrorCode.NONCE),
        (r"unable to recover signer|invalid signature|signature", ErrorCode.SIGNATURE),
        (r"does not exist|must deposit before", ErrorCode.ACCOUNT_NOT_FOUND),
        (r"delegation.*locked|locked.*delegat", ErrorCode.STAKING_LOCKED),
        (r"lock-?up|locked until|still locked|vault.*lock|lock.*vault", ErrorCode.VAULT_LOCKED),
        (r"(no such|unknown) vault|vault .*not found", ErrorCode.VAULT_NOT_FOUND),
        (r"unknown (asset|coin)|invalid asset|asset .*not found", ErrorCode.UNKNOWN_COIN),
        (r"too many (cumulative )?requests|rate limit", ErrorCode.RATE_LIMITED),
        (r"not (permitted|allowed)|permission|agent", ErrorCode.NOT_PERMITTED),
    )
)

_ASSET_SUFFIX = re.compile(r"\s*asset=\d+\s*$")


def clean_message(text: str) -> str:
    """The exchange's message without the `` asset=N`` suffix live servers append."""
    return _ASSET_SUFFIX.sub("", str(text)).strip()


def classify(text: str) -> ErrorCode:
    """Map an exchange error text to a stable code (``EXCHANGE_ERROR`` when nothing matches)."""
    message = clean_message(text)
    for pattern, code in _PATTERNS:
        if pattern.search(message):
            return code
    return ErrorCode.EXCHANGE_ERROR


class ExchangeError(Exception):
    """Base of every exchange-boundary failure; ``code`` is stable, ``message`` is for humans.

    ``detail`` carries extra machine-readable context (e.g. a nearest valid price) and must never
    hold secrets.
    """

    retryable: bool = False

    def __init__(self, code: ErrorCode | str, message: str, *, detail: dict | None = None) -> None:
        self.code = ErrorCode(code)
        self.message = message
        self.detail = dict(detail or {})
        super().__init__(f"{self.code}: {message}")

    def to_dict(self) -> dict[str, object]:
        """The ``detail`` body of an HTTP error reply (api.md)."""
        body: dict[str, object] = {"code": str(self.code), "message": self.message}
        body.update(self.detail)
        return body


class ExchangeRejected(ExchangeError):
    """The exchange understood the request and refused it: never retry it unchanged."""


class NonceError(ExchangeRejected):
    """The exchange refused the nonce (duplicate or too low). A symptom of unserialized signing."""


class OrderNotFound(ExchangeRejected):
    """A cancel or modify targeted an order that is gone (filled, canceled or never placed)."""


class TransientExchangeError(ExchangeError):
    """The outcome is unknown or the exchange is briefly unavailable; reads may be retried.

    A *signed* action that failed this way may still have been applied: orders are resolved by
    their cloid, never resent.
    """

    retryable = True


class ExchangeTimeout(TransientExchangeError):
    def __init__(self, message: str = "the exchange did not answer in time", **kw) -> None:
        super().__init__(ErrorCode.EXCHANGE_TIMEOUT, message, **kw)


class ExchangeUnavailable(TransientExchangeError):
    def __init__(self, message: str = "the exchange is unavailable", **kw) -> None:
        super().__init__(ErrorCode.EXCHANGE_UNAVAILABLE, message, **kw)


class RateLimited(TransientExchangeError):
    def __init__(self, message: str = "request weight budget exhausted", **kw) -> None:
        super().__init__(ErrorCode.RATE_LIMITED, message, **kw)


_UNKNOWN_SIGNER = re.compile(r"user or api wallet (0x[0-9a-f]{40}) does not exist", re.IGNORECASE)


def agent_revoked(signer: str, account: str, text: str) -> ExchangeRejected | None:
    """The typed error when ``text`` is the exchange saying it does not know this agent signer.

    Hyperliquid answers an action signed by a key it cannot map to an account with ``User or API
    Wallet 0x… does not exist.`` (protocol §4.6, §5.1). For an agent key trading for another
    account, that means its approval was revoked, replaced or expired: the wallet must stop being
    trusted with the account (a wrong signature names some other address, so it never matches).
    """
    signer, account = signer.lower(), account.lower()
    match = _UNKNOWN_SIGNER.search(text or "")
    if signer == account or match is None or match.group(1).lower() != signer:
        return None
    return ExchangeRejected(
        ErrorCode.AGENT_REVOKED,
        f"The exchange no longer lists API wallet {signer} as approved for account {account} "
        "(revoked, replaced or expired); approve it again from the account, then verify it.",
        detail={"agent": signer, "account": account},
    )


def error_from_message(text: str, *, detail: dict | None = None) -> ExchangeError:
    """Build the typed exception for an exchange error text."""
    message = clean_message(text)
    code = classify(message)
    if code is ErrorCode.RATE_LIMITED:
        return RateLimited(message, detail=detail)
    if code is ErrorCode.NONCE:
        return NonceError(code, message, detail=detail)
    if code is ErrorCode.ORDER_NOT_FOUND:
        return OrderNotFound(code, message, detail=detail)
    return ExchangeRejected(code, message, detail=detail)


def error_from_http(status: int, body: str | None) -> ExchangeError:
    """Build the typed exception for a failed HTTP exchange (SDK ``ClientError``/``ServerError``)."""
    text = (body or "").strip()
    if status == 429:
        return RateLimited(f"the exchange rate-limited this server (HTTP 429) {text}".strip())
    if status >= 500:
        return ExchangeUnavailable(f"the exchange failed (HTTP {status})")
    if text and text != "null":
        error = error_from_message(text)
        if error.code is not ErrorCode.EXCHANGE_ERROR:
            return error
        return ExchangeRejected(ErrorCode.EXCHANGE_ERROR, f"HTTP {status}: {clean_message(text)}")
    return ExchangeRejected(ErrorCode.EXCHANGE_ERROR, f"HTTP {status}")
