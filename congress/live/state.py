"""Coalesced, high-rate state for open connections: presence, vote progress and observers' attendance
numbers, a few messages a second per congress instead of one per change (docs/architecture.md)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import anyio
import sqlalchemy as sa

from congress.db.engine import Database, log_loop_failure
from congress.db.models import Congress
from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.domain.time import iso
from congress.live.hub import Hub, Published, encode
from congress.reads.attendance import attendance_by_group, attendance_json
from congress.reads.votes import vote_progress

log = logging.getLogger(__name__)


def _by_viewer(staff: str, public: str, others_due: bool, observers_due: bool) -> Callable[[Actor], str | None]:
    """Which message a viewer gets now: staff theirs, delegates the public one, observers on their cadence."""
    def data_for(actor: Actor) -> str | None:
        if actor.role is Role.OBSERVER:
            return public if observers_due else None
        if not others_due:
            return None
        return staff if actor.role is Role.STAFF else public
    return data_for


# Events of these families may change the open votes' progress (ballots in, who is here, a vote's state)
PROGRESS_FAMILIES = frozenset({"ballot", "attendance", "vote", "group_count"})


class LiveState:
    """Coalesced, high-rate state (presence, vote progress): a few updates a second per congress.

    Staff and delegates get them every `interval`; observers at most every `observer_interval`, and
    presence only when the observer count changed. With 4,000 observers every message to them is
    4,000 writes on the server and 4,000 reads on their side; four a second during check-in and
    votes was most of what the story's rehearsal spent, for a count nobody reads that fast.
    """

    def __init__(self, hub: Hub, db: Database, interval: float, observer_interval: float,
                 on_watch_set: Callable[[int], None]) -> None:
        self.hub = hub
        self.db = db
        # a watch.set event: the application forgets its memory of the congress's watch setting
        self.on_watch_set = on_watch_set
        self.interval = interval
        self.observer_interval = observer_interval
        self._presence_dirty: set[int] = set()
        self._progress_dirty: set[int] = set()
        # the same, still owed to observers (cleared on the slower observer cadence)
        self._observer_presence_dirty: set[int] = set()
        self._observer_progress_dirty: set[int] = set()
        self._observer_attendance_dirty: set[int] = set()  # 应到 / 实到: observers get the numbers here
        self._observers_told: dict[int, int] = {}  # congress -> observer count last sent to observers
        self._observers_next = 0.0
        self._delays: dict[int, float] = {}
        hub.on_delivered.append(self._on_event)

    def presence_changed(self, congress_id: int) -> None:
        self._presence_dirty.add(congress_id)
        self._observer_presence_dirty.add(congress_id)

    def progress_wanted(self, congress_id: int) -> None:
        """A staff or delegate page has just connected: its snapshot carries no progress, and progress
        was sent only after a ballot, so a staff page opened after the last ballot showed none until
        the close. The next tick sends it (to staff and delegates; observers keep their cadence)."""
        self._progress_dirty.add(congress_id)

    def stream_delay(self, congress_id: int) -> float:
        if congress_id not in self._delays:
            with self.db.read() as session:
                self._delays[congress_id] = float(session.scalar(
                    sa.select(Congress.stream_delay_seconds).where(Congress.id == congress_id)) or 0)
        return self._delays[congress_id]

    def _on_event(self, item: Published) -> None:
        if item.type.partition(".")[0] in PROGRESS_FAMILIES:
            self._progress_dirty.add(item.congress_id)
            self._observer_progress_dirty.add(item.congress_id)
        if item.type == "attendance.changed":
            self._observer_attendance_dirty.add(item.congress_id)
        if item.type == "stream.set":
            self._delays.pop(item.congress_id, None)
        if item.type == "watch.set":  # the next observer's setting is read again (on every worker)
            self.on_watch_set(item.congress_id)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._tick()
            except Exception as exc:
                log_loop_failure(log, exc, "live state tick failed")

    async def _tick(self) -> None:
        hub = self.hub
        now = asyncio.get_running_loop().time()
        observers_due = now >= self._observers_next
        if observers_due:
            self._observers_next = now + self.observer_interval
            observer_presence, self._observer_presence_dirty = self._observer_presence_dirty, set()
            observer_progress, self._observer_progress_dirty = self._observer_progress_dirty, set()
            observer_attendance, self._observer_attendance_dirty = self._observer_attendance_dirty, set()
        else:
            observer_presence, observer_progress, observer_attendance = set(), set(), set()
        presence, self._presence_dirty = self._presence_dirty, set()
        for congress_id in presence | observer_presence:
            conns = hub.connections.get(congress_id, set())
            by_group: dict[int, int] = {}
            for conn in conns:
                if conn.actor.role is Role.DELEGATE and conn.actor.group_id is not None:
                    by_group[conn.actor.group_id] = by_group.get(conn.actor.group_id, 0) + 1
            observers = hub.count(congress_id, Role.OBSERVER)
            tell_observers = congress_id in observer_presence and self._observers_told.get(congress_id) != observers
            if tell_observers:
                self._observers_told[congress_id] = observers
            read_at = time.time()  # observers get it H later, each page at this moment of its picture
            public = encode({"msg": "presence", "observers": observers, "at": iso(read_at)})
            staff = encode({"msg": "presence", "observers": observers,
                            "delegates_connected": {str(g): n for g, n in by_group.items()},
                            "staff_connected": hub.count(congress_id, Role.STAFF)})
            hub.broadcast_ephemeral(congress_id, _by_viewer(staff, public, congress_id in presence, tell_observers),
                                    created_at=read_at)
        progress, self._progress_dirty = self._progress_dirty, set()
        for congress_id in progress | observer_progress:
            if not hub.connections.get(congress_id):
                continue
            def read(cid: int = congress_id) -> list[dict[str, Any]]:
                with self.db.read() as session:
                    return vote_progress(session, cid)

            votes = await anyio.to_thread.run_sync(read)
            read_at = time.time()
            data = encode({"msg": "progress", "votes": votes, "at": iso(read_at)})
            hub.broadcast_ephemeral(congress_id, _by_viewer(data, data, congress_id in progress,
                                                             congress_id in observer_progress), created_at=read_at)
        for congress_id in observer_attendance:
            if not hub.count(congress_id, Role.OBSERVER):
                continue
            def counts(cid: int = congress_id) -> dict[str, Any]:
                with self.db.read() as session:
                    return attendance_json(attendance_by_group(session, cid))

            counted = await anyio.to_thread.run_sync(counts)
            read_at = time.time()
            data = encode({"msg": "attendance", **counted, "at": iso(read_at)})
            def to_observers(actor: Actor, message: str = data) -> str | None:
                return message if actor.role is Role.OBSERVER else None

            hub.broadcast_ephemeral(congress_id, to_observers, created_at=read_at)
