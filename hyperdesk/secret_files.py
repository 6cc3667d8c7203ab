"""Secrets that live in files outside the database and outside the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from hyperdesk.errors import ConfigurationError


def write_private_file(path: Path, content: bytes) -> None:
    """Write `content` so that only the owner can ever read it (created 0600, renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
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
