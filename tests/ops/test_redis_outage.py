"""Redis stopped for 30 s during a vote on two workers (issue 17, point 4).

Two `congress serve` workers share a fresh PostgreSQL database and a Redis server of the test's own.
Delegates cast on both workers, staff act on both, an observer and a staff console watch on each.
Redis is stopped for 30 s mid-vote and started again. What a user (the big screen, the console)
would check: every observer on either worker gets every public event in seq order, the consoles get
every event, nothing is lost or duplicated — also while Redis is down, when only the OTHER worker is
committing; every acknowledged ballot is stored once; each worker logs one line when Redis goes and
one when it is back, no tracebacks. The event latency (commit -> client) while Redis is down and up
is printed (figures, not assertions).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from congress.actions.attendance import check_in_at_desk
from congress.actions.base import Context
from congress.actions.votes import create_vote, open_vote
from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.db.models import BallotCast, Delegate, Event
from congress.ops.server_process import ServerProcess
from tests.conftest import create_pg_database, drop_pg_database
from tests.private_services import PrivateRedis
from tests.story import SETUP, LiveClient, Story, build_story, sign_in

pytestmark = pytest.mark.anyio

PER_WORKER = 12  # delegates casting through each worker
OUTAGE_SECONDS = 30.0
VOTES = 3


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class TimedClient(LiveClient):
    """A LiveClient that notes when each event arrived (wall clock, comparable with the event's `at`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrived: list[float] = []

    def _wake(self) -> None:
        now = time.time()
        self.arrived.extend([now] * (len(self.events) - len(self.arrived)))
        super()._wake()


@dataclass
class Setup:
    url: str
    db: Database
    story: Story
    votes: list[dict[str, Any]]
    redis: PrivateRedis
    workers: list[ServerProcess]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    redis = PrivateRedis(tmp_path)
    redis.start()
    url = create_pg_database()
    db = Database(url)
    workers: list[ServerProcess] = []
    try:
        upgrade(url)
        story = build_story(db)
        with db.write() as session:
            ctx = Context(session, SETUP, datetime.now(UTC))
            for delegate in story.voting():  # everyone present: the quorum holds
                check_in_at_desk(ctx, story.congress_id, delegate.employee_id)
            votes = [create_vote(ctx, story.congress_id, story.agenda[1]["id"], f"表决{n + 1}",
                                 [{"kind": "yes_no", "text": f"第{n + 1}项是否同意"}]) for n in range(VOTES)]
            open_vote(ctx, story.congress_id, votes[0]["id"])
        workers = [ServerProcess(url, tmp_path / f"worker{n}.log", redis_url=redis.url) for n in (1, 2)]
        yield Setup(url, db, story, votes, redis, workers)
    finally:
        for worker in workers:
            worker.stop()
        redis.stop()
        db.dispose()
        drop_pg_database(url)


def latency(clients: list[TimedClient], keep: Any) -> list[float]:
    """Seconds from each kept event's commit time (`at`) to its arrival at the client."""
    return [arrived - datetime.fromisoformat(e["at"]).timestamp()
            for c in clients for e, arrived in zip(c.events, c.arrived, strict=True) if keep(c, e)]


def figures(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"n={len(ordered)} p50={statistics.median(ordered) * 1000:.0f} ms p95={p95 * 1000:.0f} ms "
            f"max={ordered[-1] * 1000:.0f} ms")


async def test_redis_stopped_for_30_s_mid_vote_loses_or_repeats_no_event_on_either_worker(setup: Setup) -> None:
    story, workers = setup.story, setup.workers
    cid = story.congress_id
    staff_cookie, _ = sign_in(workers[0].url, {"login": "staff", "password": story.staff_password})
    voters = [story.voting()[:PER_WORKER], story.voting()[PER_WORKER:2 * PER_WORKER]]
    question = {v["id"]: str(v["questions"][0]["id"]) for v in setup.votes}
    delegates: list[dict[int, LiveClient]] = [{}, {}]
    for w, worker in enumerate(workers):
        for d in voters[w]:
            cookie, _ = sign_in(worker.url, {"employee_id": d.employee_id, "code": story.codes[d.employee_id],
                                             "congress_id": cid})
            delegates[w][d.id] = LiveClient(worker.ws_url, cid, cookie)
    observers = [TimedClient(w.ws_url, cid) for w in workers]
    consoles = [TimedClient(w.ws_url, cid, staff_cookie) for w in workers]
    everyone = [*observers, *consoles, *delegates[0].values(), *delegates[1].values()]
    acked: list[tuple[int, int]] = []  # (vote, delegate)
    origin: dict[int, int] = {}  # ballot.recorded seq -> the worker it was cast through
    state = {"vote": 0, "item": 0}
    down_at = up_at = 0.0
    try:
        for client in everyone:
            await client.connect()
        start = consoles[0].hello["seq"]

        async def cast(w: int, delegate_id: int) -> None:
            vote_id = setup.votes[state["vote"]]["id"]
            client = delegates[w][delegate_id]
            before = len(client.events)
            reply = await client.command("cast_ballot", command_id=f"ballot-{vote_id}-{delegate_id}", vote_id=vote_id,
                                         answers={question[vote_id]: "yes"})
            assert reply["msg"] == "ack", reply
            acked.append((vote_id, delegate_id))
            await client.wait_for(lambda: len(client.events) > before)
            origin[client.events[-1]["seq"]] = w

        async def round_on(*ws: int) -> None:
            """Per worker: the next delegate who has not voted casts, and the staff there move the agenda."""
            vote_id = setup.votes[state["vote"]]["id"] if state["vote"] < VOTES else None
            for w in ws:
                left = [d for d in delegates[w] if (vote_id, d) not in acked] if vote_id else []
                if left:
                    await cast(w, left[0])
                state["item"] += 1
                reply = await consoles[w].command("set_current_item", item_id=story.agenda[state["item"] % 3]["id"])
                assert reply["msg"] == "ack", reply

        async def next_vote(closing_on: int) -> None:
            """Close the vote through one worker, open the next through the other."""
            reply = await consoles[closing_on].command("close_vote", vote_id=setup.votes[state["vote"]]["id"])
            assert reply["msg"] == "ack", reply
            state["vote"] += 1
            if state["vote"] < VOTES:
                reply = await consoles[1 - closing_on].command("open_vote", vote_id=setup.votes[state["vote"]]["id"])
                assert reply["msg"] == "ack", reply

        def all_voted() -> bool:
            vote_id = setup.votes[state["vote"]]["id"]
            return all((vote_id, d) in acked for w in (0, 1) for d in delegates[w])

        async def others_see(acting: int) -> None:
            """What only `acting` committed reaches the other worker's console and observer."""
            head = consoles[acting].seq
            public = observers[acting].seq
            other = 1 - acting
            await consoles[other].wait_for(lambda: consoles[other].seq >= head, timeout=10)
            await observers[other].wait_for(lambda: observers[other].seq >= public, timeout=10)

        for _ in range(4):  # Redis up
            await round_on(0, 1)
            await asyncio.sleep(0.2)

        setup.redis.stop()
        down_at = time.time()
        while time.time() - down_at < OUTAGE_SECONDS - 6:  # a round a second: a vote's pace, not a burst
            began = time.monotonic()
            await round_on(0, 1)
            if all_voted() and state["vote"] < VOTES - 1:
                await next_vote(closing_on=1)
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - began)))
        # Still down: each worker alone commits; the other's clients must hear it all the same
        for acting in (0, 1):
            await round_on(acting)
            await round_on(acting)
            await others_see(acting)
        await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.time() - down_at)))
        setup.redis.start()
        up_at = time.time()

        while state["vote"] < VOTES:
            await round_on(0, 1)
            if all_voted():
                await next_vote(closing_on=state["vote"] % 2)
            await asyncio.sleep(0.2)
        for acting in (0, 1):  # Redis back: events travel through it again, each way
            await round_on(acting)
            await others_see(acting)

        with setup.db.read() as session:
            log = [(e.seq, e.audience) for e in session.scalars(
                sa.select(Event).where(Event.congress_id == cid, Event.seq > start).order_by(Event.seq))]
            casts = list(session.execute(sa.select(BallotCast.vote_id, BallotCast.delegate_id)
                                         .join(Delegate, Delegate.id == BallotCast.delegate_id)
                                         .where(Delegate.congress_id == cid)))
        head = log[-1][0]
        public = [seq for seq, audience in log if audience == "public"]
        for console in consoles:
            await console.wait_for(lambda c=console: c.seq >= head, timeout=15)
        for observer in observers:
            await observer.wait_for(lambda o=observer: o.seq >= public[-1], timeout=15)

        for n, console in enumerate(consoles, 1):  # every event, in order, once
            assert [e["seq"] for e in console.events] == [seq for seq, _a in log], f"console on worker {n}"
        for n, observer in enumerate(observers, 1):  # every public event, in order, once
            assert [e["seq"] for e in observer.events] == public, f"observer on worker {n}"
        assert consoles[0].events == consoles[1].events
        assert sorted(casts) == sorted(acked)  # every acknowledged ballot stored, once; none unacknowledged
        assert len(set(acked)) == len(acked) == VOTES * 2 * PER_WORKER
        for n, worker in enumerate(workers, 1):
            text = worker.log_path.read_text(errors="replace")
            assert "Traceback" not in text, f"worker {n} logged a traceback:\n{text[-3000:]}"
            assert text.count("Redis is unreachable") == 1, f"worker {n}:\n{text[-3000:]}"
            assert text.count("Redis is back") == 1, f"worker {n}:\n{text[-3000:]}"
    finally:
        for client in everyone:
            await client.close()

    def down(at: str) -> bool:
        return down_at <= datetime.fromisoformat(at).timestamp() < up_at

    for label, is_down in (("Redis down", True), ("Redis up", False)):
        cross = latency(consoles, lambda c, e, d=is_down: e["seq"] in origin and origin[e["seq"]] != consoles.index(c)
                        and down(e["at"]) == d)
        seen = latency(observers, lambda c, e, d=is_down: down(e["at"]) == d)
        print(f"\n{label}: ballots cast on the other worker -> staff console: {figures(cross)}; "
              f"public events -> observers (both workers' events): {figures(seen)}")
    print(f"outage {up_at - down_at:.1f} s; {len(acked)} ballots acknowledged and stored once; "
          f"{len(consoles[0].events)} events on each console, {len(observers[0].events)} public on each observer")


async def test_workers_start_while_redis_is_down_and_take_it_up_when_it_comes(tmp_path: Path) -> None:
    redis = PrivateRedis(tmp_path)  # its port chosen, nothing listening on it yet
    url = create_pg_database()
    db = Database(url)
    workers: list[ServerProcess] = []
    clients: list[LiveClient] = []
    try:
        upgrade(url)
        story = build_story(db, with_codes=False)
        workers = list(await asyncio.gather(*(asyncio.to_thread(
            ServerProcess, url, tmp_path / f"worker{n}.log", redis_url=redis.url) for n in (1, 2))))
        cookie, _ = sign_in(workers[0].url, {"login": "staff", "password": story.staff_password})
        one, two = (LiveClient(w.ws_url, story.congress_id, cookie) for w in workers)
        clients = [one, two]
        for client in clients:
            await client.connect()

        async def through_one_seen_on_two(item: int) -> None:
            reply = await one.command("set_current_item", item_id=story.agenda[item]["id"])
            assert reply["msg"] == "ack", reply
            await two.wait_for(lambda: two.seq >= one.seq, timeout=10)

        await through_one_seen_on_two(0)  # no Redis yet: through the database
        redis.start()
        for worker in workers:  # each worker subscribes by itself
            deadline = time.monotonic() + 20
            while "Redis is back" not in worker.log_path.read_text(errors="replace"):
                assert time.monotonic() < deadline, worker.log_path.read_text(errors="replace")
                await asyncio.sleep(0.2)
        await through_one_seen_on_two(1)  # and through Redis
        assert two.events == one.events
    finally:
        for client in clients:
            await client.close()
        for worker in workers:
            worker.stop()
        redis.stop()
        db.dispose()
        drop_pg_database(url)
