from __future__ import annotations

import uuid

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, get

from meet.domain.users.model import User, Viewer
from meet.domain.users.use_cases import GetCurrentUser
from meet.entrypoints.http.bearer import ANY_TOKEN, needs


class UserOut(msgspec.Struct):
    id: uuid.UUID
    sub: str
    email: str | None
    full_name: str | None
    short_name: str | None
    language: str | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            sub=user.sub,
            email=user.email,
            full_name=user.full_name,
            short_name=user.short_name,
            language=user.language,
        )


class UserController(Controller):
    path = "/users"
    tags = ["users"]

    @get("/me", summary="The signed-in user (401 when anonymous)", **needs(ANY_TOKEN))
    async def me(self, viewer: FromDishka[Viewer], current_user: FromDishka[GetCurrentUser]) -> UserOut:
        return UserOut.of(await current_user.execute(viewer))
