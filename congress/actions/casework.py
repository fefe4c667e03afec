"""Casework on submitted proposals: categories, review (立案审查), merging, assignment, replies,
ratings and awards. Staff decide; departments reply; the proposer rates."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.actions.base import Context
from congress.actions.proposals import _tell_people, case_people, public_event
from congress.db.models import Assignment, Congress, Decision, Department, Proposal, Rating, Reply, Term
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience, Role
from congress.domain.permissions import Permission
from congress.domain.proposals import (
    AWARD_LEVELS,
    DECISIONS,
    RATINGS,
    REPLY_CLASSES,
    ProposalStatus,
    Verb,
    next_status,
    rating_verb,
)
from congress.domain.terms import session_label
from congress.reads.casework import ASSIGNMENT_KEYS, REPLY, assignment_data, reply_json
from congress.reads.proposals import PROPOSAL_KEYS, proposal_json, published_proposal
from congress.tally.categorise import DEFAULT_CATEGORIES


def _case(ctx: Context, congress_id: int, proposal_id: int | None) -> Proposal:
    """A submitted proposal of this congress; another congress's, or a draft, is `not_found`. One
    carried into a later session is handled there: a step on this copy would never reach it."""
    proposal = published_proposal(ctx, congress_id, proposal_id)
    carried = ctx.session.execute(
        sa.select(Proposal.number, Congress.session_number, Term.number.label("term_number"))
        .join(Congress, Proposal.congress_id == Congress.id).outerjoin(Term, Congress.term_id == Term.id)
        .where(Proposal.carried_from_id == proposal.id)).first()
    if carried is not None:
        where = session_label(carried.term_number, carried.session_number or 1)
        raise DomainError("carried_over", f"第 {proposal.number} 号提案已转入{where}会议（第 {carried.number} 号），"
                                          "请在那次会议中办理")
    return proposal


def _public(ctx: Context, congress_id: int, type: str, proposal: Proposal, **extra: Any) -> dict[str, Any]:
    data = proposal_json(ctx.session, proposal)
    ctx.emit(congress_id, type, {**public_event(data), **extra})  # extra: e.g. a decision's own `reason`
    return {**data, **extra}


def categorise(ctx: Context, congress_id: int, proposal_id: int, category: str) -> dict[str, Any]:
    ctx.actor.require(Permission.REVIEW_PROPOSAL)
    proposal = _case(ctx, congress_id, proposal_id)
    allowed = _congress_categories(ctx, congress_id)
    if category not in allowed:
        raise DomainError("bad_field", f"类别应为：{'、'.join(allowed)}", params={"field": "category"})
    proposal.category = category
    return _public(ctx, congress_id, "proposal.categorised", proposal)


def _congress_categories(ctx: Context, congress_id: int) -> tuple[str, ...]:
    from congress.db.models import Congress

    congress = ctx.get(Congress, congress_id, "职代会")
    return tuple(congress.rules.get("categories") or DEFAULT_CATEGORIES)


def decide_proposal(ctx: Context, congress_id: int, proposal_id: int, decision: str, reason: str | None = None,
                    merge_into_id: int | None = None, category: str | None = None,
                    is_key: bool | None = None) -> dict[str, Any]:
    """立案审查: 立案 / 合并立案 / 转为意见建议 / 不予立案 (reason required) / 转为议案."""
    ctx.actor.require(Permission.REVIEW_PROPOSAL)
    proposal = _case(ctx, congress_id, proposal_id)
    verb = DECISIONS.get(decision)
    if verb is None:
        raise DomainError("bad_field", f"审查结论应为：{'、'.join(DECISIONS)}", params={"field": "decision"})
    if verb is Verb.REJECT and not (reason or "").strip():
        raise DomainError("reason_required", "不予立案必须写明理由")
    target: Proposal | None = None
    target_people: list[int] = []
    if verb is Verb.MERGE:
        target = _case(ctx, congress_id, merge_into_id) if merge_into_id else None
        if target is None or target.id == proposal.id:
            raise DomainError("bad_field", "合并立案须指定要并入的另一份提案", params={"field": "merge_into_id"})
        if target.status not in (ProposalStatus.REGISTERED, ProposalStatus.ASSIGNED, ProposalStatus.REPLIED,
                                 ProposalStatus.FOLLOWING_UP):
            raise DomainError("bad_proposal_state", "只能并入已立案的提案")
        target_people = case_people(ctx.session, target)  # before the merge: the case's own people
        proposal.merged_into_id = target.id
    proposal.status = next_status(proposal.status, verb).value
    if category is not None:
        allowed = _congress_categories(ctx, congress_id)
        if category not in allowed:
            raise DomainError("bad_field", f"类别应为：{'、'.join(allowed)}", params={"field": "category"})
        proposal.category = category
    elif proposal.category is None and verb in (Verb.REGISTER, Verb.FORWARD, Verb.MERGE):
        proposal.category = proposal.suggested_category
    if is_key is not None:
        proposal.is_key = is_key
    ctx.session.add(Decision(proposal_id=proposal.id, kind=decision, reason=(reason or "").strip() or None,
                             decided_by=ctx.actor.name, decided_at=ctx.now))
    ctx.session.flush()
    data = _public(ctx, congress_id, "proposal.decided", proposal, decision=decision,
                   reason=(reason or "").strip() or None)
    _tell_people(ctx, congress_id, proposal, "proposal.decision_told", {"proposal_id": proposal.id,
                 "title": proposal.title, "decision": decision, "reason": data["reason"]})
    if target is not None:  # the case it joined hears too: its proposer and co-signers now share it
        joined = {"proposal_id": target.id, "title": target.title, "number": target.number,
                  "merged_id": proposal.id, "merged_number": proposal.number, "merged_title": proposal.title}
        for delegate_id in target_people:
            ctx.emit(congress_id, "proposal.merge_told", joined, Audience.DELEGATE, delegate_id)
    return data


def _department(ctx: Context, name_or_id: Any) -> Department:
    query = sa.select(Department).where(Department.id == name_or_id) if isinstance(name_or_id, int) \
        else sa.select(Department).where(Department.name == str(name_or_id))
    department = ctx.session.scalar(query)
    if department is None:
        raise DomainError("not_found", f"没有承办部门“{name_or_id}”，请从承办部门列表中选择，或先新增这个部门")
    return department


def assign_proposal(ctx: Context, congress_id: int, proposal_id: int, lead: Any, helpers: list[Any] | None = None,
                    due_at: str | None = None) -> dict[str, Any]:
    """交办: a lead department (主办) and helping ones (协办) with a due date."""
    ctx.actor.require(Permission.REVIEW_PROPOSAL)
    proposal = _case(ctx, congress_id, proposal_id)
    due = None
    if due_at:
        try:
            due = datetime.fromisoformat(due_at)
        except ValueError as exc:
            raise DomainError("bad_field", "办理期限应为日期时间，例如 2027-01-31T18:00:00+08:00",
                              params={"field": "due_at"}) from exc
        if due.tzinfo is None:
            raise DomainError("bad_field", "办理期限需要带时区，例如 +08:00", params={"field": "due_at"})
        due = due.astimezone(UTC)  # as stored and as a reload shows it (the event says the same)
    proposal.status = next_status(proposal.status, Verb.ASSIGN).value
    round_ = _current_round(ctx.session, proposal.id) + 1
    lead_dept = _department(ctx, lead)
    helper_depts = list({d.id: d for d in (_department(ctx, helper) for helper in helpers or [])}.values())
    if any(d.id == lead_dept.id for d in helper_depts):
        raise DomainError("bad_field", f"“{lead_dept.name}”已是主办部门，不能同时协办", params={"field": "helpers"})
    ctx.session.add(Assignment(proposal_id=proposal.id, department_id=lead_dept.id, is_lead=True, round=round_,
                               due_at=due, assigned_at=ctx.now))
    for helper_dept in helper_depts:
        ctx.session.add(Assignment(proposal_id=proposal.id, department_id=helper_dept.id,
                                   is_lead=False, round=round_, due_at=due, assigned_at=ctx.now))
    ctx.session.flush()
    return _public(ctx, congress_id, "proposal.assigned", proposal, round=round_,
                   **assignment_json(ctx.session, proposal.id))


def _current_round(session: Session, proposal_id: int) -> int:
    return session.scalar(sa.select(sa.func.max(Assignment.round)).where(Assignment.proposal_id == proposal_id)) or 0


def assignment_json(session: Session, proposal_id: int) -> dict[str, Any]:
    round_ = _current_round(session, proposal_id)
    rows = session.execute(sa.select(Assignment, Department.name).join(Department).where(
        Assignment.proposal_id == proposal_id, Assignment.round == round_).order_by(Assignment.id)).all()
    return assignment_data(rows)



def _department_assignment(ctx: Context, proposal: Proposal) -> Assignment:
    if ctx.actor.role is not Role.DEPARTMENT:
        raise DomainError("forbidden", "只有承办部门可以答复")
    assignment = ctx.session.scalar(sa.select(Assignment).where(
        Assignment.proposal_id == proposal.id, Assignment.round == _current_round(ctx.session, proposal.id),
        Assignment.department_id == ctx.actor.department_id, Assignment.is_lead))
    if assignment is None:
        raise DomainError("not_assigned", "这份提案不是交由贵部门主办的")
    return assignment


def reply_proposal(ctx: Context, congress_id: int, proposal_id: int, reply_class: str, text: str) -> dict[str, Any]:
    """答复 by the lead department: class A–D and the text; published on the board. A case whose B
    reply the proposer accepted (跟踪落实中) is answered again in the same round: the result."""
    ctx.actor.require(Permission.REPLY_PROPOSAL)
    proposal = _case(ctx, congress_id, proposal_id)
    assignment = _department_assignment(ctx, proposal)
    if reply_class not in REPLY_CLASSES:
        raise DomainError("bad_field", "答复类别应为 A（已解决或基本解决）、B（正在解决或列入计划）、"
                                       "C（因条件限制需以后解决）或 D（留作参考）", params={"field": "reply_class"})
    if len(text.strip()) < 10:
        raise DomainError("bad_field", "答复内容太短，请写明办理情况", params={"field": "text"})
    proposal.status = next_status(proposal.status, Verb.REPLY).value
    reply = Reply(proposal_id=proposal.id, assignment_id=assignment.id, round=assignment.round,
                  reply_class=reply_class, text=text.strip(), replied_by=ctx.actor.name, replied_at=ctx.now)
    ctx.session.add(reply)
    ctx.session.flush()
    data = _public(ctx, congress_id, "proposal.replied", proposal, reply=reply_json(reply))
    _tell_people(ctx, congress_id, proposal, "proposal.reply_told", {"proposal_id": proposal.id,
                 "title": proposal.title, "reply_class": reply_class})
    return data



def report_misassigned(ctx: Context, congress_id: int, proposal_id: int, reason: str) -> dict[str, Any]:
    """The department says the case is not theirs; staff reassign it."""
    ctx.actor.require(Permission.REPLY_PROPOSAL)
    proposal = _case(ctx, congress_id, proposal_id)
    assignment = _department_assignment(ctx, proposal)
    if not reason.strip():
        raise DomainError("reason_required", "请说明为何不属于本部门办理")
    proposal.status = next_status(proposal.status, Verb.MISASSIGNED).value
    assignment.misassigned_reason = reason.strip()
    payload = {"proposal_id": proposal.id, "department": ctx.actor.name, "reason": reason.strip()}
    ctx.emit(congress_id, "proposal.misassigned", payload, Audience.STAFF)
    _public(ctx, congress_id, "proposal.status_changed", proposal)
    return payload


def rate_reply(ctx: Context, congress_id: int, proposal_id: int, rating: str, comment: str | None = None
               ) -> dict[str, Any]:
    """满意度测评 by the proposer; 不满意 sends the case back for another round; 满意 / 基本满意 closes
    it, or after a B reply (正在解决) keeps it open until the department reports (rating_verb)."""
    ctx.actor.require(Permission.RATE_REPLY)
    proposal = _case(ctx, congress_id, proposal_id)
    if proposal.proposer_id != ctx.actor.delegate_id:
        raise DomainError("not_yours", "只有提案人可以对答复进行满意度测评")
    if rating not in RATINGS:
        raise DomainError("bad_field", "满意度应为 满意、基本满意 或 不满意", params={"field": "rating"})
    if rating == "不满意" and not (comment or "").strip():
        raise DomainError("reason_required", "不满意时请写明原因，承办部门将重新办理")
    reply = ctx.session.scalar(sa.select(Reply).where(Reply.proposal_id == proposal.id)
                               .order_by(Reply.round.desc(), Reply.id.desc()))
    if reply is None or proposal.status != ProposalStatus.REPLIED:
        raise DomainError("bad_proposal_state", "提案尚未答复，不能测评")
    ctx.session.add(Rating(proposal_id=proposal.id, reply_id=reply.id, delegate_id=ctx.actor.delegate_id,
                           rating=rating, comment=(comment or "").strip() or None, rated_at=ctx.now))
    verb = rating_verb(reply.reply_class, rating)  # a B reply accepted stays open until it is solved
    proposal.status = next_status(proposal.status, verb).value
    if verb is Verb.DISSATISFIED:  # another round with the same departments; the earlier round stays as it was
        earlier = list(ctx.session.scalars(sa.select(Assignment).where(
            Assignment.proposal_id == proposal.id, Assignment.round == reply.round)))
        for a in earlier:
            ctx.session.add(Assignment(proposal_id=proposal.id, department_id=a.department_id, is_lead=a.is_lead,
                                       round=reply.round + 1, due_at=a.due_at, assigned_at=ctx.now))
    ctx.session.flush()
    return _public(ctx, congress_id, "proposal.rated", proposal, rating=rating, round=reply.round)


def award_proposal(ctx: Context, congress_id: int, proposal_id: int, level: str | None = None) -> dict[str, Any]:
    """优秀提案 (“我为公司献一策”) with a level, or None to withdraw the award."""
    ctx.actor.require(Permission.REVIEW_PROPOSAL)
    proposal = _case(ctx, congress_id, proposal_id)
    if level is not None and level not in AWARD_LEVELS:
        raise DomainError("bad_field", f"奖项等级应为：{'、'.join(AWARD_LEVELS)}", params={"field": "level"})
    if proposal.status in (ProposalStatus.DRAFT, ProposalStatus.PRE_REVIEW, ProposalStatus.REJECTED):
        raise DomainError("bad_proposal_state", "只有已立案的提案可以评为优秀提案")
    proposal.award_level = level
    return _public(ctx, congress_id, "proposal.awarded", proposal)


def mark_key(ctx: Context, congress_id: int, proposal_id: int, is_key: bool) -> dict[str, Any]:
    ctx.actor.require(Permission.REVIEW_PROPOSAL)
    proposal = _case(ctx, congress_id, proposal_id)
    proposal.is_key = is_key
    return _public(ctx, congress_id, "proposal.marked_key", proposal)


# What each step answers: the proposal as the board shows it, plus what the step adds
def _step(*extra: Key, doc: str = "") -> Obj:
    replaced = {k.name for k in extra}  # a decision's `reason` stands in for the proposal's 案由
    return Obj((*(k for k in PROPOSAL_KEYS if k.name not in replaced), *extra), doc)


_ID = Param("proposal_id", int)

COMMANDS: tuple[Command, ...] = (
    Command("categorise", categorise, (_ID, Param("category", str)), "确认或修改提案类别",
            result=_step(doc="the category must be one of the congress's"),
            errors=("bad_field", "carried_over", "not_found"), permissions=(Permission.REVIEW_PROPOSAL,)),
    Command("decide_proposal", decide_proposal, (
        _ID, Param("decision", str, doc="立案/合并立案/转为意见建议/不予立案/转为议案"),
        Param("reason", str, False, doc="不予立案 needs one"), Param("merge_into_id", int, False, doc="合并立案: the case"),
        Param("category", str, False), Param("is_key", bool, False)), "立案审查",
        result=_step(Key("decision", str), Key("reason", str, "the decision's reason (in place of 案由)"),
                     doc="the proposer and co-signers are told (`proposal.decision_told`)"),
        errors=("bad_field", "bad_proposal_state", "carried_over", "not_found", "reason_required"),
        permissions=(Permission.REVIEW_PROPOSAL,)),
    Command("assign_proposal", assign_proposal, (_ID, Param("lead", str, doc="主办部门"),
            Param("helpers", list, False, doc="协办部门", shape=ListOf(str, "department names (or ids)")),
            Param("due_at", str, False, doc="办理期限, ISO 8601 with its zone")), "交办承办部门",
            result=_step(*ASSIGNMENT_KEYS, doc="交办: a new round with a lead department and helping ones"),
            errors=("bad_field", "bad_proposal_state", "carried_over", "not_found"),
            permissions=(Permission.REVIEW_PROPOSAL,)),
    Command("reply_proposal", reply_proposal, (_ID, Param("reply_class", str, doc="A/B/C/D"),
            Param("text", str, doc="at least 10 characters")), "承办部门答复",
            result=_step(Key("reply", REPLY), doc="the lead department's reply, on the board"),
            errors=("bad_field", "bad_proposal_state", "carried_over", "not_assigned", "not_found"),
            permissions=(Permission.REPLY_PROPOSAL,), who="the lead department of the case"),
    Command("report_misassigned", report_misassigned, (_ID, Param("reason", str)),
            "承办部门退回：非本部门职责",
            result=Obj((Key("proposal_id", int), Key("department", str), Key("reason", str)),
                       "staff reassign the case"),
            errors=("bad_proposal_state", "carried_over", "not_assigned", "not_found", "reason_required"),
            permissions=(Permission.REPLY_PROPOSAL,), who="the lead department of the case"),
    Command("rate_reply", rate_reply, (_ID, Param("rating", str, doc="满意 / 基本满意 / 不满意"),
                                       Param("comment", str, False, doc="不满意 needs one")),
            "提案人满意度测评",
            result=_step(Key("rating", str), Key("round", int),
                         doc="不满意 sends the case back for another round; after a B reply 满意 keeps it open "
                             "(following_up)"),
            errors=("bad_field", "bad_proposal_state", "carried_over", "not_found", "not_yours", "reason_required"),
            permissions=(Permission.RATE_REPLY,), who="the proposer"),
    Command("award_proposal", award_proposal, (_ID, Param("level", str, False, doc="null: withdraw the award")),
            "评为优秀提案", result=_step(),
            errors=("bad_field", "bad_proposal_state", "carried_over", "not_found"),
            permissions=(Permission.REVIEW_PROPOSAL,)),
    Command("mark_key", mark_key, (_ID, Param("is_key", bool)), "标记重点提案", result=_step(),
            errors=("carried_over", "not_found"), permissions=(Permission.REVIEW_PROPOSAL,)),
)
