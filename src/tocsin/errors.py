"""Domain errors. Services raise these; the API turns them into problem+json answers."""

from __future__ import annotations

from typing import Any


class TocsinError(Exception):
    status_code = 400
    title = "Bad request"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}


class NotFound(TocsinError):
    status_code = 404
    title = "Not found"


class Forbidden(TocsinError):
    status_code = 403
    title = "Forbidden"


class Unauthorized(TocsinError):
    status_code = 401
    title = "Unauthorized"


class Conflict(TocsinError):
    status_code = 409
    title = "Conflict"


class Invalid(TocsinError):
    """The request is well-formed but its values make no sense together."""

    status_code = 422
    title = "Invalid request"


class TooManyRequests(TocsinError):
    """Slow down: answered 429 with a Retry-After header."""

    status_code = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
