from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from meet.domain.audit.model import GENESIS, AuditCursor, AuditEntry, ChainHead, first_broken_link
from meet.domain.shared.errors import InvalidInput
from meet.domain.shared.events import Action, Actor, RoomEvent, participant

ROOM = uuid.uuid4()
START = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def chain(length: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    previous = GENESIS
    for seq in range(1, length + 1):
        event = RoomEvent(
            ROOM, Action.LOBBY_KNOCKED, START + timedelta(seconds=seq), Actor.system(), participant(f"p{seq}", "P")
        )
        entries.append(AuditEntry.chained(event, seq, previous))
        previous = entries[-1].hash
    return entries


def head_of(entries: list[AuditEntry]) -> ChainHead:
    return ChainHead(last_seq=entries[-1].seq, last_hash=entries[-1].hash)


def test_an_intact_chain_verifies() -> None:
    entries = chain(5)
    assert first_broken_link(ROOM, head_of(entries), entries) is None


def test_a_deleted_middle_entry_is_named() -> None:
    entries = chain(5)
    broken = first_broken_link(ROOM, head_of(entries), entries[:2] + entries[3:])
    assert broken is not None
    assert broken.seq == 3
    assert "missing" in broken.reason


def test_an_edited_entry_is_named_even_with_its_number_kept() -> None:
    entries = chain(5)
    edited_event = dataclasses.replace(entries[2].event, details={"reason": "forged"})
    entries[2] = dataclasses.replace(entries[2], event=edited_event)
    broken = first_broken_link(ROOM, head_of(entries), entries)
    assert broken is not None
    assert broken.seq == 3
    assert "edited" in broken.reason


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link() -> None:
    entries = chain(5)
    edited_event = dataclasses.replace(entries[2].event, actor=Actor.user("mallory"))
    entries[2] = AuditEntry.chained(edited_event, 3, entries[1].hash)
    broken = first_broken_link(ROOM, head_of(chain(5)), entries)
    assert broken is not None
    assert broken.seq == 4


def test_a_deleted_last_entry_is_seen_against_the_head() -> None:
    entries = chain(5)
    broken = first_broken_link(ROOM, head_of(entries), entries[:-1])
    assert broken is not None
    assert broken.seq == 5


def test_a_trimmed_chain_verifies_from_its_anchor() -> None:
    entries = chain(5)
    head = ChainHead(last_seq=5, last_hash=entries[-1].hash, anchor_seq=2, anchor_hash=entries[1].hash)
    assert first_broken_link(ROOM, head, entries[2:]) is None
    assert first_broken_link(ROOM, head, entries[3:]) is not None


def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    cursor = AuditCursor(at=START, seq=7)
    assert AuditCursor.decode(cursor.encode()) == cursor
    for bad in ("nope", "", AuditCursor(at=START, seq=7).encode()[:-3]):
        with pytest.raises(InvalidInput):
            AuditCursor.decode(bad)
