"""``rooms/``: create (with the creator's connection), open by id, slug or SFU room name, change, delete."""

from __future__ import annotations

from typing import Annotated

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, Parameter

from meet.domain.conference.use_cases import OpenRoom, OpenRoomRequest
from meet.domain.rooms.access_use_cases import ListAccesses, ListAccessesRequest
from meet.domain.rooms.model import AccessLevel, RoomRef
from meet.domain.rooms.use_cases import (
    CreateRoom,
    CreateRoomRequest,
    DeleteRoom,
    DeleteRoomRequest,
    UpdateRoom,
    UpdateRoomRequest,
)
from meet.domain.users.model import Viewer
from meet.entrypoints.http.lasuite.schemas import LaSuiteRoom
from meet.entrypoints.http.schemas import AccessLevelName, DisplayName, LaSuiteConfigurationBody, RoomName

Username = Annotated[DisplayName | None, Parameter(max_length=255)]


class RoomCreate(msgspec.Struct):
    """What the home page sends (``callback_id`` is for the SDK's creation callback, which is off)."""

    name: RoomName
    access_level: AccessLevelName | None = None
    configuration: LaSuiteConfigurationBody | None = None
    callback_id: Annotated[str, msgspec.Meta(max_length=255)] | None = None


class RoomPatch(msgspec.Struct):
    name: RoomName | None = None
    access_level: AccessLevelName | None = None
    configuration: LaSuiteConfigurationBody | None = None


class LaSuiteRoomController(Controller):
    path = "/rooms"
    tags = ["La Suite Meet"]

    @post("/", summary="Create a room; the answer carries the creator's connection")
    async def create_room(
        self,
        data: JSONBody[RoomCreate],
        viewer: FromDishka[Viewer],
        create: FromDishka[CreateRoom],
        open_room: FromDishka[OpenRoom],
        username: Username = None,
    ) -> LaSuiteRoom:
        created = await create.execute(
            CreateRoomRequest(
                viewer,
                data.name,
                AccessLevel(data.access_level) if data.access_level else None,
                data.configuration.to_domain() if data.configuration else None,
            )
        )
        # The creator connects with this answer: the same connection opening the room gives them.
        opened = await open_room.execute(
            OpenRoomRequest(viewer, RoomRef(str(created.room.id)), username=username or None)
        )
        return LaSuiteRoom.of(opened.visit, opened.connection, [])

    @get("/{room_key:str}", summary="Open a room by id, slug or SFU room name")
    async def retrieve_room(
        self,
        room_key: str,
        viewer: FromDishka[Viewer],
        open_room: FromDishka[OpenRoom],
        list_accesses: FromDishka[ListAccesses],
        username: Username = None,
    ) -> LaSuiteRoom:
        opened = await open_room.execute(OpenRoomRequest(viewer, RoomRef(room_key), username=username or None))
        accesses = None
        if opened.visit.is_administrable:
            accesses = list(await list_accesses.execute(ListAccessesRequest(viewer, RoomRef(room_key))))
        return LaSuiteRoom.of(opened.visit, opened.connection, accesses)

    @patch("/{room_key:str}", summary="Change a room's name, access level or configuration (admins)")
    async def update_room(
        self, room_key: str, data: JSONBody[RoomPatch], viewer: FromDishka[Viewer], update: FromDishka[UpdateRoom]
    ) -> LaSuiteRoom:
        changes = UpdateRoomRequest(
            viewer,
            RoomRef(room_key),
            name=data.name,
            access_level=AccessLevel(data.access_level) if data.access_level else None,
            configuration=data.configuration.to_domain() if data.configuration else None,
        )
        return LaSuiteRoom.of(await update.execute(changes), None, [])

    @delete("/{room_key:str}", summary="Delete a room (owners)")
    async def delete_room(self, room_key: str, viewer: FromDishka[Viewer], remove: FromDishka[DeleteRoom]) -> None:
        await remove.execute(DeleteRoomRequest(viewer, RoomRef(room_key)))
