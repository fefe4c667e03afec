"""The core loop through a real server: a group checks in, a vote opens, ballots arrive, observers
see the result only once it is published."""

from __future__ import annotations

import asyncio

import pytest

from congress.settings import Settings
from tests.story import LiveClient, LiveServer, build_story, sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_checked_in_group_votes_and_observer_sees_result_only_after_publish(db, database_url):
    story = build_story(db)
    server = LiveServer(Settings(database_url=database_url, port=0)).start()
    try:
        cookie, _ = sign_in(server.url, {"login": "staff", "password": story.staff_password})
        staff = LiveClient(server.ws_url, story.congress_id, cookie)
        observer = LiveClient(server.ws_url, story.congress_id)
        await staff.connect()
        hello = await observer.connect()
        assert hello["role"] == "observer" and "snapshot" in hello

        # Staff check in 200 of 295 voting delegates: quorum (197) is met.
        voting = story.voting()
        for d in voting[:200]:
            reply = await staff.command("check_in_at_desk", employee_id=d.employee_id)
            assert reply["msg"] == "ack", reply
        group_id = voting[0].group_id
        members = [d for d in voting[:200] if d.group_id == group_id][:5]

        vote = await staff.command("create_vote", agenda_item_id=story.agenda[1]["id"], title="薪酬方案",
                                   questions=[{"kind": "yes_no", "text": "是否同意"}])
        vote_id = vote["result"]["id"]
        opened = await staff.command("open_vote", vote_id=vote_id)
        assert opened["msg"] == "ack", opened
        qid = str(vote["result"]["questions"][0]["id"])

        clients = []
        for d in members:
            c, _ = sign_in(server.url, {"employee_id": d.employee_id, "code": story.codes[d.employee_id],
                                        "congress_id": story.congress_id})
            client = LiveClient(server.ws_url, story.congress_id, c)
            await client.connect()
            clients.append(client)
        replies = await asyncio.gather(*(c.command("cast_ballot", vote_id=vote_id, answers={qid: "yes"})
                                         for c in clients))
        assert all(r["msg"] == "ack" and r["result"]["recorded"] for r in replies), replies

        closed = await staff.command("close_vote", vote_id=vote_id)
        assert closed["result"]["result"]["questions"][0]["options"][0]["count"] == 5
        await observer.wait_for(lambda: "vote.closed" in observer.event_types())
        assert "vote.tallied" not in observer.event_types()  # the tally is staff-only until published
        assert (await staff.command("certify_vote", vote_id=vote_id, scrutineer="刘志强"))["msg"] == "ack"
        await staff.command("publish_vote", vote_id=vote_id)
        await observer.wait_for(lambda: "vote.published" in observer.event_types())
        published = next(e for e in observer.events if e["type"] == "vote.published")
        question = published["payload"]["result"]["questions"][0]
        assert {o["key"]: o["count"] for o in question["options"]} == {"yes": 5, "no": 0, "abstain": 0}
        assert question["passed"] is False and "未通过" in question["words"]
        assert staff.event_types() == [t for t in staff.event_types()]  # staff got everything in order
        seqs = [e["seq"] for e in staff.events]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        for c in [staff, observer, *clients]:
            await c.close()
    finally:
        server.stop()
