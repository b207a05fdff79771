"""Who a bearer token speaks for: a Viewer with the token's scopes, like a session's but narrower."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from meet.domain.applications.ports import (
    AccessTokenReader,
    ApplicationRegistry,
    ApplicationRevocations,
    ProviderTokens,
)
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import AuthenticationRequired
from meet.domain.users.model import Viewer
from meet.domain.users.ports import UserReader


class InvalidToken(AuthenticationRequired):
    default_message = "The access token is invalid, expired or revoked."
    code = "invalid_token"


class NoProviderTokens:
    """The identity provider's access tokens are not accepted (``MEET_OIDC_RESOURCE_SERVER`` is off)."""

    async def verify(self, token: str) -> None:  # noqa: ARG002 - refused whatever it is
        return None


# Users named by the identity provider's tokens are looked up once a minute at most per process, so a
# request with such a token costs no database round trip (a session's costs none either).
KNOWN_USER_SECONDS = 60
_KNOWN_USERS_MAX = 10_000


class AuthenticateBearer:
    """A token meet issued to an application (verified locally; refused at once once the application
    is disabled), else, when configured, an access token of the identity provider naming a user meet
    knows from sign-in (same ``sub``). Anything else is ``InvalidToken``."""

    def __init__(
        self,
        tokens: AccessTokenReader,
        revocations: ApplicationRevocations,
        provider: ProviderTokens,
        users: UserReader,
        clock: Clock,
    ) -> None:
        self._tokens = tokens
        self._revocations = revocations
        self._provider = provider
        self._users = users
        self._clock = clock
        self._known: dict[str, tuple[datetime, Viewer]] = {}

    async def execute(self, token: str) -> Viewer:
        grant = self._tokens.read(token, self._clock.now())
        if grant is not None:
            if await self._revocations.revoked(grant.client_id):
                raise InvalidToken("The application this token was issued to is disabled.")
            return Viewer(
                user_id=grant.user_id,
                sub=grant.sub,
                full_name=grant.full_name,
                scopes=grant.scopes,
                client_id=grant.client_id,
            )
        verified = await self._provider.verify(token)
        if verified is None:
            raise InvalidToken
        viewer = await self._user(verified.sub)
        return Viewer(
            user_id=viewer.user_id,
            sub=viewer.sub,
            full_name=viewer.full_name,
            scopes=verified.scopes,
            client_id=verified.client_id,
        )

    async def _user(self, sub: str) -> Viewer:
        now = self._clock.now()
        known = self._known.get(sub)
        if known is not None and known[0] > now:
            return known[1]
        user = await self._users.user_by_sub(sub)
        if user is None:
            raise InvalidToken("The token names a user unknown to meet: they must sign in once first.")
        if len(self._known) >= _KNOWN_USERS_MAX:
            self._known = {key: value for key, value in self._known.items() if value[0] > now}
        viewer = self._known[sub] = (now + timedelta(seconds=KNOWN_USER_SECONDS), Viewer.of(user))
        return viewer[1]


class RegistryCheckedRevocations:
    """Revocations for a single process without a shared store (the embedded default): this process's
    own marks, and the registry itself, so that ``meet apps disable`` or ``remove`` run as another
    process stops the tokens already issued at once (one local database read per bearer request)."""

    def __init__(self, marks: ApplicationRevocations, registry: ApplicationRegistry) -> None:
        self._marks = marks
        self._registry = registry

    async def revoke(self, client_id: str, seconds: int) -> None:
        await self._marks.revoke(client_id, seconds)

    async def revoked(self, client_id: str) -> bool:
        if await self._marks.revoked(client_id):
            return True
        try:
            application = await self._registry.get(uuid.UUID(client_id))
        except ValueError:
            return True
        return application is None or not application.enabled
