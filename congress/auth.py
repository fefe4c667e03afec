"""Argon2id hashing, generated secrets, server-side sessions and sign-in throttling."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from congress.db.models import Account, Congress, Delegate, Setting, SignInFailure, SignInSession
from congress.domain.errors import DomainError
from congress.domain.kinds import SIGN_IN_STATUSES, Role
from congress.permissions import Actor

HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# Access codes are random (8 of 31 symbols, ~40 bits) and throttled, so a lighter argon2id keeps
# 300 delegates signing in at once from queueing behind 64 MiB hashes on a 2-core server.
CODE_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
SESSION_COOKIE = "congress_session"
CSRF_HEADER = "x-csrf-token"


def bad_credentials() -> DomainError:
    """One message for unknown user and wrong secret, so sign-in does not reveal who exists."""
    return DomainError("bad_credentials", "账号或密码（访问码）不正确")
# Access codes avoid look-alike characters so they can be typed from a printed sheet
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def hash_secret(secret: str, hasher: PasswordHasher = HASHER) -> str:
    return hasher.hash(secret)


def hash_code(code: str) -> str:
    return CODE_HASHER.hash(code)


def verify_secret(stored_hash: str | None, secret: str, hasher: PasswordHasher = HASHER) -> bool:
    if not stored_hash:
        hasher.hash(secret)  # same work as a real check, so timing does not tell
        return False
    try:
        return hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, hasher: PasswordHasher = HASHER) -> bool:
    return hasher.check_needs_rehash(stored_hash)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def generate_access_code(length: int = 8) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def secret_key(session: Session) -> str:
    """The instance secret, generated on first use and kept in the database, never in code."""
    row = session.get(Setting, "secret_key")
    if row is None:
        row = Setting(key="secret_key", value=secrets.token_hex(32))
        session.add(row)
        session.flush()
    return row.value


@dataclass(frozen=True, slots=True)
class Throttle:
    per_account: int
    per_address: int
    window: timedelta


def _check_throttle(session: Session, keys: list[tuple[str, int]], now: datetime, window: timedelta) -> None:
    since = now - window
    for key, limit in keys:
        failures = session.scalar(
            sa.select(sa.func.count()).select_from(SignInFailure)
            .where(SignInFailure.key == key, SignInFailure.at > since)
        )
        if failures is not None and failures >= limit:
            raise DomainError("too_many_attempts", "尝试次数过多，请稍后再试")


def _throttle_keys(login: str, address: str | None, throttle: Throttle) -> list[tuple[str, int]]:
    keys = [(f"login:{login}", throttle.per_account)]
    if address:
        keys.append((f"addr:{address}", throttle.per_address))
    return keys


def _record_failure(session: Session, keys: list[tuple[str, int]], now: datetime) -> None:
    for key, _limit in keys:
        session.add(SignInFailure(key=key, at=now))


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
                    address: str | None, throttle: Throttle) -> NewSession:
    keys = _throttle_keys(f"account:{login}", address, throttle)
    _check_throttle(session, keys, now, throttle.window)
    account = session.scalar(sa.select(Account).where(Account.login == login, Account.is_active))
    if not verify_secret(account.password_hash if account else None, password) or account is None:
        _record_failure(session, keys, now)
        raise bad_credentials()
    if needs_rehash(account.password_hash):
        account.password_hash = hash_secret(password)
    return _open_session(session, role=Role(account.kind), now=now, hours=hours, address=address,
                         account_id=account.id)


class ChooseCongress(DomainError):
    """The 工号 and access code open more than one congress in session: the person picks one
    (`congresses`: id, name, is_rehearsal) and signs in again naming it."""

    def __init__(self, congresses: list[dict[str, Any]]) -> None:
        super().__init__("choose_congress", "您的工号和访问码可以进入不止一次职代会，请选择要进入的一次")
        self.congresses = congresses

    def __reduce__(self) -> tuple[Any, ...]:
        return (ChooseCongress, (self.congresses,))


def _account_key(congress_id: int | str, employee_id: str) -> str:
    return f"login:delegate:{congress_id}:{employee_id}"


def _is_locked(session: Session, key: str, limit: int, now: datetime, window: timedelta) -> bool:
    try:
        _check_throttle(session, [(key, limit)], now, window)
    except DomainError:
        return True
    return False


def sign_in_delegate(session: Session, congress_id: int | None, employee_id: str, code: str, *, now: datetime,
                     hours: int, address: str | None, throttle: Throttle) -> NewSession:
    """A delegate signs in with 工号 and access code, to the congress named, or else to the one
    the code opens among the congresses being prepared or in session whose roster has the 工号
    (a rehearsal congress beside the real one, next year's being prepared). A failure counts
    towards the lock-out of each congress whose code was tried, never of one whose code matched;
    a locked congress is not tried. Codes that open several congresses: ChooseCongress."""
    address_keys = [(f"addr:{address}", throttle.per_address)] if address else []
    _check_throttle(session, address_keys, now, throttle.window)
    where = [Delegate.employee_id == employee_id, Delegate.is_active]
    if congress_id is not None:
        where.append(Delegate.congress_id == congress_id)
    else:
        where.append(Delegate.congress_id.in_(sa.select(Congress.id).where(Congress.status.in_(SIGN_IN_STATUSES))))
    candidates = list(session.scalars(sa.select(Delegate).where(*where).order_by(Delegate.congress_id.desc())))
    open_to_try = [d for d in candidates
                   if not _is_locked(session, _account_key(d.congress_id, employee_id), throttle.per_account,
                                     now, throttle.window)]
    # No such 工号 (in that congress, or in any in session): failures count on a key of their own.
    unknown_key = _account_key(congress_id if congress_id is not None else "*", employee_id)
    locked = (not open_to_try if candidates
              else _is_locked(session, unknown_key, throttle.per_account, now, throttle.window))
    if locked:
        raise DomainError("too_many_attempts", "尝试次数过多，请稍后再试")
    code = code.strip().upper().replace("-", "").replace(" ", "")
    if not open_to_try:
        verify_secret(None, code, CODE_HASHER)  # the same work as a real check, so timing does not tell
    matched = [d for d in open_to_try if verify_secret(d.access_code_hash, code, CODE_HASHER)]
    if not matched:
        tried = [_account_key(d.congress_id, employee_id) for d in open_to_try] or [unknown_key]
        _record_failure(session, [(key, throttle.per_account) for key in tried] + address_keys, now)
        raise bad_credentials()
    if len(matched) > 1:
        congresses = session.scalars(sa.select(Congress).where(Congress.id.in_([d.congress_id for d in matched]))
                                     .order_by(Congress.id.desc()))
        raise ChooseCongress([{"id": c.id, "name": c.name, "is_rehearsal": c.is_rehearsal} for c in congresses])
    delegate = matched[0]
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
        return delegate_actor(delegate)
    account = session.get(Account, row.account_id)
    if account is None or not account.is_active:
        return None
    return Actor(role=role, name=account.display_name, account_id=account.id,
                 department_id=account.department_id)


def revoke_session(session: Session, token: str, now: datetime) -> None:
    row = session.scalar(sa.select(SignInSession).where(SignInSession.token_hash == token_digest(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now


def delegate_actor(delegate: Delegate) -> Actor:
    """A delegate acting for themself: their group, whether they lead it, whether they vote."""
    return Actor(role=Role.DELEGATE, name=delegate.name, congress_id=delegate.congress_id,
                 delegate_id=delegate.id, group_id=delegate.group_id,
                 is_group_leader=delegate.is_group_leader, is_voting=delegate.is_voting)


def observer_actor(congress_id: int) -> Actor:
    return Actor(role=Role.OBSERVER, name="观众", congress_id=congress_id)
