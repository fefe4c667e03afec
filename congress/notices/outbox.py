"""The outbox writer: the notices an event causes, written in that event's own transaction.

Context.emit calls `queue_for` for the few event types that cause notices, after the congress's row
is locked by the event's seq: two writers of one congress take turns, so reading which dedupe keys
exist and inserting the missing ones cannot race. A row names its recipient by reference
("channel:3", "delegate:17"), never by a webhook's key; the sender looks the address up.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import Delegate, Department, Event, Notice, NoticeChannel, NoticeConfig, Proposal
from congress.domain.notices import (
    Planned,
    assignment_notices,
    decision_notice,
    reply_notice,
    rules_of,
    vote_notice,
)
from congress.notices.settings import public_url

NOTICE_EVENTS = frozenset({"proposal.assigned", "proposal.decided", "proposal.replied", "vote.opened"})


def queue_for(session: Session, now: datetime, event: Event) -> int:
    """Rows for `event` (one of NOTICE_EVENTS); returns how many were queued."""
    config = session.get(NoticeConfig, event.congress_id)
    rules = rules_of(config.rules if config else None)
    payload = event.payload
    rows: list[Notice] = []
    if event.type == "vote.opened":
        rows = _rows(session, event, vote_notice(rules, title=payload.get("title", ""), now=now),
                     f"v{payload.get('id')}", None, None)
        return _insert_new(session, rows)
    proposal = session.get(Proposal, payload.get("id"))
    if proposal is None:
        return 0
    if event.type == "proposal.assigned":
        due = datetime.fromisoformat(payload["due_at"]) if payload.get("due_at") else None
        lead = session.scalar(sa.select(Department).where(Department.name == payload.get("lead_department")))
        planned = assignment_notices(rules, number=proposal.number, title=proposal.title,
                                     department=lead.name if lead else "", due_at=due, now=now)
        source = f"p{proposal.id}r{payload.get('round')}d{due.isoformat() if due else '-'}"
        rows = _rows(session, event, planned, source, proposal, lead, due)
    elif event.type == "proposal.decided":
        planned = decision_notice(rules, number=proposal.number, title=proposal.title,
                                  decision=payload.get("decision", ""), reason=payload.get("reason"), now=now)
        rows = _rows(session, event, planned, f"p{proposal.id}e{event.seq}", proposal)
    elif event.type == "proposal.replied":
        reply = payload.get("reply") or {}
        planned = reply_notice(rules, number=proposal.number, title=proposal.title,
                               reply_class=reply.get("reply_class", ""), now=now)
        rows = _rows(session, event, planned, f"p{proposal.id}reply{reply.get('id')}", proposal)
    return _insert_new(session, rows)


def _rows(session: Session, event: Event, planned: list[Planned], source: str, proposal: Proposal | None,
          department: Department | None = None, due: datetime | None = None) -> list[Notice]:
    rows = []
    for p in planned:
        for channel, recipient, label in _recipients(session, event.congress_id, p.audience, proposal, department):
            rows.append(Notice(
                congress_id=event.congress_id, kind=p.kind, channel=channel, recipient=recipient,
                recipient_label=label, proposal_id=proposal.id if proposal else None,
                due_at=due if p.kind in ("due_7", "due_1", "overdue", "staff_overdue") else None,
                subject=p.subject, body=p.body, link=_link(p.page, event.congress_id, proposal),
                not_before=p.not_before, next_attempt_at=p.not_before, status="pending", attempts=0,
                created_at=event.created_at, dedupe_key=f"{event.congress_id}:{p.kind}:{source}:{recipient}"[:300]))
    return rows


def _recipients(session: Session, congress_id: int, audience: str, proposal: Proposal | None,
                department: Department | None) -> list[tuple[str, str, str]]:
    """(channel, recipient reference, who it is) for each place the audience hears."""
    if audience == "proposer":
        delegate = session.get(Delegate, proposal.proposer_id) if proposal else None
        return [("email", f"delegate:{delegate.id}", delegate.name)] if delegate and delegate.email else []
    if audience == "delegates":
        people = [("email", f"delegate:{d.id}", d.name) for d in session.scalars(sa.select(Delegate).where(
            Delegate.congress_id == congress_id, Delegate.is_active, Delegate.email.is_not(None)).order_by(Delegate.id))]
        return people + _channels(session, congress_id, "delegates", None, "代表群")
    if audience == "department":
        if department is None:
            return []
        return _channels(session, congress_id, "department", department.id, department.name)
    return _channels(session, congress_id, "staff", None, "工会工作人员")


def _channels(session: Session, congress_id: int, audience: str, department_id: int | None,
              label: str) -> list[tuple[str, str, str]]:
    query = sa.select(NoticeChannel).where(NoticeChannel.congress_id == congress_id,
                                           NoticeChannel.audience == audience)
    if department_id is not None:
        query = query.where(NoticeChannel.department_id == department_id)
    return [(c.kind, f"channel:{c.id}", label) for c in session.scalars(query.order_by(NoticeChannel.id))]


def _link(page: str, congress_id: int, proposal: Proposal | None) -> str:
    base = public_url()
    if page == "staff" or proposal is None:
        return f"{base}/{page}?congress={congress_id}"
    return f"{base}/{page}?congress={congress_id}#proposal-{proposal.id}"


def _insert_new(session: Session, rows: list[Notice]) -> int:
    """Only rows whose dedupe key is not there yet: nothing is queued twice (the unique key would
    refuse it, but a refusal here would roll back the event's whole transaction)."""
    if not rows:
        return 0
    keys = [r.dedupe_key for r in rows]
    existing = set(session.scalars(sa.select(Notice.dedupe_key).where(Notice.dedupe_key.in_(keys))))
    new = [r for r in {r.dedupe_key: r for r in rows}.values() if r.dedupe_key not in existing]
    session.add_all(new)
    return len(new)

