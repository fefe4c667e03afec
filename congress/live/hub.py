"""The live hub of one process: connections, audiences, bounded send queues, ordered delivery.

Events arrive here after commit (from this process or, through the backplane, from others) and
may arrive out of order; the hub delivers each congress's events strictly in seq order, holding
back an early one until the gap fills, and asking the database for the missing ones if the gap
does not fill by itself. Each message is encoded once; each connection has a bounded queue and a
connection that cannot keep up is closed with RESYNC and resumes by seq, so no slow client ever
delays the others. Observers are reached through their congress's line (`live.observer_line`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from congress.domain.kinds import Audience, Role
from congress.domain.permissions import Actor
from congress.domain.watching import may_see as may_see_event
from congress.live.connection import CLOSE_RESYNC as CLOSE_RESYNC  # re-exported with the other codes
from congress.live.connection import Connection
from congress.live.frames import text_frame
from congress.live.observer_line import ObserverLine
from congress.ops import metrics

log = logging.getLogger(__name__)

# Close codes (docs/protocol.md); CLOSE_RESYNC (4001, fell behind) is the connection's own
CLOSE_SERVER_RESTART = 1012  # server shutting down: reconnect
CLOSE_POLICY = 1008  # flood or abuse
CLOSE_TOO_BIG = 1009

GAP_WAIT_SECONDS = 0.3
# Public events kept in memory per congress: an observer back from a network blip (a reconnect storm:
# thousands at once) that missed only these is answered without a read.
RECENT_PUBLIC = 512


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Published:
    """An event after commit, ready to deliver: who may see it, and its wire form encoded once."""

    congress_id: int
    seq: int
    audience: str
    audience_id: int | None
    data: str
    created_at: float  # unix time, for the observers' stream delay
    type: str = ""  # the event's type, for listeners that react to some (congress.live.state.LiveState), not read from `data`


def may_see(actor: Actor, audience: str, audience_id: int | None) -> bool:
    """The one audience rule (congress.domain.watching.may_see) for a connection's actor."""
    return may_see_event(actor.role, audience, audience_id, group_id=actor.group_id, delegate_id=actor.delegate_id)


FetchMissing = Callable[[int, int, int], Awaitable[list[Published]]]


class Hub:
    def __init__(self, fetch_missing: FetchMissing) -> None:
        self._fetch_missing = fetch_missing
        self.connections: dict[int, set[Connection]] = {}
        # Per congress, the connections that can see a non-public event, by who they are: an event for
        # one delegate or one group is offered to a handful of connections, not tested against all of
        # them (3,000 ballots, each with a personal `ballot.recorded`, made that quadratic).
        self._staff: dict[int, set[Connection]] = {}
        self._delegates: dict[int, set[Connection]] = {}
        self._by_group: dict[tuple[int, int | None], set[Connection]] = {}
        self._by_delegate: dict[tuple[int, int | None], set[Connection]] = {}
        # Everyone but observers, who are reached through their line (per congress and stream delay)
        self._direct: dict[int, set[Connection]] = {}
        self._lines: dict[int, dict[float, ObserverLine]] = {}
        self._delivered: dict[int, int] = {}
        self._recent: dict[int, deque[Published]] = {}  # per congress, the last public events delivered
        self._recent_floor: dict[int, int] = {}  # ... and every public event after this seq is among them
        self._pending: dict[int, dict[int, Published]] = {}
        self._gap_tasks: dict[int, asyncio.Task[None]] = {}
        self.on_delivered: list[Callable[[Published], None]] = []
        # Every committed event as it arrives, watched here or not, out of order: for caches of
        # settings (the pages' security headers), not for anything that needs the order
        self.on_received: list[Callable[[Published], None]] = []
        self.on_notice: list[Callable[[str], None]] = []  # backplane notices (backplane.ACCESS_NOTICE)

    # -- connections ---------------------------------------------------------------------------
    def register(self, conn: Connection, head_seq: int) -> None:
        """Add a connection before its snapshot is read, so nothing committed meanwhile is missed."""
        self.connections.setdefault(conn.congress_id, set()).add(conn)
        for index in self._indexes(conn):
            index.add(conn)
        if conn.actor.role is Role.OBSERVER:
            lines = self._lines.setdefault(conn.congress_id, {})
            if conn.delay_seconds not in lines:  # not one new line per joining observer, only per delay
                lines[conn.delay_seconds] = ObserverLine(conn.delay_seconds)
            lines[conn.delay_seconds].conns.add(conn)
        if conn.congress_id not in self._delivered:
            self._delivered[conn.congress_id] = head_seq
            # Nothing before we followed is known here: assume a public event at the head.
            self._recent[conn.congress_id] = deque()
            self._recent_floor[conn.congress_id] = head_seq

    def unregister(self, conn: Connection) -> None:
        conns = self.connections.get(conn.congress_id)
        if conns is not None:
            conns.discard(conn)
        for index in self._indexes(conn):
            index.discard(conn)
        lines = self._lines.get(conn.congress_id, {})
        line = lines.get(conn.delay_seconds) if conn.actor.role is Role.OBSERVER else None
        if line is not None:
            line.conns.discard(conn)
            if not line.conns:  # nobody left to hold for; whoever comes back resumes from the log
                line.cancel()
                del lines[conn.delay_seconds]

    def _indexes(self, conn: Connection) -> list[set[Connection]]:
        cid, actor = conn.congress_id, conn.actor
        if actor.role is Role.OBSERVER:
            return []
        direct = self._direct.setdefault(cid, set())
        if actor.role is Role.STAFF:
            return [direct, self._staff.setdefault(cid, set())]
        if actor.role is Role.DELEGATE:
            return [direct, self._delegates.setdefault(cid, set()),
                    self._by_group.setdefault((cid, actor.group_id), set()),
                    self._by_delegate.setdefault((cid, actor.delegate_id), set())]
        return [direct]

    def _candidates(self, item: Published) -> Iterable[Connection]:
        """The connections that may see the event: a superset never smaller than `may_see` allows."""
        cid = item.congress_id
        if item.audience == Audience.PUBLIC:
            return self._direct.get(cid, ())  # observers get it through their line
        staff = self._staff.get(cid, set())
        if item.audience == Audience.GROUP:
            return staff | self._by_group.get((cid, item.audience_id), set())
        if item.audience == Audience.DELEGATE:
            return staff | self._by_delegate.get((cid, item.audience_id), set())
        if item.audience == Audience.DELEGATES:
            return staff | self._delegates.get(cid, set())
        return staff

    def count(self, congress_id: int, role: Role | None = None) -> int:
        conns = self.connections.get(congress_id, ())
        return len(conns) if role is None else sum(1 for c in conns if c.actor.role is role)

    def delivered_seq(self, congress_id: int) -> int | None:
        return self._delivered.get(congress_id)

    def resume(self, congress_id: int, since: int, public_only: bool) -> tuple[int, list[str]] | None:
        """(delivered seq, what the client missed) when the hub alone can answer a client holding `since`.

        Anyone holding the delivered seq itself missed nothing. An observer (public events only)
        missed only public events, and the hub keeps the last RECENT_PUBLIC of them: the usual
        reconnect storm is answered from memory. Anything else: None, read the log."""
        delivered = self._delivered.get(congress_id)
        if delivered is None or since > delivered:
            return None
        if since == delivered:
            return delivered, []
        if not public_only or since < self._recent_floor.get(congress_id, delivered):
            return None
        return delivered, [item.data for item in self._recent.get(congress_id, ()) if item.seq > since]

    def watched(self) -> list[int]:
        """The congresses someone here follows: the ones a worker must keep up to date."""
        return [cid for cid, conns in self.connections.items() if conns and cid in self._delivered]

    async def catch_up(self, congress_id: int, head: int) -> int:
        """Read from the log what was committed up to `head` and has not arrived (the backplane is down:
        other workers' events come this way); the number of events read."""
        delivered = self._delivered.get(congress_id)
        if delivered is None or head <= delivered:
            return 0
        missing = await self._fetch_missing(congress_id, delivered, head)
        self.receive(missing)  # duplicates of what arrived meanwhile are dropped by seq
        return len(missing)

    def recent_public(self, congress_id: int, after: int) -> list[Published] | None:
        """The public events after `after` from memory (with their times, for the observers' hold),
        or None when memory does not reach back that far: read the log."""
        delivered = self._delivered.get(congress_id)
        if delivered is None or after < self._recent_floor.get(congress_id, delivered):
            return None
        return [item for item in self._recent.get(congress_id, ()) if item.seq > after]

    def hold_for(self, conn: Connection, items: list[Published]) -> None:
        """Public events an observer's start left for later: its line holds them until they are due
        (a line made for this observer never saw them; one that did keeps each once)."""
        line = self._lines.get(conn.congress_id, {}).get(conn.delay_seconds)
        if line is not None and items:
            line.merge([(item.seq, item.created_at, item.data, text_frame(item.data)) for item in items])

    def notice(self, kind: str) -> None:
        """A notice from this worker or another (through the backplane), for whoever acts on it."""
        for callback in self.on_notice:
            callback(kind)

    # -- events ----------------------------------------------------------------------------------
    def receive(self, items: list[Published]) -> None:
        """Take committed events (any order, duplicates allowed) and deliver what is now in order."""
        for item in items:
            for callback in self.on_received:
                callback(item)
            cid = item.congress_id
            delivered = self._delivered.get(cid)
            if delivered is None:
                # No one here watches this congress yet; the first connection starts from the db head.
                continue
            if item.seq > delivered:
                self._pending.setdefault(cid, {})[item.seq] = item
        for cid in {item.congress_id for item in items}:
            self._drain(cid)

    def _drain(self, cid: int) -> None:
        pending = self._pending.get(cid)
        if not pending:
            return
        delivered = self._delivered[cid]
        offered = 0
        while delivered + 1 in pending:
            delivered += 1
            offered += self._deliver(pending.pop(delivered))
        self._delivered[cid] = delivered
        metrics.events_delivered(offered)  # one count for the round, not one per connection
        self._release_lines(cid)
        for seq in [s for s in pending if s <= delivered]:
            del pending[seq]
        if pending and cid not in self._gap_tasks:
            self._gap_tasks[cid] = asyncio.get_running_loop().create_task(self._fill_gap(cid))

    async def _fill_gap(self, cid: int) -> None:
        """An event is missing (its publisher is slow or died after commit): read it from the log."""
        try:
            await asyncio.sleep(GAP_WAIT_SECONDS)
            pending = self._pending.get(cid)
            if not pending:
                return
            upto = min(pending) - 1
            delivered = self._delivered[cid]
            if upto > delivered:
                missing = await self._fetch_missing(cid, delivered, upto)
                for item in missing:
                    pending.setdefault(item.seq, item)
        except Exception:  # the next event will try again; never let a gap kill the hub
            log.exception("filling a gap in congress %s failed", cid)
        finally:
            self._gap_tasks.pop(cid, None)
        self._drain(cid)

    def _deliver(self, item: Published) -> int:
        """Offer the event to every connection that may see it; how many (observers: when their line releases)."""
        frame = text_frame(item.data)  # built once, written to each connection that takes it now
        offered = 0
        if item.audience == Audience.PUBLIC:
            recent = self._recent[item.congress_id]
            recent.append(item)
            if len(recent) > RECENT_PUBLIC:
                self._recent_floor[item.congress_id] = recent.popleft().seq
            direct = self._direct.get(item.congress_id, ())
            for conn in direct:
                conn.offer(item.seq, item.data, frame)
            offered = len(direct)
            for line in self._lines.get(item.congress_id, {}).values():
                line.hold(item.seq, item.created_at, item.data, frame)
        else:
            for conn in self._candidates(item):
                if may_see(conn.actor, item.audience, item.audience_id):
                    conn.offer(item.seq, item.data, frame)
                    offered += 1
        for callback in self.on_delivered:
            callback(item)
        return offered

    def broadcast_ephemeral(self, congress_id: int, data_for: Callable[[Actor], str | None],
                            created_at: float = 0.0) -> None:
        """Coalesced state (progress, presence) that is not in the log: no seq, latest wins.

        `data_for` returns the encoded message for a kind of viewer (called once per distinct
        role/group, not per connection) or None when that viewer gets nothing. With `created_at`
        (unix time), observers behind a stream delay get it that much later, as they get events.
        """
        cache: dict[tuple[Role, int | None], tuple[str, bytes] | None] = {}

        def message_for(actor: Actor) -> tuple[str, bytes] | None:
            key = (actor.role, actor.group_id)
            if key not in cache:
                data = data_for(actor)
                cache[key] = None if data is None else (data, text_frame(data))
            return cache[key]

        for conn in self._direct.get(congress_id, ()):
            message = message_for(conn.actor)
            if message is not None:
                conn.offer(0, *message)
        for line in self._lines.get(congress_id, {}).values():
            message = message_for(next(iter(line.conns)).actor)  # a line holds observers only
            if message is not None:  # not behind the stream's delay without `created_at`
                line.hold(0, created_at or time.time() - line.delay_seconds, *message)
        self._release_lines(congress_id)

    def _release_lines(self, cid: int) -> None:
        """Observers without a stream delay get what arrived together in one round, at once."""
        for line in self._lines.get(cid, {}).values():
            if not line.delay_seconds:
                line.release()

    async def close_all(self, code: int, reason: str) -> None:
        for lines in self._lines.values():
            for line in lines.values():
                line.cancel()
        conns = [c for group in self.connections.values() for c in group]
        await asyncio.gather(*(c.close(code, reason) for c in conns), return_exceptions=True)
