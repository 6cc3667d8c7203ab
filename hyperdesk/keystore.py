"""Envelope encryption for wallet private keys (security.md §4).

Each wallet key is encrypted with its own random 256-bit *data key* (AES-256-GCM, fresh 96-bit
nonce), with associated data ``user_id|wallet_id|address``: a row copied to another user or wallet
fails to decrypt instead of trading with someone else's key. The data key is wrapped (AES-256-GCM)
by a *master key* that lives in a keyring file outside the database; the wrapped key records the
master key id, so the master key can be rotated by re-wrapping data keys without touching the
wallet ciphertext.

Keyring file: JSON ``{"version": 1, "current": "<id>", "keys": {"<id>": "<base64 32 bytes>"}}``,
written atomically with mode 0600. Old keys stay in the file after rotation until every row has
been re-wrapped (``Keyring.needs_rewrap``); then an operator may remove them by hand.

Nothing here logs, and no repr shows key material.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import secrets
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

logger = logging.getLogger(__name__)

_FORMAT_VERSION = 1
_BLOB_VERSION = "v1"
_KEY_BYTES = 32
_NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_WRAP_LABEL = b"hyperdesk/wrapped-data-key/v1|"
_DATA_LABEL = b"hyperdesk/wallet-key/v1|"


class KeystoreError(Exception):
    """Base of keystore failures. Messages never contain key material."""


class KeyringMissingError(KeystoreError):
    """The master key file does not exist and may not be created here (a real-money network)."""


class KeyringFormatError(KeystoreError):
    """The master key file exists but cannot be read as a keyring."""


class UnknownMasterKeyError(KeystoreError):
    """A wrapped data key names a master key id the keyring does not hold."""


class DecryptionError(KeystoreError):
    """Ciphertext does not decrypt: tampered, or bound to another user, wallet or address."""


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _binding(user_id: int, wallet_id: int, address: str) -> bytes:
    return _DATA_LABEL + f"{int(user_id)}|{int(wallet_id)}|{address.strip().lower()}".encode()


@dataclass(frozen=True, slots=True)
class EncryptedKey:
    """One wallet key, encrypted: store ``serialize()`` in one column and ``key_id`` beside it.

    ``key_id`` is the master key that wraps the data key; index it to find rows to re-wrap after a
    rotation. The values are ciphertext, but are still kept out of reprs.
    """

    key_id: str
    wrap_nonce: bytes = field(repr=False)
    wrapped_data_key: bytes = field(repr=False)
    nonce: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)

    def serialize(self) -> str:
        """Compact ASCII form: ``v1.<key id>.<wrap nonce>.<wrapped key>.<nonce>.<ciphertext>``."""
        return ".".join(
            (
                _BLOB_VERSION,
                self.key_id,
                _b64e(self.wrap_nonce),
                _b64e(self.wrapped_data_key),
                _b64e(self.nonce),
                _b64e(self.ciphertext),
            )
        )

    @classmethod
    def deserialize(cls, text: str | bytes) -> EncryptedKey:
        if isinstance(text, bytes):
            text = text.decode("ascii")
        parts = text.split(".")
        if len(parts) != 6 or parts[0] != _BLOB_VERSION:
            raise DecryptionError("not an encrypted wallet key in a known format")
        try:
            wrap_nonce, wrapped, nonce, ciphertext = (_b64d(p) for p in parts[2:])
        except ValueError as exc:
            raise DecryptionError("encrypted wallet key is corrupt") from exc
        return cls(parts[1], wrap_nonce, wrapped, nonce, ciphertext)


class Keyring:
    """Master keys by id, and the id of the one that wraps new data keys. Thread-safe (immutable)."""

    __slots__ = ("_current", "_keys", "path")

    def __init__(self, keys: dict[str, bytes], current: str, path: Path | None = None) -> None:
        if current not in keys:
            raise KeyringFormatError("the current master key id is not in the keyring")
        for key_id, key in keys.items():
            if not _KEY_ID.match(key_id) or len(key) != _KEY_BYTES:
                raise KeyringFormatError(f"master key {key_id!r} is malformed")
        self._keys = dict(keys)
        self._current = current
        self.path = path

    def __repr__(self) -> str:
        return f"Keyring(current={self._current!r}, key_ids={sorted(self._keys)!r}, keys=***)"

    @property
    def current_id(self) -> str:
        return self._current

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._keys))

    def needs_rewrap(self, encrypted: EncryptedKey) -> bool:
        """True when ``encrypted`` is wrapped by an older master key."""
        return encrypted.key_id != self._current

    # -- envelope -------------------------------------------------------------------------------

    def _master(self, key_id: str) -> AESGCM:
        try:
            return AESGCM(self._keys[key_id])
        except KeyError:
            raise UnknownMasterKeyError(
                f"master key {key_id!r} is not in the keyring; was the keyring file replaced "
                "instead of rotated?"
            ) from None

    def _wrap(self, data_key: bytes) -> tuple[str, bytes, bytes]:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        aad = _WRAP_LABEL + self._current.encode()
        return self._current, nonce, self._master(self._current).encrypt(nonce, data_key, aad)

    def _unwrap(self, encrypted: EncryptedKey) -> bytes:
        aad = _WRAP_LABEL + encrypted.key_id.encode()
        try:
            return self._master(encrypted.key_id).decrypt(
                encrypted.wrap_nonce, encrypted.wrapped_data_key, aad
            )
        except InvalidTag:
            raise DecryptionError(
                "the wrapped data key does not open with its master key"
            ) from None

    def encrypt(
        self, plaintext: bytes, *, user_id: int, wallet_id: int, address: str
    ) -> EncryptedKey:
        """Encrypt one wallet key under a fresh data key bound to its user, wallet and address."""
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        ciphertext = AESGCM(data_key).encrypt(
            nonce, plaintext, _binding(user_id, wallet_id, address)
        )
        key_id, wrap_nonce, wrapped = self._wrap(data_key)
        return EncryptedKey(key_id, wrap_nonce, wrapped, nonce, ciphertext)

    def decrypt(
        self, encrypted: EncryptedKey | str | bytes, *, user_id: int, wallet_id: int, address: str
    ) -> bytes:
        """Decrypt a wallet key; raises ``DecryptionError`` if it belongs to another binding."""
        if not isinstance(encrypted, EncryptedKey):
            encrypted = EncryptedKey.deserialize(encrypted)
        data_key = self._unwrap(encrypted)
        try:
            return AESGCM(data_key).decrypt(
                encrypted.nonce, encrypted.ciphertext, _binding(user_id, wallet_id, address)
            )
        except InvalidTag:
            raise DecryptionError(
                "wallet key does not decrypt for this user, wallet and address "
                "(row copied, changed or corrupt)"
            ) from None

    # -- file -----------------------------------------------------------------------------------

    def _to_json(self) -> str:
        keys = {k: base64.b64encode(v).decode("ascii") for k, v in sorted(self._keys.items())}
        return json.dumps({"version": _FORMAT_VERSION, "current": self._current, "keys": keys})

    @classmethod
    def _from_json(cls, text: str, path: Path | None) -> Keyring:
        try:
            raw = json.loads(text)
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in raw["keys"].items()}
            current = str(raw["current"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyringFormatError(f"master key file {path} is not a valid keyring") from exc
        if raw.get("version", _FORMAT_VERSION) != _FORMAT_VERSION:
            raise KeyringFormatError(f"master key file {path} has an unknown version")
        return cls(keys, current, path)


def rewrap(encrypted: EncryptedKey, keyring: Keyring) -> EncryptedKey:
    """Re-wrap the data key under ``keyring``'s current master key; the ciphertext is unchanged.

    Needs no user/wallet binding (the data key wrap is bound only to its master key id), so a
    rotation job can run over every row without decrypting any wallet key.
    """
    if not keyring.needs_rewrap(encrypted):
        return encrypted
    data_key = keyring._unwrap(encrypted)
    key_id, wrap_nonce, wrapped = keyring._wrap(data_key)
    return EncryptedKey(key_id, wrap_nonce, wrapped, encrypted.nonce, encrypted.ciphertext)


def _new_key_id(existing: set[str] | frozenset[str] = frozenset()) -> str:
    while True:
        key_id = "mk-" + secrets.token_hex(4)
        if key_id not in existing:
            return key_id


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 via a temp file and rename (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def load_keyring(path: str | os.PathLike[str]) -> Keyring:
    """Read an existing keyring; ``KeyringMissingError`` if there is none."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyringMissingError(_missing_message(path)) from None
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning(
            "master key file %s is readable by group or others (mode %o); chmod 600 it",
            path,
            stat.S_IMODE(mode),
        )
    return Keyring._from_json(text, path)


def _missing_message(path: Path) -> str:
    return (
        f"master key file {path} does not exist. Create it once with "
        f"`hyperdesk rotate-master-key` (it writes a new key to that path with mode 0600), or point "
        f"the master key file setting at your existing key file. Keep it outside the database and "
        f"back it up: without it no stored wallet key can be decrypted."
    )


def ensure_keyring(path: str | os.PathLike[str], *, create: bool) -> Keyring:
    """Load the keyring at ``path``; with ``create=True`` generate one if it is missing.

    Use ``create=True`` only for the paper network (a laptop's first run). Real-money deployments
    pass ``create=False`` so a missing key file stops the server with instructions instead of
    silently starting with a key that cannot decrypt existing wallets.
    """
    path = Path(path)
    if path.exists() or not create:
        return load_keyring(path)
    key_id = _new_key_id()
    keyring = Keyring({key_id: AESGCM.generate_key(bit_length=256)}, key_id, path)
    try:
        # O_EXCL: two processes starting at once must not both create (and one lose) a keyring.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_keyring(path)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(keyring._to_json())
        handle.flush()
        os.fsync(handle.fileno())
    logger.info("created master key file %s (key id %s)", path, key_id)
    return keyring


def rotate_keyring(path: str | os.PathLike[str]) -> str:
    """Add a new master key to the keyring at ``path``, make it current, return its id.

    Creates the keyring if it does not exist. Old keys are kept so existing rows still decrypt;
    re-wrap them with ``rewrap`` (the rows whose ``key_id`` differs from the new id).
    """
    path = Path(path)
    if not path.exists():
        return ensure_keyring(path, create=True).current_id
    old = load_keyring(path)
    keys = dict(old._keys)
    key_id = _new_key_id(set(keys))
    keys[key_id] = AESGCM.generate_key(bit_length=256)
    _write_atomically(path, Keyring(keys, key_id, path)._to_json())
    logger.info("rotated master key file %s: new key id %s", path, key_id)
    return key_id


# -- wallet keys ----------------------------------------------------------------------------------


def generate_private_key() -> tuple[str, str]:
    """A new secp256k1 wallet key: ``("0x" + 64 hex digits, lower-case address)``."""
    from eth_account import Account

    account = Account.from_key(secrets.token_bytes(32))
    return "0x" + bytes(account.key).hex(), account.address.lower()


def address_of(key_hex: str) -> str:
    """The lower-case address of a private key; ``ValueError`` (without the key) if invalid."""
    from eth_account import Account

    try:
        return Account.from_key(key_hex).address.lower()
    except Exception:  # eth_account raises several types; never echo the key
        raise ValueError("not a valid private key (expected 32 bytes as hex)") from None
