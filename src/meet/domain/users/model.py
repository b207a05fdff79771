from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from meet.domain.shared.errors import AuthenticationRequired
from meet.domain.shared.events import Actor


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """What an identity provider vouches for after a successful sign-in."""

    sub: str
    email: str | None = None
    full_name: str | None = None
    short_name: str | None = None
    language: str | None = None


@dataclass(slots=True)
class User:
    id: uuid.UUID
    sub: str
    email: str | None = None
    full_name: str | None = None
    short_name: str | None = None
    language: str | None = None
    created_at: datetime | None = field(default=None, compare=False)

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

    Built from the server-side session, never from anything the client asserts.
    """

    user_id: uuid.UUID | None = None
    sub: str | None = None
    full_name: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def require_user_id(self) -> uuid.UUID:
        """The signed-in user's id; anonymous callers are refused."""
        if self.user_id is None:
            raise AuthenticationRequired
        return self.user_id

    @property
    def actor(self) -> Actor:
        """Who this viewer is in a room's audit log."""
        return Actor.user(self.sub)

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls()

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(user_id=user.id, sub=user.sub, full_name=user.full_name)
