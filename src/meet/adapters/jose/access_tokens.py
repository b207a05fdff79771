"""The access tokens meet issues to applications: JWTs (RFC 9068 profile) signed with a key derived
from the service's secret, verified locally on every request without any store."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from meet.domain.applications.ports import TokenGrant
from meet.domain.users.scopes import UnknownScope, parse_scopes

TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret
ALGORITHM = "HS256"
TOKEN_AUDIENCE = "meet-api"  # noqa: S105 - a name, not a secret


class JoseAccessTokens:
    def __init__(self, secret_key: str, *, issuer: str, audience: str) -> None:
        derived = hmac.new(secret_key.encode(), b"meet application access tokens", hashlib.sha256).digest()
        self._key = OctKey.import_key(derived)
        self._issuer = issuer
        self._audience = audience

    def issue(self, grant: TokenGrant, *, issued_at: datetime) -> str:
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": grant.sub,
            "uid": str(grant.user_id),
            "client_id": grant.client_id,
            "scope": " ".join(sorted(grant.scopes)),
            "iat": int(issued_at.timestamp()),
            "exp": int(grant.expires_at.timestamp()),
            "jti": secrets.token_urlsafe(16),
        }
        if grant.full_name:
            claims["name"] = grant.full_name
        return jwt.encode({"alg": ALGORITHM, "typ": TOKEN_TYPE}, claims, self._key, algorithms=[ALGORITHM])

    def read(self, token: str, now: datetime) -> TokenGrant | None:
        """The grant a token carries, or ``None`` when it is not one of ours or no longer valid."""
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            if decoded.header.get("typ") != TOKEN_TYPE:
                return None
            jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                iss={"essential": True, "value": self._issuer},
                aud={"essential": True, "value": self._audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(decoded.claims)
            claims = decoded.claims
            return TokenGrant(
                user_id=uuid.UUID(str(claims["uid"])),
                sub=str(claims["sub"]),
                full_name=claims.get("name"),
                client_id=str(claims["client_id"]),
                scopes=parse_scopes(str(claims.get("scope", "")).split()),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
        except (JoseError, ValueError, KeyError, TypeError, UnknownScope):
            return None
