"""Registering applications (the operator) and issuing their access tokens (the token endpoint)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from meet.domain.applications.errors import (
    ApplicationNotFound,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
)
from meet.domain.applications.model import (
    Application,
    email_domain,
    hash_secret,
    new_client_secret,
    normalise_domains,
    secret_matches,
)
from meet.domain.applications.ports import (
    AccessTokenIssuer,
    ApplicationRegistry,
    ApplicationRevocations,
    AssertionVerifier,
    RateLimiter,
    SeenAssertions,
    TokenGrant,
)
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import RateLimited
from meet.domain.users.model import User
from meet.domain.users.ports import UserUnitOfWork
from meet.domain.users.scopes import ApiScope, parse_scopes

# Tokens already issued to a disabled application are refused for as long as any may live.
MAX_TOKEN_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class NewApplication:
    name: str
    scopes: Sequence[str]
    domains: Sequence[str] = ()
    emails: Sequence[str] = ()
    public_key: str | None = None  # a JWK, already validated by the caller's key reader


@dataclass(frozen=True, slots=True)
class Registered:
    application: Application
    client_secret: str | None  # shown once, never stored


class RegisterApplication:
    """An operator registers an application: its scopes, the users it may act for, its credential."""

    def __init__(self, registry: ApplicationRegistry, clock: Clock) -> None:
        self._registry = registry
        self._clock = clock

    async def execute(self, request: NewApplication) -> Registered:
        name = request.name.strip()
        if not name or len(name) > 200:
            raise ValueError("The name must have 1 to 200 characters.")
        scopes = parse_scopes(request.scopes)
        if not scopes:
            raise ValueError("At least one scope is needed.")
        domains = normalise_domains(list(request.domains))
        emails = tuple(sorted({email.strip().lower() for email in request.emails if email.strip()}))
        if bad := [email for email in emails if email_domain(email) is None]:
            raise ValueError(f"Not an email address: {', '.join(bad)}.")
        if not domains and not emails:
            raise ValueError("Name the email domains (or the users) the application may act for.")
        secret = None if request.public_key else new_client_secret()
        application = Application(
            client_id=uuid.uuid4(),
            name=name,
            scopes=scopes,
            domains=domains,
            emails=emails,
            secret_hash=await asyncio.to_thread(hash_secret, secret) if secret else None,
            public_key=request.public_key,
            created_at=self._clock.now(),
        )
        return Registered(await self._registry.add(application), secret)


class ManageApplications:
    """List, show, disable, remove, and rotate the credential of registered applications."""

    def __init__(self, registry: ApplicationRegistry, revocations: ApplicationRevocations) -> None:
        self._registry = registry
        self._revocations = revocations

    async def all(self) -> Sequence[Application]:
        return await self._registry.all()

    async def show(self, client_id: uuid.UUID) -> Application:
        application = await self._registry.get(client_id)
        if application is None:
            raise ApplicationNotFound
        return application

    async def disable(self, client_id: uuid.UUID) -> Application:
        application = (await self.show(client_id)).disabled()
        await self._registry.save(application)
        await self._revocations.revoke(str(client_id), MAX_TOKEN_SECONDS)
        return application

    async def remove(self, client_id: uuid.UUID) -> None:
        if not await self._registry.remove(client_id):
            raise ApplicationNotFound
        await self._revocations.revoke(str(client_id), MAX_TOKEN_SECONDS)

    async def rotate(self, client_id: uuid.UUID, public_key: str | None = None) -> str | None:
        """A new secret (answered once), or the new public key; tokens issued so far are revoked."""
        application = await self.show(client_id)
        secret = None if public_key else new_client_secret()
        rotated = replace(
            application,
            public_key=public_key,
            secret_hash=await asyncio.to_thread(hash_secret, secret) if secret else None,
        )
        await self._registry.save(rotated)
        await self._revocations.revoke(str(client_id), MAX_TOKEN_SECONDS)
        return secret


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    ttl_seconds: int
    allow_user_creation: bool
    requests_per_minute: int


@dataclass(frozen=True, slots=True)
class JwtBearerRequest:
    """RFC 7523: the application signed an assertion naming the user (``sub``: their email)."""

    assertion: str
    audiences: tuple[str, ...]  # the token endpoint's URL (or the service's), one of which it must name
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class ClientSecretRequest:
    """The client credentials grant with the user named in the request (``subject``: their email)."""

    client_id: str
    client_secret: str
    subject: str
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scopes: frozenset[ApiScope]
    client_id: str


class IssueApplicationToken:
    """An application asks for a short-lived token acting for one user.

    Refused: an unknown client or a bad credential (``invalid_client``), a disabled application
    (``invalid_client``), an assertion badly signed, expired, for another audience or seen before
    (``invalid_grant``), scopes beyond the application's (``invalid_scope``), a user outside the
    application's domains (``access_denied``), a user unknown to meet unless creating users is allowed
    (``invalid_grant``), too many requests from one application (rate limited).
    """

    def __init__(
        self,
        registry: ApplicationRegistry,
        verifier: AssertionVerifier,
        issuer: AccessTokenIssuer,
        seen: SeenAssertions,
        limiter: RateLimiter,
        users: UserUnitOfWork,
        clock: Clock,
        policy: TokenPolicy,
    ) -> None:
        self._registry = registry
        self._verifier = verifier
        self._issuer = issuer
        self._seen = seen
        self._limiter = limiter
        self._users = users
        self._clock = clock
        self._policy = policy

    async def execute(self, request: JwtBearerRequest | ClientSecretRequest) -> IssuedToken:
        if isinstance(request, JwtBearerRequest):
            application, email = await self._by_assertion(request)
        else:
            application, email = await self._by_secret(request)
        scopes = application.grant(request.scope)
        application.require_may_act_for(email)
        user = await self._user(email)
        now = self._clock.now()
        grant = TokenGrant(
            user_id=user.id,
            sub=user.sub,
            full_name=user.full_name,
            client_id=str(application.client_id),
            scopes=scopes,
            expires_at=now + timedelta(seconds=self._policy.ttl_seconds),
        )
        return IssuedToken(
            access_token=self._issuer.issue(grant, issued_at=now),
            expires_in=self._policy.ttl_seconds,
            scopes=scopes,
            client_id=grant.client_id,
        )

    async def _application(self, client_id: str) -> Application | None:
        try:
            parsed = uuid.UUID(client_id)
        except ValueError:
            return None
        return await self._registry.get(parsed)

    async def _limit(self, application: Application) -> None:
        wait = await self._limiter.hit(
            f"oauth-token:{application.client_id}", limit=self._policy.requests_per_minute, window_seconds=60
        )
        if wait:
            raise RateLimited(wait, "Too many token requests from this application; try again later.")

    async def _by_secret(self, request: ClientSecretRequest) -> tuple[Application, str]:
        if not request.subject:
            raise InvalidRequest("Name the user with the 'subject' parameter (their email address).")
        application = await self._application(request.client_id)
        if application is not None:
            await self._limit(application)  # before the password hash: its cost is what is bounded
        stored = application.secret_hash if application else None
        matches = await asyncio.to_thread(secret_matches, request.client_secret, stored)
        if application is None or not matches:
            raise InvalidClient("Invalid client credentials.")
        self._require_enabled(application)
        return application, request.subject

    async def _by_assertion(self, request: JwtBearerRequest) -> tuple[Application, str]:
        issuer = self._verifier.issuer_of(request.assertion)
        application = await self._application(issuer)
        if application is None or application.public_key is None:
            raise InvalidClient("No application with a public key has this client id (the assertion's 'iss').")
        await self._limit(application)
        now = self._clock.now()
        verified = self._verifier.verify(
            request.assertion, public_key=application.public_key, issuer=issuer, audiences=request.audiences, now=now
        )
        self._require_enabled(application)
        if not await self._seen.first_use(f"{application.client_id}:{verified.jwt_id}", verified.expires_at, now):
            raise InvalidGrant("This assertion was already used (its 'jti' was seen before).")
        return application, verified.subject

    @staticmethod
    def _require_enabled(application: Application) -> None:
        if not application.enabled:
            raise InvalidClient("The application is disabled.")

    async def _user(self, email: str) -> User:
        address = email.strip().lower()
        async with self._users.begin() as tx:
            user = await tx.users.get_by_email(address)
            if user is not None:
                return user
            if not self._policy.allow_user_creation:
                raise InvalidGrant("No user has this email address yet; they must sign in to meet once first.")
            return await tx.users.add(User.provisional(address))
