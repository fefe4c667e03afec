"""A sign-in acts only while it still grants what it acts as, checked by the group-committing writer
in the command's own transaction (congress.application.service, congress.application.access), on SQLite and PostgreSQL; and
staff's account actions: reset a password, deactivate, reactivate, end an account's sign-ins."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from congress.actions.account_admin import list_accounts
from congress.actions.accounts import add_department, add_staff
from congress.actions.attendance import check_in_at_desk
from congress.actions.base import Context
from congress.actions.roster import import_roster
from congress.actions.setup import create_congress
from congress.actions.votes import create_vote, open_vote
from congress.application.auth import actor_for_session, revoke_session
from congress.application.commands import COMMANDS, load_all
from congress.application.service import Service
from congress.application.vote_timer import SYSTEM
from congress.db.engine import Database
from congress.db.models import Account, BallotCast, CommandResult, GroupCount, Message, SignInSession
from congress.db.secrets import token_digest, verify_secret
from congress.domain.errors import DomainError
from congress.domain.permissions import Actor
from tests.db.test_votes import NOW, run_with_service

load_all()
ROSTER = """employee_id,name,gender,group,unit,role,is_group_leader,delegate_type
N1,宁波组长,男,宁波,宁波分公司,一线职工,1,正式代表
N2,宁波代表,女,宁波,宁波分公司,一线职工,0,正式代表
C1,长沙组长,女,长沙,一车间,一线职工,1,正式代表
C2,长沙代表,男,长沙,一车间,一线职工,0,正式代表
C3,长沙代表二,男,长沙,一车间,一线职工,0,正式代表
"""
# Re-import: 宁波's leader demoted (N2 leads now), C2 moved to 宁波, C3 removed, C1 made 列席代表
REIMPORT = """employee_id,name,gender,group,unit,role,is_group_leader,delegate_type
N1,宁波组长,男,宁波,宁波分公司,一线职工,0,正式代表
N2,宁波代表,女,宁波,宁波分公司,一线职工,1,正式代表
C1,长沙组长,女,长沙,一车间,一线职工,0,列席代表
C2,长沙代表,男,宁波,一车间,一线职工,0,正式代表
"""
YES_NO = [{"kind": "yes_no", "text": "是否同意"}]


@dataclass
class World:
    db: Database
    congress_id: int
    groups: dict[str, int]
    online_vote: dict[str, Any]
    hand_vote: dict[str, Any]  # 宁波 counts by show of hands
    staff_login: str

    def session_for(self, *, employee_id: str | None = None, login: str | None = None,
                    expires_in: timedelta = timedelta(hours=12)) -> tuple[str, Actor]:
        """A sign-in session as the server stores one, and the actor it grants (as ws and HTTP build it)."""
        token = secrets.token_urlsafe(16)
        with self.db.write() as session:
            if employee_id is not None:
                from congress.db.models import Delegate

                delegate = session.scalar(sa.select(Delegate).where(
                    Delegate.congress_id == self.congress_id, Delegate.employee_id == employee_id))
                row = SignInSession(token_hash=token_digest(token), role="delegate", delegate_id=delegate.id,
                                    csrf_token="c", created_at=NOW, expires_at=NOW + expires_in)
            else:
                account = session.scalar(sa.select(Account).where(Account.login == login))
                row = SignInSession(token_hash=token_digest(token), role=account.kind, account_id=account.id,
                                    csrf_token="c", created_at=NOW, expires_at=NOW + expires_in)
            session.add(row)
            session.flush()
            actor = actor_for_session(session, row)
        assert actor is not None and actor.session_id is not None
        return token, actor

    def actor_now(self, token: str) -> Actor | None:
        with self.db.read() as session:
            row = session.scalar(sa.select(SignInSession).where(SignInSession.token_hash == token_digest(token)))
            return actor_for_session(session, row)

    def act(self, fn: Any, *args: Any, actor: Actor = SYSTEM, **kwargs: Any) -> Any:
        with self.db.write() as session:
            return fn(Context(session, actor, NOW), *args, **kwargs)

    def count(self, model: Any, *where: Any) -> int:
        with self.db.read() as session:
            return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


@pytest.fixture
def world(db: Database) -> World:
    with db.write() as session:
        ctx = Context(session, SYSTEM, NOW)
        congress = create_congress(ctx, "第十届职代会第三次会议", ["长沙", "宁波"])
        cid = congress.id
        import_roster(ctx, cid, ROSTER.encode(), "roster.csv")
        for employee_id in ("N1", "N2", "C1", "C2", "C3"):
            check_in_at_desk(ctx, cid, employee_id)
        groups = {g.name: g.id for g in congress.groups}
        item = COMMANDS["add_agenda_item"].action(ctx, cid, kind="审议通过", title="表决《职工薪酬福利调整方案》")
        online = create_vote(ctx, cid, item["id"], "网上表决", YES_NO)
        hand = create_vote(ctx, cid, item["id"], "宁波现场表决", YES_NO, hand_count_groups=[groups["宁波"]])
        online, hand = open_vote(ctx, cid, online["id"]), open_vote(ctx, cid, hand["id"])
        add_staff(ctx, "staff")
        add_staff(ctx, "staff2")
        add_department(ctx, "人力资源部", "hr")
    return World(db, cid, groups, online, hand, "staff")


def ballot(world: World) -> dict[str, Any]:
    return {"vote_id": world.online_vote["id"], "answers": {str(world.online_vote["questions"][0]["id"]): "yes"}}


def hand_count(world: World) -> dict[str, Any]:
    qid = str(world.hand_vote["questions"][0]["id"])
    return {"vote_id": world.hand_vote["id"], "group_id": world.groups["宁波"], "method": "show_of_hands",
            "present": 2, "questions": {qid: {"counts": {"yes": 2, "no": 0, "abstain": 0}}}, "scrutineer": "刘志强"}


async def outcome(call: Any) -> dict[str, Any] | DomainError:
    try:
        return await call
    except DomainError as error:
        return error


def run(world: World, *calls: tuple[Actor, str, dict[str, Any]]) -> list[dict[str, Any] | DomainError]:
    """The calls through the server's Service, all at once (they share group commits)."""
    async def work(service: Service) -> list[Any]:
        return list(await asyncio.gather(*(outcome(service.run(actor, op, world.congress_id, dict(args),
                                                               secrets.token_hex(8)))
                                           for actor, op, args in calls)))
    return run_with_service(world.db, work)


def code(result: Any) -> str | None:
    return result.code if isinstance(result, DomainError) else None


def test_a_revoked_or_expired_session_is_refused_for_writes_and_reads_and_nothing_is_stored(world: World) -> None:
    token, thief = world.session_for(employee_id="N2")
    _token, expired = world.session_for(employee_id="C2", expires_in=timedelta(seconds=-1))
    with world.db.write() as session:
        revoke_session(session, token, NOW)  # staff re-issued the code / the delegate signed out
    results = run(world, (thief, "cast_ballot", ballot(world)), (expired, "cast_ballot", ballot(world)),
                  (thief, "post_message", {"text": "还能说话吗"}), (thief, "proposal_board", {}))
    assert [code(r) for r in results] == ["session_ended"] * 4
    assert "重新登录" in results[0].message  # type: ignore[union-attr]
    assert world.count(BallotCast) == 0 and world.count(Message) == 0 and world.count(CommandResult) == 0


def test_only_the_ended_sign_in_of_a_burst_of_ballots_is_refused(world: World) -> None:
    voters = [world.session_for(employee_id=e) for e in ("N1", "N2", "C1", "C2")]
    with world.db.write() as session:
        revoke_session(session, voters[1][0], NOW)
    results = run(world, *[(actor, "cast_ballot", ballot(world)) for _token, actor in voters])
    assert [code(r) for r in results] == [None, "session_ended", None, None]
    assert all(r["recorded"] for r in results if isinstance(r, dict))
    assert world.count(BallotCast) == 3


def test_a_roster_change_refuses_the_actor_a_connection_was_granted(world: World) -> None:
    sessions = {e: world.session_for(employee_id=e) for e in ("N1", "C1", "C2", "C3")}
    world.act(import_roster, world.congress_id, REIMPORT.encode(), "roster.csv")
    results = run(world,
                  (sessions["N1"][1], "enter_group_count", hand_count(world)),  # demoted leader
                  (sessions["C2"][1], "post_message", {"text": "长沙的同事们好"}),  # moved to 宁波
                  (sessions["C3"][1], "post_message", {"text": "我还在吗"}),  # removed
                  (sessions["C1"][1], "cast_ballot", ballot(world)))  # now 列席代表
    assert [code(r) for r in results] == ["access_changed", "access_changed", "session_ended", "access_changed"]
    assert "名册" in results[0].message  # type: ignore[union-attr]
    assert world.count(GroupCount) == 0 and world.count(Message) == 0 and world.count(BallotCast) == 0
    # The same sign-in, connected again, is the person as the roster has them now.
    moved = world.actor_now(sessions["C2"][0])
    assert moved is not None and moved.group_id == world.groups["宁波"]
    assert world.actor_now(sessions["C3"][0]) is None
    [posted] = run(world, (moved, "post_message", {"text": "宁波的同事们好"}))
    assert not isinstance(posted, DomainError)
    with world.db.read() as session:
        assert session.scalar(sa.select(Message.group_id)) == world.groups["宁波"]


def test_actors_without_a_sign_in_still_act(world: World) -> None:
    """The system (scheduled closes), the command line and rehearsal setup act without a session."""
    [closed] = run(world, (SYSTEM, "close_vote", {"vote_id": world.online_vote["id"]}))
    assert not isinstance(closed, DomainError), closed


# -- accounts ------------------------------------------------------------------------------------
def staff_run(world: World, staff: Actor, op: str, **args: Any) -> dict[str, Any] | DomainError:
    return run(world, (staff, op, args))[0]


def test_resetting_a_password_shows_it_once_and_ends_the_accounts_sign_ins(world: World) -> None:
    _t, staff = world.session_for(login="staff")
    hr_token, hr = world.session_for(login="hr")
    reply = staff_run(world, staff, "reset_account_password", login="hr")
    assert isinstance(reply, dict) and reply["change"] == "password_reset"
    with world.db.read() as session:
        account = session.scalar(sa.select(Account).where(Account.login == "hr"))
        assert verify_secret(account.password_hash, reply["password"])
        stored = session.scalar(sa.select(CommandResult.reply))
    assert stored["password"] is None and stored["password_withheld"]  # never kept
    assert code(staff_run(world, hr, "department_cases")) == "session_ended"
    assert world.actor_now(hr_token) is not None  # the row exists; the session is revoked:
    with world.db.read() as session:
        assert session.scalar(sa.select(SignInSession.revoked_at).where(
            SignInSession.token_hash == token_digest(hr_token))) is not None


def test_deactivating_ends_the_sign_ins_and_reactivating_lets_the_account_sign_in_again(world: World) -> None:
    _t, staff = world.session_for(login="staff")
    _t2, other = world.session_for(login="staff2")
    reply = staff_run(world, staff, "deactivate_account", login="staff2")
    assert isinstance(reply, dict) and (reply["change"], reply["is_active"]) == ("deactivated", False)
    assert code(staff_run(world, other, "list_accounts")) == "session_ended"
    listed = staff_run(world, staff, "list_accounts")
    assert isinstance(listed, dict)
    by_login = {a["login"]: a for a in listed["accounts"]}
    assert (by_login["staff2"]["is_active"], by_login["staff2"]["live_sessions"]) == (False, 0)
    reply = staff_run(world, staff, "activate_account", login="staff2")
    assert isinstance(reply, dict) and reply["is_active"] is True
    _t3, back = world.session_for(login="staff2")
    assert not isinstance(staff_run(world, back, "list_accounts"), DomainError)


def test_the_last_active_staff_account_cannot_be_deactivated(world: World) -> None:
    _t, staff = world.session_for(login="staff")
    assert isinstance(staff_run(world, staff, "deactivate_account", login="staff2"), dict)
    refused = staff_run(world, staff, "deactivate_account", login="staff")
    assert code(refused) == "last_staff" and "唯一" in refused.message  # type: ignore[union-attr]
    assert world.count(Account, Account.login == "staff", Account.is_active) == 1


def test_revoking_ends_every_sign_in_of_the_account_and_only_staff_may(world: World) -> None:
    _t, staff = world.session_for(login="staff")
    hr_sessions = [world.session_for(login="hr")[1] for _ in range(2)]
    _t2, delegate = world.session_for(employee_id="N1")
    assert code(staff_run(world, delegate, "revoke_account_sessions", login="hr")) == "forbidden"
    assert code(staff_run(world, hr_sessions[0], "revoke_account_sessions", login="staff")) == "forbidden"
    reply = staff_run(world, staff, "revoke_account_sessions", login="hr")
    assert isinstance(reply, dict) and reply["sessions_ended"] == 2
    assert [code(staff_run(world, hr, "department_cases")) for hr in hr_sessions] == ["session_ended"] * 2
    assert code(staff_run(world, staff, "revoke_account_sessions", login="nobody")) == "not_found"
    with world.db.read() as session:
        listed = list_accounts(Context(session, staff, NOW), world.congress_id)
    assert {a["login"]: a["live_sessions"] for a in listed["accounts"]}["hr"] == 0
