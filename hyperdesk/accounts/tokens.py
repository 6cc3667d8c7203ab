"""Access tokens: HS256 JWTs that must carry `sub`, `exp` and the user's token version."""

from __future__ import annotations

import time
from dataclasses import dataclass

from jose import JWTError, jwt

from hyperdesk.errors import Unauthorized

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    token_version: int


class TokenService:
    def __init__(self, secret: bytes, *, lifetime_seconds: int) -> None:
        self._secret = secret
        self.lifetime_seconds = lifetime_seconds

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
        """Reject anything not signed by us with HS256, expired, or missing a required claim."""
        try:
            claims = jwt.decode(
                token,
                self._secret.decode(),
                algorithms=[ALGORITHM],
                options={"require_exp": True, "require_sub": True, "require_iat": True},
            )
            return TokenClaims(user_id=int(claims["sub"]), token_version=int(claims["ver"]))
        except (JWTError, KeyError, TypeError, ValueError) as exc:
            raise Unauthorized(
                "The access token is invalid or expired.", code="INVALID_TOKEN"
            ) from exc
