"""Reading proposals: the public board, my proposals, staff triage with similar proposals,
a department's cases, statistics. Read-only commands (writes=False)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Hashable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.engine import kept
from congress.db.models import (
    Assignment,
    Congress,
    Cosignature,
    Decision,
    Delegate,
    Department,
    Event,
    Group,
    Proposal,
    Rating,
    Reply,
)
from congress.domain.commands import Command, Key, ListOf, MapOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Role
from congress.domain.permissions import Actor, Permission
from congress.domain.proposals import (
    CASE_STATUSES,
    PUBLIC_STATUSES,
    ProposalStatus,
    Reading,
    is_open_invitation,
    is_published,
    may_answer_cosign,
)
from congress.reads.attachments import attachments_of
from congress.reads.casework import ASSIGNMENT_KEYS, REPLY, assignments_json, reply_json
from congress.reads.context import ReadContext
from congress.reads.proposals import (
    ATTACHMENT,
    PRIVATE_PROPOSAL,
    PROPOSAL_KEYS,
    invitation_of,
    proposal_json,
    proposals_json,
    published_proposal,
    readable_proposal,
)
from congress.reads.suggestions import suggestion_reasons
from congress.tally.categorise import proposal_text
from congress.tally.similar import (
    DUPLICATE_THRESHOLD,
    SimilarityIndex,
    is_likely_duplicate,
    similarity_level,
    similarity_share,
)


def board_entries(session: Session, proposals: list[Proposal], *, private: bool = False) -> list[dict[str, Any]]:
    """Lines of the board: names only, the department, the published reply (with `private`, what
    proposal_json's private form adds). Each kind of row is read once for all of them: a board of
    300 proposals was 1,500 queries."""
    ids = [p.id for p in proposals]
    entries = proposals_json(session, proposals, private=private)
    if not ids:
        return entries
    assignments = assignments_json(session, ids)
    replies: dict[int, Reply] = {}
    for reply in session.scalars(sa.select(Reply).where(Reply.proposal_id.in_(ids)).order_by(Reply.round, Reply.id)):
        replies[reply.proposal_id] = reply  # the latest: the last round's last reply
    ratings: dict[int, str] = {}
    for pid, rating in session.execute(sa.select(Rating.proposal_id, Rating.rating).where(Rating.proposal_id.in_(ids))
                                       .order_by(Rating.id)):
        ratings[pid] = rating  # the latest
    for proposal, data in zip(proposals, entries, strict=True):
        data.update(assignments[proposal.id])
        latest = replies.get(proposal.id)
        data["reply"] = reply_json(latest) if latest else None
        data["rating"] = ratings.get(proposal.id)
    return entries


class _Boards:
    """The whole board, as every observer's page reads it when it opens: per (congress, limit), the
    version it was read at and the result; one per Database (db.engine.kept). A board of 273
    proposals costs about 0.26 s to read, so thousands of observers opening the page (or reloading
    it) after the filing would cost minutes of server time; with this they cost one read per change
    of the board."""

    def __init__(self) -> None:
        self.read: dict[tuple[int, int], tuple[tuple[Any, ...], dict[str, Any]]] = {}
        self.lock = threading.Lock()


def _board_version(session: Session, congress_id: int) -> tuple[Any, ...]:
    """What the board was read at: the latest event that can change it (every change to a proposal
    is a proposal.* event; a roster import can rename a proposer), with its hash."""
    row = session.execute(sa.select(Event.seq, Event.hash).where(
        Event.congress_id == congress_id, sa.or_(Event.type.like("proposal.%"), Event.type == "roster.imported"))
        .order_by(Event.seq.desc()).limit(1)).first()
    return tuple(row) if row else (0, None)


def proposal_board(ctx: ReadContext, congress_id: int, query: str | None = None, category: str | None = None,
                   status: str | None = None, group_id: int | None = None, limit: int = 500) -> dict[str, Any]:
    """Every worker, observers included, can browse and search submitted proposals."""
    if (query and query.strip()) or category or status or group_id:
        return _read_board(ctx.session, congress_id, query, category, status, group_id, limit)
    boards = kept(ctx.session, "proposal_board", _Boards)
    key = (congress_id, limit)
    version = _board_version(ctx.session, congress_id)
    cached = boards.read.get(key)
    if cached is None or cached[0] != version:
        with boards.lock:  # a crowd opening the page at once: one of them reads, the others wait for it
            cached = boards.read.get(key)
            if cached is None or cached[0] != version:
                cached = version, _read_board(ctx.session, congress_id, None, None, None, None, limit)
                boards.read[key] = cached
    return cached[1]


def _read_board(session: Session, congress_id: int, query: str | None, category: str | None, status: str | None,
                group_id: int | None, limit: int) -> dict[str, Any]:
    if group_id:
        group = session.get(Group, group_id)
        if group is None or group.congress_id != congress_id:
            raise DomainError("not_found", f"本次职代会没有这个代表团(组)（编号 {group_id}）")
    stmt = sa.select(Proposal).where(Proposal.congress_id == congress_id, Proposal.status.in_(PUBLIC_STATUSES))
    if category:
        stmt = stmt.where(Proposal.category == category)
    if status:
        stmt = stmt.where(Proposal.status == status)
    if group_id:
        stmt = stmt.where(Proposal.group_id == group_id)
    if query and query.strip():
        like = f"%{query.strip()}%"
        stmt = stmt.where(sa.or_(Proposal.title.like(like), Proposal.reason.like(like), Proposal.suggestion.like(like)))
    rows = list(session.scalars(stmt.order_by(Proposal.number).limit(max(1, min(limit, 2000)))))
    return {"proposals": board_entries(session, rows)}


def proposal_detail(ctx: ReadContext, congress_id: int, proposal_id: int) -> dict[str, Any]:
    """The whole case: decisions, every round's assignments and replies, ratings. A draft only for
    its proposer and the delegates invited to co-sign it (congress.domain.proposals.reading)."""
    proposal, level = readable_proposal(ctx, congress_id, proposal_id)
    data = board_entries(ctx.session, [proposal], private=level is Reading.OWNER)[0]
    if level is Reading.SIGNER:  # a co-signer reads all they sign, not whom else the proposer asked
        data["attachments"] = attachments_of(ctx.session, proposal.id)
    data["decisions"] = [{"kind": d.kind, "reason": d.reason, "decided_by": d.decided_by, "at": d.decided_at.isoformat()}
                         for d in ctx.session.scalars(sa.select(Decision).where(Decision.proposal_id == proposal.id)
                                                      .order_by(Decision.id))]
    data["rounds"] = [
        {"round": r.round, **reply_json(r),
         "ratings": [{"rating": x.rating, "comment": x.comment} for x in ctx.session.scalars(
             sa.select(Rating).where(Rating.reply_id == r.id))]}
        for r in ctx.session.scalars(sa.select(Reply).where(Reply.proposal_id == proposal.id).order_by(Reply.round))]
    data["merged"] = [proposal_json(ctx.session, p) for p in ctx.session.scalars(
        sa.select(Proposal).where(Proposal.merged_into_id == proposal.id))]
    return data


def cosign_invitation(ctx: ReadContext, congress_id: int, proposal_id: int) -> dict[str, Any]:
    """What a delegate invited to co-sign reads before answering: the proposal as it stands now,
    its 案由 and 建议 included. Only for the invitee, until they decline (a draft is no one else's
    business); every refusal is the same `not_found`."""
    proposal = ctx.session.get(Proposal, proposal_id)
    answer = invitation_of(ctx.session, ctx.actor, proposal_id)
    if proposal is None or proposal.congress_id != congress_id or not may_answer_cosign(
            answer, is_proposer=proposal.proposer_id == ctx.actor.delegate_id):
        raise DomainError("not_found", f"没有给您的附议邀请（提案 {proposal_id}）")
    data = proposal_json(ctx.session, proposal)
    keep = ("id", "number", "title", "reason", "suggestion", "status", "status_label", "group", "proposer", "cosigners")
    return {**{key: data[key] for key in keep}, "my_answer": answer}


def my_proposals(session: Session, actor: Actor) -> dict[str, Any]:
    own = list(session.scalars(sa.select(Proposal).where(Proposal.proposer_id == actor.delegate_id)
                               .order_by(Proposal.id)))
    # A draft whose invitation they declined is gone from their list (until asked again); once
    # submitted it is public and listed with their answer.
    invited = [(p, status) for p, status in session.execute(sa.select(Proposal, Cosignature.status).join(
        Cosignature, Cosignature.proposal_id == Proposal.id).where(Cosignature.delegate_id == actor.delegate_id)
        .order_by(Proposal.id)).all() if is_published(p.status) or is_open_invitation(status)]
    requests = proposals_json(session, [p for p, _status in invited])
    return {"mine": board_entries(session, own, private=True),
            "cosign_requests": [{**data, "my_answer": status} for data, (_p, status) in zip(requests, invited, strict=True)]}


def proposals_snapshot(session: Session, congress_id: int, actor: Actor) -> dict[str, Any]:
    """Delegates: their own proposals and co-sign requests; nothing for anyone else. The board is
    read with `proposal_board` (it can hold hundreds) and kept live by proposal.* events. (Counts
    by status were here and no page used them: no event says which status a case left, so a page
    could not keep them, and it held stale ones until it reloaded.)"""
    return my_proposals(session, actor) if actor.role is Role.DELEGATE else {}


def triage(ctx: ReadContext, congress_id: int, status: str = "submitted") -> dict[str, Any]:
    """Staff's review queue: each proposal with its suggested category and the most similar ones."""
    ctx.actor.require(Permission.READ_STAFF_VIEWS)
    if status not in PUBLIC_STATUSES:  # drafts are their proposers' until submitted
        raise DomainError("bad_field", f"status 应为已提交提案的状态之一：{'、'.join(PUBLIC_STATUSES)}",
                          params={"field": "status"})
    queue = list(ctx.session.scalars(sa.select(Proposal).where(Proposal.congress_id == congress_id,
                                                               Proposal.status == status).order_by(Proposal.number)))
    similar = _similar(ctx.session, _similarity_index(ctx.session), queue)
    items = []
    reasons = suggestion_reasons(ctx.session, queue)
    for entry, hits, why in zip(proposals_json(ctx.session, queue, private=True), similar, reasons, strict=True):
        entry["similar"] = hits
        entry["category_reasons"] = why  # the words behind the suggested category
        items.append(entry)
    return {"proposals": items, "duplicate_threshold": DUPLICATE_THRESHOLD}


def _similarity_index(session: Session) -> tuple[SimilarityIndex, list[int]]:
    """Every submitted proposal of this and earlier congresses."""
    rows = list(session.execute(sa.select(Proposal.id, Proposal.title, Proposal.reason, Proposal.suggestion)
                                .where(Proposal.status.in_(PUBLIC_STATUSES)).order_by(Proposal.id)))
    corpus = [(pid, proposal_text(t, r, s)) for pid, t, r, s in rows]
    return SimilarityIndex(corpus), [pid for pid, _ in corpus]


def _similar(session: Session, index: tuple[SimilarityIndex, list[int]], proposals: list[Proposal], k: int = 5
             ) -> list[list[dict[str, Any]]]:
    """The k proposals most like each of `proposals`: the whole review queue in one pass (a
    triage read scored each proposal on its own, about 1 s for 273 on the story's machine)."""
    similarity, ids = index
    if not ids:
        return [[] for _ in proposals]
    hits = similarity.query_many([(proposal_text(p.title, p.reason, p.suggestion), (p.id,)) for p in proposals], k=k)
    wanted = {hit.id for found in hits for hit in found}
    others: dict[Hashable, Proposal] = {p.id: p for p in session.scalars(sa.select(Proposal).where(Proposal.id.in_(wanted)))} if wanted else {}
    return [[{"id": other.id, "number": other.number, "title": other.title, "status": other.status,
              "congress_id": other.congress_id, "score": round(hit.score, 2),
              "is_likely_duplicate": is_likely_duplicate(hit.score), "level": similarity_level(hit.score),
              "share": similarity_share(hit.score)}
             for hit in found if (other := others.get(hit.id)) is not None]
            for found in hits]


def similar_proposals(ctx: ReadContext, congress_id: int, proposal_id: int) -> dict[str, Any]:
    ctx.actor.require(Permission.READ_STAFF_VIEWS)
    proposal = published_proposal(ctx, congress_id, proposal_id)
    return {"proposal_id": proposal.id, "similar": _similar(ctx.session, _similarity_index(ctx.session), [proposal])[0]}


def department_cases(ctx: ReadContext, congress_id: int) -> dict[str, Any]:
    """A department's cases, each once: its latest round for this department (a case reopened by
    不满意 is listed in its new round, not in both). `is_current`: that round is the case's current
    one; a case the department returned (退回) and staff handed to another is listed, not current."""
    if ctx.actor.role is not Role.DEPARTMENT:
        ctx.actor.require(Permission.READ_STAFF_VIEWS)
    lines = _department_lines(ctx.session, ctx.actor.department_id, congress_id)
    cases = []
    for entry, (proposal, assignment, current) in zip(
            board_entries(ctx.session, [p for p, _a, _c in lines]), lines, strict=True):
        is_current = assignment.round == current
        entry.update(round=assignment.round, is_lead=assignment.is_lead, is_current=is_current,
                     due_at=assignment.due_at.isoformat() if assignment.due_at else None,
                     is_overdue=is_current and _is_overdue(ctx, proposal, assignment))
        cases.append(entry)
    return {"cases": cases}


def _department_lines(session: Session, department_id: int | None, congress_id: int | None
                      ) -> list[tuple[Proposal, Assignment, int]]:
    """(proposal, the department's latest assignment of it, the case's current round), by due date
    (none last) and number; `congress_id` None: every congress."""
    query = (sa.select(Proposal, Assignment).join(Assignment, Assignment.proposal_id == Proposal.id)
             .where(Assignment.department_id == department_id))
    if congress_id is not None:
        query = query.where(Proposal.congress_id == congress_id)
    latest: dict[int, tuple[Proposal, Assignment]] = {}
    for proposal, assignment in session.execute(query):
        seen = latest.get(proposal.id)
        if seen is None or (assignment.round, assignment.is_lead) > (seen[1].round, seen[1].is_lead):
            latest[proposal.id] = (proposal, assignment)
    if not latest:
        return []
    current = dict(session.execute(sa.select(Assignment.proposal_id, sa.func.max(Assignment.round))
                                   .where(Assignment.proposal_id.in_(latest)).group_by(Assignment.proposal_id)).all())
    lines = [(p, a, current[p.id]) for p, a in latest.values()]
    def order(line: tuple[Proposal, Assignment, int]) -> tuple[Any, ...]:
        due = line[1].due_at
        return due is None, due.isoformat() if due else "", line[0].number or 0, line[0].id

    return sorted(lines, key=order)


OPEN_STATUSES = (ProposalStatus.ASSIGNED, ProposalStatus.FOLLOWING_UP)


def department_congresses(ctx: ReadContext, congress_id: int) -> dict[str, Any]:
    """The congresses holding a department's cases (a department serves every congress: the one in
    the request does not narrow this), and the one its page opens: where its open cases are."""
    if ctx.actor.role is not Role.DEPARTMENT:
        raise DomainError("forbidden", "只有承办部门可以查看本部门承办提案所在的职代会")
    counts: dict[int, list[int]] = {}
    for proposal, assignment, current in _department_lines(ctx.session, ctx.actor.department_id, None):
        total_open = counts.setdefault(proposal.congress_id, [0, 0])
        total_open[0] += 1
        total_open[1] += assignment.round == current and proposal.status in OPEN_STATUSES
    names = dict(ctx.session.execute(sa.select(Congress.id, Congress.name).where(Congress.id.in_(counts))).all()) \
        if counts else {}
    congresses = [{"congress_id": cid, "name": names[cid], "cases": total, "open_cases": open_}
                  for cid, (total, open_) in sorted(counts.items(), reverse=True)]
    return {"congresses": congresses, "open_congress_id": congress_to_open(congresses)}


def congress_to_open(congresses: list[dict[str, Any]]) -> int | None:
    """The congress with the most open cases (the newest on a tie); with none open, the newest
    holding any case; None when the department has no case at all."""
    if not congresses:
        return None
    best = max(congresses, key=lambda c: (c["open_cases"], c["congress_id"]))
    return int(best["congress_id"])


def _is_overdue(ctx: ReadContext, proposal: Proposal, assignment: Assignment) -> bool:
    if assignment.due_at is None or assignment.due_at > ctx.now:
        return False
    replied = ctx.session.scalar(sa.select(Reply.id).where(Reply.proposal_id == proposal.id,
                                                           Reply.round == assignment.round))
    return replied is None and proposal.status == ProposalStatus.ASSIGNED


def _overdue(ctx: ReadContext, congress_id: int) -> list[tuple[Proposal, Assignment, str]]:
    """Lead assignments past their due date with no reply in their round."""
    rows = ctx.session.execute(sa.select(Proposal, Assignment, Department.name)
                               .join(Assignment, Assignment.proposal_id == Proposal.id)
                               .join(Department, Department.id == Assignment.department_id)
                               .where(Proposal.congress_id == congress_id, Assignment.is_lead,
                                      Proposal.status == ProposalStatus.ASSIGNED, Assignment.due_at < ctx.now)).all()
    return [(p, a, name) for p, a, name in rows if _is_overdue(ctx, p, a)]


def overdue_cases(ctx: ReadContext, congress_id: int) -> dict[str, Any]:
    ctx.actor.require(Permission.READ_STAFF_VIEWS)
    return {"overdue": [{"proposal_id": p.id, "number": p.number, "title": p.title, "department": name,
                         "round": a.round, "due_at": a.due_at.isoformat() if a.due_at else None}
                        for p, a, name in _overdue(ctx, congress_id)]}


def proposal_stats(ctx: ReadContext, congress_id: int) -> dict[str, Any]:
    """Counts by category × status × group, 办复率, 满意率, overdue — public figures."""
    rows = ctx.session.execute(sa.select(Proposal.category, Proposal.status, Group.name)
                               .join(Group, Group.id == Proposal.group_id)
                               .where(Proposal.congress_id == congress_id, Proposal.status.in_(PUBLIC_STATUSES))).all()
    cells = Counter((c or "未分类", s, g) for c, s, g in rows)
    cases = [r for r in rows if r[1] in CASE_STATUSES]
    answered = [r for r in cases if r[1] in (ProposalStatus.REPLIED, ProposalStatus.FOLLOWING_UP, ProposalStatus.CLOSED)]
    ratings = Counter(ctx.session.scalars(sa.select(Rating.rating).join(Proposal, Proposal.id == Rating.proposal_id)
                                          .where(Proposal.congress_id == congress_id)))
    rated = sum(ratings.values())
    overdue = len(_overdue(ctx, congress_id))
    return {
        "total": len(rows),
        "cells": [{"category": c, "status": s, "group": g, "count": n} for (c, s, g), n in sorted(cells.items())],
        "by_category": dict(Counter(c or "未分类" for c, _s, _g in rows)),
        "by_status": dict(Counter(s for _c, s, _g in rows)),
        "by_group": dict(Counter(g for _c, _s, g in rows)),
        "cases": len(cases), "answered": len(answered),
        "answered_rate": round(len(answered) / len(cases), 4) if cases else None,  # 办复率
        "ratings": dict(ratings),
        "satisfaction_rate": round((ratings["满意"] + ratings["基本满意"]) / rated, 4) if rated else None,  # 满意率
        "overdue": overdue,
    }


def delegate_directory(ctx: ReadContext, congress_id: int, query: str) -> dict[str, Any]:
    """For inviting co-signers: voting delegates by 工号 or name (names and groups only), of the
    delegate's own congress only."""
    if ctx.actor.role not in (Role.DELEGATE, Role.STAFF):
        raise DomainError("forbidden", "只有代表和工作人员可以查找代表")
    ctx.actor.require_congress(congress_id)
    like = f"%{query.strip()}%"
    rows = ctx.session.execute(sa.select(Delegate.employee_id, Delegate.name, Group.name)
                               .join(Group, Group.id == Delegate.group_id)
                               .where(Delegate.congress_id == congress_id, Delegate.is_active,
                                      Delegate.delegate_type == "正式代表",
                                      sa.or_(Delegate.employee_id.like(like), Delegate.name.like(like)))
                               .order_by(Delegate.employee_id).limit(20)).all()
    return {"delegates": [{"employee_id": e, "name": n, "group": g} for e, n, g in rows]}


# A board entry: the proposal as anyone sees it with where its case stands
CASE_KEYS = (*ASSIGNMENT_KEYS[1:], Key("reply", REPLY, "the latest, else null"),
             Key("rating", str, "the proposer's, else null"))
BOARD_KEYS = (*PROPOSAL_KEYS, *CASE_KEYS)
SIMILAR = ListOf(Obj((Key("id", int), Key("number", int), Key("title", str), Key("status", str),
                      Key("congress_id", int), Key("score", float), Key("is_likely_duplicate", bool),
                      Key("level", str), Key("share", None))),
                 "the most similar submitted proposals, of this and earlier congresses")
_ID = Param("proposal_id", int)

COMMANDS: tuple[Command, ...] = (
    Command("proposal_board", proposal_board, (Param("query", str, False), Param("category", str, False),
            Param("status", str, False), Param("group_id", int, False), Param("limit", int, False)),
            "提案公开栏（任何人可看）", writes=False,
            result=Obj((Key("proposals", ListOf(Obj(BOARD_KEYS))),), "submitted proposals, filtered"),
            errors=("not_found",), who="observers too"),
    Command("proposal_detail", proposal_detail, (_ID,), "提案详情与办理过程", writes=False,
            result=Obj((*BOARD_KEYS,
                        Key("attachments", ListOf(ATTACHMENT), "its proposer, co-signers and staff", False),
                        Key("decisions", ListOf(Obj((Key("kind", str), Key("reason", str), Key("decided_by", str),
                                                     Key("at", str))))),
                        Key("rounds", ListOf(Obj((*REPLY.keys, Key("ratings", ListOf(Obj((
                            Key("rating", str), Key("comment", str))))))))),
                        Key("merged", ListOf(Obj(PROPOSAL_KEYS)), "proposals merged into this one")),
                       "the whole case; a draft only for its proposer and the delegates invited to co-sign it"),
            errors=("not_found",)),
    Command("cosign_invitation", cosign_invitation, (_ID,),
            "受邀附议的代表阅读提案（含案由和建议）", writes=False,
            result=Obj((*(k for k in PROPOSAL_KEYS if k.name in ("id", "number", "title", "reason", "suggestion",
                                                                  "status", "status_label", "group", "proposer",
                                                                  "cosigners")),
                        Key("my_answer", str, "invited / accepted")),
                       "the invitee only, until they decline; anyone else `not_found`"),
            errors=("not_found",), who="a delegate invited to co-sign"),
    Command("triage", triage, (Param("status", str, False, doc="default submitted"),),
            "待审查提案（含类别建议与相似提案）", writes=False,
            result=Obj((Key("proposals", ListOf(Obj((*PRIVATE_PROPOSAL.keys, Key("similar", SIMILAR),
                                                     Key("category_reasons", ListOf(str),
                                                         "the words behind the suggested category"))))),
                        Key("duplicate_threshold", float, "a score from which a proposal is likely a duplicate"))),
            errors=("bad_field",), permissions=(Permission.READ_STAFF_VIEWS,)),
    Command("similar_proposals", similar_proposals, (_ID,), "相似提案", writes=False,
            result=Obj((Key("proposal_id", int), Key("similar", SIMILAR))),
            errors=("not_found",), permissions=(Permission.READ_STAFF_VIEWS,)),
    Command("department_cases", department_cases, (), "本部门承办的提案", writes=False,
            result=Obj((Key("cases", ListOf(Obj((*BOARD_KEYS, Key("is_lead", bool), Key("is_current", bool),
                                                 Key("is_overdue", bool))))),),
                       "each case once, in the department's latest round"),
            permissions=(Permission.READ_STAFF_VIEWS,), who="a department: its own cases"),
    Command("department_congresses", department_congresses, (), "本部门承办提案所在的职代会", writes=False,
            result=Obj((Key("congresses", ListOf(Obj((Key("congress_id", int), Key("name", str), Key("cases", int),
                                                      Key("open_cases", int))))),
                        Key("open_congress_id", int, "the one its page opens"))),
            who="a department"),
    Command("overdue_cases", overdue_cases, (), "超期未答复的提案", writes=False,
            result=Obj((Key("overdue", ListOf(Obj((Key("proposal_id", int), Key("number", int), Key("title", str),
                                                   Key("department", str), Key("round", int), Key("due_at", str))))),)),
            permissions=(Permission.READ_STAFF_VIEWS,)),
    Command("proposal_stats", proposal_stats, (), "提案统计", writes=False,
            result=Obj((Key("total", int), Key("cells", ListOf(Obj((Key("category", str), Key("status", str),
                                                                    Key("group", str), Key("count", int))))),
                        Key("by_category", MapOf("category", int)), Key("by_status", MapOf("status", int)),
                        Key("by_group", MapOf("group", int)), Key("cases", int), Key("answered", int),
                        Key("answered_rate", float, "办复率"), Key("ratings", MapOf("rating", int)),
                        Key("satisfaction_rate", float, "满意率"), Key("overdue", int)),
                       "public figures"), who="observers too"),
    Command("delegate_directory", delegate_directory, (Param("query", str, doc="工号或姓名"),),
            "查找代表（邀请附议）", writes=False,
            result=Obj((Key("delegates", ListOf(Obj((Key("employee_id", str), Key("name", str), Key("group", str))))),),
                       "voting delegates (names and groups only)"),
            who="a delegate or staff"),
)
