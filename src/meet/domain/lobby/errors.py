from __future__ import annotations

from meet.domain.shared.errors import Conflict, NotFound, PermissionDenied, ServiceUnavailable


class LobbyEntryNotFound(NotFound):
    default_message = "No such participant is waiting in this room (unknown or expired)."
    code = "lobby_entry_not_found"


class AlreadyDecided(Conflict):
    default_message = "Another decision was already recorded for this participant."
    code = "lobby_already_decided"


class LobbyUnavailable(ServiceUnavailable):
    default_message = "The lobby store cannot be reached; try again shortly."
    code = "lobby_unavailable"


class LobbyBlocked(PermissionDenied):
    default_message = "Denied too often: knocking on this room is refused for a while."
    code = "lobby_blocked"
