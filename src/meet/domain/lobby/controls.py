"""The host's controls of the door beyond one decision: deny everyone waiting, speak to those waiting."""

from __future__ import annotations

from dataclasses import dataclass

from meet.domain.lobby.errors import LobbyEntryNotFound
from meet.domain.lobby.model import LobbyMessage
from meet.domain.lobby.ports import LobbyStore
from meet.domain.lobby.use_cases import LobbyPolicy
from meet.domain.rooms.lookup import RoomLocator
from meet.domain.rooms.model import RoomRef
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import InvalidInput, RateLimited
from meet.domain.shared.text import clean_display_name, is_canonical_uuid
from meet.domain.users.model import Viewer


@dataclass(frozen=True, slots=True)
class DenyEveryoneRequest:
    viewer: Viewer
    room: RoomRef
    reason: str | None = None  # shown to each person denied


class DenyEveryone:
    """Deny everyone waiting in one step, each as a single denial would (barred, counted towards a block);
    answer how many."""

    def __init__(self, locator: RoomLocator, store: LobbyStore, clock: Clock, policy: LobbyPolicy) -> None:
        self._locator = locator
        self._store = store
        self._clock = clock
        self._policy = policy

    async def execute(self, request: DenyEveryoneRequest) -> int:
        room = (await self._locator.administered(request.viewer, request.room)).room
        return await self._store.deny_all(
            room.sfu_room_name,
            decided_by=request.viewer.sub or "",
            now=self._clock.now(),
            timeouts=self._policy.timeouts,
            reason=clean_display_name(request.reason),
        )


@dataclass(frozen=True, slots=True)
class SpeakToWaitingRequest:
    viewer: Viewer
    room: RoomRef
    text: str
    participant_id: str | None = None  # one person waiting; None: everyone waiting


class SpeakToWaiting:
    """An admin's short message to everyone waiting (or to one of them): cleaned like a display name,
    delivered on their streams at once and on their next poll, a few a minute per room."""

    def __init__(self, locator: RoomLocator, store: LobbyStore, clock: Clock, policy: LobbyPolicy) -> None:
        self._locator = locator
        self._store = store
        self._clock = clock
        self._policy = policy

    async def execute(self, request: SpeakToWaitingRequest) -> LobbyMessage:
        room = (await self._locator.administered(request.viewer, request.room)).room
        text = clean_display_name(request.text)
        if text is None:
            raise InvalidInput("The message is empty once control characters and spaces are removed.", field="text")
        if request.participant_id is not None and not is_canonical_uuid(request.participant_id):
            raise LobbyEntryNotFound
        message = LobbyMessage(text, self._clock.now(), request.participant_id, sent_by=request.viewer.sub)
        retry_after = await self._store.message(
            room.sfu_room_name,
            message,
            limit=self._policy.messages_per_minute,
            window_seconds=60,
            timeouts=self._policy.timeouts,
        )
        if retry_after is not None:
            raise RateLimited(retry_after, "Too many messages to those waiting; wait before sending another.")
        return message
