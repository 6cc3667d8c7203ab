"""Hyperliquid's per-address action budget (protocol reference §11), optional on paper.

Every address may send 10 000 actions plus one per USDC it has ever traded; a batch of n orders,
cancels or modifies counts n. Once the budget is spent the address may still act once every
10 seconds, so a bot that over-trades slows down instead of locking itself out. Cancels get a
larger budget (``min(cap + 100 000, 2 × cap)``) so a user can always get out of the book.

The paper exchange always counts (``userRateLimit.nRequestsUsed``) but refuses only when
``PaperConfig.address_rate_limit`` is on: off by default, because paper trading should not make a
beginner's bot hit a wall it would never reach with real volume; on in the tests that pin it down.
"""

from __future__ import annotations

from decimal import Decimal

from hyperdesk.paper.accounts import Account
from hyperdesk.paper.config import PaperConfig

THROTTLED_INTERVAL_MS = 10_000
CANCEL_TYPES = frozenset({"cancel", "cancelByCloid"})


def weight(action: dict) -> int:
    """How many requests an action counts as: its batch length, at least one."""
    for key in ("orders", "cancels", "modifies"):
        batch = action.get(key)
        if isinstance(batch, list):
            return max(1, len(batch))
    return 1


def cap(config: PaperConfig, account: Account) -> int:
    """``userRateLimit.nRequestsCap``: the buffer plus one request per USDC traded."""
    return config.address_rate_limit_buffer + int(account.cum_volume)


def refusal(config: PaperConfig, account: Account, action: dict, now_ms: int) -> str | None:
    """Why ``account`` may not send ``action`` now, or None (records nothing)."""
    if not config.address_rate_limit:
        return None
    limit = cap(config, account)
    if action.get("type") in CANCEL_TYPES:
        limit = min(limit + 100_000, 2 * limit)
    used = account.n_requests + weight(action)
    if used <= limit:
        return None
    if now_ms - account.last_request_ms >= THROTTLED_INTERVAL_MS:
        return None  # spent, but one action every 10 s still goes through
    volume = account.cum_volume.quantize(Decimal("0.01"))
    return (
        f"Too many cumulative requests sent ({used} > {limit}) for cumulative volume traded "
        f"${volume}. Place taker orders to free up 1 request per USDC traded."
    )


def charge(account: Account, action: dict, now_ms: int) -> None:
    """Count an executed action against the account's budget."""
    account.n_requests += weight(action)
    account.last_request_ms = now_ms
