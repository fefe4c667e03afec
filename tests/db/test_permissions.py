"""Who may do what, walked over EVERY op of the command table (new ops are covered as they are
registered), on both databases: observers change nothing, delegates cannot run staff-only ops,
group leaders act only for their own group, and 列席代表 do not vote.

Actions are called the way the service calls them — `COMMANDS[op].action(ctx, congress_id, **args)`
inside one `db.write()` — with plausible arguments, so a refusal is about the actor, not the input.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from congress.actions.attendance import check_in_at_desk
from congress.actions.base import Context
from congress.actions.roster import import_roster
from congress.actions.setup import create_congress
from congress.application.auth import actor_for_session, observer_actor
from congress.application.commands import COMMANDS, load_all
from congress.db.base import Base
from congress.db.engine import Database
from congress.db.models import Congress, Delegate, GroupCount, SignInSession
from congress.domain.commands import Command, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Role
from congress.domain.permissions import GRANTS, Actor, Permission
from tests.story import SETUP

load_all()

STAFF_ONLY = GRANTS[Role.STAFF] - GRANTS[Role.DELEGATE]
PERMISSION_CODES = {"read_only", "forbidden", "other_group", "not_group_leader", "not_voting_delegate"}
ROSTER = """employee_id,name,gender,group,unit,role,is_group_leader,delegate_type
A001,甲组长,男,甲组,一车间,一线职工,1,正式代表
A002,甲代表,女,甲组,一车间,一线职工,0,正式代表
A003,甲列席,男,甲组,综合部,管理人员,0,列席代表
B001,乙组长,女,乙组,二车间,一线职工,1,正式代表
B002,乙代表,男,乙组,二车间,一线职工,0,正式代表
"""


@dataclass(frozen=True, slots=True)
class AskedActor(Actor):
    """An Actor that behaves exactly like one and also notes the permissions an action asks about."""

    asked: list[Permission] = field(default_factory=list, compare=False, hash=False)

    def may(self, permission: Permission, *, group_id: int | None = None) -> bool:
        self.asked.append(permission)
        return Actor.may(self, permission, group_id=group_id)


@dataclass
class World:
    congress_id: int
    group_ids: dict[str, int]
    agenda_item_id: int
    online_vote: dict[str, Any]  # open; both groups vote online
    hand_vote: dict[str, Any]  # open; both groups count by show of hands
    delegates: dict[str, Actor]  # employee id -> the actor a signed-in session of theirs gives


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def world(db: Database) -> World:
    """Two groups, everyone checked in at the desk, an online vote and a hand-counted vote, both open."""
    run = lambda op, cid, **args: COMMANDS[op].action(ctx, cid, **args)  # noqa: E731
    with db.write() as session:
        ctx = Context(session, SETUP, now())
        congress = create_congress(ctx, "第十届职代会第三次会议", ["甲组", "乙组"])
        cid = congress.id
        import_roster(ctx, cid, ROSTER.encode(), "roster.csv")
        groups = {g.name: g.id for g in congress.groups}
        for employee_id in ("A001", "A002", "A003", "B001", "B002"):
            check_in_at_desk(ctx, cid, employee_id)
        item = run("add_agenda_item", cid, kind="审议通过", title="表决《职工薪酬福利调整方案》")
        yes_no = [{"kind": "yes_no", "text": "是否同意"}]
        online = run("create_vote", cid, agenda_item_id=item["id"], title="网上表决", questions=yes_no)
        hand = run("create_vote", cid, agenda_item_id=item["id"], title="现场表决", questions=yes_no,
                   hand_count_groups=list(groups.values()))
        run("open_vote", cid, vote_id=online["id"])
        run("open_vote", cid, vote_id=hand["id"])
        actors = {}
        for delegate in session.scalars(sa.select(Delegate).where(Delegate.congress_id == cid)):
            actor = actor_for_session(session, SignInSession(role="delegate", delegate_id=delegate.id))
            assert actor is not None
            actors[delegate.employee_id] = actor
    return World(cid, groups, item["id"], online, hand, actors)


def _declared(command: Command) -> list[Param]:
    """The params a client sends: the required ones, and any optional one the action cannot do without."""
    signature = inspect.signature(command.action).parameters
    return [p for p in command.params if p.required or signature[p.name].default is inspect.Parameter.empty]


def plausible_args(world: World, actor: Actor, op: str, command: Command) -> dict[str, Any]:
    """Arguments a real client of this actor might send: existing ids where the world has them, valid values."""
    online_q = str(world.online_vote["questions"][0]["id"])
    hand_q = str(world.hand_vote["questions"][0]["id"])
    by_name: dict[str, Any] = {
        "vote_id": world.hand_vote["id"] if op == "enter_group_count" else world.online_vote["id"],
        "agenda_item_id": world.agenda_item_id,
        "item_id": world.agenda_item_id,
        "position": 1,
        "group_id": actor.group_id or world.group_ids["甲组"],
        "employee_id": "B002",
        "employee_ids": ["A002", "B002"],
        "title": "关于改善倒班职工通勤条件的提案",
        "kind": "hls" if op == "set_stream" else "审议",
        "url": "https://live.example.org/congress.m3u8",
        "mode": "open",
        "rules": {"cosigners_required": 3},
        "answers": {online_q: "yes"},
        "method": "show_of_hands",
        "present": 1,
        "scrutineer": "刘志强",
        "reason": "倒班职工下夜班后没有班车",
        "suggestion": "增开夜班通勤车",
        "text": "同意报告，建议增加安全投入",
        "decision": "立案",
        "category": "生产技术",
        "lead": "人力资源部",
        "rating": "满意",
        "reply_class": "A",
        "handling": "已采纳",
        "accept": True,
        "approve": True,
        "is_key": True,
        "level": None,
        "order": [1],
        "query": "甲",
    }
    by_type: dict[type, Any] = {int: 1, str: "测试", bool: False, list: [], dict: {}}
    args = {}
    for param in _declared(command):
        if param.name == "questions":
            args[param.name] = ([{"kind": "yes_no", "text": "是否同意"}] if param.type is list
                                else {hand_q: {"counts": {"yes": 1, "no": 0, "abstain": 0}}})
        else:
            args[param.name] = by_name.get(param.name, by_type[param.type])
    return args


def nonsense_args(command: Command) -> dict[str, Any]:
    """Arguments no action would accept: missing ids, empty text."""
    values: dict[type, Any] = {int: 987_654, str: "", bool: False, list: [], dict: {}}
    return {p.name: values[p.type] for p in _declared(command)}


def fingerprint(db: Database, congress_id: int) -> dict[str, int]:
    """What staff would compare to see whether anything happened: the event seq and every table's size."""
    columns = [sa.select(sa.func.count()).select_from(t).scalar_subquery().label(t.name)
               for t in Base.metadata.sorted_tables]
    last_seq = sa.select(Congress.last_seq).where(Congress.id == congress_id).scalar_subquery().label("last_seq")
    with db.read() as session:
        return dict(session.execute(sa.select(*columns, last_seq)).one()._mapping)


class _Undo(Exception):
    """Rolls back an attempt that went through, so every op meets the same world."""


@dataclass
class Attempt:
    code: str | None  # the refusal's code; None when the action went through
    changed: bool | None  # None when not measured
    emitted: int


def attempt(db: Database, actor: Actor, congress_id: int, op: str, args: dict[str, Any], *,
            keep: bool = False, measure: bool = True) -> Attempt:
    before = fingerprint(db, congress_id) if measure else None
    ctx: Context | None = None
    code = None
    try:
        with db.write() as session:
            ctx = Context(session, actor, now())
            COMMANDS[op].action(ctx, congress_id, **args)
            if not keep:
                raise _Undo
    except DomainError as error:
        code = error.code
    except _Undo:
        pass
    assert ctx is not None
    return Attempt(code, fingerprint(db, congress_id) != before if measure else None, len(ctx.events))


# -- observers ----------------------------------------------------------------------------------
def test_observer_is_refused_every_write_op_and_nothing_changes(db, world):
    observer = observer_actor(world.congress_id)
    writes = {op: c for op, c in COMMANDS.items() if c.writes}
    assert {"create_vote", "open_vote", "cast_ballot", "check_in"} <= set(writes)

    outcomes = {op: attempt(db, observer, world.congress_id, op, plausible_args(world, observer, op, c))
                for op, c in sorted(writes.items())}

    wrong = {op: o for op, o in outcomes.items() if (o.code, o.changed, o.emitted) != ("read_only", False, 0)}
    assert wrong == {}


def test_observer_is_refused_before_the_arguments_are_even_looked_at(db, world):
    """The permission check is each action's first step: nonsense arguments still get read_only."""
    observer = observer_actor(world.congress_id)

    codes = {op: attempt(db, observer, world.congress_id, op, nonsense_args(c), measure=False).code
             for op, c in sorted(COMMANDS.items()) if c.writes}

    assert {op: code for op, code in codes.items() if code != "read_only"} == {}


# -- delegates and staff-only ops ---------------------------------------------------------------
def test_delegate_cannot_run_any_staff_only_op_and_nothing_changes(db, world):
    assert {Permission.RUN_VOTE, Permission.CHECK_IN_AT_DESK, Permission.IMPORT_ROSTER} <= STAFF_ONLY
    staff_only_ops, wrong, never_asked = set(), {}, []
    for op, command in sorted(COMMANDS.items()):
        # The most trusted delegate there is: a voting group leader
        leader = AskedActor(**{f: getattr(world.delegates["A001"], f) for f in Actor.__dataclass_fields__})
        outcome = attempt(db, leader, world.congress_id, op, plausible_args(world, leader, op, command))
        if not leader.asked:
            if command.writes:  # reads of public things (the proposal board) need no permission
                never_asked.append(op)
        elif leader.asked[0] in STAFF_ONLY:
            staff_only_ops.add(op)
            if (outcome.code, outcome.changed, outcome.emitted) != ("forbidden", False, 0):
                wrong[op] = outcome

    assert never_asked == [], "every write op checks a permission first"
    assert wrong == {}
    assert {"open_vote", "close_vote", "create_vote", "publish_vote", "check_in_at_desk", "set_rules",
            "add_agenda_item"} <= staff_only_ops
    assert {"cast_ballot", "check_in", "enter_group_count"}.isdisjoint(staff_only_ops)

    # The same ops are open to staff: whatever else may stop them, it is never a permission
    refused = {op: code for op in sorted(staff_only_ops)
               if (code := attempt(db, SETUP, world.congress_id, op, plausible_args(world, SETUP, op, COMMANDS[op]),
                                   measure=False).code) in PERMISSION_CODES}
    assert refused == {}


# -- group leaders, group counts and ballots ----------------------------------------------------
def hand_count(world: World, group: str) -> dict[str, Any]:
    qid = str(world.hand_vote["questions"][0]["id"])
    return {"vote_id": world.hand_vote["id"], "group_id": world.group_ids[group], "method": "show_of_hands",
            "present": 2, "questions": {qid: {"counts": {"yes": 2, "no": 0, "abstain": 0}}},
            "scrutineer": "刘志强"}


def test_group_leader_cannot_enter_the_count_of_another_group(db, world):
    outcome = attempt(db, world.delegates["A001"], world.congress_id, "enter_group_count", hand_count(world, "乙组"))

    assert (outcome.code, outcome.changed) == ("other_group", False)


def test_member_who_is_not_the_leader_cannot_enter_their_own_groups_count(db, world):
    outcome = attempt(db, world.delegates["A002"], world.congress_id, "enter_group_count", hand_count(world, "甲组"))

    assert (outcome.code, outcome.changed) == ("not_group_leader", False)


def test_group_leader_enters_their_own_groups_count(db, world):
    outcome = attempt(db, world.delegates["A001"], world.congress_id, "enter_group_count", hand_count(world, "甲组"),
                      keep=True)

    assert (outcome.code, outcome.changed) == (None, True)
    with db.read() as session:
        (row,) = session.scalars(sa.select(GroupCount))
    assert (row.group_id, row.entered_by) == (world.group_ids["甲组"], "甲组长")


def test_non_voting_delegate_cannot_cast_a_ballot_but_a_voting_one_can(db, world):
    qid = str(world.online_vote["questions"][0]["id"])
    ballot = {"vote_id": world.online_vote["id"], "answers": {qid: "yes"}}
    assert world.delegates["A003"].is_voting is False

    refused = attempt(db, world.delegates["A003"], world.congress_id, "cast_ballot", ballot)
    recorded = attempt(db, world.delegates["A002"], world.congress_id, "cast_ballot", ballot, keep=True)

    assert (refused.code, refused.changed) == ("not_voting_delegate", False)
    assert (recorded.code, recorded.changed) == (None, True)
