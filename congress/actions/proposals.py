"""Filing proposals (提案网上建): drafts, co-signers (附议), submission, the leader's pre-review."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.actions.attachments import attachments_of, attachments_of_many
from congress.actions.base import Context
from congress.actions.suggestions import prepare_suggestion, suggest_category
from congress.commands import Command, Key, ListOf, Obj, Param, register
from congress.db.models import Congress, Cosignature, Delegate, Group, Proposal
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience, Role
from congress.domain.limits import check_new_draft
from congress.domain.proposals import (
    ProposalStatus,
    Reading,
    Verb,
    check_filing_text,
    is_published,
    may_answer_cosign,
    next_status,
    reading,
)
from congress.domain.rules import CongressRules
from congress.permissions import Actor, Permission

PRIVATE_FIELDS = ("attachments", "invitations", "suggested_category", "category_confidence")
# Not in public events: the text is read on demand (proposal_board, proposal_detail). A filing burst
# is hundreds of public events, each written to every observer (docs/performance.md, Rehearsal).
TEXT_FIELDS = ("reason", "suggestion")


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


def public_event(data: dict[str, Any]) -> dict[str, Any]:
    """The payload of a public proposal.* event: the proposal as anyone may see it (from either
    form of proposal_json) without its text: what the board shows."""
    return {key: value for key, value in data.items() if key not in PRIVATE_FIELDS and key not in TEXT_FIELDS}


def proposal_not_found(proposal_id: int) -> DomainError:
    """The one answer for a proposal someone may not reach: never used, of another congress, a draft
    that is not theirs, an invitation declined. Each gets these very words, so none can be told apart."""
    return DomainError("not_found", f"找不到提案（编号 {proposal_id}）")


def invitation_of(session: Session, actor: Actor, proposal_id: int) -> str | None:
    """The actor's co-signature on the proposal (invited / accepted / declined), None if never asked."""
    if actor.role is not Role.DELEGATE or actor.delegate_id is None:
        return None
    return session.scalar(sa.select(Cosignature.status).where(Cosignature.proposal_id == proposal_id,
                                                              Cosignature.delegate_id == actor.delegate_id))


def reading_of(session: Session, actor: Actor, proposal: Proposal) -> Reading:
    """What this actor may read of this proposal (congress.domain.proposals.reading)."""
    is_delegate = actor.role is Role.DELEGATE and actor.delegate_id is not None
    return reading(proposal.status, is_proposer=is_delegate and proposal.proposer_id == actor.delegate_id,
                   invitation=invitation_of(session, actor, proposal.id), is_staff=actor.role is Role.STAFF,
                   leads_its_group=is_delegate and actor.is_group_leader and actor.group_id == proposal.group_id)


def find_proposal(ctx: Context, congress_id: int, proposal_id: int | None) -> Proposal:
    """A proposal of this congress, whatever its status (the caller decides who may reach it)."""
    proposal = ctx.session.get(Proposal, proposal_id) if proposal_id is not None else None
    if proposal is None or proposal.congress_id != congress_id:
        raise proposal_not_found(proposal_id or 0)
    return proposal


def readable_proposal(ctx: Context, congress_id: int, proposal_id: int) -> tuple[Proposal, Reading]:
    """A proposal of this congress that the actor may read, and how much of it."""
    proposal = find_proposal(ctx, congress_id, proposal_id)
    level = reading_of(ctx.session, ctx.actor, proposal)
    if level is Reading.NONE:
        raise proposal_not_found(proposal_id)
    return proposal, level


def published_proposal(ctx: Context, congress_id: int, proposal_id: int | None) -> Proposal:
    """A submitted proposal of this congress: what review, casework and similarity work on. A draft
    is nobody's case yet (and a step on it would put its title in a public event)."""
    proposal = find_proposal(ctx, congress_id, proposal_id)
    if not is_published(proposal.status):
        raise proposal_not_found(proposal.id)
    return proposal


def own_proposal(ctx: Context, congress_id: int, proposal_id: int) -> Proposal:
    """The actor's own proposal: anyone else's is `not_found` to them, as if it did not exist."""
    proposal = find_proposal(ctx, congress_id, proposal_id)
    if ctx.actor.delegate_id is None or proposal.proposer_id != ctx.actor.delegate_id:
        raise proposal_not_found(proposal_id)
    return proposal


def _own_draft(ctx: Context, congress_id: int, proposal_id: int) -> Proposal:
    proposal = own_proposal(ctx, congress_id, proposal_id)
    if proposal.status != ProposalStatus.DRAFT:
        raise DomainError("bad_proposal_state", f"提案当前为“{ProposalStatus(proposal.status).label}”，不能再修改")
    return proposal


def _tell_people(ctx: Context, congress_id: int, proposal: Proposal, type: str, payload: dict[str, Any]) -> None:
    """The proposer and every accepted co-signer (and those of merged proposals) are told."""
    for delegate_id in case_people(ctx.session, proposal):
        ctx.emit(congress_id, type, payload, Audience.DELEGATE, delegate_id)


def case_people(session: Session, proposal: Proposal) -> list[int]:
    """Everyone credited on a case: its proposer and co-signers, and those of proposals merged into it."""
    ids = [proposal.id, *session.scalars(sa.select(Proposal.id).where(Proposal.merged_into_id == proposal.id))]
    people: list[int] = []
    for pid in ids:
        p = session.get(Proposal, pid)
        assert p is not None
        people.append(p.proposer_id)
        people.extend(session.scalars(sa.select(Cosignature.delegate_id).where(
            Cosignature.proposal_id == pid, Cosignature.status == "accepted").order_by(Cosignature.id)))
    return list(dict.fromkeys(people))


def draft_proposal(ctx: Context, congress_id: int, title: str, reason: str, suggestion: str,
                   suggested_department: str | None = None) -> dict[str, Any]:
    ctx.actor.require(Permission.FILE_PROPOSAL)
    check_filing_text(title, reason, suggestion)
    delegate = ctx.get(Delegate, ctx.actor.delegate_id, "代表")
    if delegate.congress_id != congress_id:
        raise DomainError("other_congress", "您不是本次职代会的代表")
    # Drafts run in the writer, batches of a congress one after another: the count is current.
    check_new_draft(ctx.session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
        Proposal.proposer_id == delegate.id, Proposal.status == ProposalStatus.DRAFT)) or 0)
    proposal = Proposal(congress_id=congress_id, proposer_id=delegate.id, group_id=delegate.group_id,
                        title=title.strip(), reason=reason.strip(), suggestion=suggestion.strip(),
                        suggested_department=(suggested_department or "").strip() or None, created_at=ctx.now)
    ctx.session.add(proposal)
    ctx.session.flush()
    data = proposal_json(ctx.session, proposal, private=True)
    ctx.emit(congress_id, "proposal.drafted", data, Audience.DELEGATE, delegate.id)
    return data


def edit_proposal(ctx: Context, congress_id: int, proposal_id: int, title: str, reason: str, suggestion: str,
                  suggested_department: str | None = None) -> dict[str, Any]:
    ctx.actor.require(Permission.FILE_PROPOSAL)
    proposal = _own_draft(ctx, congress_id, proposal_id)
    check_filing_text(title, reason, suggestion)
    proposal.title, proposal.reason, proposal.suggestion = title.strip(), reason.strip(), suggestion.strip()
    proposal.suggested_department = (suggested_department or "").strip() or None
    data = proposal_json(ctx.session, proposal, private=True)
    ctx.emit(congress_id, "proposal.edited", data, Audience.DELEGATE, proposal.proposer_id)
    return data


def invite_cosigners(ctx: Context, congress_id: int, proposal_id: int, employee_ids: list[Any]) -> dict[str, Any]:
    """The proposer invites co-signers from the delegate list; each accepts or declines."""
    ctx.actor.require(Permission.FILE_PROPOSAL)
    proposal = _own_draft(ctx, congress_id, proposal_id)
    for employee_id in employee_ids:
        invitee = ctx.session.scalar(sa.select(Delegate).where(
            Delegate.congress_id == congress_id, Delegate.employee_id == str(employee_id), Delegate.is_active))
        if invitee is None:
            raise DomainError("not_found", f"本次职代会没有工号为 {employee_id} 的代表")
        if not invitee.is_voting:
            raise DomainError("not_voting_delegate", f"{invitee.name} 不是正式代表，不能附议")
        if invitee.id == proposal.proposer_id:
            raise DomainError("bad_field", "提案人不能附议自己的提案")
        existing = ctx.session.scalar(sa.select(Cosignature).where(
            Cosignature.proposal_id == proposal.id, Cosignature.delegate_id == invitee.id))
        if existing is not None and existing.status != "declined":
            continue
        if existing is None:
            existing = Cosignature(proposal_id=proposal.id, delegate_id=invitee.id, created_at=ctx.now)
            ctx.session.add(existing)
        existing.status, existing.answered_at = "invited", None
        ctx.session.flush()
        ctx.emit(congress_id, "cosign.invited", {"proposal_id": proposal.id, "title": proposal.title,
                                                 "proposer": ctx.actor.name}, Audience.DELEGATE, invitee.id)
    data = proposal_json(ctx.session, proposal, private=True)
    ctx.emit(congress_id, "proposal.edited", data, Audience.DELEGATE, proposal.proposer_id)
    return data


def answer_cosign(ctx: Context, congress_id: int, proposal_id: int, accept: bool) -> dict[str, Any]:
    """Accept or decline the proposer's invitation (an accepted one can still be taken back before
    submission). Without an open invitation the proposal is `not_found`, draft or submitted alike."""
    ctx.actor.require(Permission.COSIGN_PROPOSAL)
    proposal = find_proposal(ctx, congress_id, proposal_id)
    if proposal.proposer_id == ctx.actor.delegate_id:
        raise DomainError("bad_field", "提案人不能附议自己的提案")
    row = ctx.session.scalar(sa.select(Cosignature).where(Cosignature.proposal_id == proposal.id,
                                                          Cosignature.delegate_id == ctx.actor.delegate_id))
    if row is None or not may_answer_cosign(row.status, is_proposer=False):
        raise proposal_not_found(proposal_id)
    if proposal.status != ProposalStatus.DRAFT:  # they were asked: they may know it went ahead
        raise DomainError("bad_proposal_state", "提案已提交，附议已截止")
    row.status, row.answered_at = ("accepted" if accept else "declined"), ctx.now
    ctx.session.flush()
    data = proposal_json(ctx.session, proposal, private=True)
    ctx.emit(congress_id, "cosign.answered", {"proposal_id": proposal.id, "name": ctx.actor.name,
                                              "accepted": accept}, Audience.DELEGATE, proposal.proposer_id)
    ctx.emit(congress_id, "proposal.edited", data, Audience.DELEGATE, proposal.proposer_id)
    return {"proposal_id": proposal.id, "accepted": accept}


def submit_proposal(ctx: Context, congress_id: int, proposal_id: int) -> dict[str, Any]:
    """Submission needs N accepted co-signers and falls inside the filing window (else 平时提案 or refused)."""
    ctx.actor.require(Permission.FILE_PROPOSAL)
    proposal = _own_draft(ctx, congress_id, proposal_id)
    congress = ctx.get(Congress, congress_id, "职代会")
    rules = CongressRules.from_json(congress.rules)
    accepted = ctx.session.scalar(sa.select(sa.func.count()).select_from(Cosignature).where(
        Cosignature.proposal_id == proposal.id, Cosignature.status == "accepted")) or 0
    if accepted < rules.cosigners_required:
        raise DomainError("too_few_cosigners",
                          f"提案需要至少 {rules.cosigners_required} 名代表附议，目前 {accepted} 名已同意")
    if congress.filing_opens_at and ctx.now < congress.filing_opens_at:
        raise DomainError("filing_not_open", "提案征集尚未开始")
    if congress.filing_closes_at and ctx.now >= congress.filing_closes_at:
        if rules.late_proposals == "refuse":
            raise DomainError("filing_closed", "提案征集已截止")
        proposal.is_between_sessions = True  # 平时提案
    verb = Verb.SUBMIT_FOR_PRE_REVIEW if proposal.group_id in rules.leader_pre_review_groups else Verb.SUBMIT
    proposal.status = next_status(proposal.status, verb).value
    proposal.submitted_at = ctx.now
    if proposal.status == ProposalStatus.SUBMITTED:
        data = _enter_review(ctx, congress_id, proposal)
    else:
        data = proposal_json(ctx.session, proposal, private=True)
    ctx.emit(congress_id, "proposal.edited", data, Audience.DELEGATE, proposal.proposer_id)
    if proposal.status == ProposalStatus.PRE_REVIEW:  # to the group's leader(s) only: still not public
        for leader_id in _group_leaders(ctx.session, proposal.group_id):
            ctx.emit(congress_id, "proposal.pre_review_requested", {"proposal_id": proposal.id,
                     "title": proposal.title}, Audience.DELEGATE, leader_id)
    return data


def _group_leaders(session: Session, group_id: int) -> list[int]:
    return list(session.scalars(sa.select(Delegate.id).where(Delegate.group_id == group_id, Delegate.is_active,
                                                             Delegate.is_group_leader).order_by(Delegate.id)))


def _enter_review(ctx: Context, congress_id: int, proposal: Proposal) -> dict[str, Any]:
    """On reaching the committee: a number, a suggested category (usually computed before the
    write: Command.prepare), a public board entry. Returns the proposal as its proposer sees it."""
    suggestion = suggest_category(ctx.session, proposal, ctx.prepared)
    proposal.number = ctx.next_number(congress_id, Proposal.number, Proposal.congress_id == congress_id)
    proposal.suggested_category, proposal.category_confidence = suggestion.category, suggestion.confidence
    data = proposal_json(ctx.session, proposal, private=True)
    ctx.emit(congress_id, "proposal.submitted", public_event(data))
    ctx.emit(congress_id, "proposal.category_suggested", {"proposal_id": proposal.id,
             "category": suggestion.category, "confidence": suggestion.confidence,
             "reasons": list(suggestion.reasons)}, Audience.STAFF)
    return data


def pre_review(ctx: Context, congress_id: int, proposal_id: int, approve: bool, note: str | None = None
               ) -> dict[str, Any]:
    """团长初审: the group's leader passes the proposal to the committee or returns it to the proposer."""
    ctx.actor.require(Permission.PRE_REVIEW_PROPOSAL)  # permission first, before anything is looked up
    proposal, _level = readable_proposal(ctx, congress_id, proposal_id)  # another group's draft: not_found
    ctx.actor.require(Permission.PRE_REVIEW_PROPOSAL, group_id=proposal.group_id)
    if not approve and not (note or "").strip():
        raise DomainError("reason_required", "退回修改须写明意见")
    proposal.status = next_status(proposal.status, Verb.APPROVE if approve else Verb.RETURN).value
    data = _enter_review(ctx, congress_id, proposal) if approve else proposal_json(ctx.session, proposal, private=True)
    payload = {"proposal_id": proposal.id, "approved": approve, "note": (note or "").strip() or None}
    # The leaders and the proposer: a draft sent back, with the leader's note, is nobody else's business
    for delegate_id in dict.fromkeys([*_group_leaders(ctx.session, proposal.group_id), proposal.proposer_id]):
        ctx.emit(congress_id, "proposal.pre_reviewed", payload, Audience.DELEGATE, delegate_id)
    ctx.emit(congress_id, "proposal.edited", data, Audience.DELEGATE, proposal.proposer_id)
    return payload


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
PROPOSAL = Obj(PROPOSAL_KEYS, "a proposal as anyone may see it")
ATTACHMENT = Obj((Key("id", int), Key("filename", str), Key("content_type", str), Key("size", int),
                  Key("sha256", str)))
PRIVATE_PROPOSAL = Obj((
    *PROPOSAL_KEYS, Key("attachments", ListOf(ATTACHMENT)),
    Key("invitations", ListOf(Obj((Key("delegate_id", int), Key("employee_id", str), Key("name", str),
                                   Key("status", str, "invited / accepted / declined"))))),
    Key("suggested_category", str), Key("category_confidence", float)),
    "the proposal with what only its proposer, co-signers and staff see")
_ID = Param("proposal_id", int)

register(
    Command("draft_proposal", draft_proposal, (Param("title", str), Param("reason", str, doc="案由"),
            Param("suggestion", str, doc="建议和措施"), Param("suggested_department", str, False)), "起草提案",
            result=Obj(PRIVATE_PROPOSAL.keys, "a new draft"),
            errors=("bad_field", "draft_limit", "not_found"), permissions=(Permission.FILE_PROPOSAL,)),
    Command("edit_proposal", edit_proposal, (_ID, Param("title", str), Param("reason", str),
            Param("suggestion", str), Param("suggested_department", str, False)), "修改提案草稿",
            result=PRIVATE_PROPOSAL, errors=("bad_field", "bad_proposal_state", "not_found"),
            permissions=(Permission.FILE_PROPOSAL,)),
    Command("invite_cosigners", invite_cosigners,
            (_ID, Param("employee_ids", list, shape=ListOf(str, "工号 of the delegates to invite"))), "邀请代表附议",
            result=Obj(PRIVATE_PROPOSAL.keys, "each invitee gets `cosign.invited` and reads the text with "
                                              "`cosign_invitation`"),
            errors=("bad_field", "bad_proposal_state", "not_found"), permissions=(Permission.FILE_PROPOSAL,)),
    Command("answer_cosign", answer_cosign, (_ID, Param("accept", bool)),
            "同意或谢绝提案人的附议邀请（同意后提交前可撤回）",
            result=Obj((Key("proposal_id", int), Key("accepted", bool)),
                       "needs an open invitation: without one `not_found`, draft or submitted alike"),
            errors=("bad_field", "bad_proposal_state", "not_found"), permissions=(Permission.COSIGN_PROPOSAL,)),
    Command("submit_proposal", submit_proposal, (_ID,), "提交提案", prepare=prepare_suggestion,
            result=Obj(PRIVATE_PROPOSAL.keys, "to the committee, or first to the group's leader (团长初审) when the "
                                              "rules say so; after the filing window by the rule `late_proposals`"),
            errors=("bad_field", "bad_proposal_state", "filing_closed", "filing_not_open", "not_found",
                    "too_few_cosigners"), permissions=(Permission.FILE_PROPOSAL,)),
    Command("pre_review", pre_review, (_ID, Param("approve", bool), Param("note", str, False)),
            "团长初审", prepare=prepare_suggestion,
            result=Obj((Key("proposal_id", int), Key("approved", bool), Key("note", str)),
                       "approved: to the committee; else back to the proposer with the note"),
            errors=("bad_proposal_state", "not_found", "reason_required"), permissions=(Permission.PRE_REVIEW_PROPOSAL,)),
)
