"""Whether LiveKit's server API answers and accepts our key pair."""

from __future__ import annotations

from livekit.api import ListRoomsRequest

from meet.adapters.livekit.client import LiveKitClientFactory


class LiveKitHealth:
    name = "livekit"

    def __init__(self, clients: LiveKitClientFactory) -> None:
        self._clients = clients

    async def ping(self) -> None:
        # Listing rooms needs a valid signature with our key pair, and changes nothing.
        async with self._clients.guard("ListRooms"):
            await self._clients.api().room.list_rooms(ListRoomsRequest())
