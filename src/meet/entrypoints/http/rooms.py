from __future__ import annotations

from typing import Annotated

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, Parameter

from meet.domain.conference.use_cases import OpenRoom, OpenRoomRequest
from meet.domain.rooms.model import AccessLevel, RoomRef
from meet.domain.rooms.use_cases import (
    CreateRoom,
    CreateRoomRequest,
    DeleteRoom,
    DeleteRoomRequest,
    ListMyRooms,
    ListMyRoomsRequest,
    UpdateRoom,
    UpdateRoomRequest,
)
from meet.domain.users.model import Viewer
from meet.domain.users.scopes import ApiScope
from meet.entrypoints.http.bearer import needs
from meet.entrypoints.http.schemas import (
    MAX_OFFSET,
    AccessLevelName,
    ConfigurationBody,
    DisplayName,
    RoomName,
    RoomOut,
)


class RoomCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Left out, ``access_level`` and ``configuration`` are the creator's room defaults (else public)."""

    name: RoomName
    access_level: AccessLevelName | None = None
    configuration: ConfigurationBody | None = None


class RoomUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: RoomName | None = None
    access_level: AccessLevelName | None = None
    configuration: ConfigurationBody | None = None


class RoomPageOut(msgspec.Struct):
    count: int
    limit: int
    offset: int
    results: list[RoomOut]


class RoomController(Controller):
    path = "/rooms"
    tags = ["rooms"]

    @post("/", summary="Create a room; the caller becomes its owner", **needs(ApiScope.ROOMS_CREATE))
    async def create_room(
        self, data: JSONBody[RoomCreate], viewer: FromDishka[Viewer], create: FromDishka[CreateRoom]
    ) -> RoomOut:
        view = await create.execute(
            CreateRoomRequest(
                viewer,
                data.name,
                AccessLevel(data.access_level) if data.access_level else None,
                data.configuration.to_domain() if data.configuration else None,
            )
        )
        return RoomOut.of(view)

    @get("/", summary="The rooms the caller holds a role in", **needs(ApiScope.ROOMS_LIST))
    async def list_rooms(
        self,
        viewer: FromDishka[Viewer],
        list_mine: FromDishka[ListMyRooms],
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
        offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET)] = 0,
    ) -> RoomPageOut:
        page = await list_mine.execute(ListMyRoomsRequest(viewer, limit=limit, offset=offset))
        return RoomPageOut(count=page.total, limit=limit, offset=offset, results=[RoomOut.of(v) for v in page.items])

    @get(
        "/{id_or_slug:str}",
        summary="Open a room: with a LiveKit connection when the caller may enter (never with a bearer token)",
        **needs(ApiScope.ROOMS_RETRIEVE),
    )
    async def open_room(
        self,
        id_or_slug: str,
        viewer: FromDishka[Viewer],
        open_room: FromDishka[OpenRoom],
        username: Annotated[DisplayName | None, Parameter(max_length=255)] = None,
    ) -> RoomOut:
        opened = await open_room.execute(OpenRoomRequest(viewer, RoomRef(id_or_slug), username=username))
        held = opened.held.value if opened.held else None
        return RoomOut.of(opened.visit, opened.connection, locked=opened.locked, held=held)

    @patch("/{id_or_slug:str}", summary="Change a room (owners and administrators)", **needs(ApiScope.ROOMS_UPDATE))
    async def update_room(
        self, id_or_slug: str, data: JSONBody[RoomUpdate], viewer: FromDishka[Viewer], update: FromDishka[UpdateRoom]
    ) -> RoomOut:
        changes = UpdateRoomRequest(
            viewer,
            RoomRef(id_or_slug),
            name=data.name,
            access_level=AccessLevel(data.access_level) if data.access_level else None,
            configuration=data.configuration.to_domain() if data.configuration else None,
        )
        return RoomOut.of(await update.execute(changes))

    @delete("/{id_or_slug:str}", summary="Delete a room (owners)", **needs(ApiScope.ROOMS_DELETE))
    async def delete_room(self, id_or_slug: str, viewer: FromDishka[Viewer], remove: FromDishka[DeleteRoom]) -> None:
        await remove.execute(DeleteRoomRequest(viewer, RoomRef(id_or_slug)))
