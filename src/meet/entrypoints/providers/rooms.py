from __future__ import annotations

from dishka import Provider, Scope, provide

from meet.domain.rooms.access_use_cases import ChangeAccessRole, GrantAccess, ListAccesses, RevokeAccess
from meet.domain.rooms.lookup import RoomLocator, RoomPolicy
from meet.domain.rooms.use_cases import (
    CreateRoom,
    DeleteRoom,
    ListMyRooms,
    OpenRoom,
    UpdateRoom,
)
from meet.entrypoints.settings import Settings


class RoomsProvider(Provider):
    """Room and access use cases."""

    @provide(scope=Scope.APP)
    def policy(self, settings: Settings) -> RoomPolicy:
        return RoomPolicy(allow_temporary_rooms=settings.allow_temporary_rooms)

    locator = provide(RoomLocator, scope=Scope.REQUEST)
    create = provide(CreateRoom, scope=Scope.REQUEST)
    list_mine = provide(ListMyRooms, scope=Scope.REQUEST)
    update = provide(UpdateRoom, scope=Scope.REQUEST)
    delete = provide(DeleteRoom, scope=Scope.REQUEST)
    open = provide(OpenRoom, scope=Scope.REQUEST)
    list_accesses = provide(ListAccesses, scope=Scope.REQUEST)
    grant_access = provide(GrantAccess, scope=Scope.REQUEST)
    change_access = provide(ChangeAccessRole, scope=Scope.REQUEST)
    revoke_access = provide(RevokeAccess, scope=Scope.REQUEST)
