"""A page that connects while a vote is open gets the vote's progress at once, not at the next
ballot: the staff console opened (or reloaded) after the last ballot showed no progress until the
close (issue 21, minor 12: the running vote's progress in view)."""

from __future__ import annotations

import asyncio

import pytest

from congress.settings import Settings
from tests.story import LiveClient, LiveServer, build_story, sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_staff_connecting_after_the_last_ballot_get_the_open_vote_s_progress(db, database_url):
    story = build_story(db)
    server = LiveServer(Settings(database_url=database_url, port=0, coalesce_seconds=0.1)).start()
    try:
        cookie, _ = sign_in(server.url, {"login": "staff", "password": story.staff_password})
        first = LiveClient(server.ws_url, story.congress_id, cookie)
        await first.connect()
        for d in story.voting()[:200]:
            assert (await first.command("check_in_at_desk", employee_id=d.employee_id))["msg"] == "ack"
        vote = await first.command("create_vote", agenda_item_id=story.agenda[1]["id"], title="薪酬方案",
                                   questions=[{"kind": "yes_no", "text": "是否同意"}])
        vote_id = vote["result"]["id"]
        assert (await first.command("open_vote", vote_id=vote_id))["msg"] == "ack"
        voter = story.voting()[0]
        delegate_cookie, _ = sign_in(server.url, {"employee_id": voter.employee_id, "code": story.codes[voter.employee_id],
                                                  "congress_id": story.congress_id})
        delegate = LiveClient(server.ws_url, story.congress_id, delegate_cookie)
        await delegate.connect()
        qid = str(vote["result"]["questions"][0]["id"])
        assert (await delegate.command("cast_ballot", vote_id=vote_id, answers={qid: "yes"}))["result"]["recorded"]

        def cast(client: LiveClient) -> list[int]:
            return [v["cast"] for m in client.ephemeral if m.get("msg") == "progress" for v in m["votes"]
                    if v["vote_id"] == vote_id]

        await first.wait_for(lambda: 1 in cast(first))  # the ballot's progress went out…
        await asyncio.sleep(0.5)  # …and nothing is pending any more

        later = LiveClient(server.ws_url, story.congress_id, cookie)  # a page opened after the last ballot
        await later.connect()
        await later.wait_for(lambda: bool(cast(later)), timeout=5)
        entry = next(v for m in later.ephemeral if m.get("msg") == "progress" for v in m["votes"] if v["vote_id"] == vote_id)
        assert (entry["cast"], entry["present"], entry["eligible"]) == (1, 200, len(story.voting()))
        for client in (first, delegate, later):
            await client.ws.close()
    finally:
        server.stop()
