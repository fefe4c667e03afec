"""Staff manage the sign-ins of staff and departments: list them, reset a password (shown once),
deactivate and reactivate an account, and end all of its sign-ins. Ending sign-ins closes their
open sockets on every worker (congress.application.connection_access, told by the `account.changed` event).

Accounts serve every congress, so the congress of the command only carries the staff event that
records who changed what and tells the other staff pages. Delegates have no account: their access
code is re-issued instead (POST /api/congresses/{id}/codes, `congress codes export`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from congress.actions.accounts import (
    activate_account,
    deactivate_account,
    find_account,
    reset_password,
    revoke_account_sessions,
)
from congress.actions.base import Context
from congress.db.models import Account, Congress, Department, SignInSession
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.kinds import Audience
from congress.domain.permissions import Permission


def account_json(account: Account, department: str | None, live_sessions: int) -> dict[str, Any]:
    return {"id": account.id, "login": account.login, "display_name": account.display_name, "kind": account.kind,
            "department": department, "is_active": account.is_active, "live_sessions": live_sessions}


def list_accounts(ctx: Context, congress_id: int) -> dict[str, Any]:
    """Every staff and department account, with how many sign-ins of each are live now."""
    ctx.actor.require(Permission.MANAGE_ACCOUNTS)
    live: dict[int | None, int] = {account_id: n for account_id, n in ctx.session.execute(
        sa.select(SignInSession.account_id, sa.func.count()).where(
            SignInSession.account_id.is_not(None), SignInSession.revoked_at.is_(None),
            SignInSession.expires_at > ctx.now).group_by(SignInSession.account_id))}
    rows = ctx.session.execute(sa.select(Account, Department.name).outerjoin(
        Department, Department.id == Account.department_id).order_by(Account.kind.desc(), Account.login))
    return {"accounts": [account_json(a, d, live.get(a.id, 0)) for a, d in rows],
            "me": ctx.actor.account_id}


def _changed(ctx: Context, congress_id: int, account: Account, change: str, **extra: Any) -> dict[str, Any]:
    ctx.get(Congress, congress_id, "职代会")
    payload = {"account_id": account.id, "login": account.login, "kind": account.kind,
               "is_active": account.is_active, "change": change, "by": ctx.actor.name, **extra}
    ctx.emit(congress_id, "account.changed", payload, Audience.STAFF)
    return payload


def reset_account_password(ctx: Context, congress_id: int, login: str) -> dict[str, Any]:
    account = find_account(ctx, login)
    password = reset_password(ctx, login)
    return {**_changed(ctx, congress_id, account, "password_reset"), "password": password}


def deactivate(ctx: Context, congress_id: int, login: str) -> dict[str, Any]:
    return _changed(ctx, congress_id, deactivate_account(ctx, login), "deactivated")


def activate(ctx: Context, congress_id: int, login: str) -> dict[str, Any]:
    return _changed(ctx, congress_id, activate_account(ctx, login), "activated")


def revoke_sessions(ctx: Context, congress_id: int, login: str) -> dict[str, Any]:
    account = find_account(ctx, login)
    ended = revoke_account_sessions(ctx, account)
    return _changed(ctx, congress_id, account, "sessions_revoked", sessions_ended=ended)


def _without_password(reply: dict[str, Any]) -> dict[str, Any]:
    """What a resend gets: the new password is never stored."""
    return {**reply, "password": None, "password_withheld": True}


LOGIN = Param("login", str, doc="账号的登录名")
# What the protocol says each answer holds (docs/protocol.md)
ACCOUNT = Obj((Key("id", int), Key("login", str), Key("display_name", str), Key("kind", str, "staff / department"),
               Key("department", str, "the department's name, null for staff"), Key("is_active", bool),
               Key("live_sessions", int, "sign-ins alive now")))
CHANGED = (Key("account_id", int), Key("login", str), Key("kind", str, "staff / department"), Key("is_active", bool),
           Key("change", str, "password_reset / deactivated / activated / sessions_revoked"),
           Key("by", str, "the staff member who made the change"))

COMMANDS: tuple[Command, ...] = (
    Command("list_accounts", list_accounts, (), "工作人员与承办部门账号列表（是否启用、在线登录数）", writes=False,
            result=Obj((Key("accounts", ListOf(ACCOUNT)), Key("me", int, "the caller's own account id")),
                       "every staff and department sign-in (delegates have none: their access code is re-issued "
                       "instead)"),
            permissions=(Permission.MANAGE_ACCOUNTS,)),
    Command("reset_account_password", reset_account_password, (LOGIN,),
            "重置账号密码（新密码只显示一次），并结束该账号的全部登录", stored_reply=_without_password,
            result=Obj((*CHANGED, Key("password", str, "the new password, in this reply only: a resend gets null"),
                        Key("password_withheld", bool, "true on a resend", False)),
                       "the old password stops working and every sign-in of the account ends (its sockets close "
                       "with 4010)"),
            errors=("not_found",), permissions=(Permission.MANAGE_ACCOUNTS,)),
    Command("deactivate_account", deactivate, (LOGIN,), "停用账号并结束其全部登录（不能停用最后一个启用的工作人员账号）",
            result=Obj(CHANGED, "the account can no longer sign in and every sign-in of it ends (4010); "
                                "`last_staff` for the last active staff account"),
            errors=("last_staff", "not_found"), permissions=(Permission.MANAGE_ACCOUNTS,)),
    Command("activate_account", activate, (LOGIN,), "重新启用账号",
            result=Obj(CHANGED, "the account may sign in again (with its password)"),
            errors=("not_found",), permissions=(Permission.MANAGE_ACCOUNTS,)),
    Command("revoke_account_sessions", revoke_sessions, (LOGIN,), "结束账号的全部登录（打开的页面随即断开）",
            result=Obj((*CHANGED, Key("sessions_ended", int, "how many sign-ins ended")),
                       "its open sockets close with 4010"),
            errors=("not_found",), permissions=(Permission.MANAGE_ACCOUNTS,)),
)
