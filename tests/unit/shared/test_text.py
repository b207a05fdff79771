import random
import subprocess
import sys

import pytest

from meet.domain.shared.text import color_for, is_uuid, slugify


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Réunion", "reunion"),
        ("Réunion d'équipe", "reunion-d-equipe"),
        ("  Weekly   Sync!! ", "weekly-sync"),
        ("Ça va? Ünïcödé", "ca-va-unicode"),
        ("日本", ""),
    ],
)
def test_slugify_folds_accents_and_punctuation(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_is_uuid_recognises_only_uuids() -> None:
    assert is_uuid("123e4567-e89b-12d3-a456-426614174000")
    assert is_uuid("123e4567e89b12d3a456426614174000")
    assert not is_uuid("reunion")


def test_color_is_a_valid_hsl_within_the_documented_ranges() -> None:
    for identity in ("alice", "bob", "7d2ed85e-cb60-4bda-8fb2-da148548411f", ""):
        color = color_for(identity)
        hue, saturation, lightness = color.removeprefix("hsl(").removesuffix(")").split(", ")
        assert 0 <= int(hue) <= 360
        assert 50 <= int(saturation.rstrip("%")) <= 75
        assert 25 <= int(lightness.rstrip("%")) <= 60


def test_color_is_identical_in_another_process_with_another_hash_seed() -> None:
    code = "from meet.domain.shared.text import color_for; print(color_for('alice'), color_for('bob'))"
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "12345"}
    ).stdout.strip()
    assert other == f"{color_for('alice')} {color_for('bob')}"


def test_color_leaves_the_global_random_state_alone() -> None:
    random.seed(7)
    expected = random.random()
    random.seed(7)
    color_for("alice")
    assert random.random() == expected


def test_different_identities_usually_get_different_colors() -> None:
    colors = {color_for(f"user-{n}") for n in range(50)}
    assert len(colors) > 40
