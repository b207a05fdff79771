from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from meet.domain.applications.model import Application
from meet.domain.users.scopes import ApiScope


class ApplicationRegistry(Protocol):
    """The registered applications, durable; ``client_id`` is unique."""

    async def add(self, application: Application) -> Application: ...

    async def get(self, client_id: uuid.UUID) -> Application | None: ...

    async def all(self) -> Sequence[Application]: ...

    async def save(self, application: Application) -> None: ...

    async def remove(self, client_id: uuid.UUID) -> bool: ...


@dataclass(frozen=True, slots=True)
class VerifiedAssertion:
    subject: str
    jwt_id: str
    expires_at: datetime


class AssertionVerifier(Protocol):
    """Reads an application's signed JWT assertion (RFC 7523); raises ``InvalidGrant`` when it cannot."""

    def issuer_of(self, assertion: str) -> str:
        """The unverified ``iss`` claim, only to find whose key verifies the assertion."""
        ...

    def verify(
        self, assertion: str, *, public_key: str, issuer: str, audiences: tuple[str, ...], now: datetime
    ) -> VerifiedAssertion:
        """Signature by ``public_key``, ``iss``, ``aud`` (one of ``audiences``), ``exp`` (not too far ahead),
        ``sub`` and ``jti`` present."""
        ...


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What an access token says: who acts for whom, allowed to do what, until when."""

    user_id: uuid.UUID
    sub: str
    full_name: str | None
    client_id: str
    scopes: frozenset[ApiScope]
    expires_at: datetime


class AccessTokenIssuer(Protocol):
    """Signs the short-lived access tokens meet issues to applications."""

    def issue(self, grant: TokenGrant, *, issued_at: datetime) -> str: ...


class AccessTokenReader(Protocol):
    """Verifies meet's own access tokens locally: the grant, or ``None`` if not one of ours or invalid."""

    def read(self, token: str, now: datetime) -> TokenGrant | None: ...


@dataclass(frozen=True, slots=True)
class ProviderToken:
    """An access token of the organisation's identity provider, verified: whose, with which scopes."""

    sub: str
    scopes: frozenset[ApiScope]
    client_id: str | None


class ProviderTokens(Protocol):
    """Verifies the identity provider's access tokens: ``None`` if invalid, ``ServiceUnavailable`` if unreachable."""

    async def verify(self, token: str) -> ProviderToken | None: ...


class SeenAssertions(Protocol):
    """Remembers assertion ids across processes until they expire: ``first_use`` is true once per id."""

    async def first_use(self, key: str, until: datetime, now: datetime) -> bool: ...


class ApplicationRevocations(Protocol):
    """Applications disabled or removed lately, so tokens already issued to them stop working at once."""

    async def revoke(self, client_id: str, seconds: int) -> None: ...

    async def revoked(self, client_id: str) -> bool: ...


class RateLimiter(Protocol):
    """Counts hits per key in fixed windows; answers 0 when allowed, else the seconds to wait."""

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> int: ...
