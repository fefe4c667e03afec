"""An observer's start (websocket hello, resume, GET state): never anything younger than the hold H.

Everything an observer reads first comes from here: the snapshot from the app's ObserverHistory as
of min(as_of, now - H), then the public events after it that are at least H old. Public events not
yet H old are left to the observer's line (the hub's `hold_for` makes sure the line holds them: a
line made for this observer knew nothing of them). docs/streaming.md "Each viewer in step".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio
import sqlalchemy as sa

from congress.application.auth import observer_actor
from congress.application.service import Service, to_published
from congress.db.models import Event
from congress.domain.kinds import Audience
from congress.domain.time import iso
from congress.live.hub import Hub, Published, encode
from congress.live.observer_history import ObserverHistory
from congress.reads.snapshot import build_snapshot, head_seq


@dataclass(frozen=True, slots=True)
class Start:
    seq: int  # the snapshot's seq (a resume: `since`); `events` follow it
    last: int  # the seq held after `events`
    events: list[Published]  # due: H old or older, in seq order
    later: list[Published]  # public events not yet due, for the line to hold
    snapshot: str | None  # encoded; None for a resume
    shows: float  # unix time of the moment the reader is shown (snapshot or resume)
    is_oldest: bool  # `as_of` was older than the history: the oldest kept was given instead


def parse_as_of(value: str | None) -> float | None:
    """`as_of` as unix seconds (a number) or an ISO 8601 time with its zone; ValueError otherwise."""
    if value in (None, ""):
        return None
    assert value is not None
    try:
        return float(value)
    except ValueError:
        pass
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("as_of needs a time zone (…Z or +08:00)")
    return moment.timestamp()


def read_snapshot(service: Service, congress_id: int) -> tuple[int, float, str]:
    """(head seq, its event's created_at, the observer snapshot encoded), in one transaction."""
    with service.db.read() as session:
        if not service.db.is_sqlite:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        head = head_seq(session, congress_id) or 0
        created = session.scalar(sa.select(Event.created_at).where(Event.congress_id == congress_id,
                                                                   Event.seq == head)) if head else None
        snapshot = build_snapshot(session, congress_id, observer_actor(congress_id))
        return head, created.timestamp() if created is not None else 0.0, encode(snapshot)


def _public_after(service: Service, congress_id: int, after: int) -> list[Published]:
    with service.db.read() as session:
        rows = session.scalars(sa.select(Event).where(Event.congress_id == congress_id, Event.seq > after,
                                                      Event.audience == Audience.PUBLIC).order_by(Event.seq))
        return [to_published(e) for e in rows]


async def public_after(service: Service, hub: Hub, congress_id: int, after: int) -> list[Published]:
    """Public events after `after`: from the hub's memory when it has them all, else the log."""
    recent = hub.recent_public(congress_id, after)
    if recent is not None:
        return recent
    return await anyio.to_thread.run_sync(_public_after, service, congress_id, after)


async def observer_start(service: Service, history: ObserverHistory, congress_id: int, *, hold: float,
                         since: int | None = None, as_of: float | None = None,
                         window: int = 5000) -> Start:
    hub = service.hub
    if since is not None and since >= 0:
        delivered = hub.delivered_seq(congress_id)
        events = await public_after(service, hub, congress_id, since)
        if (delivered is None or since <= delivered) and len(events) <= window:
            return _split(since, events, None, time.time() - hold, time.time() - hold, False)
    taken, is_oldest = await history.as_of(congress_id, time.time() if as_of is None else as_of, hold)
    events = await public_after(service, hub, congress_id, taken.seq)
    return _split(taken.seq, events, taken.snapshot, taken.shows_from, time.time() - hold, is_oldest)


def _split(seq: int, events: list[Published], snapshot: str | None, shows: float, limit: float,
           is_oldest: bool) -> Start:
    """Events H old or older go now; the younger ones wait on the line."""
    due = [e for e in events if e.created_at <= limit]
    later = [e for e in events if e.created_at > limit]
    return Start(seq, due[-1].seq if due else seq, due, later, snapshot, shows, is_oldest)


def hello_text(start: Start, hello: dict[str, Any], hold: float) -> str:
    """The observer's hello, encoded around the shared snapshot string (not parsed again per observer)."""
    fields = {**hello, "seq": start.seq, "held_seconds": hold, "shows": iso(start.shows)}
    if start.snapshot is None:
        return encode(fields)
    if start.is_oldest:
        fields["as_of_too_old"] = True
    return encode({**fields, "snapshot": None})[:-len('"snapshot":null}')] + '"snapshot":' + start.snapshot + "}"


def state_text(start: Start, hold: float) -> str:
    """GET …/state for an anonymous reader: the held snapshot and the due events after it."""
    head = encode({"seq": start.seq, "last_seq": start.last, "role": "observer", "held_seconds": hold, "shows": iso(start.shows),
                   "as_of_too_old": start.is_oldest, "snapshot": None})
    return (head[:-len('"snapshot":null}')] + '"snapshot":' + (start.snapshot or "null")
            + ',"events":[' + ",".join(e.data for e in start.events) + "]}")
