"""The replay's timeline: what an observer saw at each moment of the congress, from the event log.

The replay page plays the recording and, at the picture's moment (hls.js `playingDate`), shows the
agenda, the current item and the vote results as they were then: the last moment with `at` at or
before that time. Pure: public events in, a JSON-ready timeline out.

Only PUBLIC events are read (the caller selects them), so the timeline says nothing an observer
could not have seen live: a vote appears when it is opened (drafts are staff-only), and its result
only with `vote.published` — a sealed vote's totals, or an open vote's tally, never before.

Shape (docs/api.md, "timeline.json"): the items and votes once, by id, and the moments as small
records that refer to them, so a congress with many results does not repeat them per moment:

    {"items": {"3": {id, kind, title, description, names}},
     "votes": {"5": {id, agenda_item_id, title, is_secret, questions, ..., "result"?, "certified_by"}},
     "moments": [{"at": ISO, "seq": n, "type": "vote.published", "current_item_id": 3,
                  "agenda": [{"id": 3, "status": "current"}, ...],
                  "votes": [{"id": 5, "status": "published"}, ...]}, ...]}
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

# The public events that change what the observer page's agenda, current item and results show.
TIMELINE_TYPES = ("agenda.item_added", "agenda.reordered", "agenda.current_changed", "vote.opened",
                  "vote.closed", "vote.certified", "vote.published", "vote.cancelled")
ITEM_FIELDS = ("id", "kind", "title", "description", "names")
# What the observer page needs of a vote to show it (results.js voteResult, trustees.js isAwaitingTrustees).
VOTE_FIELDS = ("id", "agenda_item_id", "round", "title", "is_secret", "questions", "opened_at")


class LogEntry(Protocol):
    seq: int
    type: str
    payload: Any
    created_at: datetime


def timeline_from_events(events: Iterable[LogEntry]) -> dict[str, Any]:
    """The timeline of a log's public events, in seq order; events of other types are skipped."""
    items: dict[int, dict[str, Any]] = {}
    order: list[int] = []  # agenda item ids in agenda order
    status: dict[int, str] = {}  # agenda item id -> pending | current | done
    current: int | None = None
    votes: dict[int, dict[str, Any]] = {}
    vote_status: dict[int, str] = {}  # in the order the votes were opened
    moments: list[dict[str, Any]] = []
    for event in events:
        if event.type not in TIMELINE_TYPES:
            continue
        p: dict[str, Any] = event.payload or {}
        if event.type == "agenda.item_added":
            item_id = int(p["id"])
            items[item_id] = {k: p.get(k) for k in ITEM_FIELDS}
            if item_id not in order:
                order.append(item_id)
            status[item_id] = str(p.get("status") or "pending")
        elif event.type == "agenda.reordered":
            known = [int(i) for i in p.get("order", []) if int(i) in items]
            order = known + [i for i in order if i not in known]
        elif event.type == "agenda.current_changed":
            new = None if p.get("item_id") is None else int(p["item_id"])
            if current is not None and current != new and current in status:
                status[current] = "done"  # as set_current_item does: the previous item is done
            current = new
            if new is not None and new in status:
                status[new] = "current"
        elif event.type == "vote.opened":
            vote_id = int(p["id"])
            votes[vote_id] = {k: p.get(k) for k in VOTE_FIELDS} | {"certified_by": None}
            vote_status[vote_id] = "open"
        else:
            vote_id = int(p.get("vote_id", 0))
            if vote_id not in votes:  # a vote opened before the log began, or not public: skip it
                continue
            if event.type == "vote.closed":
                vote_status[vote_id] = "closed"
                votes[vote_id]["closed_at"] = p.get("at")
            elif event.type == "vote.certified":
                votes[vote_id]["certified_by"] = p.get("certified_by")
            elif event.type == "vote.published":
                vote_status[vote_id] = "published"
                votes[vote_id].update(result=p.get("result"), certified_by=p.get("certified_by"),
                                      published_at=event.created_at.isoformat())
            elif event.type == "vote.cancelled":
                vote_status[vote_id] = "cancelled"
        moments.append({
            "at": event.created_at.isoformat(), "seq": event.seq, "type": event.type,
            "current_item_id": current,
            "agenda": [{"id": i, "status": status[i]} for i in order],
            "votes": [{"id": v, "status": s} for v, s in vote_status.items()],
        })
    return {"items": {str(k): v for k, v in items.items()}, "votes": {str(k): v for k, v in votes.items()},
            "moments": moments}


def moment_at(timeline: dict[str, Any], at: datetime) -> dict[str, Any] | None:
    """The moment showing at `at`: the last one at or before it; None before the first.
    (The page does the same in replay.js; this is its reference for the tests.)"""
    shown = None
    for moment in timeline["moments"]:
        if datetime.fromisoformat(moment["at"]) > at:
            break
        shown = moment
    return shown
