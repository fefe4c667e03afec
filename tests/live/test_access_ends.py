"""An open websocket does not outlive its right to act (issue 18, finding 1), through a real server and
real sockets on SQLite and PostgreSQL: after a re-issued access code, a roster re-import, a sign-out,
a session's expiry, or staff ending an account's sign-ins, the socket's next command is refused and
the socket is closed with the reason (4010 session ended, 4011 access changed, docs/protocol.md) —
on another worker too."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from congress.actions.accounts import add_staff
from congress.actions.attendance import check_in_at_desk
from congress.actions.base import Context
from congress.actions.votes import create_vote, open_vote
from congress.application.service import system_clock
from congress.cli import main as cli_main
from congress.db.engine import Database
from congress.db.models import BallotCast, Delegate, GroupCount, Message, SignInSession
from congress.db.secrets import token_digest
from congress.settings import Settings
from tests.conftest import REDIS_URL, require_redis
from tests.sealing import make_trustees, seal
from tests.story import SETUP, LiveClient, LiveServer, Story, build_story, sign_in

pytestmark = pytest.mark.anyio

ROSTER = """employee_id,name,gender,group,unit,role,is_group_leader,delegate_type
C1,长沙组长,女,长沙,一车间,一线职工,1,正式代表
C2,长沙代表,男,长沙,一车间,一线职工,0,正式代表
C3,长沙代表三,男,长沙,一车间,一线职工,0,正式代表
C4,长沙代表四,女,长沙,一车间,一线职工,0,正式代表
C5,长沙代表五,女,长沙,一车间,一线职工,0,正式代表
N1,宁波组长,男,宁波,宁波分公司,一线职工,1,正式代表
N2,宁波代表,女,宁波,宁波分公司,一线职工,0,正式代表
N3,宁波代表三,男,宁波,宁波分公司,一线职工,0,正式代表
"""
# 宁波's leader demoted (N2 leads now), C2 moved from 长沙 to 宁波, C3 no longer listed
REIMPORT = """employee_id,name,gender,group,unit,role,is_group_leader,delegate_type
C1,长沙组长,女,长沙,一车间,一线职工,1,正式代表
C2,长沙代表,男,宁波,一车间,一线职工,0,正式代表
C4,长沙代表四,女,长沙,一车间,一线职工,0,正式代表
C5,长沙代表五,女,长沙,一车间,一线职工,0,正式代表
N1,宁波组长,男,宁波,宁波分公司,一线职工,0,正式代表
N2,宁波代表,女,宁波,宁波分公司,一线职工,1,正式代表
N3,宁波代表三,男,宁波,宁波分公司,一线职工,0,正式代表
"""
YES_NO = [{"kind": "yes_no", "text": "是否同意"}]
CLOSE_WAIT = 10.0  # seconds a socket has to close after its access ended (the notice is immediate)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Hall:
    story: Story
    server: LiveServer
    db: Database
    staff2_password: str

    @property
    def cid(self) -> int:
        return self.story.congress_id

    def sign_in(self, employee_id: str, code: str | None = None) -> tuple[str, str]:
        return sign_in(self.server.url, {"employee_id": employee_id, "code": code or self.story.codes[employee_id],
                                         "congress_id": self.cid})

    def staff(self, login: str = "staff") -> tuple[str, str]:
        password = self.story.staff_password if login == "staff" else self.staff2_password
        return sign_in(self.server.url, {"login": login, "password": password})

    def department(self) -> tuple[str, str]:
        login, password = self.story.department
        return sign_in(self.server.url, {"login": login, "password": password})

    def http(self, session: tuple[str, str], server: LiveServer | None = None) -> httpx.Client:
        return httpx.Client(base_url=(server or self.server).url, cookies={"congress_session": session[0]},
                            headers={"X-CSRF-Token": session[1]}, timeout=30)

    async def client(self, session: tuple[str, str] | None, server: LiveServer | None = None) -> LiveClient:
        client = LiveClient((server or self.server).ws_url, self.cid, session[0] if session else None)
        hello = await client.connect()
        assert hello["msg"] == "hello", hello
        return client

    def delegate(self, employee_id: str) -> Delegate:
        with self.db.read() as session:
            found = session.scalar(sa.select(Delegate).where(Delegate.congress_id == self.cid,
                                                             Delegate.employee_id == employee_id))
            assert found is not None
            session.expunge(found)
            return found

    def count(self, model: Any, *where: Any) -> int:
        with self.db.read() as session:
            return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0

    def reimport(self, staff: tuple[str, str]) -> None:
        with self.http(staff) as http:
            response = http.post(f"/api/congresses/{self.cid}/roster?filename=roster.csv", content=REIMPORT.encode())
        assert response.status_code == 200, response.text
        assert response.json()["result"]["removed"] == 1


def build_hall(db: Database, settings: Settings) -> tuple[Hall, LiveServer]:
    story = build_story(db, roster=ROSTER.encode(), groups=["长沙", "宁波"])
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        for employee_id in ("C1", "C2", "C3", "C4", "C5", "N1", "N2", "N3"):
            check_in_at_desk(ctx, story.congress_id, employee_id)
        _account, staff2_password = add_staff(ctx, "staff2")
    server = LiveServer(settings).start()
    return Hall(story, server, db, staff2_password), server


@pytest.fixture
def hall(db: Database, database_url: str) -> Iterator[Hall]:
    hall, server = build_hall(db, Settings(database_url=database_url, port=0))
    try:
        yield hall
    finally:
        server.stop()


async def attempt(client: LiveClient, op: str, **args: Any) -> dict[str, Any] | None:
    """Send a command on a socket whose access may have ended: its reply, or None if the socket
    closed before one came (or was closed already)."""
    client._counter += 1
    command_id = f"a{client._counter}-{time.monotonic_ns()}"
    try:
        assert client.ws is not None
        await client.ws.send(json.dumps({"op": op, "id": command_id, **args}))
    except Exception:
        return None
    await client.wait_for(lambda: command_id in client.replies or client.closed is not None, CLOSE_WAIT)
    return client.replies.get(command_id)


async def closed_with(client: LiveClient, timeout: float = CLOSE_WAIT) -> tuple[int | None, str | None]:
    await client.wait_for(lambda: client.closed is not None, timeout)
    assert client.closed is not None
    return client.closed


def not_acked(reply: dict[str, Any] | None, code: str) -> None:
    """The command was not applied: refused with `code`, or the socket was closed before it ran."""
    assert reply is None or (reply.get("msg"), reply.get("code")) == ("error", code), f"applied: {reply}"


def told(client: LiveClient, code: str) -> bool:
    """The server said why before closing: an `error` without id naming the code."""
    return any(m.get("msg") == "error" and m.get("code") == code for m in client.ephemeral) or any(
        r.get("code") == code for r in client.replies.values())


def open_secret_vote(hall: Hall) -> dict[str, Any]:
    trustees = [hall.delegate(e) for e in ("C1", "C4", "C5")]
    make_trustees(hall.db, hall.cid, trustees)
    with hall.db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        vote = create_vote(ctx, hall.cid, hall.story.agenda[2]["id"], "补选（无记名）", YES_NO, is_secret=True)
        return open_vote(ctx, hall.cid, vote["id"])


def open_hand_count(hall: Hall) -> dict[str, Any]:
    with hall.db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        group_id = hall.delegate("N1").group_id
        vote = create_vote(ctx, hall.cid, hall.story.agenda[1]["id"], "宁波现场表决", YES_NO, hand_count_groups=[group_id])
        return open_vote(ctx, hall.cid, vote["id"])


# -- a) a re-issued access code ---------------------------------------------------------------
async def test_a_thief_socket_cannot_cast_the_secret_ballot_after_the_code_is_reissued(hall: Hall) -> None:
    vote = open_secret_vote(hall)
    qid = str(vote["questions"][0]["id"])
    victim = hall.delegate("N3")
    thief = await hall.client(hall.sign_in("N3"))  # signed in with the stolen code
    staff = hall.staff()
    with hall.http(staff) as http:  # the delegate reports the loss; staff re-issue the code
        response = http.post(f"/api/congresses/{hall.cid}/codes", json={"employee_ids": ["N3"]})
    assert response.status_code == 200, response.text
    reply = await attempt(thief, "cast_ballot", vote_id=vote["id"], sealed=seal(vote, {qid: "yes"}))
    not_acked(reply, "session_ended")
    assert await closed_with(thief) == (4010, "session_ended")
    assert told(thief, "session_ended")
    assert hall.count(BallotCast, BallotCast.delegate_id == victim.id) == 0
    # The delegate with the new code votes as before.
    new_code = response.json()["result"]["codes"][0]["code"]
    owner = await hall.client(hall.sign_in("N3", new_code))
    cast = await owner.command("cast_ballot", vote_id=vote["id"], sealed=seal(vote, {qid: "no"}))
    assert cast["msg"] == "ack" and cast["result"]["receipt"], cast
    await owner.close()


# -- b) c) d) a roster re-import ------------------------------------------------------------------
async def test_a_demoted_leaders_open_socket_cannot_enter_the_groups_hand_count(hall: Hall) -> None:
    vote = open_hand_count(hall)
    qid = str(vote["questions"][0]["id"])
    ningbo = hall.delegate("N1").group_id
    session = hall.sign_in("N1")
    leader = await hall.client(session)
    assert leader.hello["identity"]["is_group_leader"] is True
    hall.reimport(hall.staff())
    reply = await attempt(leader, "enter_group_count", vote_id=vote["id"], group_id=ningbo, method="show_of_hands",
                          present=3, questions={qid: {"counts": {"yes": 3, "no": 0, "abstain": 0}}},
                          scrutineer="刘志强")
    not_acked(reply, "access_changed")
    assert await closed_with(leader) == (4011, "access_changed")
    assert hall.count(GroupCount) == 0
    # Reconnecting with the same sign-in: the roster's current data, no longer the leader
    again = await hall.client(session)
    assert again.hello["identity"]["is_group_leader"] is False
    refused = await again.command("enter_group_count", vote_id=vote["id"], group_id=ningbo, method="show_of_hands",
                                  present=3, questions={qid: {"counts": {"yes": 3, "no": 0, "abstain": 0}}},
                                  scrutineer="刘志强")
    assert refused["code"] == "not_group_leader"
    await again.close()


async def test_a_delegate_removed_from_the_roster_can_no_longer_post(hall: Hall) -> None:
    removed = await hall.client(hall.sign_in("C3"))
    posted = await removed.command("post_message", text="会前发言")
    assert posted["msg"] == "ack"
    hall.reimport(hall.staff())
    reply = await attempt(removed, "post_message", text="我还在群里吗")
    not_acked(reply, "session_ended")
    assert await closed_with(removed) == (4010, "session_ended")
    assert hall.count(Message) == 1


async def test_a_delegate_moved_to_another_group_posts_only_in_the_new_groups_room(hall: Hall) -> None:
    changsha, ningbo = hall.delegate("C1").group_id, hall.delegate("N1").group_id
    session = hall.sign_in("C2")
    moved = await hall.client(session)
    changsha_member = await hall.client(hall.sign_in("C4"))
    hall.reimport(hall.staff())
    reply = await attempt(moved, "post_message", text="长沙的同事们，我还在这里")
    not_acked(reply, "access_changed")
    assert await closed_with(moved) == (4011, "access_changed")
    assert hall.count(Message, Message.group_id == changsha) == 0
    again = await hall.client(session)
    assert again.hello["identity"]["group_id"] == ningbo
    posted = await again.command("post_message", text="宁波的同事们好")
    assert posted["msg"] == "ack"
    assert hall.count(Message, Message.group_id == ningbo) == 1
    await asyncio.sleep(0.5)
    assert not [e for e in changsha_member.events if e["type"] == "room.message_posted"]
    await again.close()
    await changsha_member.close()


# -- e) sign-out and expiry -----------------------------------------------------------------------
async def test_signing_out_closes_the_open_socket_and_it_can_no_longer_act(hall: Hall) -> None:
    session = hall.sign_in("N2")
    socket = await hall.client(session)
    with hall.http(session) as http:
        assert http.post("/api/sign-out", json={}).status_code == 200
    reply = await attempt(socket, "post_message", text="退出以后")
    not_acked(reply, "session_ended")
    assert await closed_with(socket) == (4010, "session_ended")
    assert hall.count(Message) == 0


async def test_an_expired_session_closes_its_socket_by_itself(hall: Hall) -> None:
    session = hall.sign_in("N2")
    socket = await hall.client(session)
    with hall.db.write() as db_session:  # the session's last two seconds (as if signed in 12 hours ago)
        db_session.execute(sa.update(SignInSession).where(SignInSession.token_hash == token_digest(session[0]))
                           .values(expires_at=system_clock() + timedelta(seconds=2)))
    posted = await socket.command("post_message", text="还来得及")
    assert posted["msg"] == "ack"
    # The periodic check (every 5 s) finds the new expiry, then closes the socket at it.
    assert await closed_with(socket, timeout=15) == (4010, "session_ended")
    assert hall.count(Message) == 1


# -- accounts -------------------------------------------------------------------------------------
async def test_deactivating_a_staff_account_closes_its_open_socket(hall: Hall) -> None:
    admin = await hall.client(hall.staff())
    other = await hall.client(hall.staff("staff2"))
    done = await admin.command("deactivate_account", login="staff2")
    assert done["msg"] == "ack" and done["result"]["change"] == "deactivated", done
    assert await closed_with(other) == (4010, "session_ended")
    assert told(other, "session_ended")
    with pytest.raises(httpx.HTTPStatusError):
        hall.staff("staff2")  # cannot sign in again
    last = await admin.command("deactivate_account", login="staff")
    assert last["code"] == "last_staff"
    await admin.close()


async def test_ending_an_accounts_sign_ins_from_the_command_line_closes_its_open_socket(
        hall: Hall, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    department = await hall.client(hall.department())
    login = hall.story.department[0]
    assert await asyncio.to_thread(cli_main, ["--database-url", database_url, "account", "revoke", login]) == 0
    assert "结束" in capsys.readouterr().out
    # Nobody told the server: its periodic check finds the ended sign-in within seconds.
    assert await closed_with(department, timeout=15) == (4010, "session_ended")


# -- several workers --------------------------------------------------------------------------
async def test_a_socket_on_another_worker_is_closed_at_once(db: Database, database_url: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers with Redis: the code is re-issued on one, the thief's socket is on the other; with the
    periodic check switched off in effect, only the workers' notice can close it within the wait."""
    require_redis()
    if importlib.util.find_spec("congress.application.connection_access") is not None:  # (the module is new with this check)
        monkeypatch.setattr("congress.application.connection_access.SWEEP_SECONDS", 600.0)
    hall, first = build_hall(db, Settings(database_url=database_url, port=0, redis_url=REDIS_URL))
    second = LiveServer(Settings(database_url=database_url, port=0, redis_url=REDIS_URL)).start()
    try:
        thief = await hall.client(hall.sign_in("N3"), server=second)
        with hall.http(hall.staff()) as http:
            response = http.post(f"/api/congresses/{hall.cid}/codes", json={"employee_ids": ["N3"]})
        assert response.status_code == 200, response.text
        assert await closed_with(thief, timeout=5) == (4010, "session_ended")
        leader = await hall.client(hall.sign_in("N1"), server=second)
        hall.reimport(hall.staff())  # on the first worker
        assert await closed_with(leader, timeout=5) == (4011, "access_changed")
    finally:
        second.stop()
        first.stop()
