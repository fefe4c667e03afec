"""A proposal as each reader may see it: the JSON shapes of the board and the detail page, who may
read a draft (its proposer and invited co-signers) or a published one, and the invitations.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import Cosignature, Delegate, Group, Proposal
from congress.domain.commands import Key, ListOf, Obj
from congress.domain.errors import DomainError
from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.domain.proposals import (
    ProposalStatus,
    Reading,
    is_published,
    reading,
)
from congress.reads.attachments import attachments_of, attachments_of_many
from congress.reads.context import ReadContext


def proposal_json(session: Session, proposal: Proposal, *, private: bool = False) -> dict[str, Any]:
    """What anyone may see of a proposal (names, never other personal details); `private` adds
    what only its proposer, co-signers and staff see."""
    cosigners = [row for _pid, *row in session.execute(_COSIGNERS.where(Cosignature.proposal_id == proposal.id))]
    return _proposal_data(proposal, session.get(Delegate, proposal.proposer_id), session.get(Group, proposal.group_id),
                          cosigners, attachments_of(session, proposal.id) if private else None)


def proposals_json(session: Session, proposals: list[Proposal], *, private: bool = False) -> list[dict[str, Any]]:
    """`proposal_json` for a list (the board, staff's review queue): each kind of row is read once
    for the whole list instead of once per proposal."""
    if not proposals:
        return []
    ids = [p.id for p in proposals]
    people = {d.id: d for d in session.scalars(sa.select(Delegate).where(
        Delegate.id.in_({p.proposer_id for p in proposals})))}
    groups = {g.id: g for g in session.scalars(sa.select(Group).where(Group.id.in_({p.group_id for p in proposals})))}
    cosigners: dict[int, list[Any]] = defaultdict(list)
    for pid, *row in session.execute(_COSIGNERS.where(Cosignature.proposal_id.in_(ids))):
        cosigners[pid].append(row)
    attachments = attachments_of_many(session, ids) if private else {}
    return [_proposal_data(p, people.get(p.proposer_id), groups.get(p.group_id), cosigners[p.id],
                           attachments.get(p.id, []) if private else None) for p in proposals]


def invitation_of(session: Session, actor: Actor, proposal_id: int) -> str | None:
    """The actor's co-signature on the proposal (invited / accepted / declined), None if never asked."""
    if actor.role is not Role.DELEGATE or actor.delegate_id is None:
        return None
    return session.scalar(sa.select(Cosignature.status).where(Cosignature.proposal_id == proposal_id,
                                                              Cosignature.delegate_id == actor.delegate_id))


def readable_proposal(ctx: ReadContext, congress_id: int, proposal_id: int) -> tuple[Proposal, Reading]:
    """A proposal of this congress that the actor may read, and how much of it."""
    proposal = find_proposal(ctx, congress_id, proposal_id)
    level = reading_of(ctx.session, ctx.actor, proposal)
    if level is Reading.NONE:
        raise proposal_not_found(proposal_id)
    return proposal, level


def published_proposal(ctx: ReadContext, congress_id: int, proposal_id: int | None) -> Proposal:
    """A submitted proposal of this congress: what review, casework and similarity work on. A draft
    is nobody's case yet (and a step on it would put its title in a public event)."""
    proposal = find_proposal(ctx, congress_id, proposal_id)
    if not is_published(proposal.status):
        raise proposal_not_found(proposal.id)
    return proposal


# (proposal id, status, name, employee id, delegate id) of each co-signer, in the order invited.
_COSIGNERS = (sa.select(Cosignature.proposal_id, Cosignature.status, Delegate.name, Delegate.employee_id, Delegate.id)
              .join(Delegate, Cosignature.delegate_id == Delegate.id).order_by(Cosignature.id))


def _proposal_data(proposal: Proposal, proposer: Delegate | None, group: Group | None, cosigners: list[Any],
                   attachments: list[dict[str, Any]] | None) -> dict[str, Any]:
    """cosigners: (status, name, employee_id, delegate id) in the order invited; attachments only
    for the private form."""
    data: dict[str, Any] = {
        "id": proposal.id, "number": proposal.number, "title": proposal.title, "reason": proposal.reason,
        "suggestion": proposal.suggestion, "status": proposal.status,
        "status_label": ProposalStatus(proposal.status).label, "category": proposal.category,
        "group_id": proposal.group_id, "group": group.name if group else "",
        "proposer": proposer.name if proposer else "", "proposer_id": proposal.proposer_id,
        "cosigners": [name for status, name, _e, _i in cosigners if status == "accepted"],
        "is_key": proposal.is_key, "is_between_sessions": proposal.is_between_sessions,
        "merged_into_id": proposal.merged_into_id, "award_level": proposal.award_level,
        "suggested_department": proposal.suggested_department,
        "submitted_at": proposal.submitted_at.isoformat() if proposal.submitted_at else None,
        # 上次会议转入: the session and number it came from (congress.actions.terms)
        "carried_from": ({"session": proposal.carried_from_session, "number": proposal.carried_from_number}
                         if proposal.carried_from_number is not None else None),
    }
    if attachments is not None:
        data["attachments"] = attachments
        data["invitations"] = [{"delegate_id": i, "employee_id": e, "name": n, "status": s}
                               for s, n, e, i in cosigners]
        data["suggested_category"] = proposal.suggested_category
        data["category_confidence"] = proposal.category_confidence
    return data


def proposal_not_found(proposal_id: int) -> DomainError:
    """The one answer for a proposal someone may not reach: never used, of another congress, a draft
    that is not theirs, an invitation declined. Each gets these very words, so none can be told apart."""
    return DomainError("not_found", f"找不到提案（编号 {proposal_id}）")


def reading_of(session: Session, actor: Actor, proposal: Proposal) -> Reading:
    """What this actor may read of this proposal (congress.domain.proposals.reading)."""
    is_delegate = actor.role is Role.DELEGATE and actor.delegate_id is not None
    return reading(proposal.status, is_proposer=is_delegate and proposal.proposer_id == actor.delegate_id,
                   invitation=invitation_of(session, actor, proposal.id), is_staff=actor.role is Role.STAFF,
                   leads_its_group=is_delegate and actor.is_group_leader and actor.group_id == proposal.group_id)


def find_proposal(ctx: ReadContext, congress_id: int, proposal_id: int | None) -> Proposal:
    """A proposal of this congress, whatever its status (the caller decides who may reach it)."""
    proposal = ctx.session.get(Proposal, proposal_id) if proposal_id is not None else None
    if proposal is None or proposal.congress_id != congress_id:
        raise proposal_not_found(proposal_id or 0)
    return proposal


# A proposal as the protocol describes it: the board's form (public), and the private one its
# proposer, co-signers and staff see (with the text's helpers)
PROPOSAL_KEYS = (
    Key("id", int), Key("number", int, "提案号, null before submission"), Key("title", str), Key("reason", str, "案由"),
    Key("suggestion", str, "建议和措施"), Key("status", str, "docs/proposals.md"), Key("status_label", str),
    Key("category", str), Key("group_id", int), Key("group", str), Key("proposer", str), Key("proposer_id", int),
    Key("cosigners", ListOf(str), "who accepted"), Key("is_key", bool), Key("is_between_sessions", bool),
    Key("merged_into_id", int), Key("award_level", str), Key("suggested_department", str),
    Key("submitted_at", str), Key("carried_from", Obj((Key("session", str), Key("number", int))),
                                  "上次会议转入, else null"))


ATTACHMENT = Obj((Key("id", int), Key("filename", str), Key("content_type", str), Key("size", int),
                  Key("sha256", str)))


PRIVATE_PROPOSAL = Obj((
    *PROPOSAL_KEYS, Key("attachments", ListOf(ATTACHMENT)),
    Key("invitations", ListOf(Obj((Key("delegate_id", int), Key("employee_id", str), Key("name", str),
                                   Key("status", str, "invited / accepted / declined"))))),
    Key("suggested_category", str), Key("category_confidence", float)),
    "the proposal with what only its proposer, co-signers and staff see")
