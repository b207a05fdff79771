from __future__ import annotations

import uuid

from meet.domain.shared.errors import AuthenticationRequired
from meet.domain.shared.ports import UnitOfWork
from meet.domain.users.model import User, VerifiedIdentity, Viewer
from meet.domain.users.ports import UserRepository


class SignIn:
    """Create the user on first sign-in, refresh their profile on later ones."""

    def __init__(self, users: UserRepository, uow: UnitOfWork) -> None:
        self._users = users
        self._uow = uow

    async def execute(self, identity: VerifiedIdentity) -> User:
        user = await self._users.get_by_sub(identity.sub)
        if user is None:
            user = User(id=uuid.uuid4(), sub=identity.sub)
            user.refresh_from(identity)
            user = await self._users.add(user)
        elif user.refresh_from(identity):
            user = await self._users.update(user)
        await self._uow.commit()
        return user


class GetCurrentUser:
    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def execute(self, viewer: Viewer) -> User:
        if viewer.user_id is None:
            raise AuthenticationRequired
        user = await self._users.get(viewer.user_id)
        if user is None:
            # The session outlived the account.
            raise AuthenticationRequired
        return user
