"""Lobby credentials: proof that a client is the participant the server created for it.

A credential is ``<participant_id>.<signature>`` where the signature is an HMAC-SHA256 of
the room and the participant id under a key derived from the service secret. Knowing a
participant's id (it is their public SFU identity) is therefore not enough to take their
place, and a credential for one room is worthless in another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from meet.domain.shared.text import is_canonical_uuid

_PURPOSE = b"meet/lobby-credential/v1"


class LobbyCredentials:
    def __init__(self, secret_key: str) -> None:
        key = hmac.new(secret_key.encode("utf-8"), _PURPOSE, hashlib.sha256).digest()
        # Keyed once: each signature copies it rather than deriving the key's pads again (every poll signs).
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def _signature(self, room: str, participant_id: str) -> str:
        mac = self._mac.copy()
        mac.update(f"{room}\x00{participant_id}".encode())
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")

    def issue(self, room: str, participant_id: str) -> str:
        return f"{participant_id}.{self._signature(room, participant_id)}"

    def verify(self, room: str, credential: str | None) -> str | None:
        """The participant id the credential proves for ``room``, or None when it proves nothing."""
        if not credential or len(credential) > 200:
            return None
        participant_id, _, signature = credential.partition(".")
        if not is_canonical_uuid(participant_id):
            return None
        expected = self._signature(room, participant_id)
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
            return None
        return participant_id

    def proven_participant(self, room: str, candidates: Sequence[str]) -> str | None:
        """The participant id proven by the first credential valid for ``room`` (header, then cookies)."""
        for candidate in candidates:
            participant_id = self.verify(room, candidate)
            if participant_id is not None:
                return participant_id
        return None
