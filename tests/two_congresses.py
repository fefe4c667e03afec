"""Two congresses side by side on one database, each with one of everything that has an id: agenda
items, votes in every state (a sealed one too), a key ceremony, proposals from draft to reply (an
attachment on the draft), a room message, a request to speak, a document, a group opinion.

Built through the real actions, as staff, delegates and the department would. The congresses are
built the same way, with their own 工号 (congress 1: A…/B…, congress 2: C…/D…), so whatever one
congress's id reaches, the other congress has its own of the same kind and state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from congress.actions.accounts import add_department, add_staff, issue_codes
from congress.actions.agenda import add_agenda_item, set_current_item
from congress.actions.attachments import attach_file
from congress.actions.attendance import check_in_at_desk
from congress.actions.base import Context
from congress.actions.casework import assign_proposal, decide_proposal, reply_proposal
from congress.actions.documents import upload_document
from congress.actions.opinions import save_opinion, submit_opinion
from congress.actions.proposals import answer_cosign, draft_proposal, invite_cosigners, submit_proposal
from congress.actions.rooms import post_message
from congress.actions.roster import import_roster
from congress.actions.setup import create_congress, set_rules
from congress.actions.speakers import request_to_speak
from congress.actions.votes import certify_vote, close_vote, create_vote, open_vote
from congress.application.auth import actor_for_session, delegate_actor
from congress.application.service import system_clock
from congress.db.engine import Database
from congress.db.models import Account, Delegate, SignInSession
from congress.domain.permissions import Actor
from tests.sealing import make_trustees
from tests.story import SETUP

# The first bytes of a PNG are what the server checks (congress.actions.attachments.content_type_of)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
DEPARTMENT = "人力资源部"
YES_NO = [{"kind": "yes_no", "text": "是否同意"}]


def roster(first: str, second: str, name: str) -> bytes:
    """Two groups; 甲组: a leader, three voting members and a 列席代表; 乙组: a leader and two members."""
    rows = [(f"{first}001", f"{name}甲组长", "甲组", 1, "正式代表"), (f"{first}002", f"{name}甲代表一", "甲组", 0, "正式代表"),
            (f"{first}003", f"{name}甲代表二", "甲组", 0, "正式代表"), (f"{first}004", f"{name}甲代表三", "甲组", 0, "正式代表"),
            (f"{first}005", f"{name}甲列席", "甲组", 0, "列席代表"),
            (f"{second}001", f"{name}乙组长", "乙组", 1, "正式代表"), (f"{second}002", f"{name}乙代表一", "乙组", 0, "正式代表"),
            (f"{second}003", f"{name}乙代表二", "乙组", 0, "正式代表")]
    lines = ["employee_id,name,gender,group,unit,role,is_group_leader,delegate_type"]
    lines += [f"{e},{n},男,{g},一车间,一线职工,{leader},{kind}" for e, n, g, leader, kind in rows]
    return ("\n".join(lines) + "\n").encode()


@dataclass
class World:
    """One congress and an object of each kind in it (ids), and who is who (by 工号)."""

    congress_id: int
    prefix: str  # its 工号 begin with this letter (甲组) and the next (乙组)
    groups: dict[str, int]
    people: dict[str, Delegate]  # 工号 -> delegate row (detached)
    codes: dict[str, str]  # 工号 -> access code
    ids: dict[str, Any] = field(default_factory=dict)

    def emp(self, n: str) -> str:
        """A 甲组 工号 of this congress: '002' -> 'A002' (congress 1) or 'C002' (congress 2)."""
        return f"{self.prefix}{n}"

    @property
    def member(self) -> Delegate:  # a voting member of 甲组: proposer, speaker, poster
        return self.people[self.emp("002")]

    @property
    def leader(self) -> Delegate:  # 甲组's leader
        return self.people[self.emp("001")]

    def actor(self, employee_id: str) -> Actor:
        return delegate_actor(self.people[employee_id])


@dataclass
class Congresses:
    one: World
    two: World
    staff: Actor
    department: Actor
    staff_login: tuple[str, str]
    department_login: tuple[str, str]


def _act(db: Database, actor: Actor, fn: Any, *args: Any, **kwargs: Any) -> Any:
    with db.write() as session:
        return fn(Context(session, actor, system_clock()), *args, **kwargs)


def build_world(db: Database, name: str, first: str, second: str, *, codes: bool = True, full: bool = True) -> World:
    """`full`: everything; else the roster, its codes and two proposals (a draft with an attachment
    and invitations, and a submitted one)."""
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        congress = create_congress(ctx, name, ["甲组", "乙组"])
        cid = congress.id
        import_roster(ctx, cid, roster(first, second, name[:2]), "roster.csv")
        groups = {g.name: g.id for g in congress.groups}
        issued = {c["employee_id"]: c["code"] for c in issue_codes(ctx, cid)} if codes else {}
        people = {d.employee_id: d for d in session.scalars(sa.select(Delegate).where(Delegate.congress_id == cid))}
        for delegate in people.values():
            check_in_at_desk(ctx, cid, delegate.employee_id)
        item_a = add_agenda_item(ctx, cid, "审议", "审议公司工作报告")
        item_b = add_agenda_item(ctx, cid, "审议通过", "表决《职工薪酬福利调整方案》")
        set_current_item(ctx, cid, item_a["id"])
        set_rules(ctx, cid, {"leader_pre_review_groups": [groups["乙组"]]})
        session.flush()
        session.expunge_all()
    w = World(cid, first, groups, people, issued)
    w.ids.update(item_a=item_a["id"], item_b=item_b["id"])
    staff = SETUP
    proposer, a, b = w.actor(f"{first}002"), w.actor(f"{first}003"), w.actor(f"{first}004")
    text = ("夜班职工凌晨下班时食堂已关门，只能吃泡面。", "建议食堂为夜班提供热饭或夜宵窗口。")

    def people_by_id(actor: Actor) -> Delegate:
        return next(d for d in people.values() if d.id == actor.delegate_id)

    def filed(title: str, by: Actor = proposer, cosigners: tuple[Actor, ...] = (a, b), accept: bool = True) -> int:
        pid = _act(db, by, draft_proposal, cid, title, *text)["id"]
        _act(db, by, invite_cosigners, cid, pid, [people_by_id(c).employee_id for c in cosigners])
        if accept:
            for c in cosigners:
                _act(db, c, answer_cosign, cid, pid, True)
        return pid

    w.ids["draft"] = filed(f"{name}：关于夜班食堂供应热饭的建议", accept=False)
    w.ids["attachment"] = _act(db, proposer, attach_file, cid, w.ids["draft"], "现场照片.png", PNG)["id"]
    if not full:
        w.ids["submitted"] = filed(f"{name}：关于submitted的建议")
        _act(db, proposer, submit_proposal, cid, w.ids["submitted"])
        return w

    # Votes in every state a vote op works on
    def vote(**kwargs: Any) -> dict[str, Any]:
        return _act(db, staff, create_vote, cid, agenda_item_id=w.ids["item_b"], title="表决", questions=YES_NO,
                    **kwargs)

    w.ids["vote_draft"] = vote()["id"]
    created = vote()
    w.ids["vote_open"], w.ids["q_open"] = created["id"], created["questions"][0]["id"]
    _act(db, staff, open_vote, cid, w.ids["vote_open"])
    created = vote(hand_count_groups=list(groups.values()))
    w.ids["vote_hand"], w.ids["q_hand"] = created["id"], created["questions"][0]["id"]
    _act(db, staff, open_vote, cid, w.ids["vote_hand"])
    w.ids["vote_closed"] = vote()["id"]
    _act(db, staff, open_vote, cid, w.ids["vote_closed"])
    _act(db, staff, close_vote, cid, w.ids["vote_closed"])
    w.ids["vote_certified"] = vote()["id"]
    _act(db, staff, open_vote, cid, w.ids["vote_certified"])
    _act(db, staff, close_vote, cid, w.ids["vote_certified"])
    _act(db, staff, certify_vote, cid, w.ids["vote_certified"], "刘志强")
    # A secret vote closed and waiting for the trustees' decryption shares, under a ready key
    trustees = make_trustees(db, cid, [people[f"{first}00{i}"] for i in (2, 3, 4)])
    w.ids["ceremony"] = trustees.ceremony_id
    w.ids["vote_sealed"] = vote(is_secret=True)["id"]
    _act(db, staff, open_vote, cid, w.ids["vote_sealed"])
    _act(db, staff, close_vote, cid, w.ids["vote_sealed"])

    # Proposals past the draft: submitted, registered, assigned, replied (below), in pre-review
    stages = {}
    for stage in ("submitted", "registered", "assigned", "replied"):
        pid = filed(f"{name}：关于{stage}的建议")
        _act(db, proposer, submit_proposal, cid, pid)
        stages[stage] = pid
    for stage in ("registered", "assigned", "replied"):
        _act(db, staff, decide_proposal, cid, stages[stage], "立案")
    for stage in ("assigned", "replied"):
        _act(db, staff, assign_proposal, cid, stages[stage], DEPARTMENT)
    w.ids.update(stages)
    w.ids["pre_review"] = filed(f"{name}：关于乙组的建议", by=w.actor(f"{second}002"),
                                cosigners=(w.actor(f"{second}003"), a))
    _act(db, w.actor(f"{second}002"), submit_proposal, cid, w.ids["pre_review"])

    # The group room, the floor, a document, the group's opinion
    w.ids["message"] = _act(db, proposer, post_message, cid, "同意报告，建议增加安全投入",
                            agenda_item_id=w.ids["item_a"])["id"]
    w.ids["speech"] = _act(db, proposer, request_to_speak, cid, "安全生产")["id"]
    w.ids["document"] = _act(db, staff, upload_document, cid, "公司工作报告", w.ids["item_a"], True, "report.md",
                             "# 公司工作报告\n\n内容。".encode())["id"]
    leader = w.actor(f"{first}001")
    _act(db, leader, save_opinion, cid, w.ids["item_a"], agreement="同意报告",
         quoted_message_ids=[w.ids["message"]])
    w.ids["opinion"] = _act(db, leader, submit_opinion, cid, w.ids["item_a"])["id"]
    return w


def reply_as_department(db: Database, department: Actor, world: World) -> None:
    _act(db, department, reply_proposal, world.congress_id, world.ids["replied"], "A",
         "已在夜班食堂开设夜宵窗口，供应热饭到凌晨两点。")


def build_two(db: Database, *, codes: bool = True, full: bool = True) -> Congresses:
    """Congress 1 (工号 A…/B…) and congress 2 (C…/D…), one staff account and one department for both."""
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        staff_account, staff_password = add_staff(ctx, "staff")
        department_account, department_password = add_department(ctx, DEPARTMENT)
        staff_login, department_login = staff_account.login, department_account.login
        department_id = department_account.id
    with db.read() as session:
        account = session.get(Account, department_id)
        department = actor_for_session(session, SignInSession(role="department", account_id=account.id))
        staff_row = session.scalar(sa.select(Account).where(Account.login == staff_login))
        staff = actor_for_session(session, SignInSession(role="staff", account_id=staff_row.id))
    assert department is not None and staff is not None
    one = build_world(db, "一会：第十届职代会第三次会议", "A", "B", codes=codes, full=full)
    two = build_world(db, "二会：第十一届职代会第一次会议", "C", "D", codes=codes, full=full)
    for world in (one, two):
        if full:
            reply_as_department(db, department, world)
    return Congresses(one, two, staff, department, (staff_login, staff_password),
                      (department_login, department_password))
