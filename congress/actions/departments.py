"""承办部门 as staff choose them when they hand a case over (交办): the list to choose from, and a
department added from the same form when it is missing — with its sign-in, or it could never reply.

Departments serve every congress (a company's departments outlive a session), so the list is not
narrowed by the congress; the congress only carries the staff event that tells other staff pages.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from congress.actions.accounts import add_department
from congress.actions.base import Context
from congress.db.models import Account, Congress, Department
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience
from congress.domain.permissions import Permission

MAX_NAME_CHARS = 100


def list_departments(ctx: Context, congress_id: int) -> dict[str, Any]:
    """Every department by name, and whether it can sign in to reply (has an active account)."""
    ctx.actor.require(Permission.REVIEW_PROPOSAL)
    signs_in = set(ctx.session.scalars(sa.select(Account.department_id).where(
        Account.kind == "department", Account.is_active, Account.department_id.is_not(None))))
    rows = ctx.session.execute(sa.select(Department.id, Department.name).order_by(Department.name)).all()
    return {"departments": [{"id": i, "name": n, "can_sign_in": i in signs_in} for i, n in rows]}


def create_department(ctx: Context, congress_id: int, name: str) -> dict[str, Any]:
    """A new department with its sign-in: the login is the name, the password is shown once."""
    ctx.actor.require(Permission.REVIEW_PROPOSAL)
    ctx.actor.require(Permission.MANAGE_ACCOUNTS)
    ctx.get(Congress, congress_id, "职代会")
    name = " ".join(name.split())
    if not name:
        raise DomainError("bad_field", "部门名称不能为空", params={"field": "name"})
    if len(name) > MAX_NAME_CHARS:
        raise DomainError("bad_field", f"部门名称不能超过 {MAX_NAME_CHARS} 字（现有 {len(name)} 字）",
                          params={"field": "name"})
    if ctx.session.scalar(sa.select(Department.id).where(Department.name == name)) is not None:
        raise DomainError("department_exists", f"承办部门“{name}”已经有了，请在列表中选择")
    account, password = add_department(ctx, name)
    department = {"id": account.department_id, "name": name}
    ctx.emit(congress_id, "department.added", department, Audience.STAFF)
    return {**department, "login": account.login, "password": password}


def _without_password(reply: dict[str, Any]) -> dict[str, Any]:
    """What a resend of the command gets: the password is never stored."""
    return {**reply, "password": None, "password_withheld": True}


COMMANDS: tuple[Command, ...] = (
    Command("list_departments", list_departments, (), "承办部门列表（交办时选择）", writes=False,
            result=Obj((Key("departments", ListOf(Obj((Key("id", int), Key("name", str),
                                                       Key("can_sign_in", bool, "it has a sign-in"))))),)),
            permissions=(Permission.REVIEW_PROPOSAL,)),
    Command("create_department", create_department, (Param("name", str, doc="部门名称"),),
            "新增承办部门及其登录账号（初始密码只显示一次）", stored_reply=_without_password,
            result=Obj((Key("id", int), Key("name", str), Key("login", str),
                        Key("password", str, "once: a resend gets null"),
                        Key("password_withheld", bool, "true on a resend", False)),
                       "the department and its sign-in (needs both permissions)"),
            errors=("bad_field", "department_exists", "login_taken", "not_found"),
            permissions=(Permission.REVIEW_PROPOSAL, Permission.MANAGE_ACCOUNTS)),
)
