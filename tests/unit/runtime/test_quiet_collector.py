"""The collector's full pass runs in a quiet moment, not in the middle of the next burst."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from meet.entrypoints.http.collector import QuietCollector, running


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Cycle:
    """Cyclic garbage: only a full pass of the collector frees it once it reached the old generation."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def collector() -> Iterator[tuple[QuietCollector, Clock]]:
    clock = Clock()
    quiet = QuietCollector(min_interval=60, max_interval=120, clock=clock)
    gc.callbacks.append(quiet.observe)
    yield quiet, clock
    gc.callbacks.remove(quiet.observe)


def old_cyclic_garbage() -> None:
    """Leaves unreachable cycles in the old generation, with CPython's count saying something was promoted."""
    gc.collect()
    garbage = [Cycle() for _ in range(100)]
    gc.collect(1)  # promoted to the old generation, still alive
    del garbage


def test_a_quiet_worker_frees_the_old_generations_garbage_at_once(collector: tuple[QuietCollector, Clock]) -> None:
    quiet, _ = collector
    old_cyclic_garbage()
    quiet.check()  # the check that saw the young collection above: not quiet
    assert any(isinstance(o, Cycle) for o in gc.get_objects(2))

    assert quiet.check() is True
    assert not any(isinstance(o, Cycle) for o in gc.get_objects())


def test_a_busy_worker_keeps_its_old_garbage_until_its_pass_is_due(collector: tuple[QuietCollector, Clock]) -> None:
    quiet, _ = collector
    old_cyclic_garbage()
    gc.collect(0)  # allocations between two checks: a young collection
    assert quiet.check() is False
    assert any(isinstance(o, Cycle) for o in gc.get_objects(2))


def test_nothing_promoted_since_the_last_full_pass_means_no_pass(collector: tuple[QuietCollector, Clock]) -> None:
    quiet, _ = collector
    gc.collect()
    quiet.check()
    assert quiet.check() is False


def test_its_own_passes_are_at_most_one_per_interval(collector: tuple[QuietCollector, Clock]) -> None:
    quiet, clock = collector
    old_cyclic_garbage()
    quiet.check()
    assert quiet.check() is True

    old_cyclic_garbage()
    quiet.check()
    clock.now += 59
    assert quiet.check() is False
    clock.now += 1
    assert quiet.check() is True


def test_a_worker_busy_for_longer_than_the_longest_interval_gets_its_pass(
    collector: tuple[QuietCollector, Clock],
) -> None:
    quiet, clock = collector
    quiet.collect()
    old_cyclic_garbage()
    gc.collect(0)
    clock.now += 119
    assert quiet.check() is False

    gc.collect(0)  # still busy
    clock.now += 1
    assert quiet.check() is True
    assert not any(isinstance(o, Cycle) for o in gc.get_objects())


async def test_while_it_runs_cpython_starts_no_full_pass_of_its_own() -> None:
    before = gc.get_threshold()
    passes: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            passes.append(1)

    gc.callbacks.append(count)
    try:
        async with running(QuietCollector(min_interval=3600), check_every=3600):
            survivors = [[n] for n in range(300_000)]  # promoted, young pass after young pass
            assert passes == []
        survivors = [[n] for n in range(300_000)]  # without it, CPython's own full passes
        assert passes != []
        del survivors
    finally:
        gc.callbacks.remove(count)
    assert gc.get_threshold() == before


def test_no_pass_while_the_collector_is_paused(collector: tuple[QuietCollector, Clock]) -> None:
    # A paused collector (a mass decision being answered) looks quiet: no young collection runs. The full
    # pass, half a second with a town hall held, must wait until the answers are out, overdue or not.
    quiet, clock = collector
    old_cyclic_garbage()
    quiet.check()
    clock.now += 1_000  # overdue too
    gc.disable()
    try:
        assert quiet.check() is False
        assert any(isinstance(o, Cycle) for o in gc.get_objects(2))
    finally:
        gc.enable()
    assert quiet.check() is True
