"""Check-in (签到), desk check-in with a reason (补签到), leaving early (中途退场), live 应到 / 实到."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.db.models import Attendance, Congress, Delegate
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience, Role
from congress.domain.permissions import Permission
from congress.reads.attendance import attendance_by_group, attendance_json, open_stay


def _check_in(ctx: Context, congress: Congress, delegate: Delegate, method: str, reason: str | None) -> dict[str, Any]:
    if open_stay(ctx.session, delegate.id) is not None:
        raise DomainError("already_checked_in", f"{delegate.name} 已签到")
    ctx.session.add(Attendance(congress_id=congress.id, delegate_id=delegate.id, checked_in_at=ctx.now,
                               method=method, reason=reason, by_account_id=ctx.actor.account_id))
    ctx.session.flush()
    return _emit_change(ctx, congress.id, delegate, "attendance.checked_in", method=method, reason=reason)


def _emit_change(ctx: Context, congress_id: int, delegate: Delegate, type: str, **detail: Any) -> dict[str, Any]:
    counts = attendance_json(attendance_by_group(ctx.session, congress_id))
    # Staff and delegates get every change; the delegate and staff see who. Observers get the
    # numbers coalesced, once a second (congress.live.state.LiveState): 305 check-ins within a minute were
    # 305 messages to each of thousands of observers, the worst tail of the story's rehearsal.
    ctx.emit(congress_id, "attendance.changed", counts, Audience.DELEGATES)
    person = {"delegate_id": delegate.id, "employee_id": delegate.employee_id, "name": delegate.name,
              "group_id": delegate.group_id, "at": ctx.now.isoformat(), **detail}
    ctx.emit(congress_id, type, person, Audience.DELEGATE, delegate.id)
    return {**person, "attendance": counts}


def check_in(ctx: Context, congress_id: int) -> dict[str, Any]:
    """A delegate checks themself in, inside the check-in window."""
    ctx.actor.require(Permission.CHECK_IN_SELF)
    congress = ctx.get(Congress, congress_id, "职代会")
    delegate = ctx.get(Delegate, ctx.actor.delegate_id, "代表")
    if delegate.congress_id != congress_id:
        raise DomainError("other_congress", "您不是本次职代会的代表")
    if congress.check_in_opens_at and ctx.now < congress.check_in_opens_at:
        raise DomainError("check_in_not_open", f"签到尚未开始（{congress.check_in_opens_at:%m-%d %H:%M} UTC 开始）")
    if congress.check_in_closes_at and ctx.now >= congress.check_in_closes_at:
        raise DomainError("check_in_closed", "签到已截止，请联系工作人员补签到")
    return _check_in(ctx, congress, delegate, "self", None)


def _delegate_by_employee_id(ctx: Context, congress_id: int, employee_id: str) -> Delegate:
    delegate = ctx.session.scalar(sa.select(Delegate).where(
        Delegate.congress_id == congress_id, Delegate.employee_id == employee_id, Delegate.is_active))
    if delegate is None:
        raise DomainError("not_found", f"本次职代会没有工号为 {employee_id} 的代表")
    return delegate


def check_in_at_desk(ctx: Context, congress_id: int, employee_id: str, reason: str | None = None) -> dict[str, Any]:
    """Staff check a delegate in; after the window closes (补签到) a reason is required and kept."""
    ctx.actor.require(Permission.CHECK_IN_AT_DESK)
    congress = ctx.get(Congress, congress_id, "职代会")
    delegate = _delegate_by_employee_id(ctx, congress_id, employee_id)
    is_late = congress.check_in_closes_at is not None and ctx.now >= congress.check_in_closes_at
    if is_late and not (reason or "").strip():
        raise DomainError("reason_required", "签到已截止，补签到必须填写原因")
    return _check_in(ctx, congress, delegate, "desk", (reason or "").strip() or None)


def check_out(ctx: Context, congress_id: int, employee_id: str | None = None, reason: str | None = None
              ) -> dict[str, Any]:
    """Leaving early (中途退场): the delegate themself, or staff for them; lowers 实到."""
    if ctx.actor.role is Role.DELEGATE and employee_id is None:
        ctx.actor.require(Permission.CHECK_IN_SELF)
        delegate = ctx.get(Delegate, ctx.actor.delegate_id, "代表")
    else:
        ctx.actor.require(Permission.CHECK_IN_AT_DESK)
        delegate = _delegate_by_employee_id(ctx, congress_id, employee_id or "")
    stay = open_stay(ctx.session, delegate.id)
    if stay is None or stay.congress_id != congress_id:
        raise DomainError("not_checked_in", f"{delegate.name} 尚未签到")
    stay.checked_out_at, stay.checkout_reason = ctx.now, (reason or "").strip() or None
    return _emit_change(ctx, congress_id, delegate, "attendance.checked_out", reason=stay.checkout_reason)




# The answer to a check-in or check-out: who, and the congress's 应到 / 实到 after it
ATTENDANCE = Obj((Key("groups", ListOf(Obj((Key("group_id", int), Key("name", str), Key("eligible", int),
                                            Key("present", int))))),
                  Key("eligible", int, "应到: voting delegates"), Key("present", int, "实到: voting delegates checked in")))
CHANGE = (Key("delegate_id", int), Key("employee_id", str), Key("name", str), Key("group_id", int),
          Key("at", str, "ISO 8601"), Key("attendance", ATTENDANCE))
CHECKED_IN = Obj((*CHANGE, Key("method", str, "self / desk"), Key("reason", str, "补签到's reason, else null")))

COMMANDS: tuple[Command, ...] = (
    Command("check_in", check_in, (), "代表本人签到",
            result=Obj(CHECKED_IN.keys, "checks the delegate in (inside the check-in window)"),
            errors=("already_checked_in", "check_in_closed", "check_in_not_open", "not_found"),
            permissions=(Permission.CHECK_IN_SELF,)),
    Command("check_in_at_desk", check_in_at_desk, (Param("employee_id", str), Param("reason", str, False)),
            "工作人员代为签到（截止后为补签到，须填写原因）",
            result=Obj(CHECKED_IN.keys, "desk check-in; after the window closes (补签到) `reason` is required"),
            errors=("already_checked_in", "not_found", "reason_required"), permissions=(Permission.CHECK_IN_AT_DESK,)),
    Command("check_out", check_out, (Param("employee_id", str, False), Param("reason", str, False)),
            "中途退场", result=Obj((*CHANGE, Key("reason", str)), "中途退场: the delegate themself (no "
                                                                  "`employee_id`) or staff for them; lowers 实到"),
            errors=("not_checked_in", "not_found"), permissions=(Permission.CHECK_IN_SELF, Permission.CHECK_IN_AT_DESK)),
)
