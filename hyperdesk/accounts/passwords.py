"""Password hashing through passlib: argon2 for new hashes, bcrypt hashes still verify and upgrade."""

from __future__ import annotations

from passlib.context import CryptContext

_context = CryptContext(schemes=["argon2", "bcrypt"], deprecated="auto")

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
