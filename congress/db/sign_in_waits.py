"""Sign-in failures in the database, read for the rule in congress.domain.sign_in.

Each failure is two rows of the `sign_in_failure` table (key, at), shared by every worker:
- `pair:<address>|<account>`: this account from this address (its count, the address's spraying);
- `acct:<account>`: this account from anywhere (guessing spread over many addresses).
<account> is `account:<login>` for staff and departments, `delegate:<congress id>:<工号>` for a
delegate (`delegate:*:<工号>` for a 工号 no congress in session has). <address> never holds "|"
(congress.domain.sign_in.address_of). A sign-in deletes its pair's rows; staff can clear them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import SignInFailure
from congress.domain.sign_in import (
    POLICY,
    AddressFailures,
    Failures,
    SignInPolicy,
    address_wait,
    pair_wait,
)

PAIR, ACCOUNT = "pair:", "acct:"
KEEP = timedelta(days=1)  # rows older than this are deleted as new failures come
CLEAN_AT_ONCE = 500


def staff_account(login: str) -> str:
    return f"account:{login}"


def delegate_account(congress_id: int | str, employee_id: str) -> str:
    return f"delegate:{congress_id}:{employee_id}"


def pair_key(address: str, account: str) -> str:
    return f"{PAIR}{address}|{account}"


def split_pair(key: str) -> tuple[str, str]:
    """(address, account) of a pair key."""
    address, _bar, account = key[len(PAIR):].partition("|")
    return address, account


def _failures(session: Session, key: str, since: datetime) -> Failures:
    count, last = session.execute(
        sa.select(sa.func.count(), sa.func.max(SignInFailure.at))
        .where(SignInFailure.key == key, SignInFailure.at > since)).one()
    return Failures(count or 0, last)


def address_failures(session: Session, address: str, now: datetime, policy: SignInPolicy = POLICY) -> AddressFailures:
    count, accounts, last = session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(SignInFailure.key)), sa.func.max(SignInFailure.at))
        .where(SignInFailure.key.startswith(f"{PAIR}{address}|", autoescape=True),
               SignInFailure.at > now - policy.address_window)).one()
    return AddressFailures(count or 0, accounts or 0, last)


def wait_at_address(session: Session, address: str, now: datetime, policy: SignInPolicy = POLICY) -> float:
    """Seconds before anyone at this address may try (0 unless it sprays guesses over many accounts)."""
    return address_wait(policy, address_failures(session, address, now, policy), now)


def wait_for_pair(session: Session, account: str, address: str, now: datetime, policy: SignInPolicy = POLICY) -> float:
    """Seconds before this account may be tried from this address, by its own guards."""
    pair = _failures(session, pair_key(address, account), now - policy.pair_window)
    if pair.count == 0:
        return 0.0  # an address that has not failed on the account is never held back
    overall = _failures(session, f"{ACCOUNT}{account}", now - policy.account_window)
    return pair_wait(policy, pair, overall.count, now)


def record_failure(session: Session, accounts: list[str], address: str, now: datetime) -> None:
    for account in accounts:
        session.add(SignInFailure(key=pair_key(address, account), at=now))
        session.add(SignInFailure(key=f"{ACCOUNT}{account}", at=now))
    # A few hundred old rows at a time, skipping rows another sign-in is deleting (PostgreSQL;
    # SQLite has one writer): a burst of failures at the venue never waits on, or deadlocks over, this.
    old = (sa.select(SignInFailure.id)
           .where(SignInFailure.at < now - KEEP,
                  sa.or_(SignInFailure.key.startswith(PAIR), SignInFailure.key.startswith(ACCOUNT)))
           .limit(CLEAN_AT_ONCE).with_for_update(skip_locked=True))
    session.execute(sa.delete(SignInFailure).where(SignInFailure.id.in_(old.scalar_subquery())))


def record_success(session: Session, account: str, address: str) -> None:
    """The right secret: this pair's failures no longer count (nor towards its address's)."""
    session.execute(sa.delete(SignInFailure).where(SignInFailure.key == pair_key(address, account)))


@dataclass(frozen=True, slots=True)
class PairWait:
    account: str
    address: str
    failures: int
    last: datetime
    wait: float  # seconds left, pair and address guards together


def current_waits(session: Session, now: datetime, accepts: tuple[str, ...],
                  policy: SignInPolicy = POLICY) -> tuple[list[PairWait], list[tuple[str, AddressFailures, float]]]:
    """Every pair that failed within its window whose account starts with one of `accepts`, with
    the wait it faces now; and the addresses whose spraying makes everyone there wait."""
    pairs = session.execute(
        sa.select(SignInFailure.key, sa.func.count(), sa.func.max(SignInFailure.at))
        .where(SignInFailure.key.startswith(PAIR), SignInFailure.at > now - policy.pair_window)
        .group_by(SignInFailure.key)).all()
    overall = dict(session.execute(
        sa.select(SignInFailure.key, sa.func.count())
        .where(SignInFailure.key.startswith(ACCOUNT), SignInFailure.at > now - policy.account_window)
        .group_by(SignInFailure.key)).all())
    recent = session.execute(
        sa.select(SignInFailure.key, sa.func.count(), sa.func.max(SignInFailure.at))
        .where(SignInFailure.key.startswith(PAIR), SignInFailure.at > now - policy.address_window)
        .group_by(SignInFailure.key)).all()
    by_address: dict[str, AddressFailures] = {}
    for key, count, last in recent:
        address, _account = split_pair(key)
        seen = by_address.get(address, AddressFailures())
        by_address[address] = AddressFailures(seen.count + count, seen.accounts + 1,
                                              max(last, seen.last) if seen.last else last)
    address_waits = {address: address_wait(policy, failures, now) for address, failures in by_address.items()}
    waits = []
    for key, count, last in pairs:
        address, account = split_pair(key)
        if not account.startswith(accepts):
            continue
        wait = max(pair_wait(policy, Failures(count, last), overall.get(f"{ACCOUNT}{account}", 0), now),
                   address_waits.get(address, 0.0))
        waits.append(PairWait(account, address, count, last, wait))
    waits.sort(key=lambda w: (-w.wait, -w.last.timestamp(), w.account))
    spraying = sorted(((a, by_address[a], w) for a, w in address_waits.items() if w > 0), key=lambda x: -x[2])
    return waits, spraying


def clear(session: Session, accounts: list[str], address: str | None) -> int:
    """Delete the failures that make these accounts wait (at one address, or everywhere: then the
    account-wide count too), or with no account every pair's at the address. How many pair rows went."""
    if accounts and address is not None:
        keys = [pair_key(address, account) for account in accounts]
    else:
        query = sa.select(SignInFailure.key).distinct().where(SignInFailure.key.startswith(PAIR))
        if address is not None:
            query = query.where(SignInFailure.key.startswith(f"{PAIR}{address}|", autoescape=True))
        else:
            query = query.where(sa.or_(*(SignInFailure.key.endswith(f"|{a}", autoescape=True) for a in accounts)))
        # The address part never holds "|": the account is everything after the first one.
        keys = [key for key in session.scalars(query) if address is not None or split_pair(key)[1] in accounts]
    if not keys:
        return 0
    # A DELETE's result is a CursorResult (Session.execute is typed as returning any Result).
    cleared = cast("sa.CursorResult[Any]", session.execute(sa.delete(SignInFailure).where(
        SignInFailure.key.in_(keys)))).rowcount or 0
    if accounts and address is None:
        session.execute(sa.delete(SignInFailure).where(SignInFailure.key.in_([f"{ACCOUNT}{a}" for a in accounts])))
    return cleared
