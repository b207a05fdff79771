"""La Suite Meet's error shape (Django REST framework's): ``{"detail": "..."}``, plus ``{"field": ["..."]}``
for each field at fault. Status codes are meet's, but for invalid input, which is DRF's 400.

meet's own handlers decide the status, log and count; this only reshapes their answer.
"""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from meet.domain.shared.errors import DomainError
from meet.entrypoints.http.errors import (
    ErrorBody,
    handle_domain_error,
    handle_http_exception,
    handle_unexpected,
    handle_validation_error,
)


def lasuite_error(status: int, detail: str, fields: dict[str, str] | None = None, **headers: str) -> Response[Any]:
    body: dict[str, Any] = {"detail": detail}
    for name, message in (fields or {}).items():
        body.setdefault(name, [message])
    return Response(
        body, status_code=400 if status == 422 else status, media_type=MediaType.JSON, headers=headers or None
    )


def _reshaped(response: Response[ErrorBody]) -> Response[Any]:
    error = response.content
    retry_after = response.headers.get("Retry-After")
    headers = {"Retry-After": retry_after} if retry_after else {}
    status = response.status_code or 500
    return lasuite_error(status, error.detail, error.fields, **headers)


def _domain(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    return _reshaped(handle_domain_error(request, error))


def _validation(request: Request[Any, Any, Any], error: ValidationException) -> Response[Any]:
    return _reshaped(handle_validation_error(request, error))


def _http(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    return _reshaped(handle_http_exception(request, error))


def _unexpected(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    return _reshaped(handle_unexpected(request, error))


def lasuite_exception_handlers() -> ExceptionHandlersMap:
    return {DomainError: _domain, ValidationException: _validation, HTTPException: _http, Exception: _unexpected}
