"""The one place where errors become HTTP responses, all in the same JSON shape:

``{"status": 409, "error": "room_slug_taken", "detail": "...", "fields": {"slug": "..."}}``
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from meet.adapters.redis.client import is_unreachable
from meet.domain.applications.bearer import InvalidToken
from meet.domain.shared.errors import (
    AuthenticationRequired,
    BadRequest,
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    UpstreamFailure,
)
from meet.domain.users.scopes import MissingScope

logger = logging.getLogger("meet.http")

STATUS_BY_CATEGORY: tuple[tuple[type[DomainError], int], ...] = (
    (BadRequest, 400),
    (InvalidInput, 422),
    (AuthenticationRequired, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (RateLimited, 429),
    (UpstreamFailure, 502),
    (ServiceUnavailable, 503),
)

_HTTP_CODES = {
    400: "bad_request",
    401: "authentication_required",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    503: "service_unavailable",
}


class ErrorBody(msgspec.Struct, omit_defaults=True):
    status: int
    error: str
    detail: str
    fields: dict[str, str] | None = None


def error_response(
    status: int,
    code: str,
    detail: str,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ErrorBody]:
    return Response(
        ErrorBody(status=status, error=code, detail=detail, fields=fields or None),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def status_for(error: DomainError) -> int:
    for category, status in STATUS_BY_CATEGORY:
        if isinstance(error, category):
            return status
    return 400


def _count_unavailable(request: Request[Any, Any, Any], service: str) -> None:
    """``meet_backing_service_errors_total{service}``: database, lobby, sfu, storage or session_store."""
    request.app.state.metrics.service_unavailable(service)


def handle_domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[ErrorBody]:
    status = status_for(error)
    headers = {"Retry-After": str(error.retry_after_seconds)} if isinstance(error, RateLimited) else None
    if isinstance(error, ServiceUnavailable):
        logger.warning("backing service unavailable: %s (%r)", error.code, error.__cause__)
        _count_unavailable(request, error.code.removesuffix("_unavailable"))
        headers = {"Retry-After": "5"}
    if isinstance(error, InvalidToken):
        headers = {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{error.message}"'}
    elif isinstance(error, MissingScope):
        headers = {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{error.scope.value}"'}
    fields = {error.field: error.message} if error.field else None
    return error_response(status, error.code, error.message, fields, headers)


def handle_validation_error(_: Request[Any, Any, Any], error: ValidationException) -> Response[ErrorBody]:
    """Body, query and path values that do not fit the schema: 422 naming each field."""
    fields: dict[str, str] = {}
    if isinstance(error.extra, list):
        for item in error.extra:
            if isinstance(item, dict):
                key = str(item.get("key") or item.get("source") or "body")
                fields.setdefault(key, str(item.get("message", "invalid value")))
    detail = "; ".join(f"{key}: {message}" for key, message in fields.items()) or str(error.detail)
    if not fields and "JSON" in str(error.detail):
        return error_response(400, "malformed_body", "The request body is not valid JSON.")
    return error_response(422, "invalid_input", detail, fields or None)


def handle_http_exception(_: Request[Any, Any, Any], error: HTTPException) -> Response[ErrorBody]:
    status = error.status_code
    return error_response(status, _HTTP_CODES.get(status, "error"), str(error.detail), headers=error.headers)


def handle_unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[ErrorBody]:
    if is_unreachable(error):
        # An infrastructure client failed outside an adapter (e.g. the session store).
        logger.warning("backing service unreachable on %s: %r", request.url.path, error)
        _count_unavailable(request, "session_store")
        return error_response(
            503, "service_unavailable", ServiceUnavailable.default_message, headers={"Retry-After": "5"}
        )
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "An unexpected error occurred.")


def exception_handlers() -> ExceptionHandlersMap:
    return {
        DomainError: handle_domain_error,
        ValidationException: handle_validation_error,
        HTTPException: handle_http_exception,
        Exception: handle_unexpected,
    }
