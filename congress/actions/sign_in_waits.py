"""Sign-in waits at the check-in desk: staff see who must wait before signing in again, and why,
and clear a wait for someone standing at the desk (recorded as an event for staff)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.db import sign_in_waits as waits
from congress.db.models import Account, Congress, Delegate
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience
from congress.domain.permissions import Permission
from congress.domain.sign_in import address_of, retry_after

MAX_ROWS = 200


def _seconds(wait: float) -> int:
    return retry_after(wait) if wait > 0 else 0


def _who(account: str, congress_id: int) -> dict[str, Any] | None:
    """What a failure's account is, as staff know it; None for another congress's delegates."""
    if account.startswith("account:"):
        return {"kind": "account", "login": account.removeprefix("account:"), "employee_id": None}
    for prefix in (f"delegate:{congress_id}:", "delegate:*:"):
        if account.startswith(prefix):
            return {"kind": "delegate", "login": None, "employee_id": account.removeprefix(prefix)}
    return None


def sign_in_waits(ctx: Context, congress_id: int) -> dict[str, Any]:
    """Who failed to sign in within the hour (this congress's 工号, unknown 工号, staff and department
    logins), by address, with the wait each faces now; and addresses held back for spraying."""
    ctx.actor.require(Permission.READ_STAFF_VIEWS)
    ctx.get(Congress, congress_id, "职代会")
    pairs, spraying = waits.current_waits(ctx.session, ctx.now, ("account:", f"delegate:{congress_id}:", "delegate:*:"))
    rows: list[dict[str, Any]] = []
    for pair in pairs:
        who = _who(pair.account, congress_id)
        if who is not None and len(rows) < MAX_ROWS:
            rows.append({**who, "name": None, "address": pair.address, "failures": pair.failures,
                         "last_failure_at": pair.last.isoformat(), "wait_seconds": _seconds(pair.wait)})
    employee_ids = {r["employee_id"] for r in rows if r["employee_id"]}
    logins = {r["login"] for r in rows if r["login"]}
    names = dict(ctx.session.execute(sa.select(Delegate.employee_id, Delegate.name).where(
        Delegate.congress_id == congress_id, Delegate.employee_id.in_(employee_ids))).all()) if employee_ids else {}
    accounts = dict(ctx.session.execute(sa.select(Account.login, Account.display_name)
                                        .where(Account.login.in_(logins))).all()) if logins else {}
    for row in rows:  # a 工号 or login no one has (a typo, or a guess) keeps name None
        row["name"] = names.get(row["employee_id"]) if row["employee_id"] else accounts.get(row["login"])
    return {"waits": rows,
            "addresses": [{"address": address, "failures": f.count, "accounts": f.accounts,
                           "wait_seconds": _seconds(wait)} for address, f, wait in spraying],
            "at": ctx.now.isoformat()}


def clear_sign_in_wait(ctx: Context, congress_id: int, employee_id: str | None = None, login: str | None = None,
                       address: str | None = None) -> dict[str, Any]:
    """Staff clear a wait for the person at the desk: by 工号 (this congress) or login, at one address
    or everywhere; or, with an address alone, everyone's at that address."""
    ctx.actor.require(Permission.CHECK_IN_AT_DESK)
    ctx.get(Congress, congress_id, "职代会")
    employee_id, login = (employee_id or "").strip() or None, (login or "").strip() or None
    where = address_of(address) if (address or "").strip() else None
    if employee_id and login:
        raise DomainError("bad_request", "请只填工号或账号中的一个")
    if not (employee_id or login or where):
        raise DomainError("missing_field", "请填写工号、账号或地址")
    accounts = ([waits.delegate_account(congress_id, employee_id), waits.delegate_account("*", employee_id)]
                if employee_id else [waits.staff_account(login)] if login else [])
    cleared = waits.clear(ctx.session, accounts, where)
    who = employee_id or login or where
    if cleared == 0:
        raise DomainError("not_found", f"{who} 没有需要解除的登录等待")
    detail = {"employee_id": employee_id, "login": login, "address": where, "failures": cleared,
              "by": ctx.actor.name}
    ctx.emit(congress_id, "sign_in.wait_cleared", detail, Audience.STAFF)
    return detail


CLEARED = Obj((Key("employee_id", str), Key("login", str), Key("address", str, "null: everywhere"),
               Key("failures", int, "how many were deleted"), Key("by", str)))

COMMANDS: tuple[Command, ...] = (
    Command("sign_in_waits", sign_in_waits, (), "登录等待：谁登录失败、从哪个地址、还要等多久（签到台）", writes=False,
            result=Obj((Key("waits", ListOf(Obj((
                Key("kind", str, "delegate / account"), Key("employee_id", str), Key("login", str),
                Key("name", str, "null: no such person"), Key("address", str), Key("failures", int),
                Key("last_failure_at", str), Key("wait_seconds", int))))),
                Key("addresses", ListOf(Obj((Key("address", str), Key("failures", int), Key("accounts", int),
                                             Key("wait_seconds", int)))), "addresses spraying guesses over many accounts"),
                Key("at", str)), "failures within the hour, longest wait first (docs/api.md, Waits, not lock-outs)"),
            errors=("not_found",), permissions=(Permission.READ_STAFF_VIEWS,)),
    Command("clear_sign_in_wait", clear_sign_in_wait,
            (Param("employee_id", str, False, "代表工号"), Param("login", str, False, "工作人员或承办部门账号"),
             Param("address", str, False, "只解除这个地址的等待")),
            "解除登录等待（签到台，现场核实身份后）",
            result=Obj(CLEARED.keys, "`employee_id` or `login`, with `address` or everywhere; `address` alone: every "
                                     "pair at it"),
            errors=("bad_request", "missing_field", "not_found"), permissions=(Permission.CHECK_IN_AT_DESK,)),
)
