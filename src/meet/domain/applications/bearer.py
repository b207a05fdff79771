"""Who a bearer token speaks for: a Viewer with the token's scopes, like a session's but narrower."""

from __future__ import annotations

from meet.domain.applications.ports import AccessTokenReader, ApplicationRevocations, ProviderTokens
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
        user = await self._users.user_by_sub(verified.sub)
        if user is None:
            raise InvalidToken("The token names a user unknown to meet: they must sign in once first.")
        viewer = Viewer.of(user)
        return Viewer(
            user_id=viewer.user_id,
            sub=viewer.sub,
            full_name=viewer.full_name,
            scopes=verified.scopes,
            client_id=verified.client_id,
        )
