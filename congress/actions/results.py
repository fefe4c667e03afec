"""Turning stored ballots and group counts into a vote's result, through the pure tally rules."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import Ballot, GroupCount, Vote
from congress.domain.commands import Key, ListOf, MapOf, Obj
from congress.domain.kinds import GroupMode, QuestionKind
from congress.domain.rules import CongressRules
from congress.reads.votes import group_rolls
from congress.tally import (
    Basis,
    CastBallot,
    GroupRoll,
    GroupTally,
    Rule,
    check_quorum,
    combine,
    count_ballots,
    decide_motion,
    elect,
    summarise_rating,
)
from congress.tally import Question as TallyQuestion
from congress.tally.rules import as_threshold


def _hand_tally(count: GroupCount, question_id: str, eligible: int) -> GroupTally:
    figures = count.figures
    q = figures["questions"][question_id]
    if count.method == "show_of_hands":
        return GroupTally.show_of_hands(str(count.group_id), eligible, figures["present"], q["counts"])
    return GroupTally(str(count.group_id), eligible, figures["present"], q["issued"], q["returned"],
                      q["valid"], q["void"], q["counts"])


def compute_result(session: Session, vote: Vote, rules: CongressRules,
                   sealed: dict[str, Any] | None = None) -> dict[str, Any]:
    """`sealed`: a secret vote's decrypted sums (actions.sealed_tally.pool_tallies) in place of ballots;
    a pool of small groups is one entry named after all its groups."""
    rolls = group_rolls(session, vote)
    hand = {int(g) for g, m in vote.group_modes.items() if m == GroupMode.HAND_COUNT}
    counts = {c.group_id: c for c in session.scalars(sa.select(GroupCount).where(GroupCount.vote_id == vote.id))}
    questions = [TallyQuestion(str(q.id), QuestionKind(q.kind), tuple(o.key for o in q.options),
                               q.seats or 1, q.allows_write_in) for q in vote.questions]
    online_rolls = {str(g): GroupRoll(e, p) for g, (_n, e, p) in rolls.items() if g not in hand}
    members: dict[int, list[int]] = {}
    if sealed is None:
        ballots = [CastBallot(str(b.group_id), b.answers) for b in session.scalars(
            sa.select(Ballot).where(Ballot.vote_id == vote.id))]
        online = count_ballots(ballots, questions, online_rolls)
    else:
        online, members = sealed["tallies"], sealed["members"]
    eligible_total = sum(e for _n, e, _p in rolls.values())
    present_total = sum(rolls[g][2] for g in rolls if g not in hand) + sum(
        counts[g].figures["present"] for g in hand if g in counts)
    quorum = check_quorum(present_total, eligible_total, rules.quorum_fraction, rules.quorum_inclusive)
    void_groups = [rolls[g][0] for g in hand if g in counts and counts[g].figures.get("is_void_round")]
    result: dict[str, Any] = {
        "eligible": eligible_total, "present": present_total,
        "cast": 0, "quorum": {"met": quorum.met, "required": quorum.required, "words": quorum.words},
        "is_void_round": bool(void_groups),
        "void_round_words": (f"{'、'.join(void_groups)} 收回选票多于发出选票，本轮表决无效，应重新表决"
                             if void_groups else None),
        "questions": [],
    }
    for question in vote.questions:
        qid = str(question.id)
        by_group = {int(t.group_id): t for t in online[qid]}
        for g in hand:
            if g in counts:
                by_group[g] = _hand_tally(counts[g], qid, rolls[g][1])
        tally = combine(by_group[g] for g in rolls if g in by_group)
        rule = Rule(Basis(question.basis), as_threshold(question.threshold, question.is_strict), question.is_strict)
        labels = {o.key: o.label for o in question.options}
        entry: dict[str, Any] = {
            "question_id": question.id, "text": question.text, "kind": question.kind,
            "rule": rule.describe("赞成票" if question.kind == QuestionKind.YES_NO else "得票"),
            "eligible": tally.eligible, "present": tally.present, "issued": tally.issued,
            "returned": tally.returned, "valid": tally.valid, "void": tally.void, "not_voting": tally.not_voting,
            "options": [{"key": k, "label": labels.get(k, k), "count": n} for k, n in tally.counts.items()],
            "groups": [
                {"group_id": g, "name": _pool_name(rolls, members[g]) if len(members.get(g, [g])) > 1 else rolls[g][0],
                 **({"group_ids": members[g]} if len(members.get(g, [g])) > 1 else {}),
                 "method": counts[g].method if g in counts else "online",
                 "eligible": t.eligible, "present": t.present, "issued": t.issued, "returned": t.returned,
                 "valid": t.valid, "void": t.void, "counts": dict(t.counts)}
                for g, t in ((g, by_group[g]) for g in rolls if g in by_group)
            ],
        }
        basis_count = rule.basis_count(tally.eligible, tally.present, tally.returned)
        if result["is_void_round"]:
            entry["words"] = result["void_round_words"]
        elif question.kind == QuestionKind.YES_NO:
            outcome = decide_motion(tally.counts, rule, voting_total=tally.eligible, present=tally.present,
                                    cast=tally.returned)
            entry.update(passed=outcome.passed, required=outcome.required, words=outcome.words)
        elif question.kind == QuestionKind.ELECTION:
            outcome_e = elect(tally.counts, question.seats or 1, rule, basis_count)
            entry.update(elected=outcome_e.elected, tied_for_last=outcome_e.tied_for_last,
                         unfilled_seats=outcome_e.unfilled_seats, required=rule.required(basis_count),
                         words=outcome_e.words)
        else:
            outcome_r = summarise_rating(tally.counts, [o.key for o in question.options])
            entry.update(words=outcome_r.words)
        result["questions"].append(entry)
        result["cast"] = max(result["cast"], tally.returned)
    return result


def _pool_name(rolls: dict[int, tuple[str, int, int]], group_ids: list[int]) -> str:
    return f"{'、'.join(rolls[g][0] for g in group_ids)}（合并计票）"


# What compute_result gives, as the protocol describes it (docs/protocol.md: close_vote, publish_vote, …)
_FIGURES = (Key("eligible", int, "应到"), Key("present", int, "实到"), Key("issued", int, "发出"),
            Key("returned", int, "收回 / 参加表决"), Key("valid", int, "有效"), Key("void", int, "无效"))
RESULT = Obj((
    Key("eligible", int, "应到: voting delegates"), Key("present", int, "实到"),
    Key("cast", int, "ballots returned (the most over the questions)"),
    Key("quorum", Obj((Key("met", bool), Key("required", int), Key("words", str)))),
    Key("is_void_round", bool, "a hand-counted group returned more ballots than it issued: vote again"),
    Key("void_round_words", str, "why, else null"),
    Key("questions", ListOf(Obj((
        Key("question_id", int), Key("text", str), Key("kind", str, "yes_no / election / rating"),
        Key("rule", str, "the rule in words"), *_FIGURES, Key("not_voting", int, "未投票"),
        Key("options", ListOf(Obj((Key("key", str), Key("label", str), Key("count", int))))),
        Key("groups", ListOf(Obj((
            Key("group_id", int), Key("name", str, "a pool of small groups: their names, （合并计票）"),
            Key("group_ids", ListOf(int), "a pool's groups", False),
            Key("method", str, "online / show_of_hands / paper"), *_FIGURES,
            Key("counts", MapOf("option key", int)))))),
        Key("words", str, "the outcome in words (赞成 201 票，超过…，通过)"),
        Key("passed", bool, "yes/no: carried", False),
        Key("required", int, "yes/no, election: the votes needed", False),
        Key("elected", ListOf(str), "election: who is elected", False),
        Key("tied_for_last", ListOf(str), "election: tied for the last seat (a run-off decides)", False),
        Key("unfilled_seats", int, "election: seats nobody won", False),
    )))),
), "a vote's result")
