"""Issue 18, the smaller findings, through a real server (uvicorn on a free port), real `websockets`
clients and real HTTP, on SQLite and PostgreSQL:

- a command without an id is refused over the websocket, nothing applied;
- a command id is bound to its op and arguments: a resend of the same command gets the first reply,
  the same id for another op or other arguments is refused (`id_reused`), nothing applied;
- JSON nested deeper than 64 levels and arguments of the wrong type anywhere in the command table
  are refused as bad input (400 / an `error`), never a server error, and leave no traceback;
- a state-changing HTTP request from another origin (Origin, Sec-Fetch-Site) is refused even with
  a valid CSRF token, and the websocket's Origin check compares the scheme too.

One story per database kind is built for the module (argon2 makes each build take seconds).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from congress.actions.agenda import set_current_item
from congress.actions.attendance import check_in_at_desk
from congress.actions.base import Context
from congress.actions.setup import set_rules
from congress.actions.votes import create_vote, open_vote
from congress.application.commands import COMMANDS, load_all
from congress.application.service import system_clock
from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.db.models import Attendance, CommandResult, Delegate, Event, SpeechRequest
from congress.settings import Settings
from tests.conftest import create_pg_database, drop_pg_database
from tests.story import SETUP, LiveClient, LiveServer, Story, build_story, sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Stage:
    url: str
    db: Database
    story: Story
    server: LiveServer
    staff_cookie: str
    staff_csrf: str
    vote_id: int  # an open named yes/no vote
    question: str  # its one question's id, the key of a ballot's answers
    spare: list[Delegate]  # voting delegates not checked in, handed out one by one
    clients: list[LiveClient] = field(default_factory=list)

    def take(self) -> Delegate:
        return self.spare.pop()

    def sign_in(self, delegate: Delegate) -> tuple[str, str]:
        return sign_in(self.server.url, {"employee_id": delegate.employee_id,
                                         "code": self.story.codes[delegate.employee_id],
                                         "congress_id": self.story.congress_id})

    async def client(self, cookie: str | None = None) -> LiveClient:
        client = LiveClient(self.server.ws_url, self.story.congress_id, cookie)
        self.clients.append(client)
        await client.connect()
        return client

    def events(self) -> int:
        with self.db.read() as session:
            return session.scalar(sa.select(sa.func.count()).select_from(Event)
                                  .where(Event.congress_id == self.story.congress_id)) or 0

    def command_url(self, op: str) -> str:
        return f"{self.server.url}/api/congresses/{self.story.congress_id}/commands/{op}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stage(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    url = (f"sqlite:///{tmp_path_factory.mktemp('hardening') / 'congress.db'}" if request.param == "sqlite"
           else create_pg_database())
    db = Database(url)
    server: LiveServer | None = None
    try:
        upgrade(url)
        story = build_story(db)
        with db.write() as session:
            ctx = Context(session, SETUP, system_clock())
            set_rules(ctx, story.congress_id, {"quorum": "1/10"})
            present = [d for d in story.voting() if d.id % 8 == 0 or d.is_group_leader]
            for d in present:
                check_in_at_desk(ctx, story.congress_id, d.employee_id)
            vote = create_vote(ctx, story.congress_id, story.agenda[1]["id"], "表决", [{"text": "同意方案"}])
            open_vote(ctx, story.congress_id, vote["id"])
            set_current_item(ctx, story.congress_id, story.agenda[0]["id"])  # delegates may ask to speak
        spare = [d for d in story.voting() if d not in present]
        # A high command rate: the table-driven test sends a few thousand refusals.
        server = LiveServer(Settings(database_url=url, port=0, commands_per_second=100_000)).start()
        cookie, csrf = sign_in(server.url, {"login": "staff", "password": story.staff_password})
        yield Stage(url, db, story, server, cookie, csrf, vote["id"], str(vote["questions"][0]["id"]), spare)
    finally:
        if server is not None:
            server.stop()
        db.dispose()
        if request.param == "postgresql":
            drop_pg_database(url)


@pytest.fixture
async def live(stage: Stage) -> Any:
    yield stage
    await asyncio.gather(*(c.close() for c in stage.clients), return_exceptions=True)
    stage.clients.clear()


async def raw_reply(client: LiveClient, frame: str, timeout: float = 10.0) -> dict[str, Any]:
    """Send a frame as it is; its reply: an `error` with no id (a refused frame), or an ack/error with one."""
    assert client.ws is not None

    def refusals() -> list[dict[str, Any]]:
        return [m for m in client.ephemeral if m.get("msg") in ("ack", "error")]

    seen, known = len(refusals()), set(client.replies)
    await client.ws.send(frame)
    await client.wait_for(lambda: len(refusals()) > seen or set(client.replies) != known, timeout)
    if len(refusals()) > seen:
        return refusals()[seen]
    return client.replies[next(iter(set(client.replies) - known))]


async def again(client: LiveClient, op: str, command_id: str, **args: Any) -> dict[str, Any]:
    """Send a command with an id used before on this client and wait for its new reply."""
    client.replies.pop(command_id, None)
    return await client.command(op, command_id=command_id, **args)


# -- a: a command id is required -------------------------------------------------------------------
@pytest.mark.parametrize("frame", [{"op": "check_in"}, {"op": "check_in", "id": None}, {"op": "check_in", "id": ""},
                                   {"op": "check_in", "id": 7}, {"op": "check_in", "id": "x" * 65}])
async def test_a_command_without_a_valid_id_is_refused_and_nothing_is_applied(live: Stage, frame: dict) -> None:
    delegate = live.take()
    cookie, _ = live.sign_in(delegate)
    client = await live.client(cookie)
    events = live.events()

    reply = await raw_reply(client, json.dumps(frame))

    assert reply["msg"] == "error" and reply["code"] == "bad_request", reply
    assert "id" in reply["message"]
    await asyncio.sleep(0.3)  # had it been run, its events would be in by now
    assert live.events() == events
    with live.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Attendance)
                              .where(Attendance.delegate_id == delegate.id)) == 0
    # With an id the same command is applied
    assert (await client.command("check_in", command_id="with-an-id"))["msg"] == "ack"


# -- b: a command id is bound to its op and arguments ------------------------------------------------
async def test_a_command_id_reused_for_another_op_is_refused_and_nothing_is_applied(live: Stage) -> None:
    delegate = live.take()
    cookie, _ = live.sign_in(delegate)
    client = await live.client(cookie)
    assert (await client.command("check_in", command_id="check-in"))["msg"] == "ack"
    speech = await client.command("request_to_speak", command_id="reused", topic="关于食堂")
    assert speech["msg"] == "ack", speech
    events = live.events()

    ballot = await again(client, "cast_ballot", "reused", vote_id=live.vote_id, answers={live.question: "yes"})

    assert ballot["msg"] == "error" and ballot["code"] == "id_reused", ballot
    assert "reused" in ballot["message"] and "request_to_speak" in ballot["message"]
    # The resend of the first command still gets its first reply
    resent = await again(client, "request_to_speak", "reused", topic="关于食堂")
    assert resent == speech
    await asyncio.sleep(0.3)
    assert live.events() == events
    with live.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SpeechRequest)
                              .where(SpeechRequest.delegate_id == delegate.id)) == 1
    # A fresh id casts the ballot
    assert (await client.command("cast_ballot", vote_id=live.vote_id, answers={live.question: "yes"}))["msg"] == "ack"


async def test_a_command_id_reused_with_other_arguments_is_refused(live: Stage) -> None:
    delegate = live.take()
    cookie, _ = live.sign_in(delegate)
    client = await live.client(cookie)
    assert (await client.command("check_in", command_id="check-in"))["msg"] == "ack"
    first = await client.command("cast_ballot", command_id="ballot", vote_id=live.vote_id, answers={live.question: "yes"})
    assert first["msg"] == "ack", first

    # The same ballot resent (the ack was lost): the first reply, nothing applied again. Arguments
    # that mean the same (an int sent as text, keys in another order) are the same arguments.
    resent = await again(client, "cast_ballot", "ballot", answers={live.question: "yes"}, vote_id=str(live.vote_id))
    assert resent["msg"] == "ack" and resent["result"] == first["result"]
    # Another choice under the same id: refused, the ballot stays 赞成
    changed = await again(client, "cast_ballot", "ballot", vote_id=live.vote_id, answers={live.question: "no"})
    assert changed["msg"] == "error" and changed["code"] == "id_reused", changed
    mine = await client.command("my_ballot", vote_id=live.vote_id)
    assert mine["msg"] == "ack" and mine["result"]["answers"] == {live.question: "yes"}, mine


async def test_ballots_in_one_group_commit_are_bound_to_their_arguments_too(live: Stage) -> None:
    """The set-wise ballot path (many ballots of one batch) stores op and digest like the one-by-one path."""
    delegates = [live.take() for _ in range(6)]
    clients = []
    for d in delegates:
        cookie, _ = live.sign_in(d)
        client = await live.client(cookie)
        assert (await client.command("check_in", command_id="in"))["msg"] == "ack"
        clients.append(client)
    replies = await asyncio.gather(*(c.command("cast_ballot", command_id="burst", vote_id=live.vote_id,
                                               answers={live.question: "abstain"}) for c in clients))
    assert all(r["msg"] == "ack" for r in replies), replies
    with live.db.read() as session:
        rows = list(session.execute(sa.select(CommandResult.op, CommandResult.args_digest)
                                    .where(CommandResult.command_id == "burst")))
    assert len(rows) == 6 and {op for op, _ in rows} == {"cast_ballot"} and len({d for _, d in rows}) == 1
    refused = await asyncio.gather(*(again(c, "cast_ballot", "burst", vote_id=live.vote_id,
                                               answers={live.question: "no"}) for c in clients))
    assert [r["code"] for r in refused] == ["id_reused"] * 6, refused
    resent = await asyncio.gather(*(again(c, "cast_ballot", "burst", vote_id=live.vote_id,
                                              answers={live.question: "abstain"}) for c in clients))
    assert [r["result"] for r in resent] == [r["result"] for r in replies]


async def test_an_idempotency_key_reused_over_http_for_another_op_is_refused(live: Stage) -> None:
    delegate = live.take()
    cookie, csrf = live.sign_in(delegate)
    headers = {"X-CSRF-Token": csrf, "Cookie": f"congress_session={cookie}"}
    async with httpx.AsyncClient(timeout=30) as http:
        first = await http.post(live.command_url("check_in"), json={}, headers={**headers, "Idempotency-Key": "k1"})
        assert first.status_code == 200, first.text
        repeat = await http.post(live.command_url("check_in"), json={}, headers={**headers, "Idempotency-Key": "k1"})
        assert repeat.json() == first.json()
        other = await http.post(live.command_url("request_to_speak"), json={"topic": "x"},
                                headers={**headers, "Idempotency-Key": "k1"})
        assert other.status_code == 422 and other.json()["error"]["code"] == "id_reused", other.text
        too_long = await http.post(live.command_url("request_to_speak"), json={"topic": "x"},
                                   headers={**headers, "Idempotency-Key": "k" * 65})
        assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "bad_request", too_long.text
    with live.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SpeechRequest)
                              .where(SpeechRequest.delegate_id == delegate.id)) == 0


# -- c: deep JSON and wrong argument types ----------------------------------------------------------
def deep(depth: int) -> str:
    return '{"op": "check_in", "id": "deep", "x": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [65, 30_000])
async def test_deeply_nested_json_is_a_bad_request_over_http_and_websocket(live: Stage, depth: int,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    delegate = live.take()
    cookie, csrf = live.sign_in(delegate)
    events = live.events()
    with caplog.at_level(logging.INFO):
        response = httpx.post(live.command_url("check_in"), content=deep(depth).encode(), timeout=30,
                              headers={"X-CSRF-Token": csrf, "Cookie": f"congress_session={cookie}",
                                       "Content-Type": "application/json"})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "bad_request"
        assert "64" in response.json()["error"]["message"]

        client = await live.client(cookie)
        for _ in range(3):  # one refusal per frame; the connection stays
            reply = await raw_reply(client, deep(depth))
            assert reply["msg"] == "error" and reply["code"] == "bad_request", reply
        assert (await client.command("proposal_stats"))["msg"] == "ack"
    assert live.events() == events
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


async def test_shallow_nesting_is_still_read(live: Stage) -> None:
    client = await live.client(live.staff_cookie)
    reply = await raw_reply(client, '{"op": "proposal_stats", "id": "ok", "x": ' + "[" * 60 + "]" * 60 + "}")
    assert reply["msg"] == "ack", reply


WRONG: dict[type, list[Any]] = {
    int: ["abc", 1.5, True, [], {}, [1], 2**31, -(2**31) - 1, 10**30],
    str: [5, 1.5, True, [], {}, ["x"], "a\x00b", "\ud800"],
    bool: ["yes", 5, [], {}, "true"],
    list: ["x", 5, True, {}, [None], [{}], [[]], [1.5], ["\x00"], [10**30], [{"text": 5}]],
    dict: ["x", 5, True, [], {"1": None}, {"1": {}}, {"1": []}, {"x": 1}, {"": ""}, {"1": "\x00"}, {"1": 10**30},
           {"quorum": 5}, {"0": ["yes"]}],
}
VALID: dict[type, Any] = {int: 1, str: "测试", bool: False, list: [], dict: {}}


def wrong_bodies(stage: Stage) -> Iterator[tuple[str, str, Any, dict[str, Any]]]:
    """(op, field, wrong value, body): every param of every op with each wrong value, the rest plausible."""
    ids = {"vote_id": stage.vote_id, "agenda_item_id": stage.story.agenda[0]["id"],
           "item_id": stage.story.agenda[0]["id"], "group_id": stage.story.delegates[0].group_id}
    for op, command in sorted(load_all().items()):
        base = {p.name: ids.get(p.name, VALID[p.type]) for p in command.params}
        for param in command.params:
            for value in WRONG[param.type]:
                yield op, param.name, value, {**base, param.name: value}


def refused_at_the_top(command: Any, name: str, value: Any) -> bool:
    """Whether the value itself (not something inside a list or object) is wrong for the field."""
    kind = next(p.type for p in command.params if p.name == name)
    if kind is int and isinstance(value, str) and value.lstrip("-").isdigit():
        return False
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        return True
    if kind is int:
        return not -(2**31) <= value < 2**31
    if kind is str:
        return "\x00" in value or "\ud800" in value
    return False


def error_code(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return f"not JSON: {response.text[:60]}"


def bad_input(code: str) -> bool:
    return code not in ("internal_error", "unavailable")


async def test_wrong_types_for_every_param_of_every_op_are_refused_as_bad_input(live: Stage,
                                                                             caplog: pytest.LogCaptureFixture) -> None:
    """Table-driven: HTTP and websocket, as staff and as a delegate; never a 500 or an internal_error.
    A value of the wrong type at the top level is `bad_field` naming the field."""
    leader = next(d for d in live.story.delegates if d.is_group_leader and d.is_voting)
    delegate_cookie, delegate_csrf = live.sign_in(leader)
    failures: list[str] = []
    bodies = list(wrong_bodies(live))
    assert len({op for op, *_ in bodies}) == len(COMMANDS) - sum(1 for c in COMMANDS.values() if not c.params)
    with caplog.at_level(logging.ERROR):
        async with httpx.AsyncClient(timeout=60) as http:
            for cookie, csrf in ((live.staff_cookie, live.staff_csrf), (delegate_cookie, delegate_csrf)):
                client = await live.client(cookie)
                headers = {"X-CSRF-Token": csrf, "Cookie": f"congress_session={cookie}"}
                for n, (op, name, value, body) in enumerate(bodies):
                    response = await http.post(live.command_url(op), headers=headers,
                                               content=json.dumps(body).encode())
                    code = "ok" if response.status_code == 200 else error_code(response)
                    if response.status_code >= 500 or not bad_input(code or ""):
                        failures.append(f"HTTP {op}.{name}={value!r}: {response.status_code} {response.text[:200]}")
                    if refused_at_the_top(COMMANDS[op], name, value) and (
                            response.status_code != 400 or code != "bad_field" or name not in response.text):
                        failures.append(f"HTTP {op}.{name}={value!r}: want 400 bad_field naming it, got "
                                        f"{response.status_code} {response.text[:200]}")
                    reply = await client.command(op, command_id=f"t{n}-{id(cookie)}", **body)
                    if reply["msg"] == "error" and not bad_input(reply["code"]):
                        failures.append(f"ws {op}.{name}={value!r}: {reply}")
    assert not failures, "\n".join(failures[:60]) + f"\n… {len(failures)} in all"
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


# -- e: requests from another site -----------------------------------------------------------------
def writing_routes(stage: Stage) -> list[tuple[str, str]]:
    """(method, path) of every state-changing HTTP route of the app, with its path filled in."""
    app = stage.server.server.config.app
    found = []
    for route in app.routes:
        methods = getattr(route, "methods", None) or set()
        for method in sorted(methods - {"GET", "HEAD", "OPTIONS"}):
            path = (route.path.replace("{congress_id:int}", str(stage.story.congress_id)).replace("{op:str}", "check_in")
                    .replace("{proposal_id:int}", "1").replace("{document_id:int}", "1"))
            found.append((method, path))
    return found


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Origin": "null"}, {"Origin": "http://127.0.0.1.evil.example"}])
async def test_state_changing_http_from_another_site_is_refused_even_with_the_csrf_token(live: Stage,
                                                                                          headers: dict) -> None:
    delegate = live.take()
    cookie, csrf = live.sign_in(delegate)
    signed_in = {"X-CSRF-Token": csrf, "Cookie": f"congress_session={cookie}"}
    events = live.events()
    async with httpx.AsyncClient(base_url=live.server.url, timeout=30) as http:
        refused = await http.post(live.command_url("check_in"), json={}, headers={**signed_in, **headers})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "cross_site", refused.text
        # Every state-changing route, in one place: sign-in and sign-out, uploads, the roster, documents...
        routes = writing_routes(live)
        assert len(routes) >= 9
        for method, path in routes:
            response = await http.request(method, path, json={}, headers={**signed_in, **headers})
            assert response.status_code == 403 and response.json()["error"]["code"] == "cross_site", (path, response.text)
        # ... while reading from another site is not a write: allowed as before
        assert (await http.get(f"/api/congresses/{live.story.congress_id}/state", headers={**signed_in, **headers})
                ).status_code == 200
        # The same request from our own page is applied
        own = await http.post(live.command_url("check_in"), json={},
                              headers={**signed_in, "Origin": live.server.url, "Sec-Fetch-Site": "same-origin"})
        assert own.status_code == 200, own.text
    assert live.events() > events
    with live.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Attendance)
                              .where(Attendance.delegate_id == delegate.id)) == 1


async def test_the_origin_check_compares_the_scheme_over_http(live: Stage) -> None:
    cookie, csrf = live.sign_in(live.take())
    signed_in = {"X-CSRF-Token": csrf, "Cookie": f"congress_session={cookie}"}
    https_origin = live.server.url.replace("http://", "https://")
    async with httpx.AsyncClient(timeout=30) as http:
        plain = await http.post(live.command_url("proposal_stats"), json={}, headers={**signed_in, "Origin": https_origin})
        assert plain.status_code == 403 and plain.json()["error"]["code"] == "cross_site"
        # Behind the proxy uvicorn trusts (127.0.0.1 by default), X-Forwarded-Proto says it was HTTPS
        proxied = await http.post(live.command_url("proposal_stats"), json={},
                                  headers={**signed_in, "Origin": https_origin, "X-Forwarded-Proto": "https"})
        assert proxied.status_code == 200, proxied.text
        downgraded = await http.post(live.command_url("proposal_stats"), json={},
                                     headers={**signed_in, "Origin": live.server.url, "X-Forwarded-Proto": "https"})
        assert downgraded.status_code == 403


async def websocket_answer(stage: Stage, cookie: str, headers: dict[str, str]) -> tuple[dict[str, Any], int | None]:
    """The first message of a signed-in socket opened with these headers, and its close code (None: open)."""
    url = f"{stage.server.ws_url}?congress={stage.story.congress_id}"
    async with connect(url, additional_headers={"Cookie": f"congress_session={cookie}", **headers},
                       open_timeout=30) as ws:
        first = json.loads(await ws.recv())
        try:
            await asyncio.wait_for(ws.recv(), 0.5)
        except (TimeoutError, ConnectionClosed):
            pass
        return first, ws.close_code


async def test_the_websocket_origin_check_compares_the_scheme(live: Stage) -> None:
    cookie, _ = live.sign_in(live.take())
    https_origin = live.server.url.replace("http://", "https://")

    refused, code = await websocket_answer(live, cookie, {"Origin": https_origin})
    assert refused["msg"] == "error" and refused["code"] == "refused" and code == 4403, (refused, code)
    other_port, code = await websocket_answer(live, cookie, {"Origin": "http://127.0.0.1:1"})
    assert code == 4403

    same, code = await websocket_answer(live, cookie, {"Origin": live.server.url})
    assert same["msg"] == "hello" and same["role"] == "delegate" and code is None
    proxied, code = await websocket_answer(live, cookie, {"Origin": https_origin, "X-Forwarded-Proto": "https"})
    assert proxied["msg"] == "hello" and code is None
