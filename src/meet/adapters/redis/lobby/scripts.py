"""The lobby's Lua programs (``lua/*.lua``, package data) and one typed builder per program.

Each builder is a msgspec Struct naming the program's arguments; it goes to Redis as JSON in ``ARGV[2]``
and the Lua side reads it by name (``args.now``). ``ARGV[1]`` is the publishing command: ``PUBLISH`` on
one server, ``SPUBLISH`` on a Redis Cluster (sharded pub/sub: the message stays on the room's shard), so
both modes run the same source. The keys are always the room's, named once by ``keys.LobbyKeys``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib.resources import files
from typing import Any, ClassVar, Generic, TypeVar

import msgspec
from redis.commands.core import AsyncScript

from meet.adapters.redis.client import RedisClient
from meet.adapters.redis.lobby.codec import EntryWire


@functools.cache
def lua_source(name: str, *, prelude: bool = True) -> str:
    """``lua/<name>.lua``, after ``lua/prelude.lua`` unless standalone; read once per process."""
    folder = files("meet.adapters.redis.lobby").joinpath("lua")
    body = folder.joinpath(f"{name}.lua").read_text(encoding="utf-8")
    return folder.joinpath("prelude.lua").read_text(encoding="utf-8") + body if prelude else body


class Args(msgspec.Struct, frozen=True, omit_defaults=True):
    """The named arguments of one lobby program; ``script`` names its file in ``lua/``."""

    script: ClassVar[str]


class Gate(msgspec.Struct, frozen=True, omit_defaults=True):
    """A knock's gate (``KnockGate``): ``stamp`` absent when the caller read the room under none."""

    limit: int
    window: int  # ms
    identities: Sequence[str]
    stamp: str | None = None
    blocks: Sequence[str] = ()
    admin: bool = False  # passes the door (and reopens an ended meeting)
    capacity: int = 0  # checked for whoever enters directly (0: none)
    by: str | None = None  # the admin reopening


class Knock(Args, frozen=True):
    script = "knock"
    participant_id: str
    entry: EntryWire
    now: int
    waiting_ttl: int
    room_ttl: int
    gate: Gate
    suspended: str | None = None  # the member a sent-back member's knock is for


class PassGate(Args, frozen=True):
    script = "gate"
    now: int
    gate: Gate


class Touch(Args, frozen=True):
    script = "touch"
    participant_id: str
    now: int
    waiting_ttl: int
    room_ttl: int


class Refresh(Args, frozen=True):
    script = "refresh"
    now: int
    waiting_ttl: int
    room_ttl: int
    participant_ids: Sequence[str]


class Block(msgspec.Struct, frozen=True):
    """When repeated denials block (``LobbyTimeouts``): ``limit`` denials within ``window`` ms block for
    ``block`` ms; ``cache_ttl`` is the bars cache's."""

    limit: int
    window: int
    block: int
    cache_ttl: int


class Decide(Args, frozen=True):
    script = "decide"
    participant_id: str
    status: str
    at: str
    by: str
    now: int
    ttl: int
    room_ttl: int
    cache_ttl: int
    block: Block
    reason: str | None = None
    capacity: int = 0
    seat_ms: int = 0


class DenyAll(Args, frozen=True):
    script = "deny_all"
    at: str
    by: str
    now: int
    ttl: int
    room_ttl: int
    cache_ttl: int
    per_message: int
    block: Block
    reason: str | None = None


class Message(Args, frozen=True):
    script = "message"
    text: str
    sent_at: str
    now: int
    limit: int
    window: int  # ms
    room_ttl: int
    by: str
    participant_id: str | None = None


class AdmitAll(Args, frozen=True):
    script = "admit_all"
    at: str
    by: str
    now: int
    ttl: int
    room_ttl: int
    per_message: int
    capacity: int = 0
    seat_ms: int = 0
    stamp: str | None = None


class Waiting(Args, frozen=True):
    script = "waiting"
    now: int
    after: str
    limit: int
    stamp: str | None = None


class Revoke(Args, frozen=True):
    script = "revoke"
    participant_id: str


class Clear(Args, frozen=True):
    script = "clear"


class LoadBars(Args, frozen=True):
    script = "load_bars"
    cache_ttl: int
    bars: Sequence[tuple[str, int]]  # identity, until (ms)


class Bar(Args, frozen=True):
    script = "bar"
    identity: str
    until_ms: int
    cache_ttl: int


class BarMany(Args, frozen=True):
    script = "bar_many"
    identities: Sequence[str]
    until_ms: int
    cache_ttl: int


class Barred(Args, frozen=True):
    script = "barred"
    identities: Sequence[str]
    now: int
    with_stamp: bool = False


class Lock(Args, frozen=True):
    script = "lock"
    locked: bool
    by: str
    now: int


class End(Args, frozen=True):
    script = "end"
    by: str
    now: int
    until_ms: int


class Reopen(Args, frozen=True):
    script = "reopen"
    by: str
    now: int


class SendBack(Args, frozen=True):
    script = "send_back"
    identity: str
    by: str
    now: int
    waiting_ttl: int
    room_ttl: int


class Presence(Args, frozen=True):
    script = "presence"
    kind: str  # "joined" | "left" | "finished"
    identity: str = ""


A = TypeVar("A", bound=Args)
_encode = msgspec.json.Encoder().encode


class Program(Generic[A]):
    """One lobby program registered with the client (its SHA computed once): ``await program(keys, args)``."""

    __slots__ = ("_publish", "_script")

    def __init__(self, client: RedisClient, kind: type[A], *, sharded: bool) -> None:
        self._script: AsyncScript = client.register_script(lua_source(kind.script))
        self._publish = "SPUBLISH" if sharded else "PUBLISH"

    async def __call__(self, keys: Sequence[str], args: A) -> Any:
        return await self._script(keys=keys, args=[self._publish, _encode(args)])


class WholeList(Args, frozen=True):
    script = "whole_list"
    now: int
    stamp: str | None = None
    known: str | None = None
