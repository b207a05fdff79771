"""A recorder in memory, for unit tests: remembers what it was asked, fails when told to."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from meet.domain.shared.errors import DomainError


@dataclass
class StartedEgress:
    egress_id: str
    room: str
    object_key: str
    audio_only: bool
    stopped: bool = False


class MemoryRecordingEgress:
    def __init__(self) -> None:
        self.egresses: dict[str, StartedEgress] = {}
        self.fail_start: DomainError | None = None
        self.fail_stop: DomainError | None = None
        self._ids = itertools.count(1)

    async def start(self, room: str, *, object_key: str, audio_only: bool) -> str:
        if self.fail_start is not None:
            error, self.fail_start = self.fail_start, None
            raise error
        egress_id = f"EG_{next(self._ids)}"
        self.egresses[egress_id] = StartedEgress(egress_id, room, object_key, audio_only)
        return egress_id

    async def stop(self, egress_id: str) -> None:
        if self.fail_stop is not None:
            error, self.fail_stop = self.fail_stop, None
            raise error
        self.egresses[egress_id].stopped = True
