"""The replay's chapters: `GET /api/congresses/{id}/chapters.vtt`, a WebVTT chapters track built
from the event log — each agenda item made current, each vote opened, each result published.

Times are relative to the first event of the congress, or to `?start=ISO` (the moment the
recording began); chapters before that moment are left out. A chapter lasts until the next one;
the last lasts until `?end=ISO`, or until the last event of the log, and at least a minute.
`?lang=en` gives English chapter titles. Only public events are read, so the file says nothing an
observer could not have seen; it is served to whoever may watch the congress.

Beside it, `GET /api/congresses/{id}/timeline.json` (congress.streaming.timeline): the state after
each public event, for the replay page to show the agenda and results as they were at the moment
the picture shows. Both read the log through `_read_log`: the same access rule (the observers' watch
rule; a signed-in delegate only their own congress) and, for anonymous readers, the stream's hold —
nothing younger than `congress.stream_delay_seconds` — so neither file tells an observer a result
before their picture reaches it (docs/streaming.md, "The replay").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from congress.application.auth import SESSION_COOKIE, actor_for_session, find_session
from congress.application.watching import WATCH_HEADER
from congress.db.models import Congress, Event
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience
from congress.routes.api import STATUS
from congress.streaming.timeline import TIMELINE_TYPES, timeline_from_events

CHAPTER_TYPES = ("agenda.item_added", "agenda.current_changed", "vote.opened", "vote.published")
MIN_LAST_CHAPTER = timedelta(minutes=1)
LABELS = {
    "zh-CN": {"item": "议程：{}", "opened": "表决开始：{}", "published": "结果公布：{}", "vote": "表决 {}"},
    "en": {"item": "Agenda: {}", "opened": "Vote opened: {}", "published": "Result published: {}", "vote": "Vote {}"},
}


@dataclass(frozen=True, slots=True)
class Chapter:
    at: datetime
    title: str


def chapters_from_events(events: list[Event], lang: str = "zh-CN") -> list[Chapter]:
    """The chapters of a log, in order. Pure: events in, chapters out."""
    words = LABELS.get(lang, LABELS["zh-CN"])
    items: dict[int, str] = {}
    votes: dict[int, str] = {}
    chapters: list[Chapter] = []
    for event in events:
        payload: dict[str, Any] = event.payload or {}
        if event.type == "agenda.item_added":
            items[int(payload["id"])] = str(payload.get("title", ""))
        elif event.type == "agenda.current_changed" and payload.get("item_id") is not None:
            item_id = int(payload["item_id"])
            chapters.append(Chapter(event.created_at, words["item"].format(items.get(item_id, f"#{item_id}"))))
        elif event.type == "vote.opened":
            votes[int(payload["id"])] = str(payload.get("title", ""))
            chapters.append(Chapter(event.created_at, words["opened"].format(payload.get("title", ""))))
        elif event.type == "vote.published":
            vote_id = int(payload["vote_id"])
            title = votes.get(vote_id) or words["vote"].format(vote_id)
            outcome = "；".join(str(q.get("words", "")) for q in (payload.get("result") or {}).get("questions", [])
                               if q.get("words"))
            text = words["published"].format(title)
            chapters.append(Chapter(event.created_at, f"{text}\n{outcome}" if outcome else text))
    return chapters


def _timestamp(delta: timedelta) -> str:
    total_ms = max(0, round(delta.total_seconds() * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}"


def _cue_text(text: str) -> str:
    """Cue payload: no blank lines, no "-->", and &, < and > escaped as WebVTT requires."""
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()]
    escaped = "\n".join(lines).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("-->", "--&gt;")


def render_vtt(chapters: list[Chapter], start: datetime, end: datetime) -> str:
    kept = [c for c in chapters if c.at >= start]
    out = ["WEBVTT", "Kind: chapters", ""]
    for index, chapter in enumerate(kept):
        stop = kept[index + 1].at if index + 1 < len(kept) else max(end, chapter.at + MIN_LAST_CHAPTER)
        if stop <= chapter.at:  # two chapters in the same instant: the later one carries the moment
            stop = chapter.at + timedelta(milliseconds=1)
        out += [f"chapter-{index + 1}", f"{_timestamp(chapter.at - start)} --> {_timestamp(stop - start)}",
                _cue_text(chapter.title) or "-", ""]
    return "\n".join(out)


def _parse_time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DomainError("bad_field", f"{name} 不是有效的时间（ISO 8601，例如 2026-12-01T08:30:00+08:00）",
                          params={"field": name}) from exc
    if parsed.tzinfo is None:
        raise DomainError("bad_field", f"{name} 需要带时区，例如 +08:00", params={"field": name})
    return parsed


@dataclass(frozen=True, slots=True)
class _Log:
    first: datetime | None  # the first and last event of the congress (any audience), as the reader may see
    last: datetime | None
    events: list[Event]  # the public events of the types asked for, in seq order


def _read_log(request: Request, types: tuple[str, ...]) -> _Log:
    """The congress's public events of `types`, for whoever may watch it. Raises DomainError."""
    service = request.app.state.service
    congress_id = int(request.path_params["congress_id"])
    params = request.query_params
    with service.db.read() as session:
        gate = service.watch_gate
        ticket = gate.ticket(congress_id)
        congress = session.get(Congress, congress_id)
        if congress is None:
            raise DomainError("no_such_congress", f"没有编号为 {congress_id} 的职代会")
        row = find_session(session, request.cookies.get(SESSION_COOKIE), service.clock())
        signed_in = row is not None
        if row is not None and (actor := actor_for_session(session, row)) is not None:
            actor.require_congress(congress_id)  # a delegate reads only their own congress (docs/api.md)
        if not signed_in:  # the observers' rule, as for the websocket and the API (congress.application.watching)
            gate.admit(gate.learn(session, congress, ticket),
                       params.get("watch") or request.headers.get(WATCH_HEADER),
                       request.client.host if request.client else None)
        # Observers' picture is late by the stream's delay: what they read here must not run ahead of it.
        held = [] if signed_in or not congress.stream_delay_seconds else [
            Event.created_at <= service.clock() - timedelta(seconds=congress.stream_delay_seconds)]
        first, last = session.execute(sa.select(sa.func.min(Event.created_at), sa.func.max(Event.created_at))
                                      .where(Event.congress_id == congress_id, *held)).one()
        events = list(session.scalars(sa.select(Event).where(
            Event.congress_id == congress_id, Event.audience == Audience.PUBLIC.value,
            Event.type.in_(types), *held).order_by(Event.seq)))
    return _Log(first, last, events)


async def _answer(work: Callable[[], Response]) -> Response:
    try:
        return await anyio.to_thread.run_sync(work)
    except DomainError as error:
        status = STATUS.get(error.code, 400)
        return JSONResponse({"error": error.reply()}, status_code=status)


async def chapters(request: Request) -> Response:
    params = request.query_params
    lang = "en" if params.get("lang", "").lower().startswith("en") else "zh-CN"

    def work() -> Response:
        start, end = _parse_time(params.get("start"), "start"), _parse_time(params.get("end"), "end")
        log = _read_log(request, CHAPTER_TYPES)
        if log.first is None or log.last is None:
            body = "WEBVTT\nKind: chapters\n"
        else:
            body = render_vtt(chapters_from_events(log.events, lang), start or log.first, end or log.last)
        return Response(body, media_type="text/vtt; charset=utf-8", headers={"Cache-Control": "no-cache"})

    return await _answer(work)


async def timeline(request: Request) -> Response:
    def work() -> Response:
        body = timeline_from_events(_read_log(request, TIMELINE_TYPES).events)
        return JSONResponse(body, headers={"Cache-Control": "no-cache"})

    return await _answer(work)


routes = [Route("/api/congresses/{congress_id:int}/chapters.vtt", chapters),
          Route("/api/congresses/{congress_id:int}/timeline.json", timeline)]
