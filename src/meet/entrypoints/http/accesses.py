from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody

from meet.domain.rooms.access_use_cases import (
    ChangeAccessRole,
    ChangeAccessRoleRequest,
    GrantAccess,
    GrantAccessRequest,
    ListAccesses,
    ListAccessesRequest,
    RevokeAccess,
    RevokeAccessRequest,
)
from meet.domain.rooms.model import Role, RoomRef
from meet.domain.users.model import Viewer
from meet.entrypoints.http.schemas import AccessOut, RoleName


class AccessCreate(msgspec.Struct, forbid_unknown_fields=True):
    role: RoleName
    user_id: uuid.UUID | None = None
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)] | None = None


class AccessUpdate(msgspec.Struct, forbid_unknown_fields=True):
    role: RoleName


class AccessController(Controller):
    path = "/rooms/{id_or_slug:str}/accesses"
    tags = ["room accesses"]

    @get("/", summary="Who holds which role in the room (owners and administrators)")
    async def list_accesses(
        self, id_or_slug: str, viewer: FromDishka[Viewer], list_accesses: FromDishka[ListAccesses]
    ) -> list[AccessOut]:
        return [
            AccessOut.of(access)
            for access in await list_accesses.execute(ListAccessesRequest(viewer, RoomRef(id_or_slug)))
        ]

    @post("/", summary="Give a user a role in the room")
    async def grant_access(
        self, id_or_slug: str, data: JSONBody[AccessCreate], viewer: FromDishka[Viewer], grant: FromDishka[GrantAccess]
    ) -> AccessOut:
        access = await grant.execute(
            GrantAccessRequest(
                viewer, RoomRef(id_or_slug), role=Role(data.role), user_id=data.user_id, email=data.email
            )
        )
        return AccessOut.of(access)

    @patch("/{access_id:uuid}", summary="Change a user's role in the room")
    async def change_access(
        self,
        id_or_slug: str,
        access_id: uuid.UUID,
        data: JSONBody[AccessUpdate],
        viewer: FromDishka[Viewer],
        change: FromDishka[ChangeAccessRole],
    ) -> AccessOut:
        return AccessOut.of(
            await change.execute(ChangeAccessRoleRequest(viewer, RoomRef(id_or_slug), access_id, Role(data.role)))
        )

    @delete("/{access_id:uuid}", summary="Take a user's role in the room away")
    async def revoke_access(
        self,
        id_or_slug: str,
        access_id: uuid.UUID,
        viewer: FromDishka[Viewer],
        revoke: FromDishka[RevokeAccess],
    ) -> None:
        await revoke.execute(RevokeAccessRequest(viewer, RoomRef(id_or_slug), access_id))
