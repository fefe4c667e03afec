"""When a sign-in still lets its holder act: the rule every command and every open connection obeys.

A connection's actor is fixed when it connects, and an HTTP request's when it arrives; by the time
the command runs, staff may have ended the session (sign-out, a re-issued access code, a deactivated
account) or a roster re-import may have changed what the delegate is. So each command compares the
access it was granted with what the person's current rows grant, at the moment it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from congress.domain.errors import DomainError

SESSION_ENDED = "session_ended"  # the sign-in no longer holds: sign in again
ACCESS_CHANGED = "access_changed"  # still signed in, but as someone else now: reconnect


@dataclass(frozen=True, slots=True)
class Grant:
    """What a sign-in lets a person act as: every part of an actor that a permission depends on.
    (The name is left out: a corrected spelling changes nothing anyone may do.)"""

    role: str
    congress_id: int | None = None
    account_id: int | None = None
    delegate_id: int | None = None
    group_id: int | None = None
    department_id: int | None = None
    is_group_leader: bool = False
    is_voting: bool = False


@dataclass(frozen=True, slots=True)
class SessionState:
    revoked_at: datetime | None
    expires_at: datetime


def access_refusal(granted: Grant, session: SessionState | None, current: Grant | None,
                   now: datetime) -> str | None:
    """None while the sign-in still grants exactly `granted`; else SESSION_ENDED or ACCESS_CHANGED.

    `session` is the sign-in session as stored now (None: gone), `current` what the person's rows
    grant now (None: the account is deactivated or the delegate no longer on the roster — nothing a
    reconnect could restore, so the session counts as ended)."""
    if session is None or session.revoked_at is not None or session.expires_at <= now:
        return SESSION_ENDED
    if current is None:
        return SESSION_ENDED
    if current != granted:
        return ACCESS_CHANGED
    return None


def access_error(refusal: str) -> DomainError:
    if refusal == SESSION_ENDED:
        return DomainError(SESSION_ENDED, "您的登录已结束（已退出、访问码已重新发放、账号已停用或登录已过期），操作未执行，请重新登录")
    return DomainError(ACCESS_CHANGED, "您的代表信息已变更（名册已更新：代表团(组)、团(组)长或代表类型），操作未执行，请重新连接")


def deactivation_refusal(kind: str, is_active: bool, other_active_staff: int) -> DomainError | None:
    """Staff may deactivate any account but the last active staff account: with none left nobody could
    sign in to manage the instance (only someone at the server's command line could)."""
    if kind == "staff" and is_active and other_active_staff == 0:
        return DomainError("last_staff", "这是唯一启用的工作人员账号，停用后将无人能够管理系统，请先添加或启用其他工作人员账号")
    return None
