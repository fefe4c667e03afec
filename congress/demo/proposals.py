"""Proposals for the demo, in every state, filed and handled through the real actions."""

from __future__ import annotations

import json
from datetime import timedelta
from importlib import resources
from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.actions.casework import (
    assign_proposal,
    award_proposal,
    decide_proposal,
    rate_reply,
    reply_proposal,
)
from congress.actions.proposals import answer_cosign, draft_proposal, invite_cosigners, submit_proposal
from congress.application.auth import actor_for_session, delegate_actor
from congress.db.models import Account, Delegate, SignInSession

# Which department handles which category in the demo
DEPARTMENT_FOR = {"生活福利": "后勤服务中心", "安全环保": "安全环保部", "生产技术": "生产技术部", "经营管理": "财务部",
                  "职工权益": "人力资源部", "改革创新": "人力资源部", "教育培训": "人力资源部", "民主管理": "工会办公室",
                  "战略发展": "生产技术部"}
REPLY_TEXT = {"A": "已按建议落实：相关措施已于本月完成并投入使用，后续将持续跟踪效果。",
              "B": "建议合理，已列入明年工作计划，预计二季度完成，届时向提案人反馈。",
              "C": "受场地和资金条件限制，目前暂无法实施，待条件具备后优先安排。"}


def seed_proposals() -> list[dict[str, Any]]:
    text = resources.files("congress").joinpath("data/proposals.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _delegate_actor(ctx: Context, delegate: Delegate) -> Context:
    return Context(ctx.session, delegate_actor(delegate), ctx.now)


def _department_actor(ctx: Context, name: str) -> Context:
    account = ctx.session.scalar(sa.select(Account).where(Account.display_name == name, Account.kind == "department"))
    assert account is not None, name
    row = SignInSession(role="department", account_id=account.id)
    actor = actor_for_session(ctx.session, row)
    assert actor is not None
    return Context(ctx.session, actor, ctx.now)


def file_demo_proposals(ctx: Context, congress_id: int, count: int = 48) -> None:
    by_employee = {d.employee_id: d for d in ctx.session.scalars(
        sa.select(Delegate).where(Delegate.congress_id == congress_id))}
    seeds = seed_proposals()
    # Three reworded duplicates are merged (合并立案) into their originals, which are cases in hand.
    duplicates = [p for p in seeds if p["duplicate_of"] is not None][:3]
    first = [p for p in seeds if p["id"] in {d["duplicate_of"] for d in duplicates}]
    wanted = first + [p for p in seeds if p["duplicate_of"] is None and p not in first][:count - 3 - len(first)]
    ids: dict[str, int] = {}

    def file(seed: dict[str, Any], submit: bool = True) -> int:
        proposer = by_employee[seed["proposer"]]
        as_proposer = _delegate_actor(ctx, proposer)
        draft = draft_proposal(as_proposer, congress_id, seed["title"], seed["reason"], seed["suggestion"])
        invite_cosigners(as_proposer, congress_id, draft["id"], seed["cosigners"])
        if submit:
            for employee_id in seed["cosigners"]:
                answer_cosign(_delegate_actor(ctx, by_employee[employee_id]), congress_id, draft["id"], True)
            submit_proposal(as_proposer, congress_id, draft["id"])
        ids[seed["id"]] = draft["id"]
        return draft["id"]

    plan = ["assigned"] * len(first) + ["draft"] * 3 + ["submitted"] * 6 + ["rejected"] * 2 + ["forwarded"] * 2 + ["to_agenda"] \
        + ["registered"] * 3 + ["assigned"] * 8 + ["overdue"] * 2 + ["replied"] * 6 + ["following_up"] * 2 + ["closed"] * 6 + ["reopened"]
    plan += ["closed"] * (len(wanted) - len(plan))
    for seed, state in zip(wanted, plan, strict=False):
        pid = file(seed, submit=state != "draft")
        if state in ("draft", "submitted"):
            continue
        decision = {"rejected": "不予立案", "forwarded": "转为意见建议", "to_agenda": "转为议案"}.get(state, "立案")
        decide_proposal(ctx, congress_id, pid, decision, reason="属于日常管理事项，已转相关部门按制度办理" if state == "rejected" else None,
                        category=seed["category"])
        if state in ("rejected", "forwarded", "to_agenda", "registered"):
            continue
        due = ctx.now + (timedelta(days=-3) if state == "overdue" else timedelta(days=30))
        department = DEPARTMENT_FOR[seed["category"]]
        assign_proposal(ctx, congress_id, pid, department, due_at=due.isoformat())
        if state in ("assigned", "overdue"):
            continue
        reply_class = "B" if state in ("replied", "following_up") else "A"
        reply_proposal(_department_actor(ctx, department), congress_id, pid, reply_class, REPLY_TEXT[reply_class])
        if state == "replied":
            continue
        proposer = _delegate_actor(ctx, by_employee[seed["proposer"]])
        if state == "following_up":  # the plan accepted: open until the department reports (docs/proposals.md)
            rate_reply(proposer, congress_id, pid, "基本满意")
        elif state == "reopened":
            rate_reply(proposer, congress_id, pid, "不满意", "措施只覆盖了一个车间，其他车间情况相同，希望一并解决。")
        else:
            rate_reply(proposer, congress_id, pid, "满意" if len(seed["title"]) % 3 else "基本满意")
    for seed in duplicates:
        pid = file(seed)
        decide_proposal(ctx, congress_id, pid, "合并立案", merge_into_id=ids[seed["duplicate_of"]])
    closed = [ids[s["id"]] for s, state in zip(wanted, plan, strict=False) if state == "closed"]
    for pid, level in zip(closed[:2], ("一等奖", "二等奖"), strict=False):
        award_proposal(ctx, congress_id, pid, level)


def file_for_pre_review(ctx: Context, congress_id: int, group_id: int) -> None:
    """One group has its leader pre-review proposals (团长初审); one proposal waits for it."""
    from congress.actions.setup import set_rules

    set_rules(ctx, congress_id, {"leader_pre_review_groups": [group_id]})
    by_employee = {d.employee_id: d for d in ctx.session.scalars(
        sa.select(Delegate).where(Delegate.congress_id == congress_id, Delegate.group_id == group_id))}
    seed = next(p for p in reversed(seed_proposals())
                if p["proposer"] in by_employee and p["duplicate_of"] is None
                and all(c in by_employee for c in p["cosigners"]))
    as_proposer = _delegate_actor(ctx, by_employee[seed["proposer"]])
    draft = draft_proposal(as_proposer, congress_id, seed["title"], seed["reason"], seed["suggestion"])
    invite_cosigners(as_proposer, congress_id, draft["id"], seed["cosigners"])
    for employee_id in seed["cosigners"]:
        answer_cosign(_delegate_actor(ctx, by_employee[employee_id]), congress_id, draft["id"], True)
    submit_proposal(as_proposer, congress_id, draft["id"])
