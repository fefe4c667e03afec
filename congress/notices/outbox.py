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

from congress.db.models import (
    Assignment,
    Delegate,
    Department,
    Event,
    Notice,
    NoticeChannel,
    NoticeConfig,
    Proposal,
)
from congress.domain.notices import (
    REMINDER_KINDS,
    Planned,
    assignment_notices,
    decision_notice,
    reopened_notice,
    reply_notice,
    rules_of,
    vote_notice,
)
from congress.notices.settings import public_url

NOTICE_EVENTS = frozenset({"proposal.assigned", "proposal.decided", "proposal.replied", "proposal.rated",
                           "proposal.carried_over", "vote.opened"})
CARRIED_AWAY = "已转入下次会议，提醒改由新一次会议的提案发出"


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
        rows = _assignment_rows(session, event, rules, proposal, now)
    elif event.type == "proposal.carried_over":
        _cancel_carried_away(session, proposal.carried_from_id, now)
        if proposal.status == "assigned":  # a case answered already has no reminder ahead
            rows = _assignment_rows(session, event, rules, proposal, now, reminders_only=True)
    elif event.type == "proposal.rated" and payload.get("rating") == "不满意":
        rows = []
        for department, lead, round_ in _current_departments(session, proposal.id):
            planned = reopened_notice(rules, number=proposal.number, title=proposal.title, department=department.name,
                                      round=round_, now=now, lead=lead)
            rows += _rows(session, event, planned, f"p{proposal.id}reopen{round_}", proposal, department)
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


def _current_departments(session: Session, proposal_id: int) -> list[tuple[Department, str | None, int]]:
    """(department, the lead's name when it only helps — else None, round) of the case's current round:
    the lead (主办) first, then the helping (协办) departments."""
    round_ = session.scalar(sa.select(sa.func.max(Assignment.round)).where(Assignment.proposal_id == proposal_id))
    pairs = session.execute(sa.select(Assignment, Department).join(Department).where(
        Assignment.proposal_id == proposal_id, Assignment.round == round_)
        .order_by(Assignment.is_lead.desc(), Assignment.id)).all()
    lead = next((d.name for a, d in pairs if a.is_lead), "")
    return [(d, None if a.is_lead else lead, a.round) for a, d in pairs]


def _assignment_rows(session: Session, event: Event, rules: dict[str, bool], proposal: Proposal, now: datetime,
                     reminders_only: bool = False) -> list[Notice]:
    """The assignment notice and reminders of the case's current round, for its lead department and
    each helping one; `reminders_only` for a carried case (its departments already know it)."""
    rows: list[Notice] = []
    for department, lead, round_ in _current_departments(session, proposal.id):
        due = session.scalar(sa.select(Assignment.due_at).where(
            Assignment.proposal_id == proposal.id, Assignment.round == round_, Assignment.is_lead))
        planned = assignment_notices(rules, number=proposal.number, title=proposal.title, department=department.name,
                                     due_at=due, now=now, lead=lead, reminders_only=reminders_only)
        if reminders_only:  # a reminder its old copy already sent (or tried to) is not sent again
            done = _done_kinds(session, proposal.carried_from_id, due)
            planned = [p for p in planned if p.kind not in done]
        source = f"p{proposal.id}r{round_}d{due.isoformat() if due else '-'}"
        rows += _rows(session, event, planned, source, proposal, department, due)
    return rows


def _reminders(proposal_id: int | None) -> sa.ColumnElement[bool]:
    return sa.and_(Notice.proposal_id == proposal_id, Notice.kind.in_(REMINDER_KINDS | {"staff_overdue"}))


def _done_kinds(session: Session, old_id: int | None, due: datetime | None) -> set[str]:
    return set(session.scalars(sa.select(Notice.kind).where(
        _reminders(old_id), Notice.due_at == due, Notice.status.in_(("sent", "sending", "failed")))))


def _cancel_carried_away(session: Session, old_id: int | None, now: datetime) -> None:
    """The old copy's reminders still waiting: cancelled, in the carry-over's transaction (the new
    copy's take their place)."""
    if old_id is not None:
        session.execute(sa.update(Notice).where(_reminders(old_id), Notice.status == "pending")
                        .values(status="cancelled", last_error=CARRIED_AWAY, next_attempt_at=now))


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

