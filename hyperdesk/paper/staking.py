"""HYPE staking: the staking balance, delegations with a lock-up, and the unstaking queue.

Amounts are integers in wei (HYPE has 8 wei decimals), as the actions carry them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class StakingError(Exception):
    """A refused staking action; ``str(exc)`` is the wire error text."""


@dataclass
class Delegation:
    amount: int
    locked_until: int


@dataclass
class PendingWithdrawal:
    amount: int
    release_ms: int


@dataclass
class Delegator:
    """One user's staking state."""

    undelegated: int = 0
    delegations: dict[str, Delegation] = field(default_factory=dict)
    pending: list[PendingWithdrawal] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)

    @property
    def delegated(self) -> int:
        return sum(d.amount for d in self.delegations.values())

    def deposit(self, wei: int) -> None:
        self.undelegated += wei

    def withdraw(self, wei: int, now_ms: int, delay_ms: int, max_pending: int) -> None:
        if wei > self.undelegated:
            raise StakingError("Insufficient staking balance for withdrawal.")
        if len(self.pending) >= max_pending:
            raise StakingError(f"Too many pending staking withdrawals (max {max_pending}).")
        self.undelegated -= wei
        self.pending.append(PendingWithdrawal(wei, now_ms + delay_ms))

    def delegate(self, validator: str, wei: int, now_ms: int, lockup_ms: int) -> None:
        if wei > self.undelegated:
            raise StakingError("Insufficient staking balance to delegate.")
        self.undelegated -= wei
        delegation = self.delegations.setdefault(validator, Delegation(0, 0))
        delegation.amount += wei
        delegation.locked_until = now_ms + lockup_ms

    def undelegate(self, validator: str, wei: int, now_ms: int) -> None:
        delegation = self.delegations.get(validator)
        if delegation is None or delegation.amount < wei:
            raise StakingError("Insufficient delegation to undelegate.")
        if now_ms < delegation.locked_until:
            raise StakingError(
                f"Delegation is locked until {delegation.locked_until} and cannot be undelegated yet."
            )
        delegation.amount -= wei
        self.undelegated += wei
        if delegation.amount == 0:
            del self.delegations[validator]

    def release(self, now_ms: int) -> int:
        """Pop every matured unstaking withdrawal; return the wei to credit to spot."""
        ready = [p for p in self.pending if p.release_ms <= now_ms]
        self.pending = [p for p in self.pending if p.release_ms > now_ms]
        return sum(p.amount for p in ready)
