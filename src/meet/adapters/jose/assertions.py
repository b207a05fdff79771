"""Applications' signed JWT assertions (RFC 7523) and their public keys (JWK or PEM)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key

from meet.domain.applications.errors import InvalidGrant, InvalidRequest
from meet.domain.applications.ports import VerifiedAssertion

# Asymmetric algorithms only: an application proves itself with its private key, meet keeps the public one.
ASSERTION_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
# An assertion is a one-off proof: one that claims to live longer than this is refused (and its id
# would have to be remembered as long).
MAX_ASSERTION_LIFETIME = timedelta(minutes=60)
LEEWAY_SECONDS = 30


def _import_pem(text: str) -> Key:
    for key_type in ("RSA", "EC", "OKP"):
        try:
            return JWKRegistry.import_key(text.encode(), key_type)
        except (JoseError, ValueError, TypeError):
            continue
    raise ValueError("not an RSA, EC or OKP key in PEM")


def read_public_key(text: str) -> str:
    """A public key given as a JWK (JSON) or PEM, as JWK JSON text; private parts are dropped."""
    stripped = text.strip()
    try:
        key = JWKRegistry.import_key(json.loads(stripped)) if stripped.startswith("{") else _import_pem(stripped)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise ValueError(f"The public key is neither a JWK nor a PEM public key ({error}).") from error
    if key.key_type == "oct":
        raise ValueError("A symmetric key cannot be an application's public key.")
    return json.dumps(key.as_dict(private=False), sort_keys=True)


class JoseAssertionVerifier:
    def issuer_of(self, assertion: str) -> str:
        try:
            payload = json.loads(jws.extract_compact(assertion.encode()).payload)
        except (JoseError, ValueError, TypeError) as error:
            raise InvalidRequest("The assertion is not a JWT.") from error
        issuer = payload.get("iss") if isinstance(payload, dict) else None
        if not isinstance(issuer, str) or not issuer:
            raise InvalidGrant("The assertion has no 'iss' claim (the application's client id).")
        return issuer

    def verify(
        self, assertion: str, *, public_key: str, issuer: str, audiences: tuple[str, ...], now: datetime
    ) -> VerifiedAssertion:
        stamp = int(now.timestamp())
        try:
            key = JWKRegistry.import_key(json.loads(public_key))
            token = jwt.decode(assertion, key, algorithms=list(ASSERTION_ALGORITHMS))
        except (JoseError, ValueError, TypeError) as error:
            raise InvalidGrant("The assertion's signature does not verify with the application's key.") from error
        claims = token.claims
        try:
            jwt.JWTClaimsRegistry(
                now=stamp,
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": issuer},
                aud={"essential": True, "values": list(audiences)},
                sub={"essential": True},
                exp={"essential": True},
                jti={"essential": True},
            ).validate(claims)
        except JoseError as error:
            raise InvalidGrant(f"The assertion is refused: {error.description or error.error}.") from error
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        if expires_at - now > MAX_ASSERTION_LIFETIME:
            raise InvalidGrant("The assertion lives too long: its 'exp' may be at most an hour ahead.")
        subject, jwt_id = claims["sub"], claims["jti"]
        if not isinstance(subject, str) or not isinstance(jwt_id, str) or not jwt_id or len(jwt_id) > 200:
            raise InvalidGrant("The assertion's 'sub' and 'jti' must be strings.")
        return VerifiedAssertion(subject=subject, jwt_id=jwt_id, expires_at=expires_at)
