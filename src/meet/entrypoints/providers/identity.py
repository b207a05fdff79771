"""Who the caller is (the server-side session) and how they sign in (OIDC, when configured)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from dishka import Provider, Scope, provide
from litestar import Request

from meet.adapters.oidc.health import OidcDiscoveryHealth
from meet.adapters.oidc.provider import OidcIdentityProvider
from meet.adapters.oidc.resource_server import OidcProviderTokens
from meet.domain.applications.bearer import NoProviderTokens
from meet.domain.applications.ports import ProviderTokens
from meet.domain.users.model import Viewer
from meet.domain.users.ports import IdentityProvider
from meet.domain.users.use_cases import NoIdentityProvider
from meet.entrypoints.http.bearer import bearer_viewer
from meet.entrypoints.http.sessions import viewer_from_session
from meet.entrypoints.providers.health import BackendProvider
from meet.entrypoints.settings import Settings


class ViewerProvider(Provider):
    @provide(scope=Scope.REQUEST)
    def viewer(self, request: Request) -> Viewer:  # type: ignore[type-arg] # dishka keys on the bare class
        if (by_token := bearer_viewer(request.scope)) is not None:
            return by_token
        scope_session = request.scope.get("session")
        return viewer_from_session(scope_session if isinstance(scope_session, dict) else {})


class OidcProvider(BackendProvider):
    deployment_checks = (OidcDiscoveryHealth,)

    @provide(scope=Scope.APP)
    async def http_client(self) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(timeout=10) as client:
            yield client

    @provide(scope=Scope.APP)
    def identity_provider(self, settings: Settings, http: httpx.AsyncClient) -> IdentityProvider:
        return OidcIdentityProvider(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            scopes=settings.oidc_scopes,
            http=http,
        )

    @provide(scope=Scope.APP)
    def discovery(self, settings: Settings, http: httpx.AsyncClient) -> OidcDiscoveryHealth:
        return OidcDiscoveryHealth(settings.oidc_issuer, http)


class ResourceServerProvider(Provider):
    """``MEET_OIDC_RESOURCE_SERVER``: the identity provider's access tokens are accepted."""

    @provide(scope=Scope.APP)
    def tokens(self, settings: Settings, http: httpx.AsyncClient) -> ProviderTokens:
        return OidcProviderTokens(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            introspection=settings.oidc_introspection,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            http=http,
        )


class NoProviderTokensProvider(Provider):
    """The identity provider's access tokens are not accepted (``MEET_OIDC_RESOURCE_SERVER`` off)."""

    tokens = provide(NoProviderTokens, scope=Scope.APP, provides=ProviderTokens)


class NoSignInProvider(BackendProvider):
    """No identity provider configured: sign-in answers that it is not configured."""

    absent = ("oidc", "no sign-in but the development one")

    identity_provider = provide(NoIdentityProvider, scope=Scope.APP, provides=IdentityProvider)
