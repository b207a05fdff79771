"""A process answers knocks from its copy of the room, and a change of the room still applies to the very
next knock: the store's step checks the copy's stamp, which every change renews."""

from __future__ import annotations

import pytest

from meet.domain.lobby.model import LobbyStatus
from meet.domain.lobby.use_cases import EntryView, RequestEntry, RequestEntryRequest
from meet.domain.rooms.errors import RoomNotFound
from meet.domain.rooms.model import AccessLevel, Role, Room, RoomConfiguration, RoomRef
from meet.domain.rooms.use_cases import DeleteRoom, DeleteRoomRequest, UpdateRoom, UpdateRoomRequest
from meet.domain.shared.clock import SystemClock
from meet.domain.users.model import Viewer
from tests.doubles.null import IgnoreRoomChanges, NothingElseInRooms
from tests.unit.lobby.conftest import Lobby
from tests.unit.lobby.test_lobby_use_cases import claims_of

ANONYMOUS = Viewer.anonymous()


async def knock(process: RequestEntry, room: str, name: str = "Zoe") -> EntryView:
    return await process.execute(
        RequestEntryRequest(ANONYMOUS, RoomRef(room), username=name, client_address="10.0.0.1")
    )


async def board(lobby: Lobby) -> tuple[Viewer, Room]:
    owner = await lobby.world.user("owner")
    return owner, await lobby.world.room("Board", owner=Role.OWNER)


def publishes(view: EntryView) -> bool:
    video = claims_of(view).video
    assert video is not None
    return bool(video.can_publish)


def update(lobby: Lobby) -> UpdateRoom:
    return UpdateRoom(lobby.world.locator(), lobby.world.uow, lobby.world.stamps, IgnoreRoomChanges(), SystemClock())


async def test_a_room_made_restricted_keeps_the_next_newcomer_waiting_on_a_process_holding_a_copy(
    lobby: Lobby,
) -> None:
    owner, room = await board(lobby)
    this_process = lobby.request_entry()
    assert (await knock(this_process, str(room.id))).status is LobbyStatus.ACCEPTED  # public: straight in

    await update(lobby).execute(UpdateRoomRequest(owner, RoomRef(str(room.id)), access_level=AccessLevel.RESTRICTED))
    after = await knock(this_process, str(room.id), "Max")
    assert (after.status, after.connection) == (LobbyStatus.WAITING, None)


async def test_the_next_token_carries_the_rooms_new_grants(lobby: Lobby) -> None:
    owner, room = await board(lobby)
    this_process = lobby.request_entry()
    assert publishes(await knock(this_process, str(room.id)))
    listen_only = RoomConfiguration(can_publish_sources=())
    await update(lobby).execute(UpdateRoomRequest(owner, RoomRef(str(room.id)), configuration=listen_only))
    assert not publishes(await knock(this_process, str(room.id), "Max"))


async def test_a_renamed_room_is_not_reached_by_its_old_name_and_a_deleted_one_not_at_all(lobby: Lobby) -> None:
    owner, room = await board(lobby)
    this_process = lobby.request_entry()
    assert (await knock(this_process, "board")).room == str(room.id)
    await update(lobby).execute(UpdateRoomRequest(owner, RoomRef(str(room.id)), name="Council"))
    assert (await knock(this_process, "board")).room == "board"  # a temporary room of that name now
    assert (await knock(this_process, "council")).room == str(room.id)

    delete = DeleteRoom(lobby.world.locator(), lobby.world.uow, lobby.world.stamps, NothingElseInRooms(), SystemClock())
    await delete.execute(DeleteRoomRequest(owner, RoomRef(str(room.id))))
    with pytest.raises(RoomNotFound):
        await knock(this_process, str(room.id))
