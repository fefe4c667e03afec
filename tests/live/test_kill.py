"""A server process killed with SIGKILL in the middle of a burst of ballots, then restarted: every ballot
that was acknowledged before the kill is in the tally, and a delegate whose ballot was not acknowledged
resends it with the same command id and has it counted exactly once."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import sqlalchemy as sa

from congress.db.models import Ballot, BallotCast
from tests.story import LiveClient, ServerProcess, build_story, open_pay_vote, sign_in_all

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def stored_casts(db: Any, vote_id: int) -> tuple[list[int], int]:
    """Delegates with a ballot_cast row for the vote (as a list: duplicates would show), and ballot rows."""
    with db.read() as session:
        casts = list(session.scalars(sa.select(BallotCast.delegate_id).where(BallotCast.vote_id == vote_id)))
        ballots = session.scalar(sa.select(sa.func.count()).where(Ballot.vote_id == vote_id)) or 0
    return casts, ballots


async def test_acknowledged_ballots_survive_a_server_killed_mid_burst(db, database_url, tmp_path):
    story = build_story(db)
    voting = story.voting()
    vote, qid = open_pay_vote(db, story)
    command_ids = {d.id: f"ballot-{d.employee_id}" for d in voting}

    def frame(delegate_id: int) -> str:
        return json.dumps({"op": "cast_ballot", "id": command_ids[delegate_id], "vote_id": vote["id"],
                           "answers": {qid: "yes"}})

    server = ServerProcess(database_url, tmp_path / "server.log")
    clients: list[LiveClient] = []
    try:
        cookies = sign_in_all(server.url, [{"employee_id": d.employee_id, "code": story.codes[d.employee_id],
                                            "congress_id": story.congress_id} for d in voting])
        delegates = {d.id: LiveClient(server.ws_url, story.congress_id, c) for d, c in zip(voting, cookies, strict=True)}
        clients = list(delegates.values())
        await asyncio.gather(*(c.connect() for c in clients))

        def acked() -> set[int]:
            return {d for d, c in delegates.items() if c.replies.get(command_ids[d], {}).get("msg") == "ack"}

        # Everyone casts at once; the server is killed as soon as the first acknowledgement arrives,
        # with the rest of the burst queued, being committed or being answered.
        await asyncio.gather(*(delegates[d].ws.send(frame(d)) for d in delegates))  # type: ignore[union-attr]
        deadline = time.monotonic() + 60
        while not acked() and time.monotonic() < deadline:
            await asyncio.sleep(0.001)
        server.kill()
        acked_before_kill = acked()
        assert acked_before_kill, "no ballot was acknowledged before the kill"
        assert all(r["result"]["recorded"] for c in clients for r in c.replies.values() if r["msg"] == "ack")
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

        # After the restart every acknowledged ballot is there, each with its choice.
        server = ServerProcess(database_url, tmp_path / "server-restarted.log")
        casts, ballots = stored_casts(db, vote["id"])
        assert acked_before_kill <= set(casts)
        assert len(casts) == len(set(casts)) == ballots

        # Those not acknowledged resend the same command: recorded now, or answered with the first
        # result if it was committed before the kill; counted once either way.
        unacked = [d for d in delegates if d not in acked_before_kill]
        again = {d: LiveClient(server.ws_url, story.congress_id, delegates[d].cookie) for d in unacked}
        clients = list(again.values())
        await asyncio.gather(*(c.connect() for c in clients))
        replies = await asyncio.gather(*(again[d].command("cast_ballot", command_id=command_ids[d],
                                                          vote_id=vote["id"], answers={qid: "yes"}) for d in unacked))
        assert all(r["msg"] == "ack" and r["result"]["recorded"] for r in replies), \
            [r for r in replies if r["msg"] != "ack"][:3]

        staff_cookie = sign_in_all(server.url, [{"login": "staff", "password": story.staff_password}])[0]
        staff = LiveClient(server.ws_url, story.congress_id, staff_cookie)
        clients.append(staff)
        await staff.connect()
        closed = await staff.command("close_vote", vote_id=vote["id"])
        assert closed["msg"] == "ack", closed
        result = closed["result"]["result"]
        assert result["cast"] >= len(acked_before_kill)
        assert result["cast"] == 295
        assert {o["key"]: o["count"] for o in result["questions"][0]["options"]}["yes"] == 295
        casts, ballots = stored_casts(db, vote["id"])
        assert sorted(casts) == sorted(delegates) and ballots == 295
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        server.stop()
