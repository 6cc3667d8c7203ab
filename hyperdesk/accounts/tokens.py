"""Access tokens: HS256 JWTs that must carry `sub`, `exp` and the user's token version."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from jose import JWTError, jwt

from hyperdesk.errors import Unauthorized

ALGORITHM = "HS256"
#: Tokens whose checked claims are remembered: every request presents its token twice (request
#: budget, then authentication) and a client sends the same one for its whole lifetime.
DECODED_TOKENS_KEPT = 10_000


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    token_version: int


class TokenService:
    def __init__(self, secret: bytes, *, lifetime_seconds: int) -> None:
        self._secret = secret
        self.lifetime_seconds = lifetime_seconds
        self._decoded: OrderedDict[str, tuple[TokenClaims, int]] = OrderedDict()
        self._decoded_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenService(lifetime_seconds={self.lifetime_seconds})"

    def issue(self, user_id: int, token_version: int, *, now: float | None = None) -> str:
        issued = int(time.time() if now is None else now)
        claims = {
            "sub": str(user_id),
            "ver": token_version,
            "iat": issued,
            "exp": issued + self.lifetime_seconds,
        }
        return jwt.encode(claims, self._secret.decode(), algorithm=ALGORITHM)

    def decode(self, token: str) -> TokenClaims:
        """Reject anything not signed by us with HS256, expired, or missing a required claim.

        A token that passed once is remembered (only the exact string we checked) until it
        expires, so the signature is not verified again on each of its requests."""
        with self._decoded_lock:
            known = self._decoded.get(token)
            if known is not None and time.time() <= known[1]:
                self._decoded.move_to_end(token)
                return known[0]
        claims, expires = self._verify(token)
        with self._decoded_lock:
            self._decoded[token] = (claims, expires)
            while len(self._decoded) > DECODED_TOKENS_KEPT:
                self._decoded.popitem(last=False)
        return claims

    def known(self, token: str) -> TokenClaims | None:
        """The claims of a token that passed `decode` and has not expired, else None (no
        signature check here: a token not seen yet needs `decode`)."""
        with self._decoded_lock:
            known = self._decoded.get(token)
        if known is None or time.time() > known[1]:
            return None
        return known[0]

    def _verify(self, token: str) -> tuple[TokenClaims, int]:
        try:
            claims = jwt.decode(
                token,
                self._secret.decode(),
                algorithms=[ALGORITHM],
                options={"require_exp": True, "require_sub": True, "require_iat": True},
            )
            verified = TokenClaims(user_id=int(claims["sub"]), token_version=int(claims["ver"]))
            return verified, int(claims["exp"])
        except (JWTError, KeyError, TypeError, ValueError) as exc:
            raise Unauthorized(
                "The access token is invalid or expired.", code="INVALID_TOKEN"
            ) from exc
