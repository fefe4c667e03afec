"""What held up when every role was probed (issue 18's "Held up" list), kept so by tests that try
to break it through a real server, over HTTP and the websocket alike, on SQLite and PostgreSQL:

- every op of the command table refused by role over both interfaces, nothing changed;
- a cross-site websocket carrying a session cookie refused;
- every state-changing HTTP endpoint refused without its CSRF token;
- attachments not readable by walking ids;
- results hidden from delegates and observers until staff publish them;
- 2,000 sockets from one address all admitted (a venue or a company NAT).

The action-level matrix is tests/db/test_permissions.py; this one is about the interfaces.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from congress.actions.attendance import check_in_at_desk
from congress.actions.base import Context
from congress.actions.setup import set_rules
from congress.application.commands import COMMANDS, load_all
from congress.application.service import system_clock
from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.db.models import Congress, Delegate
from congress.settings import Settings
from tests.conftest import create_pg_database, drop_pg_database
from tests.db.test_permissions import STAFF_ONLY, AskedActor, nonsense_args
from tests.story import SETUP, LiveClient, LiveServer, Story, build_story, sign_in

pytestmark = pytest.mark.anyio
load_all()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # sniffed as PNG by its signature
PACE = 0.06  # seconds between probes: within one person's command budget, so refusals are about the role


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Venue:
    url: str
    db: Database
    story: Story
    server: LiveServer
    staff: tuple[str, str]  # cookie, csrf
    leader: Delegate

    def head(self) -> int:
        with self.db.read() as session:
            return session.scalar(sa.select(Congress.last_seq).where(Congress.id == self.story.congress_id)) or 0

    def cookie_of(self, delegate: Delegate) -> tuple[str, str]:
        return sign_in(self.server.url, {"employee_id": delegate.employee_id,
                                         "code": self.story.codes[delegate.employee_id],
                                         "congress_id": self.story.congress_id})

    def http(self, cookie: tuple[str, str] | None = None, *, csrf: bool = True) -> httpx.Client:
        client = httpx.Client(base_url=self.server.url, timeout=30)
        if cookie is not None:
            client.cookies.set("congress_session", cookie[0])
            if csrf:
                client.headers["x-csrf-token"] = cookie[1]
        return client


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def venue(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venue]:
    url = (f"sqlite:///{tmp_path_factory.mktemp('held') / 'congress.db'}" if request.param == "sqlite"
           else create_pg_database())
    db = Database(url)
    server: LiveServer | None = None
    try:
        upgrade(url)
        story = build_story(db)
        with db.write() as session:
            ctx = Context(session, SETUP, system_clock())
            set_rules(ctx, story.congress_id, {"quorum": "1/10"})
            for d in story.voting():
                if d.id % 5 == 0 or d.is_group_leader:
                    check_in_at_desk(ctx, story.congress_id, d.employee_id)
        server = LiveServer(Settings(database_url=url, port=0)).start()
        staff = sign_in(server.url, {"login": "staff", "password": story.staff_password})
        leader = next(d for d in story.voting() if d.is_group_leader)
        yield Venue(url, db, story, server, staff, leader)
    finally:
        if server is not None:
            server.stop()
        db.dispose()
        if request.param == "postgresql":
            drop_pg_database(url)


class _Undo(Exception):
    pass


def staff_only_ops(venue: Venue) -> list[str]:
    """The ops whose first permission check asks for a staff-only permission (asked of a group
    leader, in a transaction that is rolled back)."""
    found = []
    for op, command in sorted(COMMANDS.items()):
        leader = AskedActor(**{f: getattr(_actor_of(venue.leader), f) for f in _actor_fields()})
        try:
            with venue.db.write() as session:
                try:
                    command.action(Context(session, leader, system_clock()), venue.story.congress_id,
                                   **nonsense_args(command))
                except Exception:
                    pass
                raise _Undo
        except _Undo:
            pass
        if leader.asked and leader.asked[0] in STAFF_ONLY:
            found.append(op)
    return found


def _actor_fields() -> list[str]:
    from congress.domain.permissions import Actor
    return list(Actor.__dataclass_fields__)


def _actor_of(delegate: Delegate) -> Any:
    from congress.application.auth import delegate_actor
    return delegate_actor(delegate)


def _error_code(response: httpx.Response) -> str | None:
    try:
        return response.json().get("error", {}).get("code")
    except ValueError:
        return None


# -- every op by role, over both interfaces --------------------------------------------------------
async def test_a_group_leader_is_refused_every_staff_only_op_over_http_and_the_websocket(venue: Venue) -> None:
    ops = staff_only_ops(venue)
    assert {"open_vote", "close_vote", "publish_vote", "check_in_at_desk", "set_rules", "set_watch"} <= set(ops)
    cookie = venue.cookie_of(venue.leader)
    before = venue.head()

    wrong_http = {}
    with venue.http(cookie) as http:
        for op in ops:
            response = http.post(f"/api/congresses/{venue.story.congress_id}/commands/{op}",
                                 json=nonsense_args(COMMANDS[op]))
            if (response.status_code, _error_code(response)) != (403, "forbidden"):
                wrong_http[op] = (response.status_code, response.text[:200])
            await asyncio.sleep(PACE)

    client = LiveClient(venue.server.ws_url, venue.story.congress_id, cookie[0])
    await client.connect()
    wrong_ws = {}
    try:
        for op in ops:
            reply = await client.command(op, **nonsense_args(COMMANDS[op]))
            if (reply["msg"], reply.get("code")) != ("error", "forbidden"):
                wrong_ws[op] = reply
            await asyncio.sleep(PACE)
    finally:
        await client.close()

    assert wrong_http == {}
    assert wrong_ws == {}
    assert venue.head() == before, "a refused op published nothing"


async def test_an_observer_is_refused_every_write_op_over_http_and_the_websocket(venue: Venue) -> None:
    writes = sorted(op for op, c in COMMANDS.items() if c.writes)
    before = venue.head()

    wrong_http = {}
    with venue.http() as http:  # no session at all: an observer
        for op in writes:
            response = http.post(f"/api/congresses/{venue.story.congress_id}/commands/{op}",
                                 json=nonsense_args(COMMANDS[op]))
            if (response.status_code, _error_code(response)) != (403, "read_only"):
                wrong_http[op] = (response.status_code, response.text[:200])
            await asyncio.sleep(PACE)

    observer = LiveClient(venue.server.ws_url, venue.story.congress_id)
    hello = await observer.connect()
    assert hello["role"] == "observer"
    wrong_ws = {}
    try:
        for op in writes:
            reply = await observer.command(op, **nonsense_args(COMMANDS[op]))
            if (reply["msg"], reply.get("code")) != ("error", "read_only"):
                wrong_ws[op] = reply
            await asyncio.sleep(PACE)
    finally:
        await observer.close()

    assert wrong_http == {}
    assert wrong_ws == {}
    assert venue.head() == before


# -- cross-site websocket and CSRF -----------------------------------------------------------------
async def test_a_cross_site_websocket_carrying_a_session_cookie_is_refused(venue: Venue) -> None:
    cookie = venue.cookie_of(venue.leader)
    url = f"{venue.server.ws_url}?congress={venue.story.congress_id}"
    headers = {"Cookie": f"congress_session={cookie[0]}"}

    refused_hello, code = None, None
    try:
        async with connect(url, additional_headers=headers, origin="http://evil.example") as ws:
            refused_hello = json.loads(await ws.recv())
            try:
                await asyncio.wait_for(ws.recv(), 10)
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
    except InvalidStatus:
        code = "refused at the handshake"
    assert code is not None, "the cross-site socket was kept open"
    assert refused_hello is None or refused_hello.get("msg") != "hello", refused_hello

    # The same socket from the site's own page is let in, as that delegate
    async with connect(url, additional_headers=headers, origin=venue.server.url) as ws:
        hello = json.loads(await ws.recv())
    assert (hello["msg"], hello["role"], hello["identity"]["delegate_id"]) == ("hello", "delegate", venue.leader.id)


def _state_changing_routes(venue: Venue) -> list[tuple[str, str]]:
    app = venue.server.server.config.app
    found = []
    for route in app.routes:
        methods = (getattr(route, "methods", None) or set()) - {"GET", "HEAD"}
        for method in sorted(methods):
            found.append((method, route.path))
    return found


async def test_every_state_changing_http_endpoint_refuses_a_request_without_its_csrf_token(venue: Venue) -> None:
    routes = _state_changing_routes(venue)
    assert ("POST", "/api/congresses/{congress_id:int}/commands/{op:str}") in routes
    assert len(routes) >= 8
    before = venue.head()
    wrong = {}
    with venue.http(venue.staff, csrf=False) as http:
        for method, path in routes:
            if path == "/api/sign-in":
                continue  # no session to ride on: a sign-in makes a new one
            concrete = re.sub(r"\{congress_id:int\}", str(venue.story.congress_id), path)
            concrete = re.sub(r"\{op:str\}", "open_vote", concrete)
            concrete = re.sub(r"\{[a-z_]+:int\}", "1", concrete)
            response = http.request(method, concrete, json={"vote_id": 1}, files=None)
            if (response.status_code, _error_code(response)) != (403, "csrf"):
                wrong[f"{method} {path}"] = (response.status_code, response.text[:200])
            await asyncio.sleep(PACE)
    assert wrong == {}
    assert venue.head() == before
    with venue.http(venue.staff) as http:  # the session is still good: it was only the token missing
        assert http.get("/api/me").json()["role"] == "staff"


# -- attachments by id iteration -------------------------------------------------------------------
async def test_a_drafts_attachment_cannot_be_read_by_walking_ids(venue: Venue) -> None:
    congress_id = venue.story.congress_id
    author, other = [d for d in venue.story.voting() if not d.is_group_leader][:2]
    author_cookie, other_cookie = venue.cookie_of(author), venue.cookie_of(other)
    with venue.http(author_cookie) as http:
        draft = http.post(f"/api/congresses/{congress_id}/commands/draft_proposal",
                          json={"title": "关于食堂晚班供餐的建议", "reason": "夜班职工吃不上热饭",
                                "suggestion": "延长供餐至22时"}).json()["result"]
        proposal_id = draft["id"]
        uploaded = http.post(f"/api/congresses/{congress_id}/proposals/{proposal_id}/attachments",
                             files={"file": ("调查表.png", PNG, "image/png")})
        assert uploaded.status_code == 201, uploaded.text
        attachment_id = uploaded.json()["result"]["id"]
        own = http.get(f"/api/congresses/{congress_id}/proposals/{proposal_id}/attachments/{attachment_id}")
        assert own.status_code == 200 and own.content == PNG  # the proposer reads it: the walk below can find it

    for who in (other_cookie, None):
        with venue.http(who) as http:
            walked = {(p, a): http.get(f"/api/congresses/{congress_id}/proposals/{p}/attachments/{a}").status_code
                      for p in range(max(1, proposal_id - 2), proposal_id + 3)
                      for a in range(max(1, attachment_id - 2), attachment_id + 3)}
            await asyncio.sleep(PACE)
        assert {k: v for k, v in walked.items() if v == 200} == {}, who


# -- results before publication --------------------------------------------------------------------
async def test_results_are_hidden_from_delegates_and_observers_until_published(venue: Venue) -> None:
    congress_id = venue.story.congress_id
    staff = LiveClient(venue.server.ws_url, congress_id, venue.staff[0])
    await staff.connect()
    try:
        created = await staff.command("create_vote", agenda_item_id=venue.story.agenda[1]["id"], title="held-up 表决",
                                      questions=[{"kind": "yes_no", "text": "是否同意《held-up 方案》"}])
        assert created["msg"] == "ack", created
        vote = created["result"]
        opened = await staff.command("open_vote", vote_id=vote["id"])
        assert opened["msg"] == "ack", opened
        qid = str(vote["questions"][0]["id"])
        voter = venue.leader
        voter_cookie = venue.cookie_of(voter)
        delegate = LiveClient(venue.server.ws_url, congress_id, voter_cookie[0])
        await delegate.connect()
        cast = await delegate.command("cast_ballot", vote_id=vote["id"], answers={qid: "yes"})
        assert cast["msg"] == "ack", cast
        await delegate.close()
        closed = await staff.command("close_vote", vote_id=vote["id"])
        assert closed["msg"] == "ack" and closed["result"]["result"] is not None, closed  # staff have it

        def result_of(snapshot: dict[str, Any]) -> Any:
            votes = [v for v in snapshot.get("votes", []) if v.get("id") == vote["id"]]
            assert votes, "the vote is in the snapshot"
            return votes[0].get("result")

        observer = LiveClient(venue.server.ws_url, congress_id)
        delegate = LiveClient(venue.server.ws_url, congress_id, voter_cookie[0])
        seen = [await observer.connect(), await delegate.connect()]
        await observer.close()
        await delegate.close()
        assert [result_of(h["snapshot"]) for h in seen] == [None, None]
        with venue.http(voter_cookie) as http:
            assert result_of(http.get(f"/api/congresses/{congress_id}/state").json()["snapshot"]) is None
        with venue.http() as http:
            state = http.get(f"/api/congresses/{congress_id}/state")
            assert state.status_code == 200
            assert result_of(state.json()["snapshot"]) is None
            assert '"yes": 1' not in state.text and '"yes":1' not in state.text

        certified = await staff.command("certify_vote", vote_id=vote["id"], scrutineer="刘志强")
        published = await staff.command("publish_vote", vote_id=vote["id"])
        assert (certified["msg"], published["msg"]) == ("ack", "ack"), (certified, published)
        with venue.http() as http:  # and once published, everyone sees it: the check above could fail
            assert result_of(http.get(f"/api/congresses/{congress_id}/state").json()["snapshot"]) is not None
    finally:
        await staff.close()


# -- many sockets from one address -----------------------------------------------------------------
async def test_two_thousand_sockets_from_one_address_are_all_let_in(venue: Venue) -> None:
    url = f"{venue.server.ws_url}?congress={venue.story.congress_id}"
    sockets: list[Any] = []

    async def join() -> str:
        ws = await connect(url, open_timeout=60, max_size=2**24)
        sockets.append(ws)
        return json.loads(await ws.recv())["msg"]

    try:
        hellos: list[str] = []
        for _ in range(20):  # in waves of 100, as a venue's phones arrive
            hellos += await asyncio.gather(*(join() for _ in range(100)))
        assert hellos.count("hello") == 2000
        # and the server still answers a delegate at once
        cookie = venue.cookie_of(venue.leader)
        client = LiveClient(venue.server.ws_url, venue.story.congress_id, cookie[0])
        await client.connect()
        reply = await client.command("my_ballot", vote_id=987654)
        await client.close()
        assert reply["msg"] in ("ack", "error") and reply.get("code") != "internal_error", reply
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
