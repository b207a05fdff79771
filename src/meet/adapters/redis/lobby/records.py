"""``LobbyRecords`` on Redis: each room's audit stream (``meet:lobby:{room}:audit``, written by the lobby
scripts in the step of each decision), read through a consumer group that every process joins.

A mover finds streams by a ``SCAN`` (every primary of a cluster) in the background, never on a request
path. It first claims records another consumer read and did not acknowledge for ``stale_ms`` (that
process died, or stalled, before storing them), then reads new ones. Records are acknowledged and
deleted once stored; an emptied stream is deleted with its group, in one script.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import ResponseError

from meet.adapters.redis.client import RedisClient, unavailable_as
from meet.adapters.redis.lobby.keys import AUDIT_PATTERN, LobbyKeys, room_of_audit
from meet.adapters.redis.lobby.scripts import lua_source
from meet.domain.lobby.errors import LobbyUnavailable
from meet.domain.lobby.records import LobbyRecord
from meet.domain.shared.events import Action

GROUP = "meet-audit"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _record(room: str, record_id: str, fields: dict[bytes, bytes]) -> LobbyRecord | None:
    raw = fields.get(b"r")
    if raw is None:
        return None
    data = json.loads(raw)
    return LobbyRecord(
        id=record_id,
        room=room,
        action=Action(data["action"]),
        at=datetime.fromtimestamp(int(data["at"]) / 1000, tz=UTC),
        participant_id=data.get("participant_id"),
        name=data.get("name"),
        by=data.get("by") or None,
        reason=data.get("reason"),
        count=int(data["count"]) if data.get("count") is not None else None,
    )


class RedisLobbyRecords:
    def __init__(self, client: RedisClient, *, stale_ms: int = 30_000, consumer: str | None = None) -> None:
        self._client = client
        self._stale_ms = stale_ms
        self._consumer = consumer or f"meet-{uuid.uuid4().hex[:12]}"
        self._acknowledge = client.register_script(lua_source("acknowledge", prelude=False))

    async def claim(self, limit: int) -> Sequence[LobbyRecord]:
        claimed: list[LobbyRecord] = []
        async with unavailable_as(LobbyUnavailable):
            async for key in self._client.scan_iter(match=AUDIT_PATTERN, count=1000, _type="stream"):
                stream = _text(key)
                claimed.extend(await self._claim_stream(stream, limit - len(claimed)))
                if len(claimed) >= limit:
                    break
        return claimed

    async def _claim_stream(self, stream: str, limit: int) -> list[LobbyRecord]:
        room = room_of_audit(stream)
        try:
            await self._client.xgroup_create(stream, GROUP, id="0")
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                return []  # emptied and deleted since the scan
        try:
            return await self._read(stream, room, limit)
        except ResponseError:
            return []  # emptied and deleted (with its group) meanwhile

    async def _read(self, stream: str, room: str, limit: int) -> list[LobbyRecord]:
        # Another consumer's records, read and never acknowledged within ``stale_ms``: it died.
        autoclaimed: Any = await self._client.xautoclaim(
            stream, GROUP, self._consumer, self._stale_ms, "0-0", count=limit
        )
        read: Any = await self._client.xreadgroup(GROUP, self._consumer, {stream: ">"}, count=limit)
        fresh = [entry for _, entries in read for entry in entries] if read else []
        records, unreadable = [], []
        for record_id, fields in [*autoclaimed[1], *fresh]:
            record = _record(room, _text(record_id), fields) if fields else None
            if record is None:
                unreadable.append(_text(record_id))  # deleted meanwhile, or not one of ours: dropped
            else:
                records.append(record)
        if unreadable:
            await self._acknowledge(keys=[stream], args=[GROUP, *unreadable])
        return records

    async def acknowledge(self, records: Sequence[LobbyRecord]) -> None:
        by_room: dict[str, list[str]] = {}
        for record in records:
            by_room.setdefault(record.room, []).append(record.id)
        async with unavailable_as(LobbyUnavailable):
            for room, ids in by_room.items():
                await self._acknowledge(keys=[LobbyKeys.of(room).audit], args=[GROUP, *ids])
