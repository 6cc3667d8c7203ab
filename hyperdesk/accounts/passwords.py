"""Password hashing through passlib: argon2id for new hashes, bcrypt hashes still verify and upgrade.

The argon2id parameters are OWASP's first recommended set (Password Storage Cheat Sheet): 19 MiB
of memory, 2 passes, 1 lane. passlib's defaults (64 MiB, 3 passes, 4 lanes) cost about 3.4 times
the memory and, measured on a busy 2-core server, 7 to 10 times the time of these (190–340 ms
against 25–35 ms per verify); every login pays that, so they bought little safety for a lot of
capacity. Memory is bounded by `hash_gate.HashGate`: at most `slots × 19 MiB` at once.

Hashes made with other parameters (passlib's defaults before this was set) still verify and are
rewritten with these on the next successful login.
"""

from __future__ import annotations

from passlib.context import CryptContext

MEMORY_COST_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1

_context = CryptContext(
    schemes=["argon2", "bcrypt"],
    deprecated="auto",
    argon2__memory_cost=MEMORY_COST_KIB,
    argon2__rounds=TIME_COST,
    argon2__parallelism=PARALLELISM,
)

MIN_LENGTH = 10
# Long enough for any passphrase; short enough that hashing cannot be used to burn server CPU.
MAX_LENGTH = 256


def hash_password(password: str) -> str:
    return _context.hash(password)


def verify_password(password: str, stored_hash: str) -> tuple[bool, str | None]:
    """(matches, replacement hash when the stored one uses a deprecated scheme or parameters)."""
    return _context.verify_and_update(password, stored_hash)


# A real hash to check against when the username does not exist, so that a missing user costs
# the same time as a wrong password and login timing does not reveal who is registered.
DUMMY_HASH = hash_password("no such user, but the same amount of work")
