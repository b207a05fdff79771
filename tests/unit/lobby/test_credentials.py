from __future__ import annotations

import uuid

from meet.domain.lobby.credentials import LobbyCredentials

credentials = LobbyCredentials("a-secret-of-at-least-thirty-two-chars!!")


def test_a_credential_proves_its_participant_in_its_room() -> None:
    participant = str(uuid.uuid4())
    assert credentials.verify("room-a", credentials.issue("room-a", participant)) == participant


def test_a_credential_proves_nothing_in_another_room() -> None:
    assert credentials.verify("room-b", credentials.issue("room-a", str(uuid.uuid4()))) is None


def test_knowing_a_participant_id_is_not_enough_to_forge_its_credential() -> None:
    victim = str(uuid.uuid4())
    mine = credentials.issue("room-a", str(uuid.uuid4()))
    forged = f"{victim}.{mine.partition('.')[2]}"
    assert credentials.verify("room-a", forged) is None
    assert credentials.verify("room-a", victim) is None
    assert credentials.verify("room-a", f"{victim}.") is None


def test_another_secret_does_not_verify() -> None:
    other = LobbyCredentials("another-secret-of-at-least-thirty-two")
    participant = str(uuid.uuid4())
    assert credentials.verify("room-a", other.issue("room-a", participant)) is None


def test_garbage_is_refused_without_error() -> None:
    for value in ["", "x", "not-a-uuid.sig", "." * 300, f"{str(uuid.uuid4()).upper()}.abc", "é.é", None]:
        assert credentials.verify("room-a", value) is None
