"""What observers saw a little while ago: a short history of their snapshot, for the stream's hold.

The server never gives observers anything younger than the hold H (`congress.stream_delay_seconds`,
docs/streaming.md "Each viewer in step"). Live events already wait H on their line; a snapshot read
now would carry what happened in the last H seconds. So observers' snapshots come from here: per
congress, the observer snapshot as it was after each change (at most one per second, ~120 s and a
few MB kept), each with the moment it shows the state from (`shows_from`: the `created_at` of the
newest event it includes). A reader asking for time X gets the newest snapshot with
shows_from <= min(X, now - H), then the public events after it that are H old (`due_events`).

One object per app (the lifespan creates it), fed by the hub's `on_received` (every committed event
of any audience: attendance counts change with events observers never see). Snapshots are read in a
worker thread by the app's `read` function and kept encoded: thousands of observers joining together
share one snapshot string, no database read each (the join storm, bench/fanout.py).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

KEEP_SECONDS = 120.0
MAX_BYTES = 8 * 2**20  # per congress; a big congress's snapshot is ~100 KB, 120 of them fit
MIN_INTERVAL = 1.0  # at most one snapshot a second per congress


@dataclass(frozen=True, slots=True)
class Taken:
    shows_from: float  # unix time: the state from this moment on (its newest event's created_at)
    seq: int  # the head seq it was read at
    snapshot: str  # the observer snapshot, encoded JSON


# (congress_id) -> (head seq, newest event's created_at or 0, encoded snapshot), read in a thread
ReadSnapshot = Callable[[int], Awaitable[tuple[int, float, str]]]


def pick(history: list[Taken] | deque[Taken], moment: float) -> tuple[Taken, bool] | None:
    """The newest snapshot showing the state at `moment`, and whether it is only the oldest kept
    (`moment` is older than the history: the reader gets a later state than asked, flagged).
    None when even the oldest shows a later moment AND is younger than what may be given (caller waits)."""
    chosen = None
    for taken in history:
        if taken.shows_from <= moment:
            chosen = taken
        else:
            break
    if chosen is not None:
        return chosen, False
    return (history[0], True) if history else None


class ObserverHistory:
    def __init__(self, read: ReadSnapshot, keep_seconds: float = KEEP_SECONDS, max_bytes: int = MAX_BYTES) -> None:
        self._read = read
        self.keep_seconds = keep_seconds
        self.max_bytes = max_bytes
        self._kept: dict[int, deque[Taken]] = {}
        self._bytes: dict[int, int] = {}
        self._dirty: set[int] = set()
        self._last_read: dict[int, float] = {}
        self._changed_at: dict[int, float] = {}  # when the newest change not yet taken arrived here
        self._locks: dict[int, asyncio.Lock] = {}

    def changed(self, congress_id: int) -> None:
        """An event of the congress was committed: take a snapshot soon (only of congresses followed)."""
        if congress_id in self._kept:
            self._dirty.add(congress_id)
            self._changed_at[congress_id] = time.time()

    def kept(self, congress_id: int) -> list[Taken]:
        return list(self._kept.get(congress_id, ()))

    async def run(self) -> None:
        """Take the snapshots owed, at most one a second per congress."""
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            for congress_id in [c for c in self._dirty if now - self._last_read.get(c, 0.0) >= MIN_INTERVAL]:
                self._dirty.discard(congress_id)
                try:
                    await self._take(congress_id)
                except Exception:  # a failed read (database outage): try again at the next change
                    self._dirty.add(congress_id)
                    await asyncio.sleep(1.0)

    async def _take(self, congress_id: int) -> Taken:
        self._last_read[congress_id] = time.monotonic()
        seq, newest_at, snapshot = await self._read(congress_id)
        kept = self._kept.setdefault(congress_id, deque())
        if kept and kept[-1].seq >= seq:  # nothing new (or an older read finished late)
            return kept[-1]
        taken = Taken(newest_at, seq, snapshot)
        kept.append(taken)
        self._bytes[congress_id] = self._bytes.get(congress_id, 0) + len(snapshot)
        self._trim(congress_id)
        return taken

    def _trim(self, congress_id: int) -> None:
        kept = self._kept[congress_id]
        horizon = time.time() - self.keep_seconds
        # The newest one older than the horizon stays: it is the state at every moment since.
        while len(kept) > 1 and (kept[1].shows_from <= horizon or self._bytes[congress_id] > self.max_bytes):
            self._bytes[congress_id] -= len(kept.popleft().snapshot)

    async def as_of(self, congress_id: int, moment: float, hold: float) -> tuple[Taken, bool]:
        """The snapshot for a reader asking `moment` under hold H: never one younger than now - H.

        The first reader of a congress makes the history start; if its newest event is younger than
        H (a server just started during a session), the reader waits until it is H old (at most H)."""
        lock = self._locks.setdefault(congress_id, asyncio.Lock())
        async with lock:
            # A change not yet taken that the reader may already see (a short hold: without one, the
            # state as it is now): read it now rather than give the state before it.
            may_see_change = (congress_id in self._dirty
                              and min(moment, time.time() - hold) >= self._changed_at.get(congress_id, 0.0))
            if congress_id not in self._kept or may_see_change:
                self._dirty.discard(congress_id)
                await self._take(congress_id)
        while True:
            limit = time.time() - hold
            found = pick(self._kept[congress_id], min(moment, limit))
            assert found is not None
            taken, oldest = found
            if taken.shows_from <= limit:
                return taken, oldest
            await asyncio.sleep(min(taken.shows_from - limit, 1.0) + 0.01)
