from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from meet.domain.shared.errors import AuthenticationRequired
from meet.domain.users.scopes import ApiScope, MissingScope, NotForTokens


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """What an identity provider vouches for after a successful sign-in."""

    sub: str
    email: str | None = None
    full_name: str | None = None
    short_name: str | None = None
    language: str | None = None


PROVISIONAL_SUB_PREFIX = "provisional:"


@dataclass(slots=True)
class User:
    id: uuid.UUID
    sub: str
    email: str | None = None
    full_name: str | None = None
    short_name: str | None = None
    language: str | None = None
    created_at: datetime | None = field(default=None, compare=False)

    @classmethod
    def provisional(cls, email: str) -> User:
        """A user an application named before they ever signed in: known by email until they do."""
        user_id = uuid.uuid4()
        return cls(id=user_id, sub=f"{PROVISIONAL_SUB_PREFIX}{user_id}", email=email)

    @property
    def is_provisional(self) -> bool:
        return self.sub.startswith(PROVISIONAL_SUB_PREFIX)

    def refresh_from(self, identity: VerifiedIdentity) -> bool:
        """Copy the provider's current claims; answer whether anything changed."""
        changed = False
        for name in ("email", "full_name", "short_name", "language"):
            value = getattr(identity, name)
            if value is not None and value != getattr(self, name):
                setattr(self, name, value)
                changed = True
        return changed


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whoever is making the request: a signed-in user, or nobody in particular.

    Built from the server-side session or a verified bearer token, never from anything the client
    asserts. ``scopes`` is ``None`` for a session (every scope), the granted ones for a token;
    ``client_id`` names the application acting for the user, if any.
    """

    user_id: uuid.UUID | None = None
    sub: str | None = None
    full_name: str | None = None
    scopes: frozenset[ApiScope] | None = None
    client_id: str | None = None

    @property
    def by_token(self) -> bool:
        return self.scopes is not None

    def require_scope(self, scope: ApiScope) -> None:
        """Refuse a token that was not granted ``scope`` (sessions carry every scope)."""
        if self.scopes is not None and scope not in self.scopes:
            raise MissingScope(scope)

    def require_session(self) -> None:
        """Refuse bearer tokens: the operation exists only for a signed-in browser."""
        if self.scopes is not None:
            raise NotForTokens

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def require_user_id(self) -> uuid.UUID:
        """The signed-in user's id; anonymous callers are refused."""
        if self.user_id is None:
            raise AuthenticationRequired
        return self.user_id

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls()

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(user_id=user.id, sub=user.sub, full_name=user.full_name)
