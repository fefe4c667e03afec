"""Argon2id hashing, generated secrets, server-side sessions and sign-in throttling."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db import sign_in_waits as waits
from congress.db.models import Account, Congress, Delegate, SignInSession
from congress.db.secrets import (
    CODE_HASHER,
    hash_code,
    hash_secret,
    needs_rehash,
    token_digest,
    verify_secret,
)
from congress.domain.errors import DomainError
from congress.domain.kinds import SIGN_IN_STATUSES, Role
from congress.domain.permissions import Actor
from congress.domain.sign_in import POLICY, SignInPolicy, address_of, retry_after

SESSION_COOKIE = "congress_session"
CSRF_HEADER = "x-csrf-token"


def bad_credentials() -> DomainError:
    """One message for unknown user and wrong secret, so sign-in does not reveal who exists."""
    return DomainError("bad_credentials", "账号或密码（访问码）不正确")


class TooManyAttempts(DomainError):
    """Wait before trying again (congress.domain.sign_in): `retry_after` whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too_many_attempts", f"尝试次数过多，请 {retry_after} 秒后再试", params={"seconds": retry_after})
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        return (TooManyAttempts, (self.retry_after,))


class BadCredentials(DomainError):
    """bad_credentials, telling when the next attempt may come (`retry_after`, None: at once)."""

    def __init__(self, retry_after: int | None = None) -> None:
        refused = bad_credentials()
        super().__init__(refused.code, refused.message)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        return (BadCredentials, (self.retry_after,))


def _refuse_while_waiting(wait: float) -> None:
    # Refused unchecked and not counted: the secret is not tried, so waiting cannot be skipped.
    if wait > 0:
        raise TooManyAttempts(retry_after(wait))


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str  # goes into the cookie; only its digest is stored
    csrf_token: str
    row: SignInSession


def _open_session(session: Session, *, role: Role, now: datetime, hours: int, address: str | None,
                  account_id: int | None = None, delegate_id: int | None = None) -> NewSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    row = SignInSession(
        token_hash=token_digest(token), role=role.value, account_id=account_id, delegate_id=delegate_id,
        csrf_token=csrf, created_at=now, expires_at=now + timedelta(hours=hours), address=address,
    )
    session.add(row)
    session.flush()
    return NewSession(token, csrf, row)


def sign_in_account(session: Session, login: str, password: str, *, now: datetime, hours: int,
                    address: str | None, policy: SignInPolicy = POLICY) -> NewSession:
    where = address_of(address)
    key = waits.staff_account(login)
    _refuse_while_waiting(max(waits.wait_at_address(session, where, now, policy),
                              waits.wait_for_pair(session, key, where, now, policy)))
    account = session.scalar(sa.select(Account).where(Account.login == login, Account.is_active))
    if not verify_secret(account.password_hash if account else None, password) or account is None:
        waits.record_failure(session, [key], where, now)
        raise _refused(session, [key], where, now, policy)
    waits.record_success(session, key, where)
    if needs_rehash(account.password_hash):
        account.password_hash = hash_secret(password)
    return _open_session(session, role=Role(account.kind), now=now, hours=hours, address=address,
                         account_id=account.id)


def _refused(session: Session, keys: list[str], address: str, now: datetime, policy: SignInPolicy) -> BadCredentials:
    """The refusal of a wrong secret just recorded, with the wait it starts (if any)."""
    wait = max(waits.wait_at_address(session, address, now, policy),
               min(waits.wait_for_pair(session, key, address, now, policy) for key in keys))
    return BadCredentials(retry_after(wait) if wait > 0 else None)


class ChooseCongress(DomainError):
    """The 工号 and access code open more than one congress in session: the person picks one
    (`congresses`: id, name, is_rehearsal) and signs in again naming it."""

    def __init__(self, congresses: list[dict[str, Any]]) -> None:
        super().__init__("choose_congress", "您的工号和访问码可以进入不止一次职代会，请选择要进入的一次")
        self.congresses = congresses

    def __reduce__(self) -> tuple[Any, ...]:
        return (ChooseCongress, (self.congresses,))


def sign_in_delegate(session: Session, congress_id: int | None, employee_id: str, code: str, *, now: datetime,
                     hours: int, address: str | None, policy: SignInPolicy = POLICY) -> NewSession:
    """A delegate signs in with 工号 and access code, to the congress named, or else to the one
    the code opens among the congresses being prepared or in session whose roster has the 工号
    (a rehearsal congress beside the real one, next year's being prepared). A failure counts
    against each congress whose code was tried, never one whose code matched; a congress this
    address must wait for is not tried. Codes that open several congresses: ChooseCongress."""
    where = address_of(address)
    _refuse_while_waiting(waits.wait_at_address(session, where, now, policy))
    conditions = [Delegate.employee_id == employee_id, Delegate.is_active]
    if congress_id is not None:
        conditions.append(Delegate.congress_id == congress_id)
    else:
        conditions.append(Delegate.congress_id.in_(
            sa.select(Congress.id).where(Congress.status.in_(SIGN_IN_STATUSES))))
    candidates = list(session.scalars(sa.select(Delegate).where(*conditions).order_by(Delegate.congress_id.desc())))
    # No such 工号 (in that congress, or in any in session): failures count on a key of their own,
    # under the same rule, so the answers and the waits do not tell who exists.
    keys: dict[int | None, str] = ({d.congress_id: waits.delegate_account(d.congress_id, employee_id) for d in candidates}
            or {None: waits.delegate_account(congress_id if congress_id is not None else "*", employee_id)})
    pending = {c: waits.wait_for_pair(session, key, where, now, policy) for c, key in keys.items()}
    open_to_try = [d for d in candidates if pending[d.congress_id] == 0]
    _refuse_while_waiting(min(pending.values()))
    code = code.strip().upper().replace("-", "").replace(" ", "")
    if not open_to_try:
        verify_secret(None, code, CODE_HASHER)  # the same work as a real check, so timing does not tell
    matched = [d for d in open_to_try if verify_secret(d.access_code_hash, code, CODE_HASHER)]
    if not matched:
        tried = [keys[d.congress_id] for d in open_to_try] or list(keys.values())
        waits.record_failure(session, tried, where, now)
        raise _refused(session, tried, where, now, policy)
    if len(matched) > 1:
        congresses = session.scalars(sa.select(Congress).where(Congress.id.in_([d.congress_id for d in matched]))
                                     .order_by(Congress.id.desc()))
        raise ChooseCongress([{"id": c.id, "name": c.name, "is_rehearsal": c.is_rehearsal} for c in congresses])
    delegate = matched[0]
    waits.record_success(session, keys[delegate.congress_id], where)
    if delegate.access_code_hash and needs_rehash(delegate.access_code_hash, CODE_HASHER):
        delegate.access_code_hash = hash_code(code)
    return _open_session(session, role=Role.DELEGATE, now=now, hours=hours, address=address,
                         delegate_id=delegate.id)


def find_session(session: Session, token: str | None, now: datetime) -> SignInSession | None:
    if not token:
        return None
    row = session.scalar(sa.select(SignInSession).where(SignInSession.token_hash == token_digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row


def actor_for_session(session: Session, row: SignInSession) -> Actor | None:
    """Who a live session belongs to; None when the account or delegate has since been removed."""
    role = Role(row.role)
    if role is Role.DELEGATE:
        delegate = session.get(Delegate, row.delegate_id)
        if delegate is None or not delegate.is_active:
            return None
        return delegate_actor(delegate, session_id=row.id)
    account = session.get(Account, row.account_id)
    if account is None or not account.is_active:
        return None
    return account_actor(account, session_id=row.id)


def account_actor(account: Account, session_id: int | None = None) -> Actor:
    """Staff or a department acting through their account (`session_id`: the sign-in it acts under)."""
    return Actor(role=Role(account.kind), name=account.display_name, account_id=account.id,
                 department_id=account.department_id, session_id=session_id)


def revoke_session(session: Session, token: str, now: datetime) -> None:
    row = session.scalar(sa.select(SignInSession).where(SignInSession.token_hash == token_digest(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now


def delegate_actor(delegate: Delegate, session_id: int | None = None) -> Actor:
    """A delegate acting for themself: their group, whether they lead it, whether they vote
    (`session_id`: the sign-in it acts under, re-checked by every command)."""
    return Actor(role=Role.DELEGATE, name=delegate.name, congress_id=delegate.congress_id,
                 delegate_id=delegate.id, group_id=delegate.group_id,
                 is_group_leader=delegate.is_group_leader, is_voting=delegate.is_voting, session_id=session_id)


def observer_actor(congress_id: int) -> Actor:
    return Actor(role=Role.OBSERVER, name="观众", congress_id=congress_id)
