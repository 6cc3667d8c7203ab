"""Secrets that live in files outside the database and outside the environment."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from hyperdesk.errors import ConfigurationError

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def ensure_private_dir(path: Path) -> None:
    """Make `path` a directory only its owner can enter: create it 0700, or tighten it to 0700.

    For the data directory, which holds the SQLite database (password hashes, trades, wrapped
    wallet keys) and the development secrets: nobody else on the machine has any business listing
    it. An existing directory is tightened only when this user owns it.
    """
    make_private_dirs(path)
    restrict_mode(path, PRIVATE_DIR_MODE)


def make_private_dirs(path: Path) -> None:
    """Create `path` and any missing parents with mode 0700; existing ones are left as they are
    (a secret file's parent may be the operator's home directory)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:  # another process made it meanwhile
            continue
        os.chmod(directory, PRIVATE_DIR_MODE)  # mkdir's mode is subject to the umask


def restrict_mode(path: Path, mode: int) -> None:
    """Take group and other permissions away from `path` if it exists and this user owns it."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    current = stat.S_IMODE(info.st_mode)
    if info.st_uid == os.getuid() and current & ~mode:
        os.chmod(path, current & mode)


def read_secret_file(path: Path, *, what: str) -> str:
    """A one-line secret from a file (a trailing newline is not part of it)."""
    try:
        text = path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the {what} file {path}: {exc.strerror}") from None
    if not text:
        raise ConfigurationError(f"the {what} file {path} is empty")
    return text


def write_private_file(path: Path, content: bytes) -> None:
    """Write `content` so that only the owner can ever read it (created 0600, renamed into place)."""
    make_private_dirs(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def load_or_create_jwt_secret(path: Path, *, create: bool) -> bytes:
    """The HS256 signing key: 32 random bytes, hex in a file. Real networks must bring their own."""
    if path.exists():
        text = path.read_text().strip()
        if len(text) < 64:
            raise ConfigurationError(
                f"JWT secret file {path} holds fewer than 32 bytes; write a new one with "
                f"`python -c 'import secrets; print(secrets.token_hex(32))' > {path}`"
            )
        return text.encode()
    if not create:
        raise ConfigurationError(
            f"JWT secret file {path} is missing. Create it with "
            f"`python -c 'import secrets; print(secrets.token_hex(32))' > {path} && chmod 600 {path}` "
            "or point HYPERDESK_JWT_SECRET_FILE at your secret."
        )
    secret = secrets.token_hex(32)
    write_private_file(path, secret.encode() + b"\n")
    return secret.encode()
