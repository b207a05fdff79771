from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from meet.domain.users.model import User, VerifiedIdentity


class UserReader(Protocol):
    """Read model of users, outside any transaction."""

    async def user(self, user_id: uuid.UUID) -> User | None: ...


class UserRepository(Protocol):
    """Users inside a transaction; ``sub`` is unique."""

    async def get(self, user_id: uuid.UUID) -> User | None: ...

    async def get_by_sub(self, sub: str) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...

    async def add(self, user: User) -> User: ...

    async def update(self, user: User) -> User: ...


class UserTransaction(Protocol):
    @property
    def users(self) -> UserRepository: ...


class UserUnitOfWork(Protocol):
    """Opens a transaction: its changes are committed when the block ends, rolled back when it raises."""

    def begin(self) -> AbstractAsyncContextManager[UserTransaction]: ...


class AuthorizationRequest(Protocol):
    """Where to send the browser, and what to remember until it comes back."""

    @property
    def url(self) -> str: ...

    @property
    def pending(self) -> dict[str, str]: ...


class IdentityProvider(Protocol):
    """An OpenID Connect provider, driven through the authorization-code flow with PKCE."""

    async def begin(self, redirect_uri: str, *, silent: bool = False) -> AuthorizationRequest:
        """Where to send the browser; ``silent``: the provider must not show anything (``prompt=none``),
        and answers ``login_required`` at the callback when nobody is signed in there."""
        ...

    async def complete(self, *, code: str, state: str, pending: dict[str, str], redirect_uri: str) -> VerifiedIdentity:
        """Exchange the code and verify the ID token; raise ``AuthenticationRequired`` on any mismatch."""
        ...
