"""Group review opinions (审议意见): each group's leader drafts the group's opinion on a report,
quoting messages of the group's room, and submits it to the presidium; staff read all groups'
opinions side by side and record how each was handled.

A draft and a submitted opinion are group business (Audience.GROUP; staff see group events
anyway). After submission the opinion is read-only for the group.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.actions.base import Context
from congress.actions.rooms import same_congress
from congress.db.models import AgendaItem, Group, GroupOpinion, Message
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience
from congress.domain.permissions import Permission
from congress.reads.opinions import opinion_json
from congress.reads.rooms import is_hidden

MAX_OPINION_CHARS = 10000
MAX_QUOTES = 50
# How the presidium handled an opinion (处理情况)
HANDLINGS = ("已采纳", "部分采纳", "已作解释说明", "转有关部门研究办理", "暂不采纳")



def _item(ctx: Context, congress_id: int, agenda_item_id: int) -> AgendaItem:
    item = ctx.session.get(AgendaItem, agenda_item_id)
    if item is None or item.congress_id != congress_id:
        raise DomainError("not_found", f"本次职代会没有这项议程（编号 {agenda_item_id}）")
    return item


def _leader_group(ctx: Context, congress_id: int) -> int:
    """Only a group's leader drafts and submits, and only for their own group."""
    ctx.actor.require(Permission.SUBMIT_GROUP_OPINION, group_id=ctx.actor.group_id)
    same_congress(ctx, congress_id)
    assert ctx.actor.group_id is not None
    return ctx.actor.group_id


def _find(session: Session, group_id: int, agenda_item_id: int) -> GroupOpinion | None:
    return session.scalar(sa.select(GroupOpinion).where(GroupOpinion.group_id == group_id,
                                                        GroupOpinion.agenda_item_id == agenda_item_id))


def _quoted_ids(ctx: Context, congress_id: int, group_id: int, ids: list[Any]) -> list[int]:
    """Quoted messages must be visible messages of this group's own room."""
    if any(not isinstance(i, int) or isinstance(i, bool) for i in ids):
        raise DomainError("bad_field", "字段 quoted_message_ids 应为消息编号列表",
                          params={"field": "quoted_message_ids"})
    unique = list(dict.fromkeys(ids))
    if len(unique) > MAX_QUOTES:
        raise DomainError("bad_field", f"最多引用 {MAX_QUOTES} 条发言", params={"field": "quoted_message_ids"})
    rows = {m.id: m for m in ctx.session.scalars(sa.select(Message).where(Message.id.in_(unique)))} if unique else {}
    for message_id in unique:
        message = rows.get(message_id)
        if message is None or message.congress_id != congress_id or message.group_id != group_id:
            raise DomainError("not_found", f"本组讨论区没有这条消息（编号 {message_id}）")
        if is_hidden(message):
            raise DomainError("bad_field", f"消息 {message_id} 已被隐藏，不能引用",
                              params={"field": "quoted_message_ids"})
    return unique


def _text(name: str, value: str, field: str) -> str:
    if len(value) > MAX_OPINION_CHARS:
        raise DomainError("bad_field", f"{name}不能超过 {MAX_OPINION_CHARS} 字", params={"field": field})
    return value.strip()


def save_opinion(ctx: Context, congress_id: int, agenda_item_id: int, agreement: str | None = None,
                 suggestions: str | None = None, objections: str | None = None,
                 quoted_message_ids: list[Any] | None = None) -> dict[str, Any]:
    """Create or update the group's draft; fields left out keep their value."""
    group_id = _leader_group(ctx, congress_id)
    _item(ctx, congress_id, agenda_item_id)
    opinion = _find(ctx.session, group_id, agenda_item_id)
    if opinion is not None and opinion.status == "submitted":
        raise DomainError("opinion_submitted", "本组审议意见已报送主席团，不能再修改")
    if opinion is None:
        opinion = GroupOpinion(congress_id=congress_id, group_id=group_id, agenda_item_id=agenda_item_id,
                               status="draft", agreement="", suggestions="", objections="",
                               quoted_message_ids=[], drafted_by=ctx.actor.name, updated_at=ctx.now)
        ctx.session.add(opinion)
    if agreement is not None:
        opinion.agreement = _text("赞同意见", agreement, "agreement")
    if suggestions is not None:
        opinion.suggestions = _text("建议", suggestions, "suggestions")
    if objections is not None:
        opinion.objections = _text("不同意见", objections, "objections")
    if quoted_message_ids is not None:
        opinion.quoted_message_ids = _quoted_ids(ctx, congress_id, group_id, quoted_message_ids)
    opinion.drafted_by, opinion.updated_at = ctx.actor.name, ctx.now
    ctx.session.flush()
    data = opinion_json(ctx.session, opinion)
    ctx.emit(congress_id, "opinion.saved", data, Audience.GROUP, group_id)
    return data


def submit_opinion(ctx: Context, congress_id: int, agenda_item_id: int) -> dict[str, Any]:
    """报送主席团: the draft becomes the group's opinion; read-only from now on."""
    group_id = _leader_group(ctx, congress_id)
    _item(ctx, congress_id, agenda_item_id)
    opinion = _find(ctx.session, group_id, agenda_item_id)
    if opinion is None:
        raise DomainError("no_draft", "本组还没有起草这项议程的审议意见")
    if opinion.status == "submitted":
        raise DomainError("opinion_submitted", "本组审议意见已报送主席团")
    if not (opinion.agreement or opinion.suggestions or opinion.objections):
        raise DomainError("opinion_empty", "审议意见是空的：请至少填写赞同意见、建议或不同意见中的一项")
    opinion.status, opinion.submitted_at = "submitted", ctx.now
    ctx.session.flush()
    data = opinion_json(ctx.session, opinion)
    ctx.emit(congress_id, "opinion.submitted", data, Audience.GROUP, group_id)
    return data


def mark_opinion_handled(ctx: Context, congress_id: int, opinion_id: int, handling: str,
                         note: str | None = None) -> dict[str, Any]:
    """Staff record how the presidium handled a submitted opinion; the group sees it."""
    ctx.actor.require(Permission.MANAGE_AGENDA)  # the review results of an agenda item
    opinion = ctx.session.get(GroupOpinion, opinion_id)
    if opinion is None or opinion.congress_id != congress_id:
        raise DomainError("not_found", f"找不到审议意见（编号 {opinion_id}）")
    if opinion.status != "submitted":
        raise DomainError("opinion_not_submitted", "这份审议意见尚未报送，不能登记处理情况")
    if handling not in HANDLINGS:
        raise DomainError("bad_field", f"处理情况应为：{'、'.join(HANDLINGS)}", params={"field": "handling"})
    opinion.handling = handling
    opinion.handling_note = _text("处理说明", note or "", "note") or None
    ctx.session.flush()
    data = opinion_json(ctx.session, opinion)
    ctx.emit(congress_id, "opinion.handled", data, Audience.GROUP, opinion.group_id)
    return data


def opinions_table(session: Session, congress_id: int, agenda_item_id: int) -> dict[str, Any]:
    """Every group of the congress, in order, with its opinion on the item (or None)."""
    item = session.get(AgendaItem, agenda_item_id)
    if item is None or item.congress_id != congress_id:
        raise DomainError("not_found", f"本次职代会没有这项议程（编号 {agenda_item_id}）")
    opinions = {o.group_id: o for o in session.scalars(
        sa.select(GroupOpinion).where(GroupOpinion.agenda_item_id == agenda_item_id))}
    groups = session.execute(sa.select(Group.id, Group.name).where(Group.congress_id == congress_id)
                             .order_by(Group.position, Group.id))
    return {"agenda_item": {"id": item.id, "title": item.title, "kind": item.kind},
            "groups": [{"group_id": gid, "group": name,
                        "opinion": opinion_json(session, opinions[gid]) if gid in opinions else None}
                       for gid, name in groups]}


def opinions_for_item(ctx: Context, congress_id: int, agenda_item_id: int) -> dict[str, Any]:
    """Staff: all groups' opinions on one item, side by side."""
    ctx.actor.require(Permission.READ_STAFF_VIEWS)
    return opinions_table(ctx.session, congress_id, agenda_item_id)




OPINION = Obj((
    Key("id", int), Key("group_id", int), Key("group", str), Key("agenda_item_id", int),
    Key("status", str, "draft / submitted"), Key("agreement", str, "赞同意见"), Key("suggestions", str, "建议"),
    Key("objections", str, "不同意见"), Key("quoted_message_ids", ListOf(int)),
    Key("quotes", ListOf(Obj((Key("message_id", int), Key("author_name", str), Key("text", str, "null once hidden"),
                              Key("is_hidden", bool))))),
    Key("drafted_by", str), Key("updated_at", str), Key("submitted_at", str),
    Key("handling", str, "处理情况"), Key("handling_note", str)), "a group's 审议意见")
_ITEM = Param("agenda_item_id", int)

COMMANDS: tuple[Command, ...] = (
    Command("save_opinion", save_opinion, (
        _ITEM, Param("agreement", str, False, doc="赞同意见"),
        Param("suggestions", str, False, doc="建议"), Param("objections", str, False, doc="不同意见"),
        Param("quoted_message_ids", list, False, doc="引用的本组讨论区消息编号",
              shape=ListOf(int, "visible messages of the group's own room, at most 50"))),
        "保存本组审议意见草稿（组长）", result=Obj(OPINION.keys, "fields left out keep their value"),
        errors=("bad_field", "not_found", "opinion_submitted"), permissions=(Permission.SUBMIT_GROUP_OPINION,)),
    Command("submit_opinion", submit_opinion, (_ITEM,),
            "向主席团报送本组审议意见（组长；报送后不能修改）", result=Obj(OPINION.keys, "报送主席团"),
            errors=("no_draft", "not_found", "opinion_empty", "opinion_submitted"),
            permissions=(Permission.SUBMIT_GROUP_OPINION,)),
    Command("mark_opinion_handled", mark_opinion_handled, (
        Param("opinion_id", int), Param("handling", str, doc="、".join(HANDLINGS)), Param("note", str, False)),
        "登记审议意见的处理情况", result=OPINION,
        errors=("bad_field", "not_found", "opinion_not_submitted"), permissions=(Permission.MANAGE_AGENDA,)),
    Command("opinions_for_item", opinions_for_item, (_ITEM,),
            "各代表团(组)对一项议程的审议意见（并列查看）", writes=False,
            result=Obj((Key("agenda_item", Obj((Key("id", int), Key("title", str), Key("kind", str)))),
                        Key("groups", ListOf(Obj((Key("group_id", int), Key("group", str),
                                                  Key("opinion", OPINION, "null: none yet"))))))),
            errors=("not_found",), permissions=(Permission.READ_STAFF_VIEWS,)),
)
