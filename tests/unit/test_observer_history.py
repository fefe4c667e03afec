"""The observers' snapshot history (congress/live/observer_history.py): which snapshot a reader asking
for a moment gets, and what is kept. Pure parts and the object with a stand-in read (no database: the
read is the app's, tested through a real server in tests/live/test_stream_hold.py)."""

from __future__ import annotations

import asyncio
import time

import pytest

from congress.live.observer_history import ObserverHistory, Taken, pick


def test_a_reader_gets_the_newest_snapshot_at_or_before_the_moment_and_a_flag_when_older_than_all() -> None:
    kept = [Taken(100.0, 5, "a"), Taken(110.0, 9, "b"), Taken(120.0, 12, "c")]
    assert pick(kept, 115.0) == (kept[1], False)
    assert pick(kept, 110.0) == (kept[1], False)  # the moment of its newest event is in it
    assert pick(kept, 500.0) == (kept[2], False)
    assert pick(kept, 50.0) == (kept[0], True)  # older than the history: the oldest, flagged
    assert pick([], 50.0) is None


def test_old_snapshots_go_but_the_one_showing_the_horizon_stays_and_a_byte_cap_holds() -> None:
    now = time.time()
    reads = iter([(3, now - 500, "x" * 10), (7, now - 300, "y" * 10), (8, now - 1, "z" * 10), (9, now, "w" * 10)])

    async def read(_congress_id: int) -> tuple[int, float, str]:
        return next(reads)

    async def run() -> list[int]:
        history = ObserverHistory(read, keep_seconds=120, max_bytes=25)
        for _ in range(4):
            await history._take(1)
        return [t.seq for t in history.kept(1)]

    # 3 and 7 are older than 120 s; 7 is still the state at the horizon, but the cap (25 bytes) lets
    # only the newest two stay
    assert asyncio.run(run()) == [8, 9]


@pytest.mark.parametrize("hold", [0.0, 2.0])
def test_a_reader_never_gets_a_snapshot_younger_than_the_hold(hold: float) -> None:
    now = time.time()
    reads = iter([(4, now - 60, "old"), (6, now - 0.5, "new")])

    async def read(_congress_id: int) -> tuple[int, float, str]:
        return next(reads)

    async def run() -> tuple[int, float]:
        history = ObserverHistory(read)
        await history._take(1)
        await history._take(1)
        started = time.time()
        taken, _ = await history.as_of(1, time.time(), hold)
        return taken.seq, time.time() - started

    seq, _waited = asyncio.run(run())
    assert seq == (6 if hold == 0.0 else 4)
