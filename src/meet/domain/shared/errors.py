"""Domain errors: one base class, one subclass per rule a caller can break.

The HTTP layer maps each *category* (the intermediate classes) to a status code,
so a new error only has to pick its category.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    default_message = "The request cannot be completed."
    code = "error"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.default_message
        self.field = field
        super().__init__(self.message)


class BadRequest(DomainError):
    """The request itself cannot be read (maps to 400)."""

    default_message = "The request is malformed."
    code = "bad_request"


class InvalidInput(DomainError):
    default_message = "The input is invalid."
    code = "invalid_input"


class AuthenticationRequired(DomainError):
    default_message = "Authentication is required."
    code = "authentication_required"


class PermissionDenied(DomainError):
    default_message = "You do not have permission to perform this action."
    code = "permission_denied"


class NotFound(DomainError):
    default_message = "Not found."
    code = "not_found"


class Conflict(DomainError):
    default_message = "The request conflicts with the current state."
    code = "conflict"


class RateLimited(DomainError):
    default_message = "Too many requests; try again later."
    code = "rate_limited"

    def __init__(self, retry_after_seconds: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = max(1, retry_after_seconds)


class UpstreamFailure(DomainError):
    """A dependency answered, but refused or failed the operation (maps to 502)."""

    default_message = "An upstream service failed to perform the operation."
    code = "upstream_failure"


class ServiceUnavailable(DomainError):
    """A backing service cannot be reached right now (maps to 503)."""

    default_message = "A backing service is unavailable; try again shortly."
    code = "service_unavailable"
