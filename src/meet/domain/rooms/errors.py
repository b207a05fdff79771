from __future__ import annotations

from meet.domain.shared.errors import Conflict, NotFound, PermissionDenied


class RoomNotFound(NotFound):
    default_message = "No room matches this id or slug."
    code = "room_not_found"


class RoomSlugTaken(Conflict):
    default_message = "A room with this slug already exists."
    code = "room_slug_taken"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, field="slug")


class AccessNotFound(NotFound):
    default_message = "No such access in this room."
    code = "access_not_found"


class AccessAlreadyExists(Conflict):
    default_message = "This user already has a role in this room."
    code = "access_exists"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, field="user")


class LastOwnerProtected(Conflict):
    default_message = "The last owner of a room can be neither removed nor demoted."
    code = "last_owner"


class NotRoomAdmin(PermissionDenied):
    default_message = "Only the room's owners and administrators may do this."
    code = "not_room_admin"


class OwnerOnly(PermissionDenied):
    default_message = "Only an owner of the room may do this."
    code = "owner_only"


class RoleChangeRefused(PermissionDenied):
    default_message = "This role change is not allowed."
    code = "role_change_refused"


class UnknownUser(NotFound):
    default_message = "No user matches; they must have signed in once."
    code = "unknown_user"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, field="user")
