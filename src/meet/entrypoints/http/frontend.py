"""A built single-page app (La Suite Meet's frontend) served on ``/`` beside the API (``MEET_FRONTEND_DIR``).

One ASGI layer in front of the router, so the API's own routing is untouched:

- ``GET``/``HEAD`` of a file of the build answers that file. Vite's hashed bundles (under ``assets/``)
  are cached for a year (``immutable``); everything else, ``index.html`` first, is revalidated on every
  use (``no-cache`` with an ``ETag``), so a new release is picked up at the next page load.
- A path that names no file and looks like a page of the app (no file extension) answers ``index.html``:
  the app routes it in the browser (``/``, ``/{room}``, ``/recording/{id}``, ...). A missing file
  (``/assets/gone.js``, ``/logo.png``) is a 404, never the app's HTML under a script's name.
- The API (``/api/...``), recording downloads (``/media/...``) and every route the app itself declares
  (``/healthz``, ``/metrics``, the docs...) are never shadowed: they go to the router as before.

The files are listed once, at start-up: only those are served, so no request path ever reaches the
file system (no traversal, no dot files, no file added behind the service's back).
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import anyio
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

INDEX = "index.html"
# The API's prefixes (both surfaces) and the recording downloads nginx guards: never the app's.
RESERVED_PREFIXES = ("/api/", "/media/")
HASHED_PREFIX = "/assets/"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
REVALIDATE_CACHE = "no-cache"
CHUNK_BYTES = 64 * 1024
_EXTRA_TYPES = {".webmanifest": "application/manifest+json", ".wasm": "application/wasm", ".mjs": "text/javascript"}


class FrontendDirError(ValueError):
    """The build folder has no ``index.html`` (the settings refuse it first, at start-up)."""


def content_security_policy(sfu_urls: Iterable[str]) -> str:
    """What the app needs and nothing more: its own scripts (and WebAssembly, for noise suppression and
    background effects), inline styles (its CSS-in-JS and LiveKit's components), ``data:``/``blob:``
    images, ``blob:`` media and workers, and connections to its own origin and to the SFU's URL, over
    WebSocket (signalling) and HTTPS (LiveKit's validation and region requests)."""
    origins: list[str] = []
    for url in sfu_urls:
        for origin in _connection_origins(url):
            if origin not in origins:
                origins.append(origin)
    connect = " ".join(["'self'", *origins])
    return (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; media-src 'self' blob:; worker-src 'self' blob:; font-src 'self' data:; "
        f"connect-src {connect}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def _connection_origins(url: str) -> list[str]:
    """A WebSocket URL's origin and its HTTP twin (``wss://h`` -> ``wss://h https://h``), and back."""
    parts = urlsplit(url.strip())
    if not parts.hostname or parts.scheme not in {"ws", "wss", "http", "https"}:
        return []
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    secure = parts.scheme in {"wss", "https"}
    return [f"{'wss' if secure else 'ws'}://{netloc}", f"{'https' if secure else 'http'}://{netloc}"]


@dataclass(frozen=True, slots=True)
class _File:
    path: Path
    size: int
    content_type: str
    cache_control: str
    etag: str


def _content_type(path: Path) -> str:
    guessed = _EXTRA_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if guessed.startswith("text/") or guessed in {"application/javascript", "application/json", "image/svg+xml"}:
        return f"{guessed}; charset=utf-8"
    return guessed


def _list_files(root: Path) -> dict[str, _File]:
    files: dict[str, _File] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        url = "/" + relative.as_posix()
        stat = path.stat()
        tag = hashlib.sha256(f"{url}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:24]
        files[url] = _File(
            path=path,
            size=stat.st_size,
            content_type=_content_type(path),
            cache_control=IMMUTABLE_CACHE if url.startswith(HASHED_PREFIX) else REVALIDATE_CACHE,
            etag=f'"{tag}"',
        )
    return files


def _looks_like_a_file(path: str) -> bool:
    last = path.rsplit("/", 1)[-1]
    return path.startswith(HASHED_PREFIX) or "." in last


class SinglePageApp:
    """Serve the build in ``directory`` on ``/``; hand everything else to ``app``."""

    def __init__(self, app: ASGIApp, directory: str, *, csp: str, reserved_paths: Collection[str]) -> None:
        self.app = app
        self.csp = csp
        self.reserved_paths = frozenset(reserved_paths)
        self.files = _list_files(Path(directory).resolve())
        index = self.files.get("/" + INDEX)
        if index is None:
            raise FrontendDirError(f"MEET_FRONTEND_DIR={directory!r} has no {INDEX}: it is not a built frontend.")
        self.index = index

    def _reserved(self, path: str) -> bool:
        return path.startswith(RESERVED_PREFIXES) or path in {"/api", "/media"} or path in self.reserved_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != ScopeType.HTTP
            or scope.get("method", "GET") not in {"GET", "HEAD"}
            or self._reserved(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        found = self.files.get(path)
        if found is None:
            if _looks_like_a_file(path):
                await self._not_found(send)
                return
            found = self.index
        await self._send_file(scope, send, found)

    def _headers(self, file: _File) -> list[tuple[bytes, bytes]]:
        return [
            (b"content-type", file.content_type.encode()),
            (b"cache-control", file.cache_control.encode()),
            (b"etag", file.etag.encode()),
            (b"content-security-policy", self.csp.encode()),
        ]

    async def _send_file(self, scope: Scope, send: Send, file: _File) -> None:
        headers = self._headers(file)
        if_none_match = dict(scope["headers"]).get(b"if-none-match", b"")
        if file.etag.encode() in [tag.strip() for tag in if_none_match.split(b",")]:
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        headers.append((b"content-length", str(file.size).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        async with await anyio.open_file(file.path, "rb") as stream:
            while chunk := await stream.read(CHUNK_BYTES):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _not_found(self, send: Send) -> None:
        body = b'{"status":404,"error":"not_found","detail":"No such file in the frontend\'s build."}'
        await send(
            {
                "type": "http.response.start",
                "status": 404,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})
