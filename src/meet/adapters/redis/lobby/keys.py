"""The Redis key schema of the lobby: every key and the push channel of a room, under its hash tag.

Keys of a room share the Redis Cluster hash tag ``{<room>}``, so one script reaches all of them on one
shard:

- ``meet:lobby:{room}:entries``  HASH participant id -> entry JSON
- ``meet:lobby:{room}:waiting``  ZSET participant id scored by arrival position (the waiting list)
- ``meet:lobby:{room}:expiry``   ZSET participant id scored by the instant (ms) the entry expires
- ``meet:lobby:{room}:position`` counter giving each knock its arrival position
- ``meet:lobby:{room}:events``   the pub/sub channel of the room's lobby changes (sharded on a cluster)
- ``meet:lobby:{room}:bars``     ZSET identity scored by the instant (ms) its bar ends (a removal's or a
  denial's), a cache of the durable bars; the member ``""`` marks it as loaded
- ``meet:lobby:{room}:audit``    STREAM of the lobby's decisions for the audit log, until moved (``records.py``)
- ``meet:lobby:{room}:door``     HASH of the meeting's door: ``locked``, ``ended_until`` (ms)
- ``meet:lobby:{room}:present``  ZSET identity in the live room (+inf, from the SFU's webhooks) or holding
  a seat since its admission (scored by the instant the seat frees itself): the room's capacity count
- ``meet:lobby:{room}:held``     HASH identity sent back to the lobby (a member's, ``"1"``) and a lobby
  participant id -> the member it knocked for (admitting it lifts the member's suspension)
- ``meet:lobby:{room}:rate:<bucket>`` counter of a knock rate limit's current window
- ``meet:lobby:{room}:stamp``    the room's stamp (``RoomStamps``), checked first by a knock's gate, the
  waiting list and the join's check
- ``meet:lobby:{room}:denials``  HASH block identity (``blocked:<participant>``, ``address:<ip>``) -> the
  instants (ms) of its recent denials, counted by the denying script (repeated knocking is blocked)
- ``meet:lobby:{room}:messages`` HASH ``*`` (to everyone waiting) or participant id -> the latest message

Nothing ever enumerates keys: each is named from its room.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

PREFIX, CHANNEL_SUFFIX = "meet:lobby:{", "}:events"
MESSAGE_BUCKET = "messages"  # the rate counter of the messages to a room's waiting people


@dataclass(frozen=True, slots=True)
class LobbyKeys:
    """The keys of one room, in the order the Lua prelude names them (``KEYS`` of every lobby script)."""

    entries: str
    waiting: str
    expiry: str
    position: str
    channel: str
    bars: str
    audit: str
    door: str
    present: str
    held: str
    stamp: str
    denials: str
    messages: str
    tag: str

    @classmethod
    def of(cls, room: str) -> LobbyKeys:
        """The keys of ``room`` (built once per room and process: a knock names them on every call)."""
        return _keys_of(room)

    @classmethod
    def _build(cls, room: str) -> LobbyKeys:
        tag = f"{PREFIX}{room}}}"
        return cls(
            entries=f"{tag}:entries",
            waiting=f"{tag}:waiting",
            expiry=f"{tag}:expiry",
            position=f"{tag}:position",
            channel=f"{tag}:events",
            bars=f"{tag}:bars",
            audit=f"{tag}:audit",
            door=f"{tag}:door",
            present=f"{tag}:present",
            held=f"{tag}:held",
            stamp=f"{tag}:stamp",
            denials=f"{tag}:denials",
            messages=f"{tag}:messages",
            tag=tag,
        )

    def rate(self, bucket: str) -> str:
        return f"{self.tag}:rate:{bucket}"

    def of_room(self) -> tuple[str, ...]:
        """``KEYS`` of a script of the room's lobby (see ``lua/prelude.lua``)."""
        return (
            self.entries, self.waiting, self.expiry, self.position, self.channel, self.bars, self.audit,
            self.door, self.present, self.held,
        )  # fmt: skip

    def stamped(self) -> tuple[str, ...]:
        """``KEYS`` of a script that checks the room's stamp first (the waiting list's, the join's check)."""
        return (*self.of_room(), self.stamp)

    def gated(self, rate_bucket: str) -> tuple[str, ...]:
        """``KEYS`` of a script that passes a knock's gate first: the room's, its stamp, its rate counter."""
        return (*self.stamped(), self.rate(rate_bucket))

    def controlled(self, rate_bucket: str = MESSAGE_BUCKET) -> tuple[str, ...]:
        """``KEYS`` of a script that also reads or writes the host's controls (``lua/prelude.lua`` names them
        after the gate's): the denial counts and the messages to those waiting. The rate counter is the
        knock's (a knock), else the room's messages' (the one script that counts it is ``message.lua``)."""
        return (*self.gated(rate_bucket), self.denials, self.messages)


@functools.lru_cache(maxsize=4096)
def _keys_of(room: str) -> LobbyKeys:
    return LobbyKeys._build(room)


def room_keys(room: str) -> tuple[str, ...]:
    """The keys every lobby script of ``room`` is given."""
    return LobbyKeys.of(room).of_room()


def events_channel(room: str) -> str:
    return f"{PREFIX}{room}{CHANNEL_SUFFIX}"


def stamp_key(room: str) -> str:
    return f"{PREFIX}{room}}}:stamp"


AUDIT_SUFFIX = "}:audit"
AUDIT_PATTERN = f"{PREFIX}*{AUDIT_SUFFIX}"


def room_of_audit(key: bytes | str) -> str:
    name = key.decode() if isinstance(key, bytes) else key
    return name.removeprefix(PREFIX).removesuffix(AUDIT_SUFFIX)


def room_of_channel(channel: bytes | str) -> str:
    name = channel.decode() if isinstance(channel, bytes) else channel
    return name.removeprefix(PREFIX).removesuffix(CHANNEL_SUFFIX)
