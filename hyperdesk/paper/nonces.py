"""Per-signer nonce tracking with Hyperliquid's documented rules (protocol reference §6).

For every signer (the recovered address: a user, or an agent wallet — never the account it acts
for) the tracker keeps the ``set_size`` highest nonces seen. A new nonce is accepted when it

1. lies strictly inside ``(now - window_past_ms, now + window_future_ms)`` — or, when the caller
   passes a second reference time ``wall_ms``, inside the same window around that one,
2. has never been used by this signer (within the retained set), and
3. once the set is full, is larger than the smallest nonce in it.

Error texts for duplicates and too-low nonces are the ones observed on the live exchange; the
out-of-window texts are our own (the real ones are not known) and are listed in
``docs/paper-exchange-protocol.md``.

The second reference exists for a paper exchange on a manual clock: tests move that clock days
ahead while the SDK keeps signing with wall-clock nonces, which a window around the engine time
alone would refuse. With the real clock both references are the same instant.

Checking and recording are split (``check`` then ``commit``) so the server can record a nonce only
after the signature is known to be valid, while a ``reserve`` does both atomically for callers that
have nothing to verify in between. All methods are thread-safe.

There is deliberately no way to give a recorded nonce back: recording one may push the smallest
out of a full set, and forgetting the new one afterwards would re-open that older nonce for a
replay of whatever action was signed with it. Callers decide *before* recording.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field

DAY_MS = 86_400_000


class NonceError(ValueError):
    """The nonce is not acceptable; ``str(exc)`` is the wire error text."""


@dataclass
class _SignerNonces:
    sorted_nonces: list[int] = field(default_factory=list)  # ascending, at most set_size items
    lock: threading.Lock = field(default_factory=threading.Lock)


class NonceTracker:
    """Thread-safe store of the highest nonces per signer."""

    def __init__(
        self,
        *,
        set_size: int = 100,
        window_past_ms: int = 2 * DAY_MS,
        window_future_ms: int = DAY_MS,
    ) -> None:
        if set_size < 1:
            raise ValueError("set_size must be at least 1")
        self.set_size = set_size
        self.window_past_ms = window_past_ms
        self.window_future_ms = window_future_ms
        self._signers: dict[str, _SignerNonces] = {}
        self._signers_lock = threading.Lock()

    def _entry(self, signer: str) -> _SignerNonces:
        key = signer.lower()
        entry = self._signers.get(key)
        if entry is None:
            with self._signers_lock:
                entry = self._signers.setdefault(key, _SignerNonces())
        return entry

    def _check_window(self, nonce: int, now_ms: int) -> None:
        if nonce <= now_ms - self.window_past_ms:
            raise NonceError(
                f"Invalid nonce: nonce {nonce} is too far in the past "
                f"(must be after {now_ms - self.window_past_ms})"
            )
        if nonce >= now_ms + self.window_future_ms:
            raise NonceError(
                f"Invalid nonce: nonce {nonce} is too far in the future "
                f"(must be before {now_ms + self.window_future_ms})"
            )

    def _validate(
        self, entry: _SignerNonces, nonce: int, now_ms: int, wall_ms: int | None = None
    ) -> None:
        try:
            self._check_window(nonce, now_ms)
        except NonceError as late_or_early:
            if wall_ms is None:
                raise
            try:
                self._check_window(nonce, wall_ms)  # in time by the wall clock: accepted
            except NonceError:
                raise late_or_early from None
        nonces = entry.sorted_nonces
        i = bisect.bisect_left(nonces, nonce)
        if i < len(nonces) and nonces[i] == nonce:
            raise NonceError(f"Invalid nonce: duplicate nonce {nonce}")
        if len(nonces) >= self.set_size and nonce <= nonces[0]:
            raise NonceError(f"Invalid nonce: nonce too low {nonce} < {nonces[0]}")

    def check(self, signer: str, nonce: int, now_ms: int, *, wall_ms: int | None = None) -> None:
        """Raise ``NonceError`` if ``nonce`` would be rejected now; records nothing."""
        entry = self._entry(signer)
        with entry.lock:
            self._validate(entry, nonce, now_ms, wall_ms)

    def reserve(self, signer: str, nonce: int, now_ms: int, *, wall_ms: int | None = None) -> None:
        """Check and record ``nonce`` atomically; raise ``NonceError`` if it is not acceptable.

        ``wall_ms`` (manual clocks only): a nonce inside the window around it is in time too.
        """
        entry = self._entry(signer)
        with entry.lock:
            self._validate(entry, nonce, now_ms, wall_ms)
            self._insert(entry, nonce)

    def commit(self, signer: str, nonce: int, now_ms: int, *, wall_ms: int | None = None) -> None:
        """Alias of ``reserve``: re-checks under the lock, so a racing duplicate still fails."""
        self.reserve(signer, nonce, now_ms, wall_ms=wall_ms)

    def _insert(self, entry: _SignerNonces, nonce: int) -> None:
        bisect.insort(entry.sorted_nonces, nonce)
        if len(entry.sorted_nonces) > self.set_size:
            del entry.sorted_nonces[0]

    def export(self) -> dict[str, list[int]]:
        """Every signer's retained nonces, ascending: saved so a replay stays refused after a
        restart."""
        with self._signers_lock:
            entries = list(self._signers.items())
        result = {}
        for signer, entry in entries:
            with entry.lock:
                if entry.sorted_nonces:
                    result[signer] = list(entry.sorted_nonces)
        return result

    def restore(self, saved: dict[str, list[int]]) -> None:
        """Load what ``export`` produced (keeps at most ``set_size`` per signer)."""
        with self._signers_lock:
            self._signers = {
                signer.lower(): _SignerNonces(sorted(nonces)[-self.set_size :])
                for signer, nonces in saved.items()
            }

    def highest(self, signer: str) -> list[int]:
        """The retained nonces of ``signer``, ascending (a copy; for tests and diagnostics)."""
        entry = self._entry(signer)
        with entry.lock:
            return list(entry.sorted_nonces)
