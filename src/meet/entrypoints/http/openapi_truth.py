"""Make the served OpenAPI document say what the service really does, and ``OPTIONS`` say what a path allows.

Litestar documents a 400 in its own validation shape on most operations and nothing else. At start-up
this rewrites the generated document once:

- every error status an operation can answer, with the one error schema (``Error``) the service sends,
  ``Retry-After`` on 429 and 503;
- ``additionalProperties: false`` on every request schema that refuses unknown fields, and the
  constraints on mapping keys and values;
- request bodies marked required only when the handler has no default for them (``request-entry``);
- Server-Sent Event streams as ``text/event-stream``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

import msgspec
from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.response import ServerSentEvent
from litestar.routes import HTTPRoute
from litestar.types import Empty, Message, Scope

from meet.entrypoints.http.event_stream import EventStream
from meet.entrypoints.http.paths import API_PREFIX

ERROR_SCHEMA = "Error"
UNSAFE = frozenset({"post", "put", "patch", "delete"})

_DESCRIPTIONS = {
    400: "Malformed request: the body is not JSON or not UTF-8, or nests too deep.",
    401: "Signing in is required.",
    403: "Not allowed for this caller, or a cookie-authenticated request from another site (cross_site_request).",
    404: "No such resource.",
    409: "Conflicts with the resource's current state.",
    413: "The request body is too large.",
    422: "A parameter or a field of the body is invalid; ``fields`` names each one.",
    429: "Too many requests; retry after ``Retry-After`` seconds.",
    502: "A service this one depends on (LiveKit, storage, the identity provider) refused or failed.",
    503: "A backing service is unavailable; retry after ``Retry-After`` seconds.",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}}
# Operations that touch no backing service, no other service and no session.
_NO_BACKING_SERVICE = frozenset({f"{API_PREFIX}/config"})


def error_component() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["status", "error", "detail"],
        "properties": {
            "status": {"type": "integer", "description": "The HTTP status, repeated."},
            "error": {"type": "string", "description": "A stable, machine-readable error code."},
            "detail": {"type": "string", "description": "What went wrong, for people."},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Each invalid field or parameter and what is wrong with it.",
            },
        },
        "additionalProperties": False,
    }


def error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer (a superset is safe, an omission is a lie)."""
    if not path.startswith(API_PREFIX):
        return set()
    statuses = {401, 403, 422}  # a bad bearer token, a NUL in the URL, a refused caller or a cross-site request
    if path not in _NO_BACKING_SERVICE:
        statuses |= {401, 404, 409, 502, 503}
    if method in UNSAFE or "requestBody" in operation:
        statuses |= {400, 409, 413}
    if "/request-entry" in path or "/waiting-participants" in path:
        statuses.add(429)
    return statuses


def _handlers(app: Litestar) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    found[(route.path_format or "/", method.lower())] = handler
    return found


def _structs(annotation: Any) -> Iterator[type[msgspec.Struct]]:
    """Every Struct type an annotation mentions, nested ones included."""
    seen: set[type] = set()
    pending = [annotation]
    while pending:
        current = pending.pop()
        if isinstance(current, type) and issubclass(current, msgspec.Struct):
            if current in seen:
                continue
            seen.add(current)
            yield current
            hints = typing.get_type_hints(current, include_extras=True)
            pending.extend(hints.values())
        else:
            pending.extend(typing.get_args(current))
            if isinstance(current, types.UnionType):
                pending.extend(current.__args__)


def _request_structs(handlers: dict[tuple[str, str], Any]) -> dict[str, type[msgspec.Struct]]:
    found: dict[str, type[msgspec.Struct]] = {}
    for handler in handlers.values():
        data = handler.parsed_fn_signature.parameters.get("data")
        if data is not None:
            found.update((struct.__name__, struct) for struct in _structs(data.annotation))
    return found


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return list(schema.get("oneOf") or schema.get("anyOf") or [schema])


def _document_mapping_keys(struct: type[msgspec.Struct], component: dict[str, Any]) -> None:
    """Constraints on a mapping's keys and values, which Litestar leaves out (msgspec knows them)."""
    own = msgspec.json.schema(struct)["$defs"][struct.__name__].get("properties", {})
    properties = component.get("properties", {})
    for name, field_schema in own.items():
        mapping = next((b for b in _branches(field_schema) if "propertyNames" in b), None)
        if mapping is None or name not in properties or "$ref" in str(mapping):
            continue
        for branch in _branches(properties[name]):
            if branch.get("type") == "object":
                branch["propertyNames"] = mapping["propertyNames"]
                branch["additionalProperties"] = mapping["additionalProperties"]


NO_NUL = "^[^\\x00]*$"


def forbid_nul(schema: Any) -> None:
    """Every free-text string refuses NUL (the body guard answers 422): say so with a pattern."""
    if isinstance(schema, list):
        for item in schema:
            forbid_nul(item)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not ({"pattern", "enum", "const", "format"} & schema.keys()):
        schema["pattern"] = NO_NUL
    for key in ("properties", "patternProperties", "$defs"):
        for value in (schema.get(key) or {}).values():
            forbid_nul(value)
    for key in ("items", "additionalProperties", "propertyNames", "oneOf", "anyOf", "allOf", "not"):
        if key in schema:
            forbid_nul(schema[key])


def rewrite(schema: dict[str, Any], app: Litestar) -> None:
    handlers = _handlers(app)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_SCHEMA] = error_component()
    for name, struct in _request_structs(handlers).items():
        if name in components:
            _document_mapping_keys(struct, components[name])
            if struct.__struct_config__.forbid_unknown_fields:
                components[name]["additionalProperties"] = False
            forbid_nul(components[name])
    components.update(_cross_field_rules(components))
    error_ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            responses.pop("400", None)  # Litestar's own validation shape, never sent
            for status in sorted(error_statuses(path, method, operation)):
                response: dict[str, Any] = {
                    "description": _DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": error_ref}},
                }
                if status in {429, 503}:
                    response["headers"] = _RETRY_AFTER
                responses[str(status)] = response
            for parameter in operation.get("parameters", []):
                forbid_nul(parameter.get("schema"))
            handler = handlers.get((path, method))
            if handler is None:
                continue
            _document_handler(operation, handler)
    _document_oauth_errors(schema, components)
    _document_external_api(schema, components)
    readiness = schema.get("paths", {}).get("/readyz", {}).get("get")
    if readiness is not None:
        ok = readiness["responses"]["200"]
        readiness["responses"]["503"] = {
            "description": "A backing service does not answer; the body says which.",
            "headers": _RETRY_AFTER,
            "content": ok.get("content", {}),
        }


OAUTH_ERROR_SCHEMA = "OAuthError"
OAUTH_ENDPOINTS = (f"{API_PREFIX}/oauth/token",)
EXTERNAL_PREFIX = "/external-api/v1.0"
EXTERNAL_TOKEN = f"{EXTERNAL_PREFIX}/application/token"
_EXTERNAL_DESCRIPTIONS = {
    400: "The request is malformed (a body that is not JSON, a field of the wrong type or value).",
    401: "No bearer token, or an invalid, expired or revoked one.",
    403: "The token lacks the operation's scope, or the user may not do this.",
    404: "No such room.",
    409: "Conflicts with the room's current state.",
    413: "The request body is too large.",
    422: "A parameter or a NUL character in the URL or the body is refused.",
    503: "A backing service is unavailable; retry after ``Retry-After`` seconds.",
}
_EXTERNAL_TOKEN_DESCRIPTIONS = {
    400: "A malformed request, an unknown user, or a scope that is not an email address.",
    401: "Invalid client credentials, or the application is disabled.",
    403: "The application is not authorized for this email domain.",
    413: "The request body is too large.",
    422: "A NUL character in the URL or the body is refused.",
    429: "Too many token requests from this application; retry after ``Retry-After`` seconds.",
    503: "A backing service is unavailable; retry after ``Retry-After`` seconds.",
}
_ROOM_BODY = {
    "type": "object",
    "properties": {
        "access_level": {"type": "string", "enum": ["trusted", "restricted"]},
        "configuration": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "can_publish_sources": {
                    "type": ["array", "null"],
                    "items": {"type": "string", "enum": ["camera", "microphone", "screen_share", "screen_share_audio"]},
                },
                "everyone_can_mute": {"type": ["boolean", "null"]},
            },
        },
    },
}
_TOKEN_BODY = {
    "type": "object",
    "required": ["client_id", "client_secret", "grant_type", "scope"],
    "properties": {
        "client_id": {"type": "string", "description": "The application's client id."},
        "client_secret": {"type": "string", "writeOnly": True},
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "scope": {"type": "string", "format": "email", "description": "The email of the user to act for."},
    },
}
_OAUTH_DESCRIPTIONS = {
    400: "invalid_request, invalid_grant, invalid_scope or unsupported_grant_type (RFC 6749, 5.2).",
    401: "invalid_client: unknown client, bad credentials, or a disabled application.",
    403: "access_denied: the application may not act for this user (outside its email domains).",
    429: "Too many token requests from this application; retry after ``Retry-After`` seconds.",
    503: "temporarily_unavailable: a backing service is down; retry after ``Retry-After`` seconds.",
}


def _document_oauth_errors(schema: dict[str, Any], components: dict[str, Any]) -> None:
    """Token endpoints answer RFC 6749's error shape (the edge guards still answer the one ``Error``)."""
    components[OAUTH_ERROR_SCHEMA] = {
        "type": "object",
        "required": ["error", "error_description"],
        "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
    }
    either = {
        "anyOf": [
            {"$ref": f"#/components/schemas/{OAUTH_ERROR_SCHEMA}"},
            {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"},
        ]
    }
    for path in OAUTH_ENDPOINTS:
        operation = schema.get("paths", {}).get(path, {}).get("post")
        if operation is None:
            continue
        for status, description in _OAUTH_DESCRIPTIONS.items():
            response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": either}}}
            if status in {429, 503}:
                response["headers"] = _RETRY_AFTER
            operation["responses"][str(status)] = response


def _document_external_api(schema: dict[str, Any], components: dict[str, Any]) -> None:
    """La Suite's external API: its body shapes and its error shapes (``{"detail"}``; the token
    endpoint's ``{"error"}``), with the edge guards' one ``Error`` as the other possibility."""
    components["ExternalDetail"] = {
        "type": "object",
        "required": ["detail"],
        "properties": {"detail": {"type": "string"}},
    }
    components["ExternalTokenError"] = {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
    }
    error_ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    for path, item in schema.get("paths", {}).items():
        if not path.startswith(EXTERNAL_PREFIX):
            continue
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            token = path == EXTERNAL_TOKEN
            own = {"$ref": f"#/components/schemas/{'ExternalTokenError' if token else 'ExternalDetail'}"}
            either = {"anyOf": [own, error_ref]}
            responses: dict[str, Any] = operation["responses"]
            responses.pop("400", None)
            for status, description in (_EXTERNAL_TOKEN_DESCRIPTIONS if token else _EXTERNAL_DESCRIPTIONS).items():
                response: dict[str, Any] = {
                    "description": description,
                    "content": {"application/json": {"schema": either}},
                }
                if status in {429, 503}:
                    response["headers"] = _RETRY_AFTER
                responses[str(status)] = response
            if token:
                operation["requestBody"] = {
                    "required": True,
                    "content": {
                        "application/json": {"schema": _TOKEN_BODY},
                        "application/x-www-form-urlencoded": {"schema": _TOKEN_BODY},
                    },
                }
            elif method in {"post", "patch"}:
                operation["requestBody"] = {
                    "required": method == "patch",
                    "content": {"application/json": {"schema": _ROOM_BODY}},
                }


def _cross_field_rules(components: dict[str, Any]) -> dict[str, Any]:
    """Rules across fields that the types cannot carry: a grant names its user by id or by email."""
    grant = components.get("AccessCreate")
    if grant is None:
        return {}
    by = [("user_id", "email"), ("email", "user_id")]
    grant["oneOf"] = [
        {"required": [given], "properties": {given: {"type": "string"}, other: {"type": "null"}}} for given, other in by
    ]
    return {"AccessCreate": grant}


def _document_handler(operation: dict[str, Any], handler: Any) -> None:
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is not None and "requestBody" in operation:
        operation["requestBody"]["required"] = data.default is Empty
    if handler.parsed_fn_signature.return_type.annotation in (ServerSentEvent, EventStream):
        operation["responses"]["200"] = {
            "description": "A stream of Server-Sent Events (``event:`` and ``data:`` lines, JSON data).",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }


class TruthfulOpenApiJson(JsonRenderPlugin):
    """Serves ``openapi.json``: Litestar's document (built once, and cached by Litestar), rewritten in place by
    ``rewrite`` the first time it is asked for, so that it says what the service does."""

    def __init__(self) -> None:
        super().__init__()
        self._rewritten: dict[str, Any] | None = None

    def render(self, request: Any, openapi_schema: dict[str, Any]) -> bytes:
        if self._rewritten is not openapi_schema:
            rewrite(openapi_schema, request.app)
            self._rewritten = openapi_schema
        return self.render_json(request, openapi_schema)


# OPTIONS -----------------------------------------------------------------------------------------

_ALLOWED = "meet.allowed_methods"


def _allowed_methods(app: Litestar) -> dict[str, str]:
    known: dict[str, str] | None = app.state.get(_ALLOWED)
    if known is None:
        methods: dict[str, set[str]] = {}
        for route in app.routes:
            if isinstance(route, HTTPRoute):
                methods.setdefault(route.path_format or "/", set()).update(route.methods)
        known = {path: ", ".join(sorted(names)) for path, names in methods.items()}
        app.state[_ALLOWED] = known
    return known


async def correct_options_allow(message: Message, scope: Scope) -> None:
    """Litestar's automatic ``OPTIONS`` lists the methods of the first controller that declared a path;
    answer every method the path has (a response start hook)."""
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    headers = MutableScopeHeaders.from_message(message)
    if "allow" not in headers:
        return
    template = scope.get("path_template")
    allowed = _allowed_methods(scope["app"]).get(template) if isinstance(template, str) else None
    if allowed:
        headers["Allow"] = allowed
