"""A 届 and its sessions (次): start the next session from the previous one, carry open proposals over.

The next session is a new congress of the same term with the same groups, delegates (with their
groups, units and leaders), rules and filing rules; departments and their accounts are the
instance's, not a congress's, so they simply go on (nothing about an account is copied). Access
codes are not copied: the new session issues its own (`congress codes export`), so a code printed
for last year's congress does not open this year's.

Carrying over copies each chosen open proposal (congress.domain.terms.OPEN_STATUSES) into the new
session with its whole history — co-signers, decisions, assignments, replies and ratings, attachments
— under a new number, marked 上次会议转入 with the session and number it came from. The old
proposal stays as it was in its own session's record. All or nothing: one unknown, closed or already
carried number refuses the whole request, naming it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.actions.proposals import public_event, tell_cosigners
from congress.actions.setup import create_congress
from congress.db.models import (
    Assignment,
    Congress,
    Cosignature,
    Decision,
    Delegate,
    Group,
    NoticeChannel,
    NoticeConfig,
    Proposal,
    ProposalAttachment,
    Rating,
    Reply,
    Term,
)
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience
from congress.domain.permissions import Permission
from congress.domain.proposals import ProposalStatus
from congress.domain.terms import OPEN_STATUSES, next_session_name, session_label
from congress.domain.time import BEIJING
from congress.reads.proposal_views import board_entries
from congress.reads.proposals import proposal_json
from congress.reads.terms import label_of, previous_session

# The roster row as it stands, with the delegate's notice e-mail (never the access code)
DELEGATE_FIELDS = ("employee_id", "name", "gender", "unit", "role", "delegate_type", "is_group_leader", "is_active",
                   "email")



def start_next_session(ctx: Context, congress_id: int, name: str | None = None) -> dict[str, Any]:
    """The next session (次) of the congress's term: same groups, roster, leaders and rules."""
    ctx.actor.require(Permission.MANAGE_CONGRESS)
    previous = ctx.get(Congress, congress_id, "职代会")
    term = ctx.session.get(Term, previous.term_id) if previous.term_id else None
    if term is None:
        raise DomainError("bad_field", f"职代会 {congress_id} 没有所属的届", params={"field": "congress_id"})
    later = ctx.session.scalar(sa.select(Congress.id).where(Congress.term_id == term.id,
                                                            Congress.session_number > previous.session_number))
    if later is not None:
        raise DomainError("conflict", f"本届已有下一次会议（职代会 {later}），请从最近一次会议开始")
    name = (name or "").strip() or next_session_name(previous.name, term.number, previous.session_number)
    groups = list(ctx.session.scalars(sa.select(Group).where(Group.congress_id == congress_id)
                                      .order_by(Group.position, Group.id)))
    congress = create_congress(ctx, name, [g.name for g in groups], is_rehearsal=previous.is_rehearsal,
                               term=term, session_number=previous.session_number + 1)
    new_groups = {g.name: g.id for g in ctx.session.scalars(sa.select(Group).where(Group.congress_id == congress.id))}
    group_map = {g.id: new_groups[g.name] for g in groups}
    delegates = list(ctx.session.scalars(sa.select(Delegate).where(Delegate.congress_id == congress_id,
                                                                    Delegate.is_active)))
    for d in delegates:
        ctx.session.add(Delegate(congress_id=congress.id, group_id=group_map[d.group_id],
                                 **{k: getattr(d, k) for k in DELEGATE_FIELDS}))
    # Rules carry over; the ones naming groups name the new session's groups
    rules = dict(previous.rules or {})
    if rules.get("leader_pre_review_groups"):
        rules["leader_pre_review_groups"] = [group_map[g] for g in rules["leader_pre_review_groups"] if g in group_map]
    congress.rules = rules
    channels = _copy_notices(ctx, congress_id, congress.id)
    ctx.session.flush()
    label = session_label(term.number, congress.session_number)
    ctx.emit(congress.id, "term.session_started", {
        "from_congress_id": congress_id, "term": term.name, "label": label,
        "delegates": len(delegates), "groups": len(groups), "notice_channels": channels}, Audience.STAFF)
    ctx.emit(congress_id, "term.next_session", {"congress_id": congress.id, "name": name, "label": label},
             Audience.STAFF)
    open_count = ctx.session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
        Proposal.congress_id == congress_id, Proposal.status.in_(OPEN_STATUSES)))
    return {"id": congress.id, "name": name, "term": term.name, "label": label, "session_number": congress.session_number,
            "from_congress_id": congress_id, "groups": [g.name for g in groups], "delegates": len(delegates),
            "notice_channels": channels, "open_proposals": open_count}


def _copy_notices(ctx: Context, old_cid: int, new_cid: int) -> int:
    """The notice rules and channels go on (departments' and staff's 企业微信/钉钉/飞书 robots and
    e-mail addresses): the rows are copied database-side, so a webhook's key and a signing secret
    stay in the database and pass through no reply or event. Returns how many channels."""
    config = ctx.session.get(NoticeConfig, old_cid)
    if config is not None:
        ctx.session.add(NoticeConfig(congress_id=new_cid, rules=dict(config.rules or {}), updated_at=ctx.now))
    t = NoticeChannel.__table__
    ctx.session.execute(sa.insert(t).from_select(
        ["congress_id", "audience", "department_id", "kind", "address", "secret", "created_at"],
        sa.select(sa.literal(new_cid), t.c.audience, t.c.department_id, t.c.kind, t.c.address, t.c.secret,
                  sa.literal(ctx.now, t.c.created_at.type)).where(t.c.congress_id == old_cid).order_by(t.c.id)))
    return int(ctx.session.scalar(sa.select(sa.func.count()).where(t.c.congress_id == new_cid)) or 0)



def carry_over_candidates(ctx: Context, congress_id: int) -> dict[str, Any]:
    """The previous session's open proposals, for staff to choose which carry over (all by default)."""
    ctx.actor.require(Permission.REVIEW_PROPOSAL)
    congress = ctx.get(Congress, congress_id, "职代会")
    previous = previous_session(ctx.session, congress)
    if previous is None:
        return {"from": None, "proposals": []}
    carried = set(ctx.session.scalars(sa.select(Proposal.carried_from_id).where(
        Proposal.congress_id == congress_id, Proposal.carried_from_id.is_not(None))))
    rows = ctx.session.scalars(sa.select(Proposal).where(
        Proposal.congress_id == previous.id, Proposal.status.in_(OPEN_STATUSES)).order_by(Proposal.number))
    return {"from": {"congress_id": previous.id, "name": previous.name, "label": label_of(ctx.session, previous)},
            "proposals": [{"number": p.number, "title": p.title, "status": p.status,
                           "status_label": ProposalStatus(p.status).label, "carried": p.id in carried} for p in rows]}


def carry_over_proposals(ctx: Context, congress_id: int, numbers: list[Any] | None = None) -> dict[str, Any]:
    """Copy the previous session's open proposals (all of them, or those `numbers`) into this one,
    with their history, marked 上次会议转入. All or nothing; a refusal names every bad number."""
    ctx.actor.require(Permission.REVIEW_PROPOSAL)
    congress = ctx.get(Congress, congress_id, "职代会")
    previous = previous_session(ctx.session, congress)
    if previous is None:
        raise DomainError("no_previous_session", "本次会议是本届的第一次会议，没有可转入的提案")
    by_number = {p.number: p for p in ctx.session.scalars(sa.select(Proposal).where(
        Proposal.congress_id == previous.id, Proposal.number.is_not(None)))}
    carried = set(ctx.session.scalars(sa.select(Proposal.carried_from_id).where(
        Proposal.congress_id == congress_id, Proposal.carried_from_id.is_not(None))))
    if numbers is None:
        chosen = [p for n, p in sorted(by_number.items()) if p.status in OPEN_STATUSES and p.id not in carried]
    else:
        chosen = _chosen(numbers, by_number, carried)
    if not chosen:
        raise DomainError("nothing_to_carry", "上次会议没有尚未转入的未办结提案")
    label = label_of(ctx.session, previous)
    delegates = _delegate_map(ctx, previous.id, congress_id)
    groups = {g.name: g.id for g in ctx.session.scalars(sa.select(Group).where(Group.congress_id == congress_id))}
    old_groups = {g.id: g.name for g in ctx.session.scalars(sa.select(Group).where(Group.congress_id == previous.id))}
    missing_groups = sorted({old_groups[p.group_id] for p in chosen} - set(groups))
    if missing_groups:
        raise DomainError("bad_field", f"本次会议没有代表团(组)：{'、'.join(missing_groups)}",
                          params={"field": "numbers"})
    made = []
    for old in chosen:
        number = ctx.next_number(congress_id, Proposal.number, Proposal.congress_id == congress_id)
        new = _copy(ctx, old, congress_id, number, delegates, groups[old_groups[old.group_id]], label)
        made.append((old, new))
    for _old, new in made:
        data = proposal_json(ctx.session, new)
        ctx.emit(congress_id, "proposal.carried_over", public_event(data))
        _tell_its_people(ctx, congress_id, new)
    result = [{"number": new.number, "from_number": old.number, "title": new.title, "status": new.status}
              for old, new in made]
    ctx.emit(previous.id, "term.proposals_carried", {"to_congress_id": congress_id,
                                                     "numbers": [old.number for old, _n in made]}, Audience.STAFF)
    return {"from": {"congress_id": previous.id, "label": label}, "carried": result}


def _tell_its_people(ctx: Context, congress_id: int, proposal: Proposal) -> None:
    """The proposer and the co-signers, signed in to this session, see the carried case in their own
    lists at once, as their snapshots list it: the proposer's `mine`, each co-signer's requests."""
    ctx.emit(congress_id, "proposal.carried_in", board_entries(ctx.session, [proposal], private=True)[0],
             Audience.DELEGATE, proposal.proposer_id)
    tell_cosigners(ctx, congress_id, proposal)


def _chosen(numbers: list[Any], by_number: dict[int | None, Proposal], carried: set[int | None]) -> list[Proposal]:
    bad: list[str] = []
    chosen: list[Proposal] = []
    for raw in numbers:
        number = int(raw) if isinstance(raw, int) or (isinstance(raw, str) and raw.strip().isdigit()) else None
        proposal = by_number.get(number) if number is not None else None
        if proposal is None:
            bad.append(f"{raw}（上次会议没有这个编号）")
        elif proposal.status not in OPEN_STATUSES:
            bad.append(f"{number}（{ProposalStatus(proposal.status).label}，不是未办结的提案）")
        elif proposal.id in carried:
            bad.append(f"{number}（已经转入过）")
        elif proposal not in chosen:
            chosen.append(proposal)
    if bad:
        raise DomainError("bad_field", f"以下提案不能转入，未做任何修改：{'；'.join(bad)}", params={"field": "numbers"})
    return chosen


def _delegate_map(ctx: Context, old_cid: int, new_cid: int) -> dict[int, int]:
    """Old delegate id -> this session's delegate of the same 工号. A delegate who is no longer on the
    roster (a co-signer who left) is kept as an inactive row, as a re-import keeps those who leave."""
    new = {d.employee_id: d.id for d in ctx.session.scalars(sa.select(Delegate).where(Delegate.congress_id == new_cid))}
    return {d.id: new.get(d.employee_id, 0) for d in ctx.session.scalars(
        sa.select(Delegate).where(Delegate.congress_id == old_cid))}


def _delegate(ctx: Context, delegates: dict[int, int], old_id: int, new_cid: int, group_id: int) -> int:
    if delegates.get(old_id):
        return int(delegates[old_id])
    old = ctx.session.get(Delegate, old_id)
    assert old is not None
    copy = Delegate(congress_id=new_cid, group_id=group_id, **{k: getattr(old, k) for k in DELEGATE_FIELDS})
    copy.is_active = False
    ctx.session.add(copy)
    ctx.session.flush()
    delegates[old_id] = copy.id
    return copy.id


PROPOSAL_FIELDS = ("title", "reason", "suggestion", "suggested_department", "status", "category", "suggested_category",
                   "category_confidence", "is_key", "is_between_sessions", "award_level", "created_at", "submitted_at")


def _copy(ctx: Context, old: Proposal, new_cid: int, number: int, delegates: dict[int, int], group_id: int,
          label: str) -> Proposal:
    new = Proposal(congress_id=new_cid, number=number, group_id=group_id,
                   proposer_id=_delegate(ctx, delegates, old.proposer_id, new_cid, group_id),
                   carried_from_id=old.id, carried_from_number=old.number, carried_from_session=label,
                   **{k: getattr(old, k) for k in PROPOSAL_FIELDS})
    ctx.session.add(new)
    ctx.session.flush()
    for c in ctx.session.scalars(sa.select(Cosignature).where(Cosignature.proposal_id == old.id).order_by(Cosignature.id)):
        ctx.session.add(Cosignature(proposal_id=new.id, delegate_id=_delegate(ctx, delegates, c.delegate_id, new_cid, group_id),
                                    status=c.status, created_at=c.created_at, answered_at=c.answered_at))
    for d in ctx.session.scalars(sa.select(Decision).where(Decision.proposal_id == old.id).order_by(Decision.id)):
        ctx.session.add(Decision(proposal_id=new.id, kind=d.kind, reason=d.reason, decided_by=d.decided_by,
                                 decided_at=d.decided_at))
    assignments: dict[int, int] = {}
    for a in ctx.session.scalars(sa.select(Assignment).where(Assignment.proposal_id == old.id).order_by(Assignment.id)):
        copy = Assignment(proposal_id=new.id, department_id=a.department_id, is_lead=a.is_lead, round=a.round,
                          due_at=a.due_at, assigned_at=a.assigned_at, misassigned_reason=a.misassigned_reason)
        ctx.session.add(copy)
        ctx.session.flush()
        assignments[a.id] = copy.id
    replies: dict[int, int] = {}
    for r in ctx.session.scalars(sa.select(Reply).where(Reply.proposal_id == old.id).order_by(Reply.id)):
        reply = Reply(proposal_id=new.id, assignment_id=assignments[r.assignment_id], round=r.round,
                      reply_class=r.reply_class, text=r.text, replied_by=r.replied_by, replied_at=r.replied_at)
        ctx.session.add(reply)
        ctx.session.flush()
        replies[r.id] = reply.id
    for g in ctx.session.scalars(sa.select(Rating).where(Rating.proposal_id == old.id).order_by(Rating.id)):
        ctx.session.add(Rating(proposal_id=new.id, reply_id=replies[g.reply_id],
                               delegate_id=_delegate(ctx, delegates, g.delegate_id, new_cid, group_id),
                               rating=g.rating, comment=g.comment, rated_at=g.rated_at))
    # Attachments database-side: their bytes never pass through this process
    t = ProposalAttachment.__table__
    ctx.session.execute(sa.insert(t).from_select(
        ["proposal_id", "filename", "content_type", "content", "sha256", "uploaded_at"],
        sa.select(sa.literal(new.id), t.c.filename, t.c.content_type, t.c.content, t.c.sha256, t.c.uploaded_at)
        .where(t.c.proposal_id == old.id).order_by(t.c.id)))
    ctx.session.flush()
    return new


def term_statistics(ctx: Context, congress_id: int) -> dict[str, Any]:
    """立案率, 办结率, 满意率 of each session of the term up to this one and of the whole term, by
    department and by category, with the change from each session to the next (docs/terms.md)."""
    from congress.records.term_report import term_statistics_of

    ctx.actor.require(Permission.READ_STAFF_VIEWS)
    ctx.get(Congress, congress_id, "职代会")
    return term_statistics_of(ctx.session, congress_id, ctx.now.astimezone(BEIJING).date())


_FROM = Key("from", Obj((Key("congress_id", int), Key("name", str, "", False), Key("label", str))),
             "the previous session, null: none")
_FIGURES = "figures as the progress report's (register_rate, closed_rate, satisfaction_rate, by_department, by_category …)"

COMMANDS: tuple[Command, ...] = (
    Command("start_next_session", start_next_session, (Param("name", str, False, "新一次会议的名称；不填则按上次名称顺延"),),
            "开始本届的下一次会议（沿用代表团(组)、代表名册、团(组)长和规则）",
            result=Obj((Key("id", int), Key("name", str), Key("term", str), Key("label", str), Key("session_number", int),
                        Key("from_congress_id", int), Key("groups", ListOf(str)), Key("delegates", int),
                        Key("notice_channels", int), Key("open_proposals", int)),
                       "the next session (次) of this congress's 届: same groups, roster, leaders and rules, no access "
                       "codes; only from the term's latest session (`conflict`) (docs/terms.md)"),
            errors=("bad_field", "conflict", "not_found"), permissions=(Permission.MANAGE_CONGRESS,)),
    Command("carry_over_candidates", carry_over_candidates, (), "上次会议尚未办结、可转入本次会议的提案", writes=False,
            result=Obj((_FROM, Key("proposals", ListOf(Obj((Key("number", int), Key("title", str), Key("status", str),
                                                            Key("status_label", str), Key("carried", bool)))))),
                       "the previous session's open proposals"),
            errors=("not_found",), permissions=(Permission.REVIEW_PROPOSAL,)),
    Command("carry_over_proposals", carry_over_proposals,
            (Param("numbers", list, False, "要转入的上次会议提案编号；不填则转入全部未办结提案",
                   shape=ListOf(int, "the previous session's 提案号")),),
            "将上次会议未办结的提案（连同办理过程）转入本次会议",
            result=Obj((_FROM, Key("carried", ListOf(Obj((Key("number", int), Key("from_number", int),
                                                          Key("title", str), Key("status", str)))))),
                       "all or nothing: `bad_field` names every unknown, not open or already carried number"),
            errors=("bad_field", "no_previous_session", "not_found", "nothing_to_carry"),
            permissions=(Permission.REVIEW_PROPOSAL,)),
    Command("term_statistics", term_statistics, (), "本届各次会议的立案率、办结率、满意率（按承办部门、按类别，逐年比较）",
            writes=False,
            result=Obj((Key("term_name", str),
                        Key("sessions", ListOf(dict), _FIGURES + ", with congress_id, label, name, carried_in, carried_on"),
                        Key("term", dict, _FIGURES),
                        Key("year_on_year", ListOf(Obj((Key("from", str), Key("to", str), Key("register_rate", None),
                                                        Key("closed_rate", None), Key("satisfaction_rate", None)))))),
                       "docs/terms.md"),
            errors=("not_found",), permissions=(Permission.READ_STAFF_VIEWS,)),
)
