"""How lobby entries and events look in Redis: entries as JSON in the room's hash, events as JSON on its
channel (encoded by the Lua prelude's ``emit``, decoded here, once)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

import msgspec

from meet.domain.lobby.model import LobbyEntry, LobbyEvent, LobbyEventType, LobbyMessage, LobbyStatus

logger = logging.getLogger("meet.redis.events")


class EntryWire(msgspec.Struct, frozen=True):
    """An entry as stored in ``meet:lobby:{room}:entries`` and carried by events."""

    participant_id: str
    username: str
    color: str
    status: str
    requested_at: str
    decided_at: str | None = None
    decided_by: str | None = None
    position: int | None = 0
    reason: str | None = None
    address: str | None = None

    @classmethod
    def of(cls, entry: LobbyEntry) -> EntryWire:
        return cls(
            participant_id=entry.participant_id,
            username=entry.username,
            color=entry.color,
            status=entry.status.value,
            requested_at=entry.requested_at.isoformat(),
            decided_at=entry.decided_at.isoformat() if entry.decided_at else None,
            decided_by=entry.decided_by,
            position=entry.position,
            reason=entry.reason,
            address=entry.address,
        )

    def entry(self) -> LobbyEntry:
        return LobbyEntry(
            participant_id=self.participant_id,
            username=self.username,
            color=self.color,
            status=LobbyStatus(self.status),
            requested_at=datetime.fromisoformat(self.requested_at),
            decided_at=datetime.fromisoformat(self.decided_at) if self.decided_at else None,
            decided_by=self.decided_by or None,
            position=self.position or 0,
            reason=self.reason,
            address=self.address,
        )


class MessageWire(msgspec.Struct, frozen=True):
    """A message to those waiting, as ``message.lua`` keeps and publishes it."""

    text: str
    sent_at: str

    def message(self, participant_id: str | None) -> LobbyMessage:
        return LobbyMessage(self.text, datetime.fromisoformat(self.sent_at), participant_id)


class EventWire(msgspec.Struct, frozen=True):
    """An event as ``emit`` publishes it: one participant's (``participant_id``, ``entry`` for a knock or
    a decision), the whole lobby's (``cleared``), a batch of decisions (``entries``: admit-all's, deny-all's),
    or a message to those waiting (``message``: to one of them with ``participant_id``, else to all)."""

    type: str
    participant_id: str | None = None
    entry: EntryWire | None = None
    entries: list[EntryWire] | None = None
    message: MessageWire | None = None


_entry_decoder = msgspec.json.Decoder(EntryWire)
_message_decoder = msgspec.json.Decoder(MessageWire)
_event_decoder = msgspec.json.Decoder(EventWire)


def encode_entry(entry: LobbyEntry) -> str:
    return msgspec.json.encode(EntryWire.of(entry)).decode()


def decode_entry(raw: bytes | str) -> LobbyEntry:
    return _entry_decoder.decode(raw).entry()


# RESYNC is local to a process: no store publishes it.
_PUBLISHED = {kind.value: kind for kind in LobbyEventType if kind is not LobbyEventType.RESYNC}


def decode_latest_message(found: list[bytes | None] | None, participant_id: str) -> LobbyMessage | None:
    """The latest of the messages a script read for a participant (``{to everyone, to them}``)."""
    latest: LobbyMessage | None = None
    for raw, to in zip(found or (), (None, participant_id), strict=False):
        if raw:
            message = _message_decoder.decode(raw).message(to)
            if latest is None or message.sent_at >= latest.sent_at:
                latest = message
    return latest


def _message_event(wire: EventWire) -> LobbyEvent:
    if wire.message is None:
        raise KeyError("message")
    return LobbyEvent(LobbyEventType.MESSAGE, wire.participant_id, message=wire.message.message(wire.participant_id))


def _event(event_type: LobbyEventType, participant_id: str | None, entry: EntryWire | None) -> LobbyEvent:
    """Raises ``KeyError`` for an event the stores never publish: one that would reach every stream of the
    room (a participant's event without its participant) must not come from a stray message."""
    if not event_type.whole_lobby and participant_id is None:
        raise KeyError("participant_id")
    if event_type.carries_entry and entry is None:
        raise KeyError("entry")
    return LobbyEvent(type=event_type, participant_id=participant_id, entry=entry.entry() if entry else None)


def parse_events(payload: bytes | str) -> Iterator[LobbyEvent]:
    """The events of one message: one event, or a batch; a malformed message is logged and skipped."""
    try:
        wire = _event_decoder.decode(payload)
        event_type = _PUBLISHED[wire.type]
        if event_type is LobbyEventType.MESSAGE:
            yield _message_event(wire)
        elif wire.entries is not None:
            for entry in wire.entries:
                yield _event(event_type, entry.participant_id, entry)
        else:
            yield _event(event_type, wire.participant_id, wire.entry)
    except (ValueError, KeyError):
        logger.warning("ignoring a malformed lobby event")
