"""PostgreSQL restarted (`pg_ctl restart -m fast`) during a burst of ballots on two workers (issue 17, point 4).

The cluster is the test's own (initdb/pg_ctl on a free port, tests/private_services.py), so the
restart disturbs nothing else. 50 delegates, 25 through each worker, cast within a few seconds; the
restart lands in the middle. Each delegate does what the pages do (web/js/live.js): a command answered
`unavailable` is sent again with the SAME id after retry_after; a socket that drops is reopened and
the command resent. What must hold: the refusals are the clear retryable `unavailable` (never an
internal error), every delegate is acknowledged in the end, nothing acknowledged is lost and nothing is
counted twice (acks = ballots stored = the tally), and the workers recover by themselves (the same
processes answer /api/congresses and take new commands). The outage window and the recovery time
are printed.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.db.models import Ballot, BallotCast
from congress.ops.server_process import ServerProcess
from tests.conftest import REDIS_URL, require_redis
from tests.private_services import PrivatePostgres
from tests.private_services import postgres as postgres  # the private cluster fixture
from tests.story import GROUPS, LiveClient, build_story, main_hall_roster, open_pay_vote, sign_in

pytestmark = pytest.mark.anyio

DELEGATES = 50
BURST_SECONDS = 4.0  # each delegate presses 确认投票 at a random moment within it
RESTART_AFTER = 1.0  # seconds into the burst
# Delegates who press the moment PostgreSQL is down (its postmaster.pid gone): the restart lands in the
# burst however long pg_ctl takes to begin under load (once the random burst had ended before it did)
WHILE_DOWN = 10


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Delegate:
    """One delegate's page: cast once, resend with the same id on `unavailable` or a dropped socket."""

    def __init__(self, client: LiveClient, vote_id: int, question: str, command_id: str) -> None:
        self.client, self.vote_id, self.question, self.command_id = client, vote_id, question, command_id
        self.refusals: list[tuple[float, dict[str, Any]]] = []
        self.reconnects = 0
        self.acked_at: float | None = None

    async def cast(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.client.closed is not None:
                self.reconnects += 1
                try:
                    await self.client.connect()
                except Exception:  # the server refuses new sockets while the database is away (1013)
                    await asyncio.sleep(0.5)
                    continue
            self.client.replies.pop(self.command_id, None)
            try:
                reply = await self.client.command("cast_ballot", command_id=self.command_id, vote_id=self.vote_id,
                                                  answers={self.question: "yes"}, timeout=15)
            except TimeoutError:
                continue  # the socket went quiet: reconnect (if it closed) and resend
            if reply["msg"] == "ack":
                self.acked_at = time.time()
                return
            self.refusals.append((time.time(), reply))
            if reply.get("code") != "unavailable":
                return  # anything else is a failure the test reports
            await asyncio.sleep(reply["retry_after"])


async def test_postgres_restarted_mid_burst_loses_and_doubles_no_ballot_and_the_workers_recover(
        postgres: PrivatePostgres, tmp_path: Path) -> None:
    require_redis()  # two workers share events through the machine's Redis (their own channel)
    upgrade(postgres.url)
    db = Database(postgres.url)
    story = build_story(db, roster=main_hall_roster(), groups=GROUPS[:1])  # codes for 63, not 305 (argon2)
    voting = story.voting()[:DELEGATES]
    vote, question = open_pay_vote(db, story)
    workers = list(await asyncio.gather(*(asyncio.to_thread(
        ServerProcess, postgres.url, tmp_path / f"worker{n}.log", redis_url=REDIS_URL) for n in (1, 2))))
    pids = [w.process.pid for w in workers]
    delegates: list[Delegate] = []
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            async def sign_in_on(n: int) -> str:
                response = await http.post(f"{workers[n % 2].url}/api/sign-in", json={
                    "employee_id": voting[n].employee_id, "code": story.codes[voting[n].employee_id],
                    "congress_id": story.congress_id})
                response.raise_for_status()
                return response.cookies["congress_session"]

            cookies = await asyncio.gather(*(sign_in_on(n) for n in range(DELEGATES)))
        delegates = [Delegate(LiveClient(workers[n % 2].ws_url, story.congress_id, cookie), vote["id"], question,
                              f"ballot-{voting[n].employee_id}") for n, cookie in enumerate(cookies)]
        await asyncio.gather(*(d.client.connect() for d in delegates))

        rng = random.Random(17)
        began = time.monotonic()
        deadline = began + 90

        async def press(delegate: Delegate) -> None:
            await asyncio.sleep(rng.uniform(0, BURST_SECONDS))
            await delegate.cast(deadline)

        async def restart() -> tuple[float, float]:
            await asyncio.sleep(RESTART_AFTER)
            down = time.time()
            await asyncio.to_thread(postgres.restart)
            return down, time.time()

        async def press_while_down(delegate: Delegate) -> None:
            while postgres.is_running() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            await delegate.cast(deadline)

        outcome = await asyncio.gather(restart(), *(press_while_down(d) for d in delegates[:WHILE_DOWN]),
                                       *(press(d) for d in delegates[WHILE_DOWN:]))
        restart_began, restart_done = outcome[0]

        refusals = [reply for d in delegates for _at, reply in d.refusals]
        assert refusals, "the restart did not land in the burst: no command was refused"
        assert {r["code"] for r in refusals} == {"unavailable"}, refusals
        assert all(r["retry_after"] > 0 and r["message"] for r in refusals)
        assert all(d.acked_at is not None for d in delegates), [d.refusals[-1:] for d in delegates if d.acked_at is None]

        # The same processes, never restarted, answer and take new commands
        assert [w.process.poll() for w in workers] == [None, None] and [w.process.pid for w in workers] == pids
        staff_cookie, _ = sign_in(workers[1].url, {"login": "staff", "password": story.staff_password})
        async with httpx.AsyncClient(timeout=30) as http:
            for worker in workers:
                assert (await http.get(f"{worker.url}/api/congresses")).status_code == 200
        staff = LiveClient(workers[0].ws_url, story.congress_id, staff_cookie)
        await staff.connect()
        try:
            closed = await staff.command("close_vote", vote_id=vote["id"])
        finally:
            await staff.close()
        assert closed["msg"] == "ack", closed

        with db.read() as session:
            casts = list(session.scalars(sa.select(BallotCast.delegate_id).where(BallotCast.vote_id == vote["id"])))
            ballots = session.scalar(sa.select(sa.func.count()).where(Ballot.vote_id == vote["id"]))
        assert sorted(casts) == sorted(d.id for d in voting)  # every acknowledged ballot, once
        assert ballots == DELEGATES
        result = closed["result"]["result"]
        counts = {o["key"]: o["count"] for o in result["questions"][0]["options"]}
        assert result["cast"] == DELEGATES and counts["yes"] == DELEGATES, result  # each ballot counted once

        for n, worker in enumerate(workers, 1):
            text = worker.log_path.read_text(errors="replace")
            assert "Traceback" not in text, f"worker {n} logged a traceback:\n{text[-4000:]}"
    finally:
        for d in delegates:
            await d.client.close()
        for worker in workers:
            worker.stop()
        db.dispose()

    refused_at = [at for d in delegates for at, _r in d.refusals]
    first_ack_after = min(d.acked_at for d in delegates if d.acked_at and d.acked_at > max(refused_at))
    print(f"\npg_ctl restart -m fast: {restart_done - restart_began:.2f} s; `unavailable` answered from "
          f"+{min(refused_at) - restart_began:.2f} s to +{max(refused_at) - restart_began:.2f} s after it began "
          f"({len(refused_at)} refusals, {sum(1 for d in delegates if d.refusals)} delegates resent, "
          f"{sum(d.reconnects for d in delegates)} reconnects); first ack after the last refusal "
          f"+{first_ack_after - restart_began:.2f} s, {first_ack_after - restart_done:.2f} s after PostgreSQL was up; "
          f"last ack +{max(d.acked_at or 0 for d in delegates) - restart_began:.2f} s; "
          f"{DELEGATES} acknowledged, {DELEGATES} stored, {DELEGATES} counted")
