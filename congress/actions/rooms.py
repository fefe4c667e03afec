"""Group rooms (讨论群内提): each group discusses the reports in its own room.

Only the group's delegates and staff ever see a room: every event is Audience.GROUP with the
group's id, and the snapshot holds the viewer's own room (staff: every group's room). The group's
leader or staff may pin a message or hide it with a reason: members then get a stub without the
text, while the row keeps the text, the reason and who hid it for the record.

Text is stored and sent as typed (never as HTML): pages render it with textContent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.db.models import AgendaItem, Congress, Group, Message
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience, Role
from congress.domain.permissions import Permission
from congress.reads.rooms import is_hidden, message_json, rooms_on_item

MAX_MESSAGE_CHARS = 1000
MAX_REASON_CHARS = 500
MESSAGES_PER_WINDOW = 5  # per delegate ...
MESSAGE_WINDOW = timedelta(seconds=10)  # ... in this long, counted from the message table



def same_congress(ctx: Context, congress_id: int) -> None:
    """A delegate acts only in their own congress (the HTTP API takes the congress from the URL)."""
    ctx.actor.require_congress(congress_id)


def room_message(ctx: Context, congress_id: int, message_id: int, group_id: int | None = None) -> Message:
    message = ctx.session.get(Message, message_id)
    if message is None or message.congress_id != congress_id or (group_id is not None and message.group_id != group_id):
        raise DomainError("not_found", f"讨论区里找不到这条消息（编号 {message_id}）")
    return message


def _room_group(ctx: Context, congress_id: int, group_id: int | None) -> int:
    """The room a message goes to: a delegate's own group; staff name the group."""
    actor = ctx.actor
    if actor.role is Role.DELEGATE:
        target = actor.group_id if group_id is None else group_id
        actor.require(Permission.POST_MESSAGE, group_id=target)
        same_congress(ctx, congress_id)
    else:
        actor.require(Permission.POST_MESSAGE)
        if group_id is None:
            raise DomainError("missing_field", "缺少字段 group_id（发到哪个代表团(组)的讨论区）")
        target = group_id
    group = ctx.session.get(Group, target)
    if group is None or group.congress_id != congress_id:
        raise DomainError("not_found", f"本次职代会没有这个代表团(组)（编号 {target}）")
    return group.id


def _check_rate(ctx: Context, congress_id: int, delegate_id: int) -> None:
    """At most MESSAGES_PER_WINDOW per delegate, counted in the database so every worker agrees.

    The congress row is locked first (every event append takes that lock anyway, in that order),
    so two posts by one delegate through two workers cannot both count the same past.
    """
    ctx.session.execute(sa.select(Congress.id).where(Congress.id == congress_id).with_for_update())
    recent = ctx.session.execute(sa.select(sa.func.count(Message.id)).where(
        Message.author_delegate_id == delegate_id, Message.created_at > ctx.now - MESSAGE_WINDOW)).scalar_one()
    if recent >= MESSAGES_PER_WINDOW:
        raise DomainError("too_many_messages", f"发言太频繁：每 {int(MESSAGE_WINDOW.total_seconds())} 秒最多发 "
                                               f"{MESSAGES_PER_WINDOW} 条，请稍后再发",
                          params={"limit": MESSAGES_PER_WINDOW, "seconds": int(MESSAGE_WINDOW.total_seconds())})


def post_message(ctx: Context, congress_id: int, text: str, reply_to_id: int | None = None,
                 agenda_item_id: int | None = None, group_id: int | None = None) -> dict[str, Any]:
    target = _room_group(ctx, congress_id, group_id)
    body = text.strip()
    if not body:
        raise DomainError("bad_field", "消息不能为空", params={"field": "text"})
    if len(body) > MAX_MESSAGE_CHARS:
        raise DomainError("message_too_long", f"消息不能超过 {MAX_MESSAGE_CHARS} 字（现有 {len(body)} 字）",
                          params={"limit": MAX_MESSAGE_CHARS})
    if reply_to_id is not None:
        room_message(ctx, congress_id, reply_to_id, target)
    if agenda_item_id is not None:
        item = ctx.session.get(AgendaItem, agenda_item_id)
        if item is None or item.congress_id != congress_id:
            raise DomainError("not_found", f"本次职代会没有这项议程（编号 {agenda_item_id}）")
    if ctx.actor.delegate_id is not None:
        _check_rate(ctx, congress_id, ctx.actor.delegate_id)
    message = Message(congress_id=congress_id, group_id=target, author_delegate_id=ctx.actor.delegate_id,
                      author_account_id=ctx.actor.account_id if ctx.actor.role is Role.STAFF else None,
                      author_name=ctx.actor.name, agenda_item_id=agenda_item_id, reply_to_id=reply_to_id,
                      text=body, created_at=ctx.now)
    ctx.session.add(message)
    ctx.session.flush()
    data = message_json(message)
    ctx.emit(congress_id, "room.message_posted", data, Audience.GROUP, target)
    return data


def pin_message(ctx: Context, congress_id: int, message_id: int, is_pinned: bool = True) -> dict[str, Any]:
    """置顶 (or un-pin), by the group's leader or staff."""
    ctx.actor.require(Permission.MODERATE_ROOM)  # observers, non-leaders: refused before any lookup
    message = room_message(ctx, congress_id, message_id)
    ctx.actor.require(Permission.MODERATE_ROOM, group_id=message.group_id)
    same_congress(ctx, congress_id)
    if is_hidden(message):
        raise DomainError("message_hidden", "这条消息已被隐藏，不能置顶")
    message.is_pinned = is_pinned
    payload = {"message_id": message.id, "group_id": message.group_id, "is_pinned": is_pinned}
    ctx.emit(congress_id, "room.message_pinned", payload, Audience.GROUP, message.group_id)
    return payload


def hide_message(ctx: Context, congress_id: int, message_id: int, reason: str) -> dict[str, Any]:
    """Hide a message from the room, by the group's leader or staff; the record keeps everything."""
    ctx.actor.require(Permission.MODERATE_ROOM)  # observers, non-leaders: refused before any lookup
    message = room_message(ctx, congress_id, message_id)
    ctx.actor.require(Permission.MODERATE_ROOM, group_id=message.group_id)
    same_congress(ctx, congress_id)
    reason = reason.strip()
    if not reason:
        raise DomainError("reason_required", "隐藏消息必须填写原因")
    if len(reason) > MAX_REASON_CHARS:
        raise DomainError("bad_field", f"原因不能超过 {MAX_REASON_CHARS} 字", params={"field": "reason"})
    if is_hidden(message):
        raise DomainError("already_hidden", "这条消息已被隐藏")
    message.hidden_reason, message.hidden_by, message.is_pinned = reason, ctx.actor.name, False
    ctx.emit(congress_id, "room.message_hidden", {"message": message_json(message)}, Audience.GROUP,
             message.group_id)
    record = {"message_id": message.id, "group_id": message.group_id, "hidden_reason": reason,
              "hidden_by": message.hidden_by, "at": ctx.now.isoformat()}
    ctx.emit(congress_id, "room.hide_recorded", record, Audience.STAFF)
    return {"message": message_json(message, for_staff=True)}



def group_rooms(ctx: Context, congress_id: int, agenda_item_id: int | None = None) -> dict[str, Any]:
    """Staff read every group's room, read-only: the messages posted on one agenda item (the
    current one when none is named; every message when there is no current item either)."""
    ctx.actor.require(Permission.READ_STAFF_VIEWS)
    congress = ctx.get(Congress, congress_id, "职代会")
    item_id = agenda_item_id if agenda_item_id is not None else congress.current_agenda_item_id
    item = ctx.session.get(AgendaItem, item_id) if item_id is not None else None
    if item_id is not None and (item is None or item.congress_id != congress_id):
        raise DomainError("not_found", f"本次职代会没有这项议程（编号 {item_id}）")
    return rooms_on_item(ctx.session, congress_id, item)


MESSAGE = Obj((
    Key("id", int), Key("group_id", int), Key("author_name", str, "", False), Key("author_delegate_id", int, "", False),
    Key("is_staff_author", bool, "", False), Key("text", str, "as typed: render it as text", False),
    Key("reply_to_id", int), Key("agenda_item_id", int), Key("is_pinned", bool), Key("is_hidden", bool),
    Key("created_at", str), Key("hidden_reason", str, "staff, a hidden message", False),
    Key("hidden_by", str, "staff, a hidden message", False)), "a message; a hidden one is a stub without its text")

COMMANDS: tuple[Command, ...] = (
    Command("post_message", post_message, (
        Param("text", str, doc=f"消息内容，不超过 {MAX_MESSAGE_CHARS} 字"), Param("reply_to_id", int, False),
        Param("agenda_item_id", int, False),
        Param("group_id", int, False, doc="工作人员发到哪个组；代表只能发到本组")), "在本组讨论区发言",
        result=Obj(MESSAGE.keys, "the message; 5 messages per delegate in 10 s"),
        errors=("bad_field", "message_too_long", "missing_field", "not_found", "too_many_messages"),
        permissions=(Permission.POST_MESSAGE,), who="a delegate in their own group's room; staff with `group_id`"),
    Command("pin_message", pin_message, (Param("message_id", int), Param("is_pinned", bool, False, doc="默认 true")),
            "置顶（或取消置顶）讨论区消息（组长或工作人员）",
            result=Obj((Key("message_id", int), Key("group_id", int), Key("is_pinned", bool))),
            errors=("message_hidden", "not_found"), permissions=(Permission.MODERATE_ROOM,)),
    Command("hide_message", hide_message, (Param("message_id", int), Param("reason", str)),
            "隐藏讨论区消息并记录原因（组长或工作人员）",
            result=Obj((Key("message", MESSAGE, "as staff see it"),),
                       "members get a stub; the record keeps the text, the reason and who hid it"),
            errors=("already_hidden", "bad_field", "not_found", "reason_required"), permissions=(Permission.MODERATE_ROOM,)),
    Command("group_rooms", group_rooms, (Param("agenda_item_id", int, False, doc="默认为当前议程"),),
            "各组讨论区的消息（工作人员只读）", writes=False,
            result=Obj((Key("agenda_item", Obj((Key("id", int), Key("title", str))), "null: every message"),
                        Key("groups", ListOf(Obj((Key("group_id", int), Key("group", str),
                                                  Key("messages", ListOf(MESSAGE))))))),
                       "every group's room on that item (default: the current item; with none, every message)"),
            errors=("not_found",), permissions=(Permission.READ_STAFF_VIEWS,)),
)
