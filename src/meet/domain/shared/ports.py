from __future__ import annotations

from typing import Protocol


class HealthCheck(Protocol):
    """A backing service that can say whether it is reachable."""

    name: str

    async def ping(self) -> None:
        """Return when reachable; raise otherwise."""
        ...
