"""Slugs and colors: pure functions every process must compute identically."""

from __future__ import annotations

import functools
import hashlib
import random
import re
import unicodedata
import uuid

_NON_SLUG = re.compile(r"[^a-z0-9]+")
# A slug is at most as long as the room name it comes from may be (the column's size).
MAX_SLUG_LENGTH = 500
# Bidirectional embeddings, overrides and isolates, and the implicit marks: they let a name display
# as something else ("evil\u202eexe.txt"), so display names never carry them.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SPACES = re.compile(r"\s+")
_PLAIN_NAME = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")


def slugify(value: str) -> str:
    """Lower-case ASCII words joined by hyphens: ``"Réunion d'équipe"`` -> ``"reunion-d-equipe"``."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return _NON_SLUG.sub("-", ascii_text.lower()).strip("-")


def clean_display_name(value: str | None) -> str | None:
    """A display name as others will see it: control characters (NUL, newlines...) and bidirectional
    controls removed, runs of white space made one space, trimmed; ``None`` when nothing is left."""
    if value is None:
        return None
    if _PLAIN_NAME.fullmatch(value):
        return value  # printable ASCII words, one space apart: already clean (most names, and every stored one)
    kept = "".join(
        " " if char.isspace() else char
        for char in value
        if char.isspace() or (unicodedata.category(char) != "Cc" and char not in _BIDI_CONTROLS)
    )
    return _SPACES.sub(" ", kept).strip() or None


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
    return _color_of_seed(int.from_bytes(digest[-2:], "big"))


@functools.lru_cache(maxsize=4096)
def _color_of_seed(seed: int) -> str:
    """Seeding an RNG costs more than the rest of a lobby decision's view: of the 65,536 seeds, the recent are kept."""
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
