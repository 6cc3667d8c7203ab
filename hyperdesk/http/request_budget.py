"""Request budgets: each logged-in user and each anonymous client IP gets its own token bucket.

Everything behind the API shares finite things — the worker threads, the database and above
all the one exchange weight budget of the whole desk — so nobody may take more than a fair share
of requests. A request with a valid bearer token spends its user's budget; any other request
spends its client IP's. A user is not charged to the IP: people behind one office NAT, or an
anonymous crowd on the victim's own address, must not use up a logged-in user's requests. Over
budget, the answer is ``429 RATE_LIMITED`` with ``Retry-After``, given here before any worker
thread, database session or exchange read is spent on it. The refusal itself is held back a
moment (``refusal_delay``, at most until the budget would allow the request): a client that
ignores ``Retry-After`` and loops cannot turn cheap refusals into a flood that eats the CPU the
other users' requests need. Holding it costs a timer, not a thread, and HTTP/1.1 sends one
request at a time per connection, so held refusals are bounded by open connections.

Wallet creation and verification ask the exchange's ``userRole`` (weight 60 of the desk's 1200
a minute), so those routes also spend a much smaller per-user budget of heavy requests.
"""

from __future__ import annotations

import asyncio
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from hyperdesk.http import deps
from hyperdesk.http.errors import error_body

#: Routes that make the exchange spend heavily for one request (``userRole``, weight 60).
HEAVY_ROUTES = re.compile(r"^/api/wallets(?:/[^/]+/(?:verify|faucet))?/?$")


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One token bucket per key: ``burst`` tokens, refilled at ``per_second``; thread-safe.

    At most ``max_keys`` buckets are kept: the least recently used is forgotten first (a
    forgotten key starts again with a full bucket, which only matters to someone who can
    present more than ``max_keys`` identities).
    """

    def __init__(
        self,
        *,
        burst: int,
        per_second: float,
        max_keys: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or per_second <= 0 or max_keys < 1:
            raise ValueError("burst, rate and max_keys must be positive")
        self.burst = burst
        self.per_second = per_second
        self._max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)

    def take(self, key: str, cost: float = 1.0) -> float:
        """Spend ``cost`` from ``key``'s bucket: 0 if granted, else seconds until it would be."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
                while len(self._buckets) > self._max_keys:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.per_second)
                bucket.updated = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return 0.0
            return (cost - bucket.tokens) / self.per_second


@dataclass(frozen=True)
class RequestBudget:
    """The budgets the middleware spends, and how to tell who sent a request."""

    users: TokenBuckets
    ips: TokenBuckets
    heavy: TokenBuckets
    #: ``user_of(bearer_token) -> user id`` for a token we signed and that has not expired, else
    #: None. Must be cheap and not touch the database: it runs for every request.
    user_of: Callable[[str], int | None]
    #: Longest a refusal is held back before it is sent.
    refusal_delay: float = 0.5


class RequestBudgetMiddleware:
    """Pure ASGI: refuses over-budget ``/api/`` requests before any route work is done."""

    def __init__(self, app: ASGIApp, budget: RequestBudget) -> None:
        self.app = app
        self.budget = budget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        retry_after = self._spend(request)
        if retry_after > 0:
            await asyncio.sleep(min(retry_after, self.budget.refusal_delay))
            seconds = max(1, math.ceil(retry_after))
            response = JSONResponse(
                error_body(
                    "RATE_LIMITED",
                    "Too many requests; slow down and try again shortly.",
                    retry_after=seconds,
                ),
                status_code=429,
                headers={"Retry-After": str(seconds)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _spend(self, request: Request) -> float:
        user_id = self._user_id(request)
        if user_id is None:
            return self.budget.ips.take(f"ip:{deps.client_ip(request)}")
        key = f"user:{user_id}"
        wait = self.budget.users.take(key)
        if wait == 0 and request.method == "POST" and HEAVY_ROUTES.match(request.scope["path"]):
            wait = self.budget.heavy.take(key)
        return wait

    def _user_id(self, request: Request) -> int | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.budget.user_of(token.strip())
