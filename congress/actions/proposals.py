"""Filing proposals (提案网上建): drafts, co-signers (附议), submission, the leader's pre-review."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.actions.base import Context
from congress.db.models import Congress, Cosignature, Delegate, Proposal
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience
from congress.domain.limits import check_new_draft
from congress.domain.permissions import Permission
from congress.domain.proposals import (
    ProposalStatus,
    Verb,
    check_filing_text,
    is_open_invitation,
    is_published,
    may_answer_cosign,
    next_status,
)
from congress.domain.rules import CongressRules
from congress.reads.proposal_views import CASE_KEYS, board_entries
from congress.reads.proposals import (
    PRIVATE_PROPOSAL,
    PROPOSAL_KEYS,
    find_proposal,
    proposal_json,
    proposal_not_found,
    proposals_json,
    readable_proposal,
)
from congress.reads.suggestions import prepare_suggestion, suggest_category

PRIVATE_FIELDS = ("attachments", "invitations", "suggested_category", "category_confidence")
# Not in public events: the text is read on demand (proposal_board, proposal_detail). A filing burst
# is hundreds of public events, each written to every observer (docs/performance.md, Rehearsal).
TEXT_FIELDS = ("reason", "suggestion")




def public_event(data: dict[str, Any]) -> dict[str, Any]:
    """The payload of a public proposal.* event: the proposal as anyone may see it (from either
    form of proposal_json) without its text: what the board shows."""
    return {key: value for key, value in data.items() if key not in PRIVATE_FIELDS and key not in TEXT_FIELDS}



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
    # as the proposer's snapshot lists it (`mine`): with its case fields, empty for a new draft
    data = board_entries(ctx.session, [proposal], private=True)[0]
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
    tell_cosigners(ctx, congress_id, proposal)  # they answer on what it says now
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
            raise DomainError("bad_field", "提案人不能附议自己的提案", params={"field": "employee_ids"})
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
    tell_cosigners(ctx, congress_id, proposal)
    return data


def answer_cosign(ctx: Context, congress_id: int, proposal_id: int, accept: bool) -> dict[str, Any]:
    """Accept or decline the proposer's invitation (an accepted one can still be taken back before
    submission). Without an open invitation the proposal is `not_found`, draft or submitted alike."""
    ctx.actor.require(Permission.COSIGN_PROPOSAL)
    proposal = find_proposal(ctx, congress_id, proposal_id)
    if proposal.proposer_id == ctx.actor.delegate_id:
        raise DomainError("bad_field", "提案人不能附议自己的提案", params={"field": "proposal_id"})
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
    tell_cosigners(ctx, congress_id, proposal, answered_by=ctx.actor.delegate_id)
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
    if proposal.status == ProposalStatus.PRE_REVIEW:  # co-signers, then the group's leader(s): still not public
        tell_cosigners(ctx, congress_id, proposal)
        for leader_id in _group_leaders(ctx.session, proposal.group_id):
            ctx.emit(congress_id, "proposal.pre_review_requested", {"proposal_id": proposal.id,
                     "title": proposal.title}, Audience.DELEGATE, leader_id)
    return data


def tell_cosigners(ctx: Context, congress_id: int, proposal: Proposal, answered_by: int | None = None) -> None:
    """A proposal changed in a way co-sign requests show: each delegate whose snapshot lists it sees the
    request as listed there (`cosign.request_changed`, with their answer). For a draft (or one in
    团长初审) those still asked; one who just declined sees it go. A published case (carried into the
    next session) is listed for every co-signer."""
    published = is_published(proposal.status)
    asked = [(d, st) for d, st in ctx.session.execute(sa.select(Cosignature.delegate_id, Cosignature.status).where(
        Cosignature.proposal_id == proposal.id).order_by(Cosignature.id))
        if published or is_open_invitation(st) or d == answered_by]
    if not asked:
        return
    entry = proposals_json(ctx.session, [proposal])[0]
    for delegate_id, answer in asked:
        ctx.emit(congress_id, "cosign.request_changed", {**entry, "my_answer": answer}, Audience.DELEGATE, delegate_id)


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
    if not approve:  # back to a draft (approved: proposal.submitted tells everyone)
        tell_cosigners(ctx, congress_id, proposal)
    return payload


PROPOSAL = Obj(PROPOSAL_KEYS, "a proposal as anyone may see it")
_ID = Param("proposal_id", int)

COMMANDS: tuple[Command, ...] = (
    Command("draft_proposal", draft_proposal, (Param("title", str), Param("reason", str, doc="案由"),
            Param("suggestion", str, doc="建议和措施"), Param("suggested_department", str, False)), "起草提案",
            result=Obj((*PRIVATE_PROPOSAL.keys, *CASE_KEYS), "a new draft, as the snapshot's `mine` lists it"),
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
