"""Endpoint secrets sealed with AES-256-GCM under a key from the settings, never stored in the database.

Signing needs the secret itself (HMAC is symmetric), so it cannot be hashed like a password; sealing it
under a key that lives only in the processes' settings means a copy of the database alone (a dump, a
backup, a read-only injection) does not let anyone sign as meet.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
CONTEXT = b"meet webhook endpoint secrets"


class AesGcmSecretBox:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def from_passphrase(cls, passphrase: str) -> AesGcmSecretBox:
        """A 256-bit key derived (HKDF-SHA256) from a configured secret of any length."""
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=CONTEXT).derive(passphrase.encode())
        return cls(key)

    def seal(self, secret: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), CONTEXT)
        return f"{VERSION}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str) -> str:
        version, _, data = sealed.partition(":")
        if version != VERSION:
            raise ValueError("not a sealed secret")
        raw = base64.b64decode(data)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], CONTEXT).decode()
        except InvalidTag as error:
            raise ValueError("sealed under another key") from error
