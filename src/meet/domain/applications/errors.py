"""Refusals of the token endpoint, each with its OAuth 2.0 (RFC 6749 section 5.2) error code."""

from __future__ import annotations

from meet.domain.shared.errors import AuthenticationRequired, BadRequest, NotFound, PermissionDenied


class InvalidClient(AuthenticationRequired):
    default_message = "Client authentication failed."
    code = "invalid_client"


class InvalidGrant(BadRequest):
    default_message = "The grant is invalid, expired or was already used."
    code = "invalid_grant"


class InvalidScope(BadRequest):
    default_message = "The requested scope is invalid or exceeds what the application may use."
    code = "invalid_scope"


class InvalidRequest(BadRequest):
    default_message = "The token request is malformed."
    code = "invalid_request"


class UnsupportedGrantType(BadRequest):
    default_message = "This grant type is not supported."
    code = "unsupported_grant_type"


class AccessDenied(PermissionDenied):
    default_message = "This application may not act for this user."
    code = "access_denied"


class ApplicationNotFound(NotFound):
    default_message = "No application has this client id."
    code = "application_not_found"
