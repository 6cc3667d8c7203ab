"""Typed domain errors. The HTTP layer maps each to a status and the api.md error shape, once."""

from __future__ import annotations


class DomainError(Exception):
    """An expected refusal with a stable machine-readable code and a message for people."""

    status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, *, code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra = extra or {}


class InvalidInput(DomainError):
    status = 422
    code = "VALIDATION_ERROR"


class NotFound(DomainError):
    """Also what another user's object looks like: existence is never confirmed to a stranger."""

    status = 404
    code = "NOT_FOUND"


class Conflict(DomainError):
    status = 409
    code = "CONFLICT"


class Unauthorized(DomainError):
    status = 401
    code = "UNAUTHORIZED"


class Forbidden(DomainError):
    status = 403
    code = "FORBIDDEN"


class TooManyRequests(DomainError):
    status = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None):
        super().__init__(message, code=code, extra={"retry_after": retry_after})
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    status = 503
    code = "UNAVAILABLE"


class ConfigurationError(Exception):
    """The server cannot start as configured; the message says what the operator must do."""
