"""Browser-facing protection at the edge, before any controller runs.

- ``BodyGuard``: every request body is bounded in size, valid UTF-8, nested at most ``MAX_JSON_DEPTH``
  deep and free of NUL characters; a query string or path with a NUL is refused too. Each refusal is
  a 4xx in the one error shape, so no parser deep inside ever sees such input.
- ``CrossSiteGuard``: an unsafe request that carries one of our cookies is refused (403
  ``cross_site_request``) when its ``Origin`` is not the service's own or a trusted one, or, without
  ``Origin``, when ``Sec-Fetch-Site`` says ``cross-site`` or ``same-site``. A request with neither header
  (a non-browser client) passes. Endpoints authenticated otherwise (the LiveKit webhook's signature, the
  storage hook's bearer token) are never checked: their callers are servers.
- ``security_headers``: a hook on every response's start (``start_hooks``) that puts the security
  headers on every response, including the router's own 404/405 answers.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from meet.entrypoints.http.bearer import has_bearer
from meet.entrypoints.http.paths import API_PREFIX

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CROSS_SITE_ERROR = "cross_site_request"
# Callers of these authenticate with something a browser cannot forge (a signature, a bearer token, the
# Janus event handler's basic auth).
OTHERWISE_AUTHENTICATED = frozenset(
    {
        f"{API_PREFIX}/webhooks/livekit",
        f"{API_PREFIX}/webhooks/janus",
        f"{API_PREFIX}/recordings/storage-hook",
        f"{API_PREFIX}/oauth/token",
        "/external-api/v1.0/application/token/",
        "/external-api/v1.0/application/token",
    }
)

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


def _error_message(status: int, code: str, detail: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> list[Message]:
    body = msgspec.json.encode({"status": status, "error": code, "detail": detail})
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        },
        {"type": "http.response.body", "body": body, "more_body": False},
    ]


async def _answer(send: Send, status: int, code: str, detail: str) -> None:
    for message in _error_message(status, code, detail):
        await send(message)


def nesting_exceeds(body: bytes, limit: int) -> bool:
    """Whether the JSON text nests arrays and objects deeper than ``limit`` (strings do not count)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def body_problem(body: bytes) -> tuple[int, str, str] | None:
    """What is wrong with a request body, as (status, error code, detail), or ``None``."""
    if not body:
        return None
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        return 400, "malformed_body", f"The request body is not valid UTF-8 (byte {error.start})."
    if b"\x00" in body or b"\\u0000" in body:
        return 422, "invalid_input", "Text may not contain the NUL character (U+0000)."
    if nesting_exceeds(body, MAX_JSON_DEPTH):
        return 400, "malformed_body", f"The request body nests deeper than {MAX_JSON_DEPTH} levels."
    return None


class BodyGuard:
    """Read the body once (bounded), check it, and hand the same bytes to the handler.

    A plain ASGI middleware (``DefineMiddleware``), as is ``CrossSiteGuard``: no wrapper frame of its own
    stays alive for the minutes that an event stream is open.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        next_app = self.app
        if scope["type"] != ScopeType.HTTP:
            await next_app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await _answer(send, 422, "invalid_input", "The URL may not contain the NUL character (U+0000).")
            return
        if scope.get("method", "GET") in {"GET", "HEAD", "OPTIONS"}:
            await next_app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await next_app(scope, receive, send)  # disconnected: let the handler see it
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _answer(
                    send, 413, "payload_too_large", f"The request body is larger than {self.max_body_bytes} bytes."
                )
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if (problem := body_problem(body)) is not None:
            await _answer(send, *problem)
            return
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await next_app(scope, replay, send)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased, default ports dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{scheme}://{host}{port}"


@dataclass(frozen=True, slots=True)
class OriginPolicy:
    """The origins whose pages may send cookie-authenticated unsafe requests.

    ``own``: the service's public origin (empty in development: the request's own host is used).
    """

    own: str
    trusted: frozenset[str]
    cookie_names: tuple[str, ...]
    cookie_prefixes: tuple[str, ...]

    @classmethod
    def of(
        cls, public_url: str, trusted: Collection[str], cookie_names: Iterable[str], cookie_prefixes: Iterable[str]
    ) -> OriginPolicy:
        return cls(
            own=origin_of(public_url) if public_url else "",
            trusted=frozenset(origin_of(origin) for origin in trusted if origin.strip()),
            cookie_names=tuple(cookie_names),
            cookie_prefixes=tuple(cookie_prefixes),
        )

    def carries_cookie(self, cookie_header: str) -> bool:
        for pair in cookie_header.split(";"):
            name = pair.split("=", 1)[0].strip()
            if name in self.cookie_names or name.startswith(self.cookie_prefixes):
                return True
        return False

    def allows(self, origin: str | None, fetch_site: str | None, own_origin: str) -> bool:
        if origin is not None:
            if origin.strip().lower() == "null":
                return False
            candidate = origin_of(origin)
            return candidate == (self.own or own_origin) or candidate in self.trusted
        if fetch_site is not None:
            return fetch_site.strip().lower() in {"same-origin", "none"}
        return True


class CrossSiteGuard:
    def __init__(self, app: ASGIApp, policy: OriginPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        next_app = self.app
        if (
            scope["type"] == ScopeType.HTTP
            and scope.get("method", "GET") not in SAFE_METHODS
            and scope["path"] not in OTHERWISE_AUTHENTICATED
            and not has_bearer(scope)  # carries no session: the cookie, if any, is not used
        ):
            headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
            if self.policy.carries_cookie(headers.get("cookie", "")) and not self.policy.allows(
                headers.get("origin"), headers.get("sec-fetch-site"), _request_origin(scope, headers)
            ):
                await _answer(
                    send,
                    403,
                    CROSS_SITE_ERROR,
                    "A cookie-authenticated request from another site is refused; "
                    "send it from the service's own origin or a trusted one.",
                )
                return
        await next_app(scope, receive, send)


def _request_origin(scope: Scope, headers: dict[str, str]) -> str:
    host = headers.get("host", "")
    return origin_of(f"{scope.get('scheme', 'http')}://{host}")


# Security headers --------------------------------------------------------------------------------

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
STATIC_CACHE = "public, max-age=86400"

# What the hook writes, encoded once; a header it owns replaces any the handler set.
_ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"))
_OWNED = frozenset(name for name, _ in _ALWAYS)
_OWNED_FOR_ASSETS = _OWNED | {b"cache-control"}
_API_CSP, _DOCS_CSP, _STATIC_CACHE = API_CSP.encode(), DOCS_CSP.encode(), STATIC_CACHE.encode()


def security_headers(docs_prefix: str, assets_prefix: str) -> Any:
    """A response start hook: every response gets nosniff, no referrer, no framing, a CSP (unless the
    handler set its own: the frontend's), and ``Cache-Control: no-store`` unless the handler chose
    otherwise (only the docs' and the frontend's assets are cacheable)."""

    async def add(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        # One pass over the handler's headers (every answer of the API comes through here): the names it
        # set, then the ones this hook owns replaced, the rest appended.
        path = scope["path"]
        asset = path.startswith(assets_prefix)
        headers = list(message.get("headers", ()))
        present = {name.lower() for name, _ in headers}
        owned = _OWNED_FOR_ASSETS if asset else _OWNED
        if not present.isdisjoint(owned):
            headers = [(name, value) for name, value in headers if name.lower() not in owned]
        headers += _ALWAYS
        if b"content-security-policy" not in present:  # else the frontend's pages carry their own (frontend.py)
            docs = path.startswith(docs_prefix) and not path.endswith(".json")
            headers.append((b"content-security-policy", _DOCS_CSP if docs else _API_CSP))
        if asset:
            headers.append((b"cache-control", _STATIC_CACHE))
        elif b"cache-control" not in present:
            headers.append((b"cache-control", b"no-store"))
        message["headers"] = headers

    return add
