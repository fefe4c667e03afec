"""Accounts: staff and departments with generated passwords, delegates' access codes."""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

from congress.actions.base import Context
from congress.db.models import Account, Delegate, Department, Group, SignInSession
from congress.db.secrets import generate_access_code, generate_password, hash_code, hash_secret
from congress.domain.access import deactivation_refusal
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience
from congress.domain.permissions import Permission


def add_staff(ctx: Context, login: str, display_name: str | None = None) -> tuple[Account, str]:
    """A staff account; the generated password is returned once and stored only as a hash."""
    ctx.actor.require(Permission.MANAGE_ACCOUNTS)
    return _add_account(ctx, "staff", login, display_name or login, None)


def add_department(ctx: Context, name: str, login: str | None = None) -> tuple[Account, str]:
    ctx.actor.require(Permission.MANAGE_ACCOUNTS)
    department = ctx.session.scalar(sa.select(Department).where(Department.name == name))
    if department is None:
        department = Department(name=name, created_at=ctx.now)
        ctx.session.add(department)
        ctx.session.flush()
    return _add_account(ctx, "department", login or name, name, department.id)


def _add_account(ctx: Context, kind: str, login: str, display_name: str,
                 department_id: int | None) -> tuple[Account, str]:
    login = login.strip()
    if not login or len(login) > 100:
        raise DomainError("bad_field", "登录名不能为空，且不超过 100 个字符", params={"field": "login"})
    if ctx.session.scalar(sa.select(Account.id).where(Account.login == login)) is not None:
        raise DomainError("login_taken", f"登录名“{login}”已被使用")
    password = generate_password()
    account = Account(kind=kind, login=login, display_name=display_name, password_hash=hash_secret(password),
                      department_id=department_id, created_at=ctx.now)
    ctx.session.add(account)
    ctx.session.flush()
    return account, password


def find_account(ctx: Context, login: str) -> Account:
    """A staff or department account by its login (staff only)."""
    ctx.actor.require(Permission.MANAGE_ACCOUNTS)
    account = ctx.session.scalar(sa.select(Account).where(Account.login == login.strip()))
    if account is None:
        raise DomainError("not_found", f"没有登录名为“{login.strip()}”的账号")
    return account


def revoke_account_sessions(ctx: Context, account: Account) -> int:
    """End every live sign-in of the account (their open sockets close: congress.application.connection_access)."""
    result = cast("sa.CursorResult[Any]", ctx.session.execute(sa.update(SignInSession).where(
        SignInSession.account_id == account.id, SignInSession.revoked_at.is_(None),
        SignInSession.expires_at > ctx.now).values(revoked_at=ctx.now)))  # an UPDATE's result: a CursorResult
    return int(result.rowcount or 0)


def reset_password(ctx: Context, login: str) -> str:
    """A new generated password, returned once; the old one may be known to someone, so the
    account's sign-ins end with it."""
    account = find_account(ctx, login)
    password = generate_password()
    account.password_hash = hash_secret(password)
    revoke_account_sessions(ctx, account)
    return password


def deactivate_account(ctx: Context, login: str) -> Account:
    """The account can no longer sign in and its sign-ins end. Never the last active staff account."""
    account = find_account(ctx, login)
    # Locked so that two staff deactivating each other at once cannot both pass the check.
    active_staff = set(ctx.session.scalars(sa.select(Account.id).where(
        Account.kind == "staff", Account.is_active).with_for_update()))
    refusal = deactivation_refusal(account.kind, account.is_active, len(active_staff - {account.id}))
    if refusal is not None:
        raise refusal
    account.is_active = False
    revoke_account_sessions(ctx, account)
    return account


def activate_account(ctx: Context, login: str) -> Account:
    account = find_account(ctx, login)
    account.is_active = True
    return account


def issue_codes(ctx: Context, congress_id: int, employee_ids: list[str] | None = None,
                only_missing: bool = False) -> list[dict[str, Any]]:
    """(Re-)issue access codes; a new code invalidates the old one. Returns the codes, once."""
    ctx.actor.require(Permission.MANAGE_ACCOUNTS)
    query = (sa.select(Delegate, Group.name).join(Group, Delegate.group_id == Group.id)
             .where(Delegate.congress_id == congress_id, Delegate.is_active)
             .order_by(Group.position, Delegate.employee_id))
    if employee_ids:
        query = query.where(Delegate.employee_id.in_(employee_ids))
    rows = list(ctx.session.execute(query))
    if employee_ids:
        unknown = sorted(set(employee_ids) - {d.employee_id for d, _ in rows})
        if unknown:
            raise DomainError("not_found", f"找不到这些工号：{'、'.join(unknown)}")
    issued = []
    for delegate, group_name in rows:
        if only_missing and delegate.access_code_hash:
            continue
        code = generate_access_code()
        if delegate.access_code_hash:
            # A code is re-issued when the old one may be known to someone else: end its sessions too.
            ctx.session.execute(sa.update(SignInSession).where(
                SignInSession.delegate_id == delegate.id, SignInSession.revoked_at.is_(None)).values(revoked_at=ctx.now))
        delegate.access_code_hash = hash_code(code)
        delegate.code_issued_at = ctx.now
        issued.append({"employee_id": delegate.employee_id, "name": delegate.name, "group": group_name,
                       "delegate_type": delegate.delegate_type, "code": code})
    if issued:
        ctx.emit(congress_id, "access_codes.issued", {"count": len(issued)}, Audience.STAFF)
    return issued
