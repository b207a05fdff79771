"""Object storage in memory, for unit tests of the recording use cases."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class MemoryObjectStorage:
    objects: dict[str, bytes] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)
        self.deleted.append(key)

    def signed_get_headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"memory {key}"}
