"""Building blocks for tests: the story's congress through the real actions, and clients that talk
to a real server over HTTP and websockets."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import httpx
import sqlalchemy as sa
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from congress.actions.accounts import add_department, add_staff, issue_codes
from congress.actions.agenda import add_agenda_item
from congress.actions.attendance import check_in_at_desk
from congress.actions.base import Context
from congress.actions.roster import import_roster
from congress.actions.setup import create_congress
from congress.actions.votes import create_vote, open_vote
from congress.app import create_app
from congress.application.service import Clock, system_clock
from congress.db.engine import Database
from congress.db.models import Delegate
from congress.demo.proposals import file_demo_proposals
from congress.demo.story import DEPARTMENTS
from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.ops.server_process import Loopback
from congress.ops.server_process import ServerProcess as ServerProcess  # re-exported for the live tests
from congress.ops.server_process import free_port as free_port
from congress.settings import Settings, websocket_options

GROUPS = ["主会场", "长沙", "岳阳", "怀化", "益阳", "永州", "宁波"]
SETUP = Actor(role=Role.STAFF, name="测试")


def story_roster() -> bytes:
    return resources.files("congress").joinpath("data/roster.csv").read_bytes()


def main_hall_roster(rows: int | None = None) -> bytes:
    """The roster's header and its 主会场 group (63 delegates), or the first `rows` of them: for a story
    of one group (GROUPS[:1]), whose codes cost far less argon2 than the whole roster's 305."""
    header, *delegates = story_roster().decode().splitlines()
    return "\n".join([header, *[row for row in delegates if ",主会场," in row][:rows]]).encode() + b"\n"


def story_with_demo_proposals(ctx: Context, congress_id: int) -> None:
    """The story's other departments (DEPARTMENTS[1:]; build_story adds the first) and the demo
    proposals filed, decided, assigned, replied and rated through the real actions."""
    for name in DEPARTMENTS[1:]:
        add_department(ctx, name)
    file_demo_proposals(ctx, congress_id)


def open_pay_vote(db: Database, story: Story) -> tuple[dict[str, Any], str]:
    """Every delegate checked in at the desk (the quorum holds) and the yes/no vote on the pay plan
    (agenda item 2) opened; returns the vote and its one question's id."""
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        for d in story.voting():
            check_in_at_desk(ctx, story.congress_id, d.employee_id)
        vote = create_vote(ctx, story.congress_id, story.agenda[1]["id"], "薪酬方案",
                           [{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"}])
        open_vote(ctx, story.congress_id, vote["id"])
    return vote, str(vote["questions"][0]["id"])


@dataclass
class Story:
    congress_id: int
    staff_login: str
    staff_password: str
    codes: dict[str, str]  # employee id -> access code
    agenda: list[dict[str, Any]]
    department: tuple[str, str] = ("", "")
    delegates: list[Delegate] = field(default_factory=list)

    def voting(self, group_id: int | None = None) -> list[Delegate]:
        return [d for d in self.delegates if d.is_voting and (group_id is None or d.group_id == group_id)]

    def leader(self, group_id: int) -> Delegate:
        return next(d for d in self.delegates if d.is_group_leader and d.group_id == group_id)


def build_story(db: Database, *, roster: bytes | None = None, groups: list[str] | None = None,
                with_codes: bool = True) -> Story:
    """The story's congress: groups, roster, a staff account, access codes, an agenda.
    (Issuing 305 codes costs ~3 s of argon2; tests that sign no delegate in can skip it.)"""
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        congress = create_congress(ctx, "第十届职代会第三次会议", groups or GROUPS)
        import_roster(ctx, congress.id, roster or story_roster(), "roster.csv")
        _account, password = add_staff(ctx, "staff")
        department, dept_password = add_department(ctx, "人力资源部")
        codes = {c["employee_id"]: c["code"] for c in issue_codes(ctx, congress.id)} if with_codes else {}
        agenda = [add_agenda_item(ctx, congress.id, "审议", "审议公司工作报告"),
                  add_agenda_item(ctx, congress.id, "审议通过", "表决《职工薪酬福利调整方案》"),
                  add_agenda_item(ctx, congress.id, "选举", "补选职工董事")]
        delegates = list(session.scalars(sa.select(Delegate).where(Delegate.congress_id == congress.id)
                                         .order_by(Delegate.id)))
        session.expunge_all()
    return Story(congress.id, "staff", password, codes, agenda, (department.login, dept_password), delegates)


class LiveServer(Loopback):
    """A real uvicorn server on a free port, in a background thread of the test process: for a test
    that needs the application object (`app`) or its clock (`clock`); congress.ops.server_process
    starts `congress serve` in a process of its own."""

    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        self.port = settings.port if settings.port not in (0, 8000) else free_port()
        self.settings = settings
        self.app = create_app(settings, clock=clock)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on", timeout_graceful_shutdown=2, **websocket_options(settings))
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def sign_in(base_url: str, body: dict[str, Any]) -> tuple[str, str]:
    """Sign in over HTTP; returns (session cookie value, csrf token)."""
    response = httpx.post(f"{base_url}/api/sign-in", json=body, timeout=30)
    response.raise_for_status()
    return response.cookies["congress_session"], response.json()["csrf_token"]


def sign_in_all(base_url: str, bodies: list[dict[str, Any]], threads: int = 8) -> list[str]:
    """Sign in many over HTTP, `threads` at a time (argon2 makes each one slow); their session cookies."""
    with httpx.Client(base_url=base_url, timeout=60) as http, ThreadPoolExecutor(max_workers=threads) as pool:
        def one(body: dict[str, Any]) -> str:
            response = http.post("/api/sign-in", json=body)
            response.raise_for_status()
            return response.cookies["congress_session"]

        return list(pool.map(one, bodies))


class LiveClient:
    """A websocket client that keeps `seq`, collects events, and sends commands awaiting their reply."""

    def __init__(self, ws_url: str, congress_id: int, cookie: str | None = None) -> None:
        self.ws_url, self.congress_id, self.cookie = ws_url, congress_id, cookie
        self.ws: ClientConnection | None = None
        self.hello: dict[str, Any] = {}
        self.seq = 0
        self.events: list[dict[str, Any]] = []
        self.ephemeral: list[dict[str, Any]] = []
        self.replies: dict[str, dict[str, Any]] = {}
        self.closed: tuple[int | None, str | None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._counter = 0
        self._waiters: list[tuple[Any, asyncio.Future[Any]]] = []

    async def connect(self, since: int | None = None) -> dict[str, Any]:
        url = f"{self.ws_url}?congress={self.congress_id}"
        if since is not None:
            url += f"&since={since}"
        headers = {"Cookie": f"congress_session={self.cookie}"} if self.cookie else None
        self.ws = await connect(url, additional_headers=headers, max_size=2**24, open_timeout=30)
        self.hello = json.loads(await self.ws.recv())
        if self.hello.get("msg") == "hello":
            # A resumed stream continues from `since`; a snapshot stands at `seq`.
            self.seq = self.hello["since"] if self.hello.get("resumed") else self.hello["seq"]
        self.closed = None
        self._reader = asyncio.get_running_loop().create_task(self._read())
        return self.hello

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                message = json.loads(raw)
                kind = message.get("msg")
                if kind in ("event", "events"):
                    for event in message["events"] if kind == "events" else [message]:
                        self.seq = event["seq"]
                        self.events.append(event)
                elif kind in ("ack", "error") and message.get("id"):
                    self.replies[message["id"]] = message
                else:
                    self.ephemeral.append(message)
                self._wake()
        except Exception:
            pass
        finally:
            self.closed = (self.ws.close_code, self.ws.close_reason)
            self._wake()

    def _wake(self) -> None:
        for predicate, future in list(self._waiters):
            if not future.done() and predicate():
                future.set_result(True)

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        if predicate():
            return
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            self._waiters.remove((predicate, future))

    async def command(self, op: str, command_id: str | None = None, timeout: float = 30.0, **args: Any) -> dict[str, Any]:
        assert self.ws is not None
        if command_id is None:
            self._counter += 1
            command_id = f"c{self._counter}-{time.monotonic_ns()}"
        await self.ws.send(json.dumps({"op": op, "id": command_id, **args}))
        await self.wait_for(lambda: command_id in self.replies, timeout)
        return self.replies[command_id]

    def event_types(self) -> list[str]:
        return [e["type"] for e in self.events]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            # The reader ends with its socket. If it does not (a test failed half-way, the server is
            # gone), stop it: a failing test must report, not hang the run until CI's timeout.
            done, _ = await asyncio.wait({self._reader}, timeout=10)
            if not done:
                self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
