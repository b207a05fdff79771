from __future__ import annotations

from typing import Protocol


class UnitOfWork(Protocol):
    """Makes the changes of one use case durable together, or not at all."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class HealthCheck(Protocol):
    """A backing service that can say whether it is reachable."""

    name: str

    async def ping(self) -> None:
        """Return when reachable; raise otherwise."""
        ...
