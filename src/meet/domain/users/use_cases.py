"""Signing in (OIDC, or a verified identity handed over directly) and the current user."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from meet.domain.shared.errors import AuthenticationRequired
from meet.domain.users.errors import SignInUnavailable
from meet.domain.users.model import User, VerifiedIdentity, Viewer
from meet.domain.users.ports import AuthorizationRequest, IdentityProvider, UserReader, UserUnitOfWork


class SignIn:
    """Create the user on first sign-in, refresh their profile on later ones."""

    def __init__(self, uow: UserUnitOfWork) -> None:
        self._uow = uow

    async def execute(self, identity: VerifiedIdentity) -> User:
        async with self._uow.begin() as tx:
            user = await tx.users.get_by_sub(identity.sub)
            if user is None:
                user = User(id=uuid.uuid4(), sub=identity.sub)
                user.refresh_from(identity)
                return await tx.users.add(user)
            if user.refresh_from(identity):
                return await tx.users.update(user)
            return user


class NoIdentityProvider:
    """Sign-in with an identity provider is not configured: every attempt is refused."""

    async def begin(self, redirect_uri: str, *, silent: bool = False) -> AuthorizationRequest:  # noqa: ARG002 - refused whatever it is
        raise SignInUnavailable

    async def complete(self, *, code: str, state: str, pending: dict[str, str], redirect_uri: str) -> VerifiedIdentity:  # noqa: ARG002
        raise SignInUnavailable


@dataclass(frozen=True, slots=True)
class BeginSignInRequest:
    """``silent``: only find out whether the provider already knows the browser, showing nothing."""

    redirect_uri: str
    silent: bool = False


class BeginSignIn:
    """Where to send the browser to sign in, and what to keep until it comes back."""

    def __init__(self, provider: IdentityProvider) -> None:
        self._provider = provider

    async def execute(self, request: BeginSignInRequest) -> AuthorizationRequest:
        return await self._provider.begin(request.redirect_uri, silent=request.silent)


@dataclass(frozen=True, slots=True)
class CompleteSignInRequest:
    code: str
    state: str
    pending: dict[str, str]
    redirect_uri: str


class CompleteSignIn:
    """The browser came back from the identity provider: verify what it brings, then sign the user in."""

    def __init__(self, provider: IdentityProvider, sign_in: SignIn) -> None:
        self._provider = provider
        self._sign_in = sign_in

    async def execute(self, request: CompleteSignInRequest) -> User:
        identity = await self._provider.complete(
            code=request.code, state=request.state, pending=request.pending, redirect_uri=request.redirect_uri
        )
        return await self._sign_in.execute(identity)


class GetCurrentUser:
    def __init__(self, users: UserReader) -> None:
        self._users = users

    async def execute(self, viewer: Viewer) -> User:
        user = await self._users.user(viewer.require_user_id())
        if user is None:
            # The session outlived the account.
            raise AuthenticationRequired
        return user
