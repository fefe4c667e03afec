"""The truth a rehearsal checks every client against: the server's own event log.

Two independent readings of the log, taken by the coordinator:

- the **staff ledger**: one staff connection that stays up for the whole run. Staff may see every
  event, so its seqs must be *exactly* consecutive from its first hello to the end (resumes
  included); that proves the ledger itself complete and gives every seq's type and the payloads
  the report needs (vote results, who checked in, which group a hand count is for).
- the **public log reader**: every five seconds it opens an *observer* connection with
  ``since=<cursor>`` and reads the resume backlog up to the hello's head (a ping marks the end of
  the backlog: its pong is queued behind it). The backlog is read by the server from the database
  log with the audience rule — not from the live hub that delivered the clients' events — so it
  is the set of public seqs as stored. The cursor advances to the head; pages are far smaller than
  the server's resume window (5,000 events). A page answered with a fresh snapshot would leave a
  hole in the truth, and is reported as a failure.

Then every client's received seqs are compared with the truth over the *intervals* it held (see
`client.Peer`): expected = public seqs inside its intervals (the last interval always runs to the
final marker event, so a client that never caught up shows its missing events as lost); lost =
expected − received; duplicated = seqs received more than once (a resume that repeated an event
counts here); leaked = for an observer anything not public, for a delegate any staff-only type.
Delegates are also held to the private events the ledger can attribute: their own
``attendance.checked_in``, their group's ``group_count.entered``, and a ``ballot.recorded`` for
every ballot acknowledged to them.
"""

from __future__ import annotations

import asyncio
import json
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from websockets.asyncio.client import connect

STAFF_ONLY_TYPES = frozenset({"vote.created", "vote.tallied", "access_codes.issued", "proposal.category_suggested",
                              "proposal.misassigned"})

# Which command caused a public event: (event type) -> payload field naming the thing acted on.
CAUSE_KEYS = {
    "attendance.changed": "present",  # the check_in ack carries the same 实到 count
    "vote.opened": "id",
    "vote.closed": "vote_id",
    "vote.certified": "vote_id",
    "vote.published": "vote_id",
    "proposal.submitted": "id",
    "proposal.decided": "id",
    "proposal.assigned": "id",
    "agenda.current_changed": "item_id",
    "stream.set": "url",
}


class StaffLedger:
    """Fed by the staff connection's events (`record` is its on_event hook)."""

    def __init__(self) -> None:
        self.types: dict[int, str] = {}
        self.keys: dict[int, tuple[str, Any]] = {}
        self.group_events: dict[int, int] = {}  # seq of group_count.entered -> group id
        self.checked_in: dict[int, int] = {}  # seq of attendance.checked_in -> delegate id
        self.published: dict[int, dict[str, Any]] = {}  # vote id -> published result
        self.at: dict[int, float] = {}  # seq -> the event's server time (`at`), unix seconds
        self.repeats = 0

    def record(self, _peer: Any, message: dict[str, Any]) -> None:
        if message.get("msg") != "event":
            return
        seq, etype, payload = int(message["seq"]), str(message["type"]), message.get("payload") or {}
        if seq in self.types:
            self.repeats += 1
        self.types[seq] = etype
        try:
            self.at[seq] = datetime.fromisoformat(str(message.get("at"))).timestamp()
        except ValueError:
            pass
        field = CAUSE_KEYS.get(etype)
        if field is not None:
            self.keys[seq] = (etype, payload.get(field))
        if etype == "group_count.entered":
            self.group_events[seq] = int(payload["group_id"])
        elif etype == "attendance.checked_in":
            self.checked_in[seq] = int(payload["delegate_id"])
        elif etype == "vote.published":
            self.published[int(payload["vote_id"])] = payload.get("result") or {}

    def gaps(self, start: int, end: int) -> list[int]:
        """Seqs in (start, end] the staff connection never received: must be none."""
        return [s for s in range(start + 1, end + 1) if s not in self.types]


class PublicLog:
    """The public seqs as the server's log holds them, read page by page through resume backlogs."""

    def __init__(self, ws_url: str, congress_id: int, compression: str | None) -> None:
        self.ws_url, self.congress_id, self.compression = ws_url, congress_id, compression
        self.cursor = 0
        self.public: dict[int, str] = {}
        self.pages = 0
        self.holes: list[tuple[int, int]] = []  # ranges answered with a snapshot: truth unknown there
        self.anomalies: list[str] = []
        self.failures = 0

    async def page(self) -> int:
        """One page: the backlog after the cursor, to the pong of a ping sent after the hello (the
        backlog is queued before it). An observer's resume hello carries `since`, not the head (its
        events are held back by the stream's hold, congress.application.observer_start): the events read
        are the page, and the cursor moves to the last of them."""
        url = f"{self.ws_url}?congress={self.congress_id}&since={self.cursor}"
        async with connect(url, compression=self.compression, open_timeout=90, ping_interval=None,
                           max_size=2**26, close_timeout=5) as ws:
            hello = json.loads(await ws.recv())
            if hello.get("msg") != "hello":
                raise RuntimeError(f"log reader refused: {hello}")
            head = int(hello["seq"])
            if not hello.get("resumed"):  # answered with a snapshot: what lies before it is unknown
                if head > self.cursor:
                    self.holes.append((self.cursor, head))
                self.cursor = max(self.cursor, head)
            await ws.send('{"op":"ping","id":"log-reader"}')
            last = self.cursor
            async for raw in ws:
                message = json.loads(raw)
                kind = message.get("msg")
                if kind in ("event", "events"):
                    for event in message["events"] if kind == "events" else [message]:
                        seq = int(event["seq"])
                        if seq <= last:
                            self.anomalies.append(f"backlog out of order at {seq}")
                        last = max(last, seq)
                        self.public[seq] = str(event.get("type"))
                elif kind == "pong":
                    break
            self.pages += 1
            self.cursor = last
            return last

    async def follow(self, stop: asyncio.Event, every: float = 5.0) -> None:
        while not stop.is_set():
            try:
                await self.page()
            except Exception as exc:  # a busy server: try again next time; the cursor did not move
                self.failures += 1
                if self.failures > 50:
                    self.anomalies.append(f"log reader keeps failing: {exc!r}")
                    return
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                pass

    async def read_to(self, target: int, attempts: int = 30) -> None:
        for _ in range(attempts):
            try:
                if await self.page() >= target:
                    return
            except Exception as exc:
                self.anomalies.append(f"final page failed: {exc!r}")
            await asyncio.sleep(0.5)


def expected_in(intervals: Iterable[tuple[int, int]], ordered: list[int], marker: int) -> set[int]:
    """Members of the sorted list `ordered` that fall inside any (start, end] interval, up to `marker`."""
    found: set[int] = set()
    for start, end in intervals:
        found.update(ordered[bisect_right(ordered, start):bisect_right(ordered, min(end, marker))])
    return found


def within(seq: int, intervals: Iterable[tuple[int, int]]) -> bool:
    return any(start < seq <= end for start, end in intervals)


def check_client(seqs: Iterable[int], intervals: list[list[int]], public: list[int], public_set: set[int],
                 marker: int, staff_types: dict[int, str], *, observer: bool,
                 private: Iterable[int] = ()) -> dict[str, Any]:
    """One client's stream against the truth (see the module doc); `private`: seqs of non-public
    events this client must also hold if they fall inside its intervals."""
    spans = [(s, e) for s, e in intervals]
    if spans:
        spans[-1] = (spans[-1][0], max(spans[-1][1], marker))  # it had to follow to the very end
    counts = Counter(seqs)
    received = {s for s in counts if s <= marker}
    expected = expected_in(spans, public, marker)
    expected.update(s for s in private if within(s, spans))
    lost = expected - received
    if observer:
        leaked = received - public_set
    else:
        leaked = {s for s in received if staff_types.get(s) in STAFF_ONLY_TYPES}
    return {
        "expected": len(expected),
        "received": len(received),
        "lost": sorted(lost),
        "duplicated": sum(c - 1 for c in counts.values() if c > 1),
        "duplicated_seqs": sorted(s for s, c in counts.items() if c > 1)[:5],
        "leaked": sorted(leaked),
        "unknown": sorted(s for s in received if s not in staff_types)[:5],
    }
