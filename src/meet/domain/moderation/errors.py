from __future__ import annotations

from meet.domain.rooms.errors import RoleChangeRefused
from meet.domain.shared.errors import InvalidInput, PermissionDenied

__all__ = ["ForbiddenPermission", "NotAllowedToMute", "NotPresent", "NotYourself", "RoleChangeRefused"]


class NotAllowedToMute(PermissionDenied):
    default_message = "Only the room's admins may mute here (or anyone present, when the room lets everyone mute)."
    code = "not_allowed_to_mute"


class NotPresent(PermissionDenied):
    default_message = "The token's participant is not in the live room."
    code = "not_present"


class NotYourself(PermissionDenied):
    default_message = "A participant may only change their own hand or name."
    code = "not_yourself"


class ForbiddenPermission(InvalidInput):
    default_message = "This permission may never be granted to a participant."
    code = "forbidden_permission"


class NotSignedIn(InvalidInput):
    default_message = "Only signed-in participants hold a role in a room."
    code = "participant_not_signed_in"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, field="role")


class RenamingDisabled(PermissionDenied):
    default_message = "Changing one's display name is disabled on this service."
    code = "renaming_disabled"
