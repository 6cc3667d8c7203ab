"""Paper vaults: a seeded equity process shared pro rata by the leader and the followers.

Each vault's total equity follows a GBM with drift (its "strategy"); every follower's equity is
multiplied by the same factor, so a follower's share is constant between deposits and withdrawals.
Deposits start (or restart) a lock-up; a withdrawal pays the leader a profit share.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

from hyperdesk.paper.config import VaultSpec
from hyperdesk.paper.numbers import USD_QUANTUM
from hyperdesk.paper.prices import MS_PER_YEAR, coin_seed

ZERO = Decimal(0)
SAMPLE_EVERY_MS = 15 * 60_000
"""Hyperliquid samples portfolio history on transfers and every 15 minutes."""


class VaultError(Exception):
    """A refused vault transfer; ``str(exc)`` is the wire error text."""


@dataclass
class Follower:
    user: str
    equity: Decimal
    basis: Decimal
    """Net deposits still in the vault (cost basis of the current equity)."""
    deposited_total: Decimal
    withdrawn_total: Decimal
    entry_ms: int
    lockup_until: int

    @property
    def pnl(self) -> Decimal:
        return self.equity - self.basis

    @property
    def all_time_pnl(self) -> Decimal:
        return self.equity + self.withdrawn_total - self.deposited_total


@dataclass
class Vault:
    spec: VaultSpec
    rng: random.Random
    created_ms: int
    leader_equity: Decimal
    followers: dict[str, Follower] = field(default_factory=dict)
    history: list[tuple[int, Decimal, Decimal]] = field(default_factory=list)
    """(ms, total equity, cumulative pnl) samples."""
    cum_pnl: Decimal = ZERO
    volume: Decimal = ZERO

    @property
    def address(self) -> str:
        return self.spec.address

    @property
    def equity(self) -> Decimal:
        return self.leader_equity + sum((f.equity for f in self.followers.values()), ZERO)

    def step(self, dt_ms: int, now_ms: int, volatility_scale: float) -> None:
        """Apply one strategy return over ``dt_ms`` to everyone's equity."""
        if dt_ms <= 0:
            return
        dt = dt_ms / MS_PER_YEAR
        sigma = self.spec.annual_volatility * volatility_scale
        drift = self.spec.annual_drift
        shock = self.rng.gauss(0.0, 1.0)
        factor = Decimal(
            repr(math.exp((drift - 0.5 * sigma * sigma) * dt + sigma * math.sqrt(dt) * shock))
        )
        before = self.equity
        self.leader_equity = (self.leader_equity * factor).quantize(USD_QUANTUM)
        for follower in self.followers.values():
            follower.equity = (follower.equity * factor).quantize(USD_QUANTUM)
        self.cum_pnl += self.equity - before
        self.volume += abs(self.equity - before) * 10
        if not self.history or now_ms - self.history[-1][0] >= SAMPLE_EVERY_MS:
            self.sample(now_ms)

    def sample(self, now_ms: int) -> None:
        self.history.append((now_ms, self.equity, self.cum_pnl))
        if len(self.history) > 10_000:
            del self.history[0]

    def lockup_ms(self, default_s: int) -> int:
        return (self.spec.lockup_s if self.spec.lockup_s is not None else default_s) * 1000

    def deposit(self, user: str, usd: Decimal, now_ms: int, default_lockup_s: int) -> None:
        follower = self.followers.get(user)
        until = now_ms + self.lockup_ms(default_lockup_s)
        if follower is None:
            self.followers[user] = Follower(user, usd, usd, usd, ZERO, now_ms, until)
        else:
            follower.equity += usd
            follower.basis += usd
            follower.deposited_total += usd
            follower.lockup_until = until
        self.sample(now_ms)

    def withdraw(self, user: str, usd: Decimal, now_ms: int, profit_share: Decimal) -> Decimal:
        """Remove ``usd`` of the user's equity; return what the user receives after commission."""
        follower = self.followers.get(user)
        if follower is None or follower.equity <= 0:
            raise VaultError("No vault deposit to withdraw.")
        if now_ms < follower.lockup_until:
            raise VaultError(
                "Cannot withdraw from vault during the lock-up period. "
                f"Deposit is locked until {follower.lockup_until}."
            )
        if usd > follower.equity:
            raise VaultError("Insufficient vault equity for withdrawal.")
        fraction = usd / follower.equity
        profit = max(ZERO, follower.equity - follower.basis) * fraction
        commission = (profit * profit_share).quantize(USD_QUANTUM)
        follower.basis -= follower.basis * fraction
        follower.equity -= usd
        follower.withdrawn_total += usd - commission
        self.leader_equity += commission
        if follower.equity <= 0:
            del self.followers[user]
        self.sample(now_ms)
        return usd - commission


def create_vault(spec: VaultSpec, seed: int, now_ms: int) -> Vault:
    vault = Vault(
        spec,
        random.Random(coin_seed(seed, "vault:" + spec.address)),
        now_ms - 400 * 86_400_000,
        spec.initial_tvl,
    )
    vault.sample(now_ms)
    return vault
