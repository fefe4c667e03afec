"""Does a sign-in still grant what its actor acts as? Read set-wise, decided by congress.domain.access.

Used by the writer for every command of a group commit (one query for the whole batch), by reads,
and by the live hub's watch over open connections (congress.application.connection_access).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import Account, Delegate, SignInSession
from congress.domain.access import Grant, SessionState, access_error, access_refusal
from congress.domain.errors import DomainError
from congress.domain.kinds import VOTING_TYPE, Role
from congress.domain.permissions import Actor

# Events after which some sign-ins may no longer grant what their connections act as: every worker
# then re-checks its open connections at once (congress.application.connection_access) instead of at its next sweep.
ENDS_ACCESS = frozenset({"roster.imported", "access_codes.issued", "account.changed"})


def grant_of(actor: Actor) -> Grant:
    return Grant(actor.role.value, actor.congress_id, actor.account_id, actor.delegate_id, actor.group_id,
                 actor.department_id, actor.is_group_leader, actor.is_voting)


def current_state(session: Session, session_ids: set[int]
                  ) -> dict[int, tuple[SessionState, Grant | None]]:
    """For each sign-in session still stored: its state and what its holder's rows grant now (None:
    the account is deactivated or the delegate no longer on the roster). One query for them all."""
    if not session_ids:
        return {}
    rows = session.execute(
        sa.select(SignInSession.id, SignInSession.revoked_at, SignInSession.expires_at, SignInSession.role,
                  Delegate.id, Delegate.congress_id, Delegate.group_id, Delegate.is_group_leader,
                  Delegate.delegate_type, Delegate.is_active,
                  Account.id, Account.kind, Account.department_id, Account.is_active)
        .outerjoin(Delegate, Delegate.id == SignInSession.delegate_id)
        .outerjoin(Account, Account.id == SignInSession.account_id)
        .where(SignInSession.id.in_(session_ids)))
    found: dict[int, tuple[SessionState, Grant | None]] = {}
    for (sid, revoked_at, expires_at, role, d_id, d_congress, d_group, d_leader, d_type, d_active,
         a_id, a_kind, a_department, a_active) in rows:
        grant: Grant | None = None
        if role == Role.DELEGATE.value:
            if d_id is not None and d_active:
                grant = Grant(Role.DELEGATE.value, d_congress, None, d_id, d_group, None, bool(d_leader),
                              d_type == VOTING_TYPE)
        elif a_id is not None and a_active:
            grant = Grant(a_kind, None, a_id, None, None, a_department)
        found[sid] = (SessionState(revoked_at, expires_at), grant)
    return found


def refusal_for(actor: Actor, state: dict[int, tuple[SessionState, Grant | None]], now: datetime) -> str | None:
    """SESSION_ENDED / ACCESS_CHANGED / None for an actor with a session; None for one without (the
    system, the CLI, the demo and tests act without a sign-in and have nothing to re-check)."""
    if actor.session_id is None:
        return None
    stored = state.get(actor.session_id)
    if stored is None:
        return access_refusal(grant_of(actor), None, None, now)
    return access_refusal(grant_of(actor), stored[0], stored[1], now)


def refusals(session: Session, actors: Sequence[Actor], now: datetime) -> list[DomainError | None]:
    """The error each actor's command must be refused with, or None: one query for all of them."""
    state = current_state(session, {a.session_id for a in actors if a.session_id is not None})
    out: list[DomainError | None] = []
    for actor in actors:
        refusal = refusal_for(actor, state, now)
        out.append(None if refusal is None else access_error(refusal))
    return out


def require_access(session: Session, actor: Actor, now: datetime) -> None:
    """Refuse (DomainError) unless the actor's sign-in still grants exactly what it acts as."""
    if actor.session_id is None:
        return
    error = refusals(session, [actor], now)[0]
    if error is not None:
        raise error
