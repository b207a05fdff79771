from __future__ import annotations

import pytest

from meet.domain.conference.model import display_name
from meet.domain.shared.text import clean_display_name


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("Alice", "Alice"),
        ("  Zoë   👋 ", "Zoë 👋"),
        ("Eve\u202egnp.exe", "Evegnp.exe"),  # right-to-left override
        ("\u2066Mallory\u2069", "Mallory"),  # isolates
        ("a\u200fb\u200ec\u061cd", "abcd"),  # implicit marks
        ("Bob\x00\x07\x1b[31m", "Bob[31m"),  # NUL, bell, escape
        ("two\nlines\tand\r\ntabs", "two lines and tabs"),
        ("\u202e\x00 \n", None),
        ("", None),
        (None, None),
    ],
)
def test_display_names_lose_control_and_bidirectional_characters(given: str | None, shown: str | None) -> None:
    assert clean_display_name(given) == shown


def test_a_name_of_only_hidden_characters_falls_back() -> None:
    assert display_name("\u202e\u2066", "Alice Liddell") == "Alice Liddell"
    assert display_name("\x00", "\u202e") == "Anonymous"
