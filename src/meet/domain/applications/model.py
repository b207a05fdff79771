"""An application registered by an operator, and what it may ask for."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from meet.domain.applications.errors import AccessDenied, InvalidScope
from meet.domain.users.scopes import ApiScope, UnknownScope, parse_scopes

_EMAIL = re.compile(r"^[^@\s]{1,64}@([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+)$")
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63})+$")

# scrypt parameters (RFC 7914): 16 MiB and a few tens of milliseconds per check.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def email_domain(email: str) -> str | None:
    """The domain of a plausible email address, lower-cased; ``None`` when it is not one."""
    match = _EMAIL.match(email.strip())
    return match.group(1).lower() if match else None


def normalise_domains(domains: list[str]) -> tuple[str, ...]:
    cleaned = tuple(sorted({domain.strip().lower().lstrip("@") for domain in domains if domain.strip()}))
    bad = [domain for domain in cleaned if not _DOMAIN.match(domain)]
    if bad:
        raise ValueError(f"Not an email domain: {', '.join(bad)}.")
    return cleaned


def hash_secret(secret: str) -> str:
    """A password hash (scrypt, random salt) of a client secret: what is stored instead of it."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


_DECOY = hash_secret(secrets.token_urlsafe(8))


def secret_matches(secret: str, stored: str | None) -> bool:
    """Whether ``secret`` hashes to ``stored``, compared in constant time. With nothing stored, a decoy
    hash is still computed, so the answer takes as long whether or not the client exists."""
    try:
        _, n, r, p, salt, digest = (stored or _DECOY).split("$")
        candidate = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return stored is not None and hmac.compare_digest(candidate, bytes.fromhex(digest))


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Application:
    """Who may ask meet for tokens acting for users: which users (email domains or addresses), which
    scopes at most, with which credential (a public key for signed assertions, or a hashed secret)."""

    client_id: uuid.UUID
    name: str
    scopes: frozenset[ApiScope]
    domains: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    secret_hash: str | None = None
    public_key: str | None = None  # a JWK (JSON text)
    enabled: bool = True
    created_at: datetime | None = field(default=None, compare=False)

    def may_act_for(self, email: str) -> bool:
        domain = email_domain(email)
        if domain is None:
            return False
        return domain in self.domains or email.strip().lower() in self.emails

    def require_may_act_for(self, email: str) -> None:
        if email_domain(email) is None:
            raise AccessDenied("The subject must be a user's email address.")
        if not self.may_act_for(email):
            raise AccessDenied("This application is not authorized for this email domain.")

    def grant(self, requested: str | None) -> frozenset[ApiScope]:
        """The scopes a token gets: the requested ones (space-separated), all of them at most the
        application's; none requested means all the application's."""
        if requested is None or not requested.strip():
            return self.scopes
        try:
            asked = parse_scopes(requested.split())
        except UnknownScope as error:
            raise InvalidScope(str(error)) from error
        beyond = asked - self.scopes
        if beyond:
            raise InvalidScope(
                f"The application may not use: {', '.join(sorted(beyond))}; it may use: "
                f"{', '.join(sorted(self.scopes)) or 'nothing'}."
            )
        return asked

    def disabled(self) -> Application:
        return replace(self, enabled=False)

    def with_secret_hash(self, secret_hash: str) -> Application:
        return replace(self, secret_hash=secret_hash)
