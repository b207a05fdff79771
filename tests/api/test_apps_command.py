"""``meet apps``, run as an operator runs it: the installed command on a real database."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import create_engine, text

from tests.support.served import MEET, clean_env


def meet(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(MEET_DATA_DIR=str(cwd))
    return subprocess.run(
        [MEET, "apps", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=90, check=False
    )


def fields(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {line.partition(": ")[0]: line.partition(": ")[2] for line in result.stdout.splitlines()}


@pytest.mark.timeout(600)  # nine runs of the command, each starting a process
def test_an_operator_registers_lists_shows_rotates_disables_and_removes_an_application(tmp_path: Path) -> None:
    added = meet(tmp_path, "add", "Calendar", "--scopes", "rooms:create,rooms:list", "--domains", "Example.org")
    assert added.returncode == 0, added.stderr
    client_id, secret = fields(added)["client_id"], fields(added)["client_secret"]
    assert len(secret) >= 40
    # Only a password hash is stored, never the secret itself.
    database = create_engine(f"sqlite:///{tmp_path / 'meet.sqlite3'}")
    with database.connect() as connection:
        (stored,) = connection.execute(text("SELECT secret_hash FROM meet_application")).one()
    assert stored.startswith("scrypt$")
    assert secret not in stored

    listed = meet(tmp_path, "list")
    assert client_id in listed.stdout
    assert "enabled" in listed.stdout
    shown = fields(meet(tmp_path, "show", client_id))
    assert shown["scopes"] == "rooms:create rooms:list"
    assert shown["domains"] == "example.org"
    assert shown["credential"] == "client secret"
    assert secret not in str(shown)

    rotated = meet(tmp_path, "rotate", client_id)
    assert rotated.returncode == 0
    assert fields(rotated)["client_secret"] != secret
    with database.connect() as connection:
        (after,) = connection.execute(text("SELECT secret_hash FROM meet_application")).one()
    assert after != stored

    assert meet(tmp_path, "disable", client_id).returncode == 0
    assert fields(meet(tmp_path, "show", client_id))["status"] == "disabled"
    assert meet(tmp_path, "remove", client_id).returncode == 0
    missing = meet(tmp_path, "show", client_id)
    assert missing.returncode == 1
    assert "No application has this client id" in missing.stderr
    database.dispose()


def test_an_application_with_a_public_key_gets_no_secret(tmp_path: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "key.pem").write_bytes(pem)
    added = meet(tmp_path, "add", "LMS", "--scopes", "rooms:list", "--domains", "school.example", "--public-key",
                 str(tmp_path / "key.pem"))  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "client_secret" not in added.stdout
    shown = fields(meet(tmp_path, "show", fields(added)["client_id"]))
    assert shown["credential"] == "public key (JWT bearer grant)"
    database = create_engine(f"sqlite:///{tmp_path / 'meet.sqlite3'}")
    with database.connect() as connection:
        (stored,) = connection.execute(text("SELECT public_key FROM meet_application")).one()
    assert json.loads(stored)["kty"] == "EC"
    assert "d" not in json.loads(stored)
    database.dispose()


def test_bad_input_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    unknown = meet(tmp_path, "add", "X", "--scopes", "rooms:create,rooms:everything", "--domains", "example.org")
    assert unknown.returncode == 2
    assert "rooms:everything" in unknown.stderr
    nobody = meet(tmp_path, "add", "X", "--scopes", "rooms:create")
    assert nobody.returncode == 2
    assert "email domains" in nobody.stderr
    (tmp_path / "bad.pem").write_text("not a key")
    bad_key = meet(tmp_path, "add", "X", "--scopes", "rooms:list", "--domains", "example.org", "--public-key",
                   str(tmp_path / "bad.pem"))  # fmt: skip
    assert bad_key.returncode == 2
    assert "public key" in bad_key.stderr
