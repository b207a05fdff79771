from __future__ import annotations

import functools
import re
import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime

from meet.domain.shared.errors import AuthenticationRequired, InvalidInput
from meet.domain.shared.events import Actor
from meet.domain.users.scopes import ApiScope, MissingScope, NotForTokens

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8}){0,2}$")


def valid_language(language: str) -> str:
    """A language tag, lower-cased (``fr-FR`` -> ``fr-fr``); anything else is refused."""
    tag = language.strip().lower().replace("_", "-")
    if len(tag) > 16 or not _LANGUAGE.match(tag):
        raise InvalidInput("The language must be a language tag such as `en-us` or `fr`.", field="language")
    return tag


@functools.cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def valid_timezone(timezone: str) -> str:
    """An IANA time zone name known to this system; anything else is refused."""
    if timezone not in _timezones() and timezone != "UTC":
        raise InvalidInput("The timezone must be an IANA time zone such as `Europe/Paris`.", field="timezone")
    return timezone


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
    timezone: str | None = None
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
        for name in ("email", "full_name", "short_name"):
            value = getattr(identity, name)
            if value is not None and value != getattr(self, name):
                setattr(self, name, value)
                changed = True
        # The language is the user's own preference once set; the provider's only fills it in.
        if identity.language is not None and self.language is None:
            self.language = identity.language
            changed = True
        return changed

    def set_language(self, language: str | None) -> None:
        """A language tag (``fr-fr``, ``en``), or None to forget it."""
        self.language = None if language is None else valid_language(language)

    def set_timezone(self, timezone: str | None) -> None:
        """An IANA time zone (``Europe/Paris``), or None to forget it."""
        self.timezone = None if timezone is None else valid_timezone(timezone)


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

    @property
    def actor(self) -> Actor:
        """Who this viewer is in a room's audit log: the application when one acts for the user."""
        if self.client_id is not None:
            return Actor.application(self.client_id)
        return Actor.user(self.sub)

    @classmethod
    def anonymous(cls) -> Viewer:
        return cls()

    @classmethod
    def of(cls, user: User) -> Viewer:
        return cls(user_id=user.id, sub=user.sub, full_name=user.full_name)
