"""The proposal (提案) state machine and its words: pure, no I/O.

draft ─submit→ pre_review ─approve→ submitted          (团长初审, when the group is set to it)
draft ─submit→ submitted
pre_review ─return→ draft
submitted ─register→ registered (立案) ─assign→ assigned ─reply→ replied ─rate(满意/基本满意)→ closed
replied ─rate(满意/基本满意) of a B reply→ following_up ─reply (the department's report)→ replied
submitted ─merge→ merged (合并立案: answered through the case it joined)
submitted ─forward→ forwarded (转为意见建议) ─assign→ assigned …   (answered, not counted as a proposal)
submitted ─reject→ rejected (不予立案, with a written reason)
submitted ─to_agenda→ to_agenda (转为议案)
replied ─rate(不满意)→ assigned (another round; earlier rounds are kept)
assigned ─misassigned→ registered (the department says it is not theirs: staff reassign)
"""

from __future__ import annotations

from enum import StrEnum

from congress.domain.errors import DomainError


class ProposalStatus(StrEnum):
    DRAFT = "draft"
    PRE_REVIEW = "pre_review"
    SUBMITTED = "submitted"
    REGISTERED = "registered"
    MERGED = "merged"
    FORWARDED = "forwarded"
    REJECTED = "rejected"
    TO_AGENDA = "to_agenda"
    ASSIGNED = "assigned"
    REPLIED = "replied"
    FOLLOWING_UP = "following_up"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    ProposalStatus.DRAFT: "草稿",
    ProposalStatus.PRE_REVIEW: "团长初审中",
    ProposalStatus.SUBMITTED: "待审查",
    ProposalStatus.REGISTERED: "已立案",
    ProposalStatus.MERGED: "合并立案",
    ProposalStatus.FORWARDED: "转为意见建议",
    ProposalStatus.REJECTED: "不予立案",
    ProposalStatus.TO_AGENDA: "转为议案",
    ProposalStatus.ASSIGNED: "办理中",
    ProposalStatus.REPLIED: "已答复",
    ProposalStatus.FOLLOWING_UP: "跟踪落实中",
    ProposalStatus.CLOSED: "已办结",
}


class Verb(StrEnum):
    SUBMIT = "submit"
    SUBMIT_FOR_PRE_REVIEW = "submit_for_pre_review"
    APPROVE = "approve"
    RETURN = "return"
    REGISTER = "register"
    MERGE = "merge"
    FORWARD = "forward"
    REJECT = "reject"
    TO_AGENDA = "to_agenda"
    ASSIGN = "assign"
    REPLY = "reply"
    SATISFIED = "satisfied"
    FOLLOW_UP = "follow_up"
    DISSATISFIED = "dissatisfied"
    MISASSIGNED = "misassigned"


S, V = ProposalStatus, Verb
TRANSITIONS: dict[tuple[ProposalStatus, Verb], ProposalStatus] = {
    (S.DRAFT, V.SUBMIT): S.SUBMITTED,
    (S.DRAFT, V.SUBMIT_FOR_PRE_REVIEW): S.PRE_REVIEW,
    (S.PRE_REVIEW, V.APPROVE): S.SUBMITTED,
    (S.PRE_REVIEW, V.RETURN): S.DRAFT,
    (S.SUBMITTED, V.REGISTER): S.REGISTERED,
    (S.SUBMITTED, V.MERGE): S.MERGED,
    (S.SUBMITTED, V.FORWARD): S.FORWARDED,
    (S.SUBMITTED, V.REJECT): S.REJECTED,
    (S.SUBMITTED, V.TO_AGENDA): S.TO_AGENDA,
    (S.REGISTERED, V.ASSIGN): S.ASSIGNED,
    (S.FORWARDED, V.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, V.REPLY): S.REPLIED,
    (S.ASSIGNED, V.MISASSIGNED): S.REGISTERED,
    (S.REPLIED, V.SATISFIED): S.CLOSED,
    (S.REPLIED, V.FOLLOW_UP): S.FOLLOWING_UP,
    (S.FOLLOWING_UP, V.REPLY): S.REPLIED,
    (S.REPLIED, V.DISSATISFIED): S.ASSIGNED,
}

VERB_LABELS = {
    V.SUBMIT: "提交", V.SUBMIT_FOR_PRE_REVIEW: "提交团长初审", V.APPROVE: "初审通过", V.RETURN: "退回修改",
    V.REGISTER: "立案", V.MERGE: "合并立案", V.FORWARD: "转为意见建议", V.REJECT: "不予立案",
    V.TO_AGENDA: "转为议案", V.ASSIGN: "交办", V.REPLY: "答复", V.SATISFIED: "满意度测评",
    V.FOLLOW_UP: "认可办理计划、跟踪落实",
    V.DISSATISFIED: "不满意退回重办", V.MISASSIGNED: "退回重新交办",
}

# 立案审查 decisions and the verb each one takes
DECISIONS: dict[str, Verb] = {"立案": V.REGISTER, "合并立案": V.MERGE, "转为意见建议": V.FORWARD,
                              "不予立案": V.REJECT, "转为议案": V.TO_AGENDA}
REPLY_CLASSES = {"A": "已解决或基本解决", "B": "正在解决或列入计划", "C": "因条件限制需以后解决", "D": "留作参考"}
RATINGS = ("满意", "基本满意", "不满意")
AWARD_LEVELS = ("一等奖", "二等奖", "三等奖", "优秀奖")
# Statuses that count as a proposal case (立案) in 办复率: forwarded suggestions are answered but not counted
CASE_STATUSES = frozenset({S.REGISTERED, S.ASSIGNED, S.REPLIED, S.FOLLOWING_UP, S.CLOSED})
# Reply classes whose matter is not yet done: the case stays open after a 满意 / 基本满意 until the
# department reports it done (docs/proposals.md, "When a rated case closes").
STILL_BEING_SOLVED = frozenset({"B"})


def rating_verb(reply_class: str, rating: str) -> Verb:
    """What the proposer's rating of a reply does to the case.

    不满意: another round with the same departments, whatever the class. 满意 / 基本满意 closes the
    case, except after a B reply (正在解决或列入计划): the proposer accepts the plan, the matter is
    not solved yet, so the case stays open (跟踪落实) until the department reports the result, which
    is rated in its turn. A (solved), C (not possible for now, with the reason) and D (kept for
    reference) are final answers: accepting one closes the case.
    """
    if reply_class not in REPLY_CLASSES:
        raise DomainError("bad_field", f"答复类别应为：{'、'.join(REPLY_CLASSES)}", params={"field": "reply_class"})
    if rating not in RATINGS:
        raise DomainError("bad_field", "满意度应为 满意、基本满意 或 不满意", params={"field": "rating"})
    if rating == "不满意":
        return V.DISSATISFIED
    return V.FOLLOW_UP if reply_class in STILL_BEING_SOLVED else V.SATISFIED


def next_status(status: str, verb: Verb) -> ProposalStatus:
    """The status after `verb`, or a DomainError saying why the step is not possible now."""
    current = ProposalStatus(status)
    after = TRANSITIONS.get((current, verb))
    if after is None:
        raise DomainError("bad_proposal_state",
                          f"提案当前为“{current.label}”，不能进行“{VERB_LABELS[verb]}”")
    return after


# -- who may read a proposal, and who may co-sign it -------------------------------------------------
class Invitation(StrEnum):
    """A co-signature's state (附议): the proposer invited the delegate, who accepted or declined."""

    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"


# Before it reaches the committee a proposal is its proposer's working copy: off the board, and not
# staff's business either (团长初审 is the group leader's step, not the committee's).
UNPUBLISHED = frozenset({S.DRAFT, S.PRE_REVIEW})
PUBLIC_STATUSES = tuple(s.value for s in ProposalStatus if s not in UNPUBLISHED)


class Reading(StrEnum):
    """How much of a proposal a viewer gets. Each level holds the ones before it."""

    NONE = "none"  # it does not exist for them: `not_found`, exactly as for an id that was never used
    PUBLIC = "public"  # the board's entry: names, 案由 and 建议, decisions, the departments' replies
    SIGNER = "signer"  # and its attachments: a co-signer reads everything they put their name to
    OWNER = "owner"  # and who was invited and how they answered, the suggested category


def is_published(status: str) -> bool:
    return status not in UNPUBLISHED


def is_open_invitation(invitation: str | None) -> bool:
    """The proposer asked this delegate and they have not declined (not answered yet, or accepted).
    Only the proposer opens one (invite_cosigners; asking again after a decline opens it again)."""
    return invitation in (Invitation.INVITED, Invitation.ACCEPTED)


def may_answer_cosign(invitation: str | None, *, is_proposer: bool) -> bool:
    """Co-signing (or taking it back) needs an open invitation from the proposer: nobody co-signs a
    draft they were not asked to, so a draft cannot be reached by trying proposal ids."""
    return not is_proposer and is_open_invitation(invitation)


def reading(status: str, *, is_proposer: bool = False, invitation: str | None = None, is_staff: bool = False,
            leads_its_group: bool = False) -> Reading:
    """What a viewer may read of a proposal in `status`.

    Before submission (草稿, 团长初审中) only three people read it: its proposer; a delegate the
    proposer invited to co-sign who has not declined (they must read what they sign, attachments
    included — a decline ends it, until the proposer invites them again); and, while it waits for
    团长初审, the leader of its group, who passes it or returns it. Nobody else — other delegates,
    staff, departments, observers — learns that it exists. From submission it is on the public
    board; staff see what the proposer sees, accepted co-signers keep the attachments.
    """
    if is_proposer:
        return Reading.OWNER
    if not is_published(status):
        if is_open_invitation(invitation) or (status == S.PRE_REVIEW and leads_its_group):
            return Reading.SIGNER
        return Reading.NONE
    if is_staff:
        return Reading.OWNER
    return Reading.SIGNER if invitation == Invitation.ACCEPTED else Reading.PUBLIC


def may_read_attachments(level: Reading, *, status: str, is_assigned_department: bool = False) -> bool:
    """Attachments are not on the board: co-signers, the proposer, staff (once submitted) and the
    departments the case was handed to (交办) read them."""
    return level in (Reading.SIGNER, Reading.OWNER) or (is_assigned_department and is_published(status))


def check_filing_text(title: str, reason: str, suggestion: str) -> None:
    """一事一案: a title and both parts, within sensible lengths."""
    for value, name, field, limit in ((title, "案名", "title", 100), (reason, "案由", "reason", 3000),
                                      (suggestion, "建议和措施", "suggestion", 3000)):
        if not value.strip():
            raise DomainError("bad_field", f"{name}不能为空", params={"field": field})
        if len(value) > limit:
            raise DomainError("bad_field", f"{name}不能超过 {limit} 字", params={"field": field})
