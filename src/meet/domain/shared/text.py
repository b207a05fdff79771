"""Slugs and colors: pure functions every process must compute identically."""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
import uuid

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(value: str) -> str:
    """Lower-case ASCII words joined by hyphens: ``"Réunion d'équipe"`` -> ``"reunion-d-equipe"``."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return _NON_SLUG.sub("-", ascii_text.lower()).strip("-")


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def color_for(identity: str) -> str:
    """A stable HSL color for an identity, the same on every process and machine.

    A private RNG seeded from the identity's SHA-1 keeps the global ``random`` untouched
    and the result independent of hash randomization.
    """
    digest = hashlib.sha1(identity.encode("utf-8"), usedforsecurity=False).digest()
    seed = int.from_bytes(digest[-2:], "big")
    rng = random.Random(seed)  # noqa: S311 - a color, not a secret
    hue = rng.randint(0, 360)
    saturation = rng.randint(50, 75)
    lightness = rng.randint(25, 60)
    return f"hsl({hue}, {saturation}%, {lightness}%)"


def is_canonical_uuid(value: str) -> bool:
    """A UUID in its one canonical spelling (lower-case, hyphenated): what the server itself issues."""
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False
