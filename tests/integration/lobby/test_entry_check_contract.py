"""The join's check (``EntryCheck``) and the stamps it reads, proven against real Redis, a real Redis
Cluster and the in-memory adapters alike: a stamp that changed, was marked as changing or was lost
with Redis never passes, and a bar in the ledger holds whatever the cache lost."""

from __future__ import annotations

from datetime import timedelta

from meet.domain.conference.bars import BarReason
from meet.domain.conference.model import EntryVerdict
from meet.domain.conference.ports import EntryCheck
from meet.domain.shared.clock import SystemClock
from tests.integration.lobby.conftest import Backend
from tests.integration.lobby.test_lobby_store_contract import knock, new_room
from tests.support.clock import FakeClock


def check_of(backend: Backend) -> EntryCheck:
    assert backend.entry_check is not None
    return backend.entry_check


async def test_the_check_passes_only_the_rooms_current_stamp(backend: Backend) -> None:
    check, room = check_of(backend), new_room()
    stamp = await backend.stamps.current(room)
    assert stamp is not None
    for identities in ((), ("someone",)):
        assert await check.check(room, stamp, identities) is EntryVerdict.CLEAR
        assert await check.check(room, None, identities) is EntryVerdict.CLEAR  # nothing to check
        assert await check.check(room, "another", identities) is EntryVerdict.STALE
    await backend.stamps.renew(room)
    for identities in ((), ("someone",)):
        assert await check.check(room, stamp, identities) is EntryVerdict.STALE
    assert await backend.stamps.is_current(room, stamp) is False


async def test_no_copy_is_taken_while_a_change_is_being_committed(backend: Backend) -> None:
    room = new_room()
    before = await backend.stamps.current(room)
    assert before is not None
    await backend.stamps.renew(room, changing=True)
    assert await backend.stamps.current(room) is None  # no stamp to take a copy under
    assert await check_of(backend).check(room, before, ()) is EntryVerdict.STALE
    await backend.stamps.renew(room)
    after = await backend.stamps.current(room)
    assert after is not None
    assert after != before
    assert await check_of(backend).check(room, after, ()) is EntryVerdict.CLEAR


async def test_a_stamp_lost_with_redis_makes_every_copy_stale(backend: Backend) -> None:
    room = new_room()
    stamp = await backend.stamps.current(room)
    assert stamp is not None
    if backend.redis is None:  # memory is lost only with the process, and its copies with it
        assert await check_of(backend).check(room, stamp, ()) is EntryVerdict.CLEAR
        return
    await backend.redis.flushdb()
    assert await check_of(backend).check(room, stamp, ()) is EntryVerdict.STALE
    assert await check_of(backend).check(room, stamp, ("someone",)) is EntryVerdict.STALE
    assert await backend.stamps.current(room) != stamp


async def test_a_bar_keeps_the_identity_out_whatever_the_cache_lost(backend: Backend) -> None:
    check, room = check_of(backend), new_room()
    stamp = await backend.stamps.current(room)
    assert stamp is not None
    until = SystemClock().now() + timedelta(seconds=600)
    await backend.ledger.bar(room, "removed", until, BarReason.REMOVED)  # made elsewhere: only in the durable bars
    if backend.redis is not None:
        await backend.redis.flushdb()
        stamp = await backend.stamps.current(room)
        assert stamp is not None
    assert await check.check(room, stamp, ("removed",)) is EntryVerdict.BARRED
    assert await check.check(room, stamp, ("other", "removed")) is EntryVerdict.BARRED
    assert await check.check(room, stamp, ("other",)) is EntryVerdict.CLEAR
    await backend.stamps.renew(room)
    assert await check.check(room, stamp, ("removed",)) is EntryVerdict.STALE  # the stamp comes first


async def test_the_waiting_list_reads_nothing_under_a_stale_stamp(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    await knock(backend, room, clock)
    stamp = await backend.stamps.current(room)
    assert stamp is not None
    page = await backend.store.waiting(room, limit=10, after=None, now=clock.now(), stamp=stamp)
    assert (page.stale, page.count) == (False, 1)
    await backend.stamps.renew(room)
    page = await backend.store.waiting(room, limit=10, after=None, now=clock.now(), stamp=stamp)
    assert (page.stale, page.count, page.entries) == (True, 0, ())
    assert (await backend.store.waiting(room, limit=10, after=None, now=clock.now())).count == 1
