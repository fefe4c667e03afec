"""Graceful drain and a rolling restart (issue 17 point 3), with real parts: `congress serve` processes,
PostgreSQL, the machine's Redis, nginx configured from deploy/nginx.conf, websockets.

- A worker that gets SIGTERM in the middle of a burst of ballots acknowledges every ballot it stored
  before it closes the socket (1012), and stores none it did not acknowledge; the rest go to another
  worker when the clients resend them with the same ids.
- Two workers behind nginx during a vote: each is restarted in turn (SIGTERM, exit, start, /readyz).
  Every delegate's ballot is acknowledged and stored exactly once, staff consoles and observers get
  every event in order with no gap or duplicate, and every close any client saw was 1012.

The figures (SIGTERM to exit, until every client was back, slowest acknowledgement) are printed
(`pytest -s`), not asserted.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import ClientConnection, connect

from congress.actions.attendance import check_in_at_desk
from congress.actions.base import Context
from congress.actions.votes import create_vote, open_vote
from congress.application.auth import observer_actor as make_observer
from congress.db.engine import Database
from congress.db.models import Ballot, BallotCast, CommandResult, Event
from congress.live.hub import may_see
from congress.ops.server_process import ServerProcess, free_port
from tests.conftest import REDIS_URL, require_redis
from tests.ops.nginx import Nginx
from tests.story import SETUP, Story, build_story, sign_in_all

pytestmark = pytest.mark.anyio
DELEGATES = 60


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- a client that behaves as the pages do ---------------------------------------------------------
class Resilient:
    """A websocket that reconnects at once when the server closes it (as web/js/live.js does for 1012),
    resumes with `since`, and resends every command still waiting for its reply with the same id."""

    def __init__(self, url: str, congress_id: int, cookie: str | None = None) -> None:
        self.url, self.congress_id, self.cookie = url, congress_id, cookie
        self.ws: ClientConnection | None = None
        self.seq: int | None = None
        self.first_seq: int | None = None
        self.seqs: list[int] = []  # every event seq received, in arrival order
        self.pending: dict[str, str] = {}  # id -> frame, until answered
        self.sent_at: dict[str, float] = {}
        self.replies: dict[str, tuple[dict[str, Any], float]] = {}  # id -> (reply, when)
        self.closes: list[tuple[int | None, float]] = []  # close code, when
        self.unanswered_at_close: list[tuple[float, set[str]]] = []  # wall clock, ids still waiting
        self.hellos: list[float] = []
        self.connected = asyncio.Event()
        self.finished = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while not self.finished:
            url = f"{self.url}?congress={self.congress_id}" + (f"&since={self.seq}" if self.seq is not None else "")
            headers = {"Cookie": f"congress_session={self.cookie}"} if self.cookie else None
            try:
                self.ws = await connect(url, additional_headers=headers, max_size=2**24, open_timeout=30)
            except Exception:  # no worker took us (yet): try again shortly, as the page's back-off does
                await asyncio.sleep(0.2)
                continue
            try:
                async for raw in self.ws:
                    self._receive(json.loads(raw))
            except Exception:
                pass
            self.connected.clear()
            if not self.finished:
                self.closes.append((self.ws.close_code, time.monotonic()))
                self.unanswered_at_close.append((time.time(), set(self.pending)))

    def _receive(self, message: dict[str, Any]) -> None:
        kind = message.get("msg")
        if kind == "hello":
            if not message.get("resumed"):
                self.seq = message["seq"]
                if self.first_seq is None:
                    self.first_seq = message["seq"]
            self.hellos.append(time.monotonic())
            self.connected.set()
            for frame in list(self.pending.values()):  # same ids: answered once
                asyncio.get_running_loop().create_task(self._send(frame))
        elif kind in ("event", "events"):
            for event in message["events"] if kind == "events" else [message]:
                self.seq = event["seq"]
                self.seqs.append(event["seq"])
        elif kind in ("ack", "error") and message.get("id") in self.pending:
            if kind == "error" and message.get("code") == "unavailable":
                return  # retryable: resent after the reconnect
            self.pending.pop(message["id"])
            self.replies[message["id"]] = (message, time.monotonic())

    async def _send(self, frame: str) -> None:
        try:
            assert self.ws is not None
            await self.ws.send(frame)
        except Exception:
            pass  # the socket closed under us; resent after the reconnect

    async def command(self, op: str, command_id: str, **args: Any) -> None:
        frame = json.dumps({"op": op, "id": command_id, **args})
        self.pending[command_id] = frame
        self.sent_at[command_id] = time.monotonic()
        if self.connected.is_set():
            await self._send(frame)

    async def close(self) -> None:
        self.finished = True
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except Exception:
                pass
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


# -- the congress ------------------------------------------------------------------------------
@dataclass
class Voting:
    story: Story
    votes: list[tuple[int, str]]  # (vote id, its one question's id)
    delegates: list[Any]


def open_votes(db: Database, n: int) -> Voting:
    story = build_story(db)
    voting = story.voting()[:DELEGATES]
    with db.write() as session:
        ctx = Context(session, SETUP, datetime.now(UTC))
        for d in story.voting():  # all present (quorum); DELEGATES of them vote here
            check_in_at_desk(ctx, story.congress_id, d.employee_id)
        votes = []
        for i in range(n):
            vote = create_vote(ctx, story.congress_id, story.agenda[1]["id"], f"薪酬方案（{i + 1}）",
                               [{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"}])
            open_vote(ctx, story.congress_id, vote["id"])
            votes.append((vote["id"], str(vote["questions"][0]["id"])))
    return Voting(story, votes, voting)


def delegate_cookies(base_url: str, voting: Voting) -> list[str]:
    story = voting.story
    return sign_in_all(base_url, [{"employee_id": d.employee_id, "code": story.codes[d.employee_id],
                                   "congress_id": story.congress_id} for d in voting.delegates], threads=4)


def stored(db: Database, vote_ids: list[int]) -> tuple[list[tuple[int, int]], int]:
    """(vote, delegate) of every ballot_cast row (a list: a duplicate would show) and the ballot rows."""
    with db.read() as session:
        casts = [(vote_id, delegate_id) for vote_id, delegate_id in session.execute(
            sa.select(BallotCast.vote_id, BallotCast.delegate_id).where(BallotCast.vote_id.in_(vote_ids)))]
        ballots = session.scalar(sa.select(sa.func.count()).where(Ballot.vote_id.in_(vote_ids))) or 0
    return casts, ballots


def ballot_id(vote_id: int, delegate_id: int) -> str:
    return f"ballot-{vote_id}-{delegate_id}"


def wait_ready(url: str, timeout: float = 60) -> None:
    """Until the worker's /readyz says 200 (Part E: database and Redis answer, not draining)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url}/readyz did not answer 200 within {timeout} s")
        time.sleep(0.05)


async def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


# -- tests -------------------------------------------------------------------------------------
async def test_sigterm_mid_burst_acknowledges_every_ballot_it_stored_before_closing_1012(pg_url, tmp_path):
    """Each of 60 delegates casts 5 ballots at once; SIGTERM as soon as the first is acknowledged."""
    db = Database(pg_url)
    voting = open_votes(db, 5)
    vote_ids = [v for v, _q in voting.votes]
    worker = ServerProcess(pg_url, tmp_path / "worker.log")
    clients: list[Resilient] = []
    other = None
    try:
        cookies = delegate_cookies(worker.url, voting)
        clients = [Resilient(worker.ws_url, voting.story.congress_id, c) for c in cookies]
        for client in clients:
            client.start()
        await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in clients)), 60)
        for client in clients:  # no reconnecting to the stopped worker: this test looks at one socket each
            client.finished = True
        await asyncio.gather(*(client.command("cast_ballot", ballot_id(v, d.id), vote_id=v, answers={q: "yes"})
                               for client, d in zip(clients, voting.delegates, strict=True) for v, q in voting.votes))
        await wait_until(lambda: any(c.replies for c in clients), 60, "a first acknowledgement")
        signalled = time.monotonic()
        code = await asyncio.to_thread(worker.terminate)
        exited = time.monotonic() - signalled
        await wait_until(lambda: all(c.ws is not None and c.ws.close_code is not None for c in clients), 30,
                         "every socket to close")

        acked = {cid for c in clients for cid, (reply, _t) in c.replies.items() if reply["msg"] == "ack"}
        errors = [reply for c in clients for reply, _t in c.replies.values() if reply["msg"] != "ack"]
        casts, ballots = stored(db, vote_ids)
        stored_ids = {ballot_id(v, d) for v, d in casts}
        print(f"\nSIGTERM mid-burst: exit code {code} after {exited:.3f} s; {len(acked)} of "
              f"{len(vote_ids) * DELEGATES} ballots acknowledged before the close, {len(stored_ids)} stored")
        assert errors == []
        assert {c.ws.close_code for c in clients} == {1012}  # type: ignore[union-attr]
        assert stored_ids - acked == set(), f"{len(stored_ids - acked)} ballots stored but never acknowledged"
        assert acked <= stored_ids
        assert len(casts) == len(set(casts)) == ballots

        # The rest, resent with the same ids to another worker: each stored once.
        other = ServerProcess(pg_url, tmp_path / "other.log")
        again = [Resilient(other.ws_url, voting.story.congress_id, c) for c in cookies]
        for old, new in zip(clients, again, strict=True):
            new.pending = dict(old.pending)
            new.start()
        clients += again
        await wait_until(lambda: all(not c.pending for c in again), 60, "the resent ballots' replies")
        assert [r for c in again for r, _t in c.replies.values() if r["msg"] != "ack"] == []
        casts, ballots = stored(db, vote_ids)
        assert sorted(casts) == sorted((v, d.id) for v in vote_ids for d in voting.delegates)
        assert ballots == len(casts)
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        worker.stop()
        if other is not None:
            other.stop()
        db.dispose()


def expected_events(db: Database, congress_id: int, after: int, upto: int, actor: Any) -> list[int]:
    with db.read() as session:
        rows = session.execute(sa.select(Event.seq, Event.audience, Event.audience_id, Event.type).where(
            Event.congress_id == congress_id, Event.seq > after, Event.seq <= upto).order_by(Event.seq))
        return [seq for seq, audience, audience_id, kind in rows
                if may_see(actor, audience, audience_id) and not kind.startswith("attendance.")]


async def test_rolling_restart_of_both_workers_behind_nginx_during_a_vote(pg_url, tmp_path):
    require_redis()
    db = Database(pg_url)
    voting = open_votes(db, 1)
    (vote_id, qid), = voting.votes
    story = voting.story
    ports = [free_port(), free_port()]
    workers = [ServerProcess(pg_url, tmp_path / f"worker{i + 1}.log", redis_url=REDIS_URL, port=p)
               for i, p in enumerate(ports)]
    clients: list[Resilient] = []
    try:
        with Nginx(tmp_path, ports) as nginx:
            cookies = delegate_cookies(nginx.url, voting)
            staff_cookie = sign_in_all(nginx.url, [{"login": "staff", "password": story.staff_password}], threads=4)[0]
            delegates = [Resilient(nginx.ws_url, story.congress_id, c) for c in cookies]
            consoles = [Resilient(nginx.ws_url, story.congress_id, staff_cookie) for _ in range(2)]
            observers = [Resilient(nginx.ws_url, story.congress_id) for _ in range(4)]
            clients = delegates + consoles + observers
            for client in clients:
                client.start()
            await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in clients)), 60)

            # A third of the delegates vote across each SIGTERM (from half a second before it to a
            # second and a half after), the last third once both workers are back.
            rng = random.Random(17)
            thirds = [list(zip(delegates, voting.delegates, strict=True))[i::3] for i in range(3)]

            async def cast(group: list[tuple[Resilient, Any]], spread: float) -> None:
                async def one(client: Resilient, delegate_id: int) -> None:
                    await asyncio.sleep(rng.uniform(0, spread))
                    await client.command("cast_ballot", ballot_id(vote_id, delegate_id), vote_id=vote_id,
                                         answers={qid: rng.choice(["yes", "no"])})

                await asyncio.gather(*(one(c, d.id) for c, d in group))

            figures = []
            casting = []
            for i, worker in enumerate(workers):
                casting.append(asyncio.get_running_loop().create_task(cast(thirds[i], 2.0)))
                await asyncio.sleep(0.5)
                signalled = time.monotonic()
                await asyncio.to_thread(worker.terminate)
                exited = time.monotonic() - signalled
                await wait_until(lambda: all(c.connected.is_set() for c in clients), 30, "every client back")
                cut = [c for c in clients if c.closes and c.closes[-1][1] >= signalled]
                back = max((c.hellos[-1] for c in cut), default=signalled) - signalled
                workers[i] = await asyncio.to_thread(ServerProcess, pg_url, tmp_path / f"worker{i + 1}-again.log",
                                                     redis_url=REDIS_URL, port=ports[i])
                await asyncio.to_thread(wait_ready, workers[i].url)
                ready = time.monotonic() - signalled
                figures.append((i + 1, exited, ready, len(cut), back))
            casting.append(asyncio.get_running_loop().create_task(cast(thirds[2], 1.0)))
            votes = asyncio.gather(*casting)
            await votes
            await wait_until(lambda: all(not c.pending for c in delegates), 60, "every ballot's reply")
            with db.read() as session:
                last = session.scalar(sa.select(sa.func.max(Event.seq)).where(Event.congress_id == story.congress_id))
            await wait_until(lambda: all(c.seq == last for c in consoles), 30, "the consoles to reach the head")
            head = last
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        for worker in workers:
            worker.stop()

    try:
        replies = [(reply, when - c.sent_at[cid]) for c in delegates for cid, (reply, when) in c.replies.items()]
        slowest = max(latency for _r, latency in replies)
        for n, exited, ready, cut, back in figures:
            print(f"\nworker {n}: SIGTERM to exit {exited:.3f} s, to /readyz again {ready:.3f} s; "
                  f"{cut} clients moved, all back {back:.3f} s after the SIGTERM")
        print(f"slowest acknowledgement {slowest:.3f} s; {len(replies)} of {DELEGATES} delegates acknowledged")
        assert [r for r, _l in replies if r["msg"] != "ack"] == []
        assert len(replies) == DELEGATES
        casts, ballots = stored(db, [vote_id])
        assert sorted(d for _v, d in casts) == sorted(d.id for d in voting.delegates)  # each exactly once
        assert ballots == DELEGATES

        # Nothing the stopped worker stored was still unanswered when it closed the socket: every
        # ballot waiting for its reply at a close was stored afterwards, by the other worker.
        with db.read() as session:
            stored_at = {cid: at.replace(tzinfo=at.tzinfo or UTC).timestamp() for cid, at in session.execute(
                sa.select(CommandResult.command_id, CommandResult.created_at)
                .where(CommandResult.command_id.like(f"ballot-{vote_id}-%")))}
        early = [(cid, closed_at - stored_at[cid]) for c in delegates for closed_at, ids in c.unanswered_at_close
                 for cid in ids if stored_at[cid] < closed_at]
        assert early == [], f"stored by the stopped worker but not acknowledged before its close: {early}"

        codes = [code for c in clients for code, _t in c.closes]
        assert codes and set(codes) == {1012}, codes
        assert all(cut > 0 for _n, _e, _r, cut, _b in figures)  # both restarts moved clients

        for console in consoles:  # staff see every event: contiguous, in order, once
            assert console.first_seq is not None
            assert console.seqs == list(range(console.first_seq + 1, head + 1))
        observer_actor = make_observer(story.congress_id)
        for observer in observers:
            assert observer.first_seq is not None
            assert observer.seqs == expected_events(db, story.congress_id, observer.first_seq, head, observer_actor)
    finally:
        db.dispose()
