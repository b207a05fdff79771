"""LiveKit runs its rooms' lifecycle itself."""

from __future__ import annotations

from meet.domain.conference.events import SfuEvent


class LiveKitRooms:
    """``LiveRooms`` on LiveKit: nothing to do. LiveKit creates a room when its first participant joins
    (the token names it) and closes it after its empty timeout, reporting ``room_finished``."""

    async def prepare(self, room: str) -> None:  # noqa: ARG002 - the port's signature
        return

    async def handle(self, event: SfuEvent) -> None:  # noqa: ARG002 - the port's signature
        return
