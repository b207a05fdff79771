"""Janus's HMAC-signed tokens, and the per-participant tokens meet builds from them.

Janus checks ``<expiry>,<realm>,<descriptor>[,...]:<base64(HMAC-SHA1(token_auth_secret, data))>``: the
core (realm ``janus``) wants the plugin's package among the descriptors, a VideoRoom room created with
``signed_tokens`` wants, in ``join``, a token of realm ``janus.plugin.videoroom`` with ``room=<id>``.
Extra descriptors are signed but ignored by Janus, so meet puts the participant's identity, room and
grants into the core token; Janus checks the signature and expiry, meet reads the rest back (from the
handle's ``opaque_id`` in events, or from the bearer token on its own API).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from meet.domain.conference.errors import InvalidParticipantToken
from meet.domain.conference.model import ConnectionConfig, Participant, ParticipantGrants
from meet.domain.moderation.ports import ParticipantCredentials
from meet.domain.rooms.model import TrackSource

CORE_REALM = "janus"
VIDEOROOM = "janus.plugin.videoroom"
_FORBIDDEN = frozenset(",:")
_CLAIMED = frozenset({"meet.room", "meet.id", "meet.name", "meet.pub", "meet.admin", "meet.attr"})


@dataclass(frozen=True, slots=True)
class JanusClaims:
    """What a core token meet signed says about its holder."""

    room: str
    identity: str
    name: str
    publish_sources: tuple[TrackSource, ...]
    room_admin: bool
    attributes: dict[str, str]
    expires_at: int


def _encode(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode("utf-8")).rstrip(b"=").decode("ascii")


def _decode(value: str) -> str:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8")


def check_room_name(room: str) -> str:
    """A Janus string room id must survive the ``room=<id>`` descriptor: no comma, no colon."""
    if not room or _FORBIDDEN & set(room):
        raise ValueError(f"{room!r} cannot be a Janus room id (empty, or a comma or colon in it)")
    return room


class JanusTokenSigner:
    """Signs and checks tokens with the core's ``token_auth_secret`` (constant-time comparison)."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the Janus token secret is empty")
        self._key = secret.encode("utf-8")

    def _signature(self, data: str) -> str:
        return base64.b64encode(hmac.new(self._key, data.encode("utf-8"), hashlib.sha1).digest()).decode("ascii")

    def sign(self, realm: str, descriptors: list[str], *, expires_at: int) -> str:
        data = ",".join([str(expires_at), realm, *descriptors])
        return f"{data}:{self._signature(data)}"

    def descriptors(self, token: str, realm: str, *, now: float | None = None) -> list[str]:
        """The descriptors of a token this secret signed for ``realm``; ``ValueError`` for anything else.

        ``now=None`` checks the expiry against the clock; pass ``now=0`` to accept an expired token
        (an event about a join that Janus already accepted may arrive after the token expired).
        """
        data, separator, signature = token.partition(":")
        if not separator or not hmac.compare_digest(signature.encode(), self._signature(data).encode()):
            raise ValueError("bad signature")
        expiry, _, rest = data.partition(",")
        token_realm, _, descriptors = rest.partition(",")
        if token_realm != realm or not expiry.isdigit():
            raise ValueError("wrong realm or expiry")
        if int(expiry) < (time.time() if now is None else now):
            raise ValueError("expired")
        return [expiry, *descriptors.split(",")] if descriptors else [expiry]


def _claims(fields: list[str]) -> JanusClaims:
    expiry, *descriptors = fields
    values = dict(d.split("=", 1) for d in descriptors if d.startswith("meet.") and "=" in d)
    if VIDEOROOM not in descriptors or not values.keys() >= _CLAIMED:
        raise ValueError("not a meet participant token")
    sources = tuple(TrackSource(s) for s in values["meet.pub"].split("+") if s)
    return JanusClaims(
        room=_decode(values["meet.room"]),
        identity=_decode(values["meet.id"]),
        name=_decode(values["meet.name"]),
        publish_sources=sources,
        room_admin=values["meet.admin"] == "1",
        attributes=json.loads(_decode(values["meet.attr"])),
        expires_at=int(expiry),
    )


class JanusTokens:
    """The two tokens of one participant, and reading a participant token back."""

    def __init__(self, signer: JanusTokenSigner, ttl: timedelta) -> None:
        self._signer = signer
        self._ttl = int(ttl.total_seconds())

    def participant_token(self, participant: Participant, grants: ParticipantGrants, *, expires_at: int) -> str:
        """Core token: the VideoRoom plugin only, naming the room, identity and grants it was issued for."""
        return self._signer.sign(
            CORE_REALM,
            [
                VIDEOROOM,
                f"meet.room={_encode(grants.room)}",
                f"meet.id={_encode(participant.identity)}",
                f"meet.name={_encode(participant.name)}",
                "meet.pub=" + "+".join(source.value for source in grants.publish_sources),
                f"meet.admin={int(grants.room_admin)}",
                "meet.attr=" + _encode(json.dumps(participant.attributes, separators=(",", ":"), sort_keys=True)),
            ],
            expires_at=expires_at,
        )

    def join_token(self, room: str, *, expires_at: int) -> str:
        """What a ``signed_tokens`` room demands in ``join``: the plugin's realm, naming that room only."""
        return self._signer.sign(VIDEOROOM, [f"room={check_room_name(room)}"], expires_at=expires_at)

    def claims(self, token: str, *, check_expiry: bool = True) -> JanusClaims:
        """The claims of a participant token meet signed; ``ValueError`` for any other string."""
        try:
            fields = self._signer.descriptors(token, CORE_REALM, now=None if check_expiry else 0)
            return _claims(fields)
        except (ValueError, UnicodeDecodeError, binascii.Error) as error:
            raise ValueError("not a valid meet participant token") from error

    def expiry(self) -> int:
        return int(time.time()) + self._ttl


class JanusTokenIssuer:
    """``TokenIssuer`` for Janus: a core token bound to the participant, and the room's join token."""

    provider = "janus"

    def __init__(self, *, url: str, tokens: JanusTokens) -> None:
        self._url = url
        self._tokens = tokens

    def connection_for(self, participant: Participant, grants: ParticipantGrants) -> ConnectionConfig:
        expires_at = self._tokens.expiry()
        return ConnectionConfig(
            url=self._url,
            room=grants.room,
            token=self._tokens.participant_token(participant, grants, expires_at=expires_at),
            identity=participant.identity,
            provider=self.provider,
            join_token=self._tokens.join_token(grants.room, expires_at=expires_at),
        )


class JanusParticipantTokenVerifier:
    """A participant's own Janus core token, presented as a Bearer token to meet's API."""

    def __init__(self, tokens: JanusTokens) -> None:
        self._tokens = tokens

    def verify(self, token: str) -> ParticipantCredentials:
        try:
            claims = self._tokens.claims(token)
        except ValueError as error:
            raise InvalidParticipantToken from error
        return ParticipantCredentials(
            identity=claims.identity,
            room=claims.room,
            expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
        )
