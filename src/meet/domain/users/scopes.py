"""What a caller may do through meet's API: the scopes an application's token carries.

A browser session carries every scope (``Viewer.scopes is None``); a bearer token carries the ones it
was granted. A scope never widens what the user may do: every rule of the domain applies as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from meet.domain.shared.errors import PermissionDenied


class ApiScope(StrEnum):
    ROOMS_CREATE = "rooms:create"
    ROOMS_LIST = "rooms:list"
    ROOMS_RETRIEVE = "rooms:retrieve"
    ROOMS_UPDATE = "rooms:update"
    ROOMS_DELETE = "rooms:delete"
    ACCESSES_MANAGE = "accesses:manage"
    RECORDINGS_READ = "recordings:read"
    AUDIT_READ = "audit:read"


ALL_SCOPES = frozenset(ApiScope)
SCOPE_DESCRIPTIONS = {
    ApiScope.ROOMS_CREATE: "Create rooms; the user becomes their owner.",
    ApiScope.ROOMS_LIST: "List the rooms the user holds a role in.",
    ApiScope.ROOMS_RETRIEVE: "Read one room (never a connection to it).",
    ApiScope.ROOMS_UPDATE: "Change a room the user administers.",
    ApiScope.ROOMS_DELETE: "Delete a room the user owns.",
    ApiScope.ACCESSES_MANAGE: "List, grant, change and revoke roles in rooms the user administers.",
    ApiScope.RECORDINGS_READ: "List, read and download the recordings of rooms the user administers.",
    ApiScope.AUDIT_READ: "Read the audit log of rooms the user administers.",
}


class UnknownScope(ValueError):
    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted(names)
        super().__init__(f"Unknown scope(s): {', '.join(self.names)}; known: {', '.join(sorted(ALL_SCOPES))}.")


def parse_scopes(names: Iterable[str]) -> frozenset[ApiScope]:
    """Scope names as given (blank ones ignored); unknown names raise ``UnknownScope``."""
    cleaned = {name.strip() for name in names if name.strip()}
    unknown = {name for name in cleaned if name not in ALL_SCOPES}
    if unknown:
        raise UnknownScope(unknown)
    return frozenset(ApiScope(name) for name in cleaned)


class MissingScope(PermissionDenied):
    default_message = "The token does not carry the scope this operation needs."
    code = "insufficient_scope"

    def __init__(self, scope: ApiScope) -> None:
        super().__init__(f"Insufficient scope: this operation needs '{scope.value}'.")
        self.scope = scope


class NotForTokens(PermissionDenied):
    default_message = "This operation is only available in a signed-in browser session, not with a bearer token."
    code = "not_available_to_tokens"
