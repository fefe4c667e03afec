"""The agenda (议程): staff build it and move the congress through it; the current item is public."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.db.models import AgendaItem, Congress
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import AgendaKind
from congress.domain.permissions import Permission
from congress.reads.agenda import item_json


def add_agenda_item(ctx: Context, congress_id: int, kind: str, title: str, description: str = "",
                    names: list[str] | None = None) -> dict[str, Any]:
    ctx.actor.require(Permission.MANAGE_AGENDA)
    ctx.get(Congress, congress_id, "职代会")
    try:
        kind = AgendaKind(kind).value
    except ValueError as exc:
        allowed = "、".join(k.value for k in AgendaKind)
        raise DomainError("bad_field", f"议程类型应为：{allowed}", params={"field": "kind"}) from exc
    if not title.strip():
        raise DomainError("bad_field", "议程标题不能为空", params={"field": "title"})
    if names and kind != AgendaKind.NAME_LIST:
        raise DomainError("bad_field", "只有“名单”类议程带人员名单", params={"field": "names"})
    position = ctx.next_number(congress_id, AgendaItem.position, AgendaItem.congress_id == congress_id)
    item = AgendaItem(congress_id=congress_id, position=position, kind=kind, title=title.strip(),
                      description=description, names=[n.strip() for n in names or [] if n.strip()])
    ctx.session.add(item)
    ctx.session.flush()
    ctx.emit(congress_id, "agenda.item_added", item_json(item))
    return item_json(item)


def move_agenda_item(ctx: Context, congress_id: int, item_id: int, position: int) -> dict[str, Any]:
    ctx.actor.require(Permission.MANAGE_AGENDA)
    items = list(ctx.session.scalars(sa.select(AgendaItem).where(AgendaItem.congress_id == congress_id)
                                     .order_by(AgendaItem.position)))
    moving = next((i for i in items if i.id == item_id), None)
    if moving is None:
        raise DomainError("not_found", f"找不到议程（编号 {item_id}）")
    items.remove(moving)
    items.insert(max(0, min(position - 1, len(items))), moving)
    for index, item in enumerate(items, start=1):
        item.position = index
    order = [i.id for i in items]
    ctx.emit(congress_id, "agenda.reordered", {"order": order})
    return {"order": order}


def set_current_item(ctx: Context, congress_id: int, item_id: int | None = None) -> dict[str, Any]:
    """Move the congress to an item; the previous current item is done. The congress is in session."""
    ctx.actor.require(Permission.MANAGE_AGENDA)
    congress = ctx.get(Congress, congress_id, "职代会")
    if item_id is not None:
        item = ctx.find(AgendaItem, item_id, congress_id, f"本次职代会没有这项议程（编号 {item_id}）")
    if congress.current_agenda_item_id and congress.current_agenda_item_id != item_id:
        previous = ctx.session.get(AgendaItem, congress.current_agenda_item_id)
        if previous is not None:
            previous.status = "done"
    congress.current_agenda_item_id = item_id
    if item_id is not None:
        item.status = "current"
        congress.status = "in_session"
    ctx.emit(congress_id, "agenda.current_changed", {"item_id": item_id})
    return {"item_id": item_id}


AGENDA_ITEM = Obj((Key("id", int), Key("position", int), Key("kind", str), Key("title", str), Key("description", str),
                   Key("names", ListOf(str), "a 名单 item's names"), Key("status", str, "pending / current / done")))

COMMANDS: tuple[Command, ...] = (
    Command("add_agenda_item", add_agenda_item,
            (Param("kind", str, doc="审议/审议通过/审议决定/选举/民主评议/确认/名单"), Param("title", str),
             Param("description", str, False),
             Param("names", list, False, shape=ListOf(str, "人员名单（只用于“名单”类议程）"))), "添加议程",
            result=Obj(AGENDA_ITEM.keys, "the new item, at the end"),
            errors=("bad_field", "not_found"), permissions=(Permission.MANAGE_AGENDA,)),
    Command("move_agenda_item", move_agenda_item, (Param("item_id", int), Param("position", int)), "调整议程顺序",
            result=Obj((Key("order", ListOf(int), "every item's id in the new order"),)),
            errors=("not_found",), permissions=(Permission.MANAGE_AGENDA,)),
    Command("set_current_item", set_current_item, (Param("item_id", int, False),), "进入某项议程",
            result=Obj((Key("item_id", int, "null: no current item"),), "moves the congress to that item"),
            errors=("not_found",), permissions=(Permission.MANAGE_AGENDA,)),
)
