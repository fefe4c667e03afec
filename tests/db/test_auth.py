"""Signing in, sessions and the secrets behind them, through a real server on both databases:
staff passwords and delegates' access codes, one refusal for every bad credential, throttling,
sign-out and expiry (with an injected clock), CSRF, argon2 upgrades, nothing stored in clear."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, extract_parameters
from websockets.sync.client import connect

from congress.actions.accounts import add_staff, issue_codes
from congress.actions.base import Context
from congress.actions.roster import import_roster
from congress.actions.setup import create_congress
from congress.cli import main
from congress.db.base import Base
from congress.db.engine import Database
from congress.db.models import Account, AgendaItem, Congress, Delegate, SignInSession
from congress.settings import Settings
from tests.story import SETUP, LiveServer

COOKIE = "congress_session"
ROSTER = """employee_id,name,gender,group,unit,role,is_group_leader,delegate_type
A001,甲组长,男,甲组,一车间,一线职工,1,正式代表
A002,甲代表,女,甲组,一车间,一线职工,0,正式代表
A003,甲列席,男,甲组,综合部,管理人员,0,列席代表
B001,乙组长,女,乙组,二车间,一线职工,1,正式代表
B002,乙代表,男,乙组,二车间,一线职工,0,正式代表
"""


class Clock:
    """The server's clock, moved by the test (passed to create_app; nothing is patched)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class World:
    congress_id: int
    staff_password: str
    codes: dict[str, str]
    clock: Clock


@pytest.fixture
def world(db: Database) -> World:
    clock = Clock()
    with db.write() as session:
        ctx = Context(session, SETUP, clock())
        congress_id = create_congress(ctx, "第十届职代会第三次会议", ["甲组", "乙组"]).id
        import_roster(ctx, congress_id, ROSTER.encode(), "roster.csv")
        _account, password = add_staff(ctx, "staff")
        codes = {c["employee_id"]: c["code"] for c in issue_codes(ctx, congress_id)}
    return World(congress_id, password, codes, clock)


@pytest.fixture
def start_server(database_url: str, world: World) -> Iterator[Callable[..., Site]]:
    servers: list[LiveServer] = []

    def start(**settings: Any) -> Site:
        server = LiveServer(Settings(database_url=database_url, port=0, **settings), world.clock).start()
        servers.append(server)
        return Site(server.url, world.congress_id)

    yield start
    for server in servers:
        server.stop()


@dataclass
class Site:
    """What a browser does against the server: sign in, read /api/me, post with or without CSRF."""

    url: str
    congress_id: int

    def sign_in(self, **body: Any) -> httpx.Response:
        return httpx.post(f"{self.url}/api/sign-in", json=body, timeout=30)

    def staff(self, password: str) -> tuple[str, str]:
        response = self.sign_in(login="staff", password=password)
        assert response.status_code == 200, response.text
        return response.cookies[COOKIE], response.json()["csrf_token"]

    def delegate(self, employee_id: str, code: str) -> httpx.Response:
        return self.sign_in(employee_id=employee_id, code=code, congress_id=self.congress_id)

    def me(self, cookie: str) -> dict[str, Any]:
        return httpx.get(f"{self.url}/api/me", headers={"cookie": f"{COOKIE}={cookie}"}, timeout=30).json()

    def post(self, path: str, body: Any, cookie: str, csrf: str | None) -> httpx.Response:
        headers = {"cookie": f"{COOKIE}={cookie}"}
        if csrf is not None:
            headers["x-csrf-token"] = csrf
        return httpx.post(f"{self.url}{path}", json=body, headers=headers, timeout=30)

    def command(self, op: str, body: dict[str, Any], cookie: str, csrf: str | None) -> httpx.Response:
        return self.post(f"/api/congresses/{self.congress_id}/commands/{op}", body, cookie, csrf)

    def websocket_role(self, cookie: str | None) -> str:
        headers = {"cookie": f"{COOKIE}={cookie}"} if cookie else None
        ws_url = self.url.replace("http://", "ws://") + f"/ws?congress={self.congress_id}"
        with connect(ws_url, additional_headers=headers, open_timeout=30) as ws:
            hello = json.loads(ws.recv(timeout=30))
        assert hello["msg"] == "hello", hello
        return hello["role"]


def error_of(response: httpx.Response) -> dict[str, Any]:
    return response.json()["error"]


def every_stored_value(db: Database) -> str:
    """Every row of every table, as text: what someone holding a copy of the database could read."""
    with db.read() as session:
        return "\n".join(repr(tuple(row)) for table in Base.metadata.sorted_tables
                         for row in session.execute(sa.select(table)))


# -- signing in ---------------------------------------------------------------------------------
def test_staff_sign_in_sets_an_http_only_same_site_lax_session_cookie(world, start_server):
    site = start_server()

    response = site.sign_in(login="staff", password=world.staff_password)

    assert response.status_code == 200
    set_cookie = response.headers["set-cookie"].lower()
    assert set_cookie.startswith(f"{COOKIE}=")
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie and "path=/" in set_cookie
    token = response.cookies[COOKIE]
    assert token not in response.text  # the session token travels only in the HttpOnly cookie
    assert response.json()["role"] == "staff" and response.json()["csrf_token"]
    assert site.me(token)["role"] == "staff"
    assert site.websocket_role(token) == "staff"


def test_unknown_user_and_wrong_password_get_the_same_refusal(world, start_server):
    site = start_server()

    unknown = site.sign_in(login="nobody", password="whatever-it-is")
    wrong = site.sign_in(login="staff", password=world.staff_password + "x")
    unknown_delegate = site.delegate("Z999", world.codes["A001"])
    wrong_code = site.delegate("A001", world.codes["A002"])

    assert unknown.status_code == wrong.status_code == 401
    assert error_of(unknown) == error_of(wrong)
    assert error_of(unknown)["code"] == "bad_credentials"
    assert unknown_delegate.status_code == wrong_code.status_code == 401
    assert error_of(unknown_delegate) == error_of(wrong_code) == error_of(wrong)
    assert COOKIE not in unknown.cookies and COOKIE not in wrong_code.cookies


def test_delegate_signs_in_with_employee_id_and_access_code(world, start_server):
    site = start_server()

    response = site.delegate("A001", world.codes["A001"])

    assert response.status_code == 200
    me = site.me(response.cookies[COOKIE])
    assert (me["role"], me["name"], me["is_group_leader"], me["is_voting"]) == ("delegate", "甲组长", True, True)
    assert me["congress_id"] == world.congress_id
    # Typed from the printed sheet in lower case with a dash, the code still works
    code = world.codes["A003"].lower()
    typed = site.delegate("A003", f"{code[:4]}-{code[4:]}")
    assert typed.status_code == 200
    assert site.me(typed.cookies[COOKIE])["is_voting"] is False


def test_reissued_access_code_replaces_the_old_one(db, world, start_server):
    site = start_server()
    old = world.codes["A002"]
    with db.write() as session:
        (issued,) = issue_codes(Context(session, SETUP, world.clock()), world.congress_id, ["A002"])
    new = issued["code"]
    assert new != old

    refused = site.delegate("A002", old)
    accepted = site.delegate("A002", new)

    assert refused.status_code == 401 and error_of(refused)["code"] == "bad_credentials"
    assert accepted.status_code == 200
    assert site.delegate("A001", world.codes["A001"]).status_code == 200  # others keep theirs


def test_repeated_failures_make_that_account_wait_even_with_the_right_secret(world, start_server):
    site = start_server()

    for _ in range(4):  # three are free; the fourth starts a wait of one second
        staff = site.sign_in(login="staff", password="wrong-password")
        delegate = site.delegate("A002", "WRONGCODE")
        assert error_of(staff)["code"] == error_of(delegate)["code"] == "bad_credentials"
    assert error_of(staff)["retry_after"] == error_of(delegate)["retry_after"] == 1
    waiting = site.sign_in(login="staff", password=world.staff_password)
    waiting_delegate = site.delegate("A002", world.codes["A002"])

    assert waiting.status_code == 429 and error_of(waiting)["code"] == "too_many_attempts"
    assert waiting_delegate.status_code == 429 and error_of(waiting_delegate)["code"] == "too_many_attempts"
    assert error_of(waiting_delegate)["retry_after"] == 1 and waiting_delegate.headers["retry-after"] == "1"
    assert COOKIE not in waiting.cookies
    # Per account: another delegate does not wait for someone guessing at A002
    assert site.delegate("A001", world.codes["A001"]).status_code == 200

    world.clock.advance(timedelta(seconds=1))  # the wait is over

    assert site.sign_in(login="staff", password=world.staff_password).status_code == 200
    assert site.delegate("A002", world.codes["A002"]).status_code == 200


# -- which congress: the plain /sign-in sends no congress_id ------------------------------------
def rehearsal_beside(db: Database, world: World) -> tuple[int, dict[str, str]]:
    """A rehearsal congress created after the real one, with the same people and codes of its own."""
    with db.write() as session:
        ctx = Context(session, SETUP, world.clock())
        congress_id = create_congress(ctx, "职代会演练", ["甲组", "乙组"], is_rehearsal=True).id
        import_roster(ctx, congress_id, ROSTER.encode(), "roster.csv")
        codes = {c["employee_id"]: c["code"] for c in issue_codes(ctx, congress_id)}
    return congress_id, codes


def test_sign_in_without_a_congress_finds_the_one_whose_roster_and_code_match(db, world, start_server):
    rehearsal_id, rehearsal_codes = rehearsal_beside(db, world)
    site = start_server()

    real = site.sign_in(employee_id="A002", code=world.codes["A002"])
    rehearsal = site.sign_in(employee_id="A002", code=rehearsal_codes["A002"])

    assert real.status_code == 200, real.text
    assert real.json()["congress_id"] == world.congress_id
    assert site.me(real.cookies[COOKIE])["congress_id"] == world.congress_id
    assert rehearsal.status_code == 200 and rehearsal.json()["congress_id"] == rehearsal_id
    wrong = site.sign_in(employee_id="A002", code="WRONGCODE")
    assert wrong.status_code == 401 and error_of(wrong)["code"] == "bad_credentials"


def test_a_code_that_opens_the_other_congress_never_counts_towards_this_ones_lock_out(db, world, start_server):
    rehearsal_id, rehearsal_codes = rehearsal_beside(db, world)
    site = start_server()

    # Signing in to the real congress again and again, without naming it: no failure anywhere.
    for _ in range(3):
        assert site.sign_in(employee_id="A002", code=world.codes["A002"]).status_code == 200
    named = site.sign_in(employee_id="A002", code=rehearsal_codes["A002"], congress_id=rehearsal_id)
    assert named.status_code == 200, named.text
    # Someone guessing at the rehearsal's A002 makes that one wait; the real congress still opens.
    for _ in range(4):
        site.sign_in(employee_id="A002", code="WRONGCODE", congress_id=rehearsal_id)
    assert site.sign_in(employee_id="A002", code=rehearsal_codes["A002"],
                        congress_id=rehearsal_id).status_code == 429
    plain = site.sign_in(employee_id="A002", code=world.codes["A002"])
    assert plain.status_code == 200 and plain.json()["congress_id"] == world.congress_id


def test_a_code_that_opens_two_congresses_asks_which_one(db, world, start_server):
    rehearsal_id, _codes = rehearsal_beside(db, world)
    with db.write() as session:  # the same code in both (as a copy of last year's sheet would give)
        real, copy = (session.scalar(sa.select(Delegate).where(Delegate.congress_id == c, Delegate.employee_id == "A002"))
                      for c in (world.congress_id, rehearsal_id))
        copy.access_code_hash = real.access_code_hash
    site = start_server()

    asked = site.sign_in(employee_id="A002", code=world.codes["A002"])

    assert asked.status_code == 409 and COOKIE not in asked.cookies
    assert error_of(asked)["code"] == "choose_congress"
    assert error_of(asked)["congresses"] == [
        {"id": rehearsal_id, "name": "职代会演练", "is_rehearsal": True},
        {"id": world.congress_id, "name": "第十届职代会第三次会议", "is_rehearsal": False}]
    chosen = site.sign_in(employee_id="A002", code=world.codes["A002"], congress_id=world.congress_id)
    assert chosen.status_code == 200 and chosen.json()["congress_id"] == world.congress_id


# -- sessions -----------------------------------------------------------------------------------
def test_sign_out_revokes_the_session_for_http_and_websocket(db, world, start_server):
    site = start_server()
    cookie, csrf = site.staff(world.staff_password)
    assert site.websocket_role(cookie) == "staff"

    signed_out = site.post("/api/sign-out", {}, cookie, csrf)

    assert signed_out.status_code == 200
    assert site.me(cookie) == {"role": "observer"}  # the old cookie no longer signs anyone in
    assert site.websocket_role(cookie) == "observer"
    refused = site.command("add_agenda_item", {"kind": "审议", "title": "审议工作报告"}, cookie, csrf)
    assert refused.status_code == 401 and error_of(refused)["code"] == "not_signed_in"
    with db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AgendaItem)) == 0
        assert all(row.revoked_at is not None for row in session.scalars(sa.select(SignInSession)))


def test_expired_session_is_refused_everywhere(db, world, start_server):
    site = start_server(session_hours=1)
    cookie, csrf = site.staff(world.staff_password)
    delegate = site.delegate("A001", world.codes["A001"]).cookies[COOKIE]
    world.clock.advance(timedelta(minutes=59))
    assert site.me(cookie)["role"] == "staff"
    assert site.websocket_role(delegate) == "delegate"

    world.clock.advance(timedelta(minutes=2))

    assert site.me(cookie) == {"role": "observer"}
    assert site.websocket_role(cookie) == "observer"
    assert site.websocket_role(delegate) == "observer"
    refused = site.command("add_agenda_item", {"kind": "审议", "title": "审议工作报告"}, cookie, csrf)
    assert refused.status_code == 401 and error_of(refused)["code"] == "not_signed_in"
    with db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AgendaItem)) == 0


def test_post_without_the_csrf_header_is_refused_and_changes_nothing(db, world, start_server):
    site = start_server()
    cookie, csrf = site.staff(world.staff_password)

    def state() -> tuple[int, int, int]:
        with db.read() as session:
            return (session.scalar(sa.select(Congress.last_seq).where(Congress.id == world.congress_id)),
                    session.scalar(sa.select(sa.func.count()).select_from(AgendaItem)),
                    session.scalar(sa.select(sa.func.count()).select_from(Delegate)))

    before = state()
    item = {"kind": "审议", "title": "审议工作报告"}
    missing = site.command("add_agenda_item", item, cookie, None)
    forged = site.command("add_agenda_item", item, cookie, "not-the-token")
    roster = httpx.post(f"{site.url}/api/congresses/{world.congress_id}/roster", content=ROSTER.encode(),
                        headers={"cookie": f"{COOKIE}={cookie}"}, timeout=30)
    sign_out = site.post("/api/sign-out", {}, cookie, None)

    for refused in (missing, forged, roster, sign_out):
        assert refused.status_code == 403 and error_of(refused)["code"] == "csrf", refused.text
    assert state() == before
    assert site.me(cookie)["role"] == "staff"  # a forged sign-out does not sign anyone out
    # With the token from sign-in the same request goes through
    assert site.command("add_agenda_item", item, cookie, csrf).status_code == 200
    assert state()[1] == before[1] + 1


# -- stored secrets -----------------------------------------------------------------------------
def test_weaker_argon2_hashes_are_upgraded_on_successful_sign_in(db, world, start_server):
    weak = PasswordHasher(time_cost=1, memory_cost=1024)
    with db.write() as session:
        account = session.scalar(sa.select(Account).where(Account.login == "staff"))
        account.password_hash = weak.hash(world.staff_password)
        stored = account.password_hash
    site = start_server()

    assert site.sign_in(login="staff", password="wrong-password").status_code == 401
    with db.read() as session:
        assert session.scalar(sa.select(Account.password_hash).where(Account.login == "staff")) == stored
    assert site.sign_in(login="staff", password=world.staff_password).status_code == 200

    with db.read() as session:
        upgraded = session.scalar(sa.select(Account.password_hash).where(Account.login == "staff"))
    current = PasswordHasher()
    assert upgraded != stored
    parameters = extract_parameters(upgraded)
    assert (parameters.time_cost, parameters.memory_cost) == (current.time_cost, current.memory_cost)
    assert site.sign_in(login="staff", password=world.staff_password).status_code == 200


def test_no_password_access_code_or_session_token_is_stored_in_clear(db, world, start_server):
    site = start_server()
    staff_cookie, _csrf = site.staff(world.staff_password)
    delegate_cookie = site.delegate("A001", world.codes["A001"]).cookies[COOKIE]

    stored = every_stored_value(db)

    for secret in [world.staff_password, staff_cookie, delegate_cookie, *world.codes.values()]:
        assert secret not in stored
    with db.read() as session:
        assert session.scalar(sa.select(Account.password_hash)).startswith("$argon2id$")
        hashes = list(session.scalars(sa.select(Delegate.access_code_hash)))
    assert len(hashes) == 5 and all(h.startswith("$argon2id$") for h in hashes)


def test_cli_staff_add_prints_the_password_once_and_it_signs_in(database_url, world, start_server, capsys):
    assert main(["--database-url", database_url, "staff", "add", "zhang", "--display-name", "张会计"]) == 0
    out = capsys.readouterr().out
    (password,) = re.findall(r"初始密码[^：]*：(\S+)", out)

    assert out.count(password) == 1
    site = start_server()
    response = site.sign_in(login="zhang", password=password)
    assert response.status_code == 200
    assert response.json()["name"] == "张会计"
    # The same login cannot be created twice
    assert main(["--database-url", database_url, "staff", "add", "zhang"]) == 1
    assert "已被使用" in capsys.readouterr().err
