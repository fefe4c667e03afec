"""Requests to speak (发言申请) on the current agenda item, and the floor.

Who has the floor is public (observers see the speaker, like everyone in the hall). The waiting
list is the presidium's working list: staff see it whole, each delegate sees their own request.
It is not public because staff may reorder it and a request is not a promise of the floor.

A request is for the item it was made on, and it stays waiting when staff move the agenda on:
moving the agenda is a quick, undoable step (staff go to a vote's item and come back), so it must
not throw away what delegates asked for. Staff see such requests listed under their item and may
still give the floor or take a request off the list; a delegate sees their request under its item.
Only a person ends a request, and a delegate whose request staff take off is told
(`speech.removed`), never left to find it gone.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.actions.base import Context
from congress.actions.rooms import same_congress
from congress.db.models import AgendaItem, Congress, SpeechRequest
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience, Role
from congress.domain.permissions import Permission
from congress.reads.speakers import DONE, SPEAKING, WAITING, WITHDRAWN, floor_json, request_json, speaking_now

MAX_TOPIC_CHARS = 300
MAX_SECONDS_ALLOWED = 3600



def _request(ctx: Context, congress_id: int, request_id: int) -> SpeechRequest:
    request = ctx.session.get(SpeechRequest, request_id)
    if request is None or request.congress_id != congress_id:
        raise DomainError("not_found", f"找不到发言申请（编号 {request_id}）")
    return request


def _waiting(session: Session, congress_id: int, agenda_item_id: int | None) -> list[SpeechRequest]:
    return list(session.scalars(sa.select(SpeechRequest).where(
        SpeechRequest.congress_id == congress_id, SpeechRequest.agenda_item_id == agenda_item_id,
        SpeechRequest.status == WAITING).order_by(SpeechRequest.position, SpeechRequest.id)))



def request_to_speak(ctx: Context, congress_id: int, topic: str | None = None) -> dict[str, Any]:
    """A delegate asks for the floor on the current item; one waiting request per item."""
    ctx.actor.require(Permission.REQUEST_TO_SPEAK)
    same_congress(ctx, congress_id)
    # Locked: two workers cannot both find "no waiting request yet" for the same delegate
    congress = ctx.session.scalar(sa.select(Congress).where(Congress.id == congress_id).with_for_update())
    if congress is None:
        raise DomainError("no_such_congress", f"没有编号为 {congress_id} 的职代会")
    item_id = congress.current_agenda_item_id
    if item_id is None:
        raise DomainError("no_current_item", "当前没有进行中的议程，不能申请发言")
    topic = (topic or "").strip()
    if len(topic) > MAX_TOPIC_CHARS:
        raise DomainError("bad_field", f"发言题目不能超过 {MAX_TOPIC_CHARS} 字", params={"field": "topic"})
    delegate_id = ctx.actor.delegate_id
    waiting = _waiting(ctx.session, congress_id, item_id)
    if any(r.delegate_id == delegate_id for r in waiting):
        raise DomainError("already_requested", "您已申请在这项议程发言，请等待安排")
    position = ctx.next_number(congress_id, SpeechRequest.position, SpeechRequest.agenda_item_id == item_id)
    request = SpeechRequest(congress_id=congress_id, agenda_item_id=item_id, delegate_id=delegate_id,
                            topic=topic, position=position, status=WAITING, requested_at=ctx.now)
    ctx.session.add(request)
    ctx.session.flush()
    data = request_json(ctx.session, request)
    ctx.emit(congress_id, "speech.requested", data, Audience.DELEGATE, delegate_id)
    return data


def withdraw_speech_request(ctx: Context, congress_id: int, request_id: int) -> dict[str, Any]:
    """The delegate withdraws their waiting request (`speech.withdrawn`), on any item; staff may
    take one off the list too, and then the delegate is told (`speech.removed`)."""
    # Permission first, before anything is looked up; a delegate withdraws only their own request
    ctx.actor.require(Permission.REQUEST_TO_SPEAK if ctx.actor.role is Role.DELEGATE else Permission.MANAGE_SPEAKERS)
    request = _request(ctx, congress_id, request_id)
    is_own = ctx.actor.role is Role.DELEGATE and ctx.actor.delegate_id == request.delegate_id
    if not is_own:
        ctx.actor.require(Permission.MANAGE_SPEAKERS)
    if request.status != WAITING:
        raise DomainError("not_waiting", "这份发言申请不在等候中")
    request.status, request.ended_at = WITHDRAWN, ctx.now
    data = request_json(ctx.session, request)
    if is_own:
        ctx.emit(congress_id, "speech.withdrawn", data, Audience.DELEGATE, request.delegate_id)
    else:
        item = ctx.session.get(AgendaItem, request.agenda_item_id) if request.agenda_item_id else None
        data = {**data, "agenda_item_title": item.title if item else None, "removed_by": ctx.actor.name}
        ctx.emit(congress_id, "speech.removed", data, Audience.DELEGATE, request.delegate_id)
    return data


def order_speakers(ctx: Context, congress_id: int, order: list[Any]) -> dict[str, Any]:
    """Staff set the order of the current item's waiting list: the listed requests first, as given."""
    ctx.actor.require(Permission.MANAGE_SPEAKERS)
    congress = ctx.get(Congress, congress_id, "职代会")
    waiting = _waiting(ctx.session, congress_id, congress.current_agenda_item_id)
    by_id = {r.id: r for r in waiting}
    if any(not isinstance(i, int) or isinstance(i, bool) for i in order) or len(set(order)) != len(order):
        raise DomainError("bad_field", "order 应为当前议程等候发言的申请编号，且不重复", params={"field": "order"})
    for request_id in order:
        if request_id not in by_id:  # this congress's request, not in the queue; or none of this congress
            if ctx.session.scalar(sa.select(SpeechRequest.id).where(SpeechRequest.id == request_id,
                                                                   SpeechRequest.congress_id == congress_id)):
                raise DomainError("bad_field", "order 应为当前议程等候发言的申请编号，且不重复", params={"field": "order"})
            raise DomainError("not_found", f"找不到发言申请（编号 {request_id}）")
    ordered = [by_id[i] for i in order] + [r for r in waiting if r.id not in set(order)]
    for position, request in enumerate(ordered, start=1):
        request.position = position
    payload = {"agenda_item_id": congress.current_agenda_item_id, "order": [r.id for r in ordered]}
    ctx.emit(congress_id, "speakers.ordered", payload, Audience.DELEGATES)  # ids only: delegates see their place
    return payload


def _end_current(ctx: Context, congress_id: int) -> dict[str, Any] | None:
    current = speaking_now(ctx.session, congress_id)
    if current is None:
        return None
    current.status, current.ended_at = DONE, ctx.now
    payload = {"request_id": current.id, "delegate_id": current.delegate_id,
               "agenda_item_id": current.agenda_item_id, "ended_at": ctx.now.isoformat()}
    ctx.emit(congress_id, "speaker.ended", payload)
    return payload


def give_floor(ctx: Context, congress_id: int, request_id: int, seconds_allowed: int | None = None
               ) -> dict[str, Any]:
    """The delegate of a waiting request speaks now; whoever spoke before is ended."""
    ctx.actor.require(Permission.MANAGE_SPEAKERS)
    request = _request(ctx, congress_id, request_id)
    if request.status != WAITING:
        raise DomainError("not_waiting", "这份发言申请不在等候中")
    if seconds_allowed is not None and not 0 < seconds_allowed <= MAX_SECONDS_ALLOWED:
        raise DomainError("bad_field", f"发言时长应为 1–{MAX_SECONDS_ALLOWED} 秒",
                          params={"field": "seconds_allowed"})
    _end_current(ctx, congress_id)
    request.status, request.started_at, request.seconds_allowed = SPEAKING, ctx.now, seconds_allowed
    ctx.session.flush()
    data = floor_json(ctx.session, request)
    ctx.emit(congress_id, "speaker.floor_given", data)
    return data


def end_speech(ctx: Context, congress_id: int) -> dict[str, Any]:
    ctx.actor.require(Permission.MANAGE_SPEAKERS)
    ended = _end_current(ctx, congress_id)
    if ended is None:
        raise DomainError("no_speaker", "当前没有人在发言")
    return ended




REQUEST = (Key("id", int), Key("agenda_item_id", int), Key("delegate_id", int), Key("name", str), Key("group_id", int),
           Key("group", str), Key("topic", str), Key("position", int), Key("status", str), Key("requested_at", str))
FLOOR = Obj((Key("request_id", int), Key("delegate_id", int), Key("name", str), Key("group_id", int),
             Key("group", str), Key("agenda_item_id", int), Key("topic", str), Key("seconds_allowed", int),
             Key("started_at", str)))
ENDED = Obj((Key("request_id", int), Key("delegate_id", int), Key("agenda_item_id", int), Key("ended_at", str)))

COMMANDS: tuple[Command, ...] = (
    Command("request_to_speak", request_to_speak, (Param("topic", str, False, doc="发言题目"),),
            "申请在当前议程发言",
            result=Obj(REQUEST, "a waiting request on the current item, which stays waiting on that item when the "
                                "agenda moves on; one waiting request per delegate per item"),
            errors=("already_requested", "bad_field", "no_current_item"), permissions=(Permission.REQUEST_TO_SPEAK,)),
    Command("withdraw_speech_request", withdraw_speech_request, (Param("request_id", int),),
            "撤回发言申请（工作人员移出时通知代表本人）",
            result=Obj((*REQUEST, Key("agenda_item_title", str, "staff removing it", False),
                        Key("removed_by", str, "staff removing it", False)),
                       "the requester's own: `speech.withdrawn`; staff taking a delegate's request off the list: "
                       "`speech.removed`, which tells the delegate"),
            errors=("not_found", "not_waiting"), permissions=(Permission.REQUEST_TO_SPEAK, Permission.MANAGE_SPEAKERS),
            who="the requester, or staff"),
    Command("order_speakers", order_speakers,
            (Param("order", list, doc="申请编号，按发言顺序", shape=ListOf(int, "waiting request ids")),),
            "安排发言顺序",
            result=Obj((Key("agenda_item_id", int), Key("order", ListOf(int))),
                       "the listed waiting requests first, in that order; the others keep theirs after them"),
            errors=("bad_field", "not_found"), permissions=(Permission.MANAGE_SPEAKERS,)),
    Command("give_floor", give_floor, (Param("request_id", int), Param("seconds_allowed", int, False, doc="1–3600")),
            "请代表发言（结束上一位的发言）", result=Obj(FLOOR.keys, "ends the current speaker, if any"),
            errors=("bad_field", "not_found", "not_waiting"), permissions=(Permission.MANAGE_SPEAKERS,)),
    Command("end_speech", end_speech, (), "结束当前发言", result=ENDED,
            errors=("no_speaker",), permissions=(Permission.MANAGE_SPEAKERS,)),
)
