"""The stream's hold H (congress.stream_delay_seconds) on every way an observer can read, through a
real server and real websockets, on SQLite and PostgreSQL (docs/streaming.md "Each viewer in step").

A result published at T must not reach an anonymous reader before T + H by ANY path: GET …/state,
a new observer socket's hello, a resumed observer socket, the live socket — and `as_of` gives the
state as it was. Each early read below checks, after it returned, that it really was before T + H.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect

from congress.actions.accounts import add_staff
from congress.actions.agenda import add_agenda_item, set_current_item
from congress.actions.attendance import check_in_at_desk
from congress.actions.ballots import cast_ballot
from congress.actions.base import Context
from congress.actions.roster import import_roster
from congress.actions.setup import create_congress, set_stream
from congress.actions.votes import certify_vote, close_vote, create_vote, open_vote
from congress.application.auth import delegate_actor
from congress.application.service import system_clock
from congress.db.engine import Database
from congress.db.models import Delegate
from congress.settings import Settings
from tests.story import SETUP, LiveClient, LiveServer, sign_in

pytestmark = pytest.mark.anyio

ROSTER = """employee_id,name,gender,group,unit,role,is_group_leader,delegate_type
A001,甲组长,男,甲组,一车间,一线职工,1,正式代表
A002,甲代表,女,甲组,一车间,一线职工,0,正式代表
B001,乙组长,女,乙组,二车间,一线职工,1,正式代表
B002,乙代表,男,乙组,二车间,一线职工,0,正式代表
"""
# Seconds: short, to keep the test fast (the rule is the same at 20); whole, as set_stream takes them
# (the command table refuses a fraction, and so does the stream.set event's declaration)
HOLD = 5


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Hall:
    server: LiveServer
    congress_id: int
    vote_id: int
    staff_cookie: str

    def state(self, **params: str) -> dict[str, Any]:
        response = httpx.get(f"{self.server.url}/api/congresses/{self.congress_id}/state", params=params, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def observer(self) -> LiveClient:
        return LiveClient(self.server.ws_url, self.congress_id)


@pytest.fixture
def hall(db: Database, database_url: str) -> Iterator[Hall]:
    """A vote counted and certified ten minutes ago, waiting only for staff to publish it; the stream's hold H."""
    earlier = system_clock() - timedelta(minutes=10)
    with db.write() as session:
        ctx = Context(session, SETUP, earlier)
        congress_id = create_congress(ctx, "第十届职代会第三次会议", ["甲组", "乙组"]).id
        import_roster(ctx, congress_id, ROSTER.encode(), "roster.csv")
        _account, password = add_staff(ctx, "staff")
        item = add_agenda_item(ctx, congress_id, "审议通过", "表决《职工薪酬福利调整方案》")["id"]
        delegates = list(session.scalars(sa.select(Delegate).where(Delegate.congress_id == congress_id)))
        for delegate in delegates[:3]:
            check_in_at_desk(ctx, congress_id, delegate.employee_id)
        set_stream(ctx, congress_id, "hls", "/live/demo.m3u8", HOLD)
        set_current_item(ctx, congress_id, item)
        vote = create_vote(ctx, congress_id, item, "薪酬方案", [{"kind": "yes_no", "text": "是否同意"}])
        open_vote(ctx, congress_id, vote["id"])
        question = str(vote["questions"][0]["id"])
        for delegate in delegates[:3]:
            cast_ballot(Context(session, delegate_actor(delegate), earlier), congress_id, vote["id"], {question: "yes"})
        close_vote(ctx, congress_id, vote["id"])
        certify_vote(ctx, congress_id, vote["id"], "刘志强")
        spare = delegates[3].employee_id
    server = LiveServer(Settings(database_url=database_url, port=0)).start()
    try:
        cookie, _csrf = sign_in(server.url, {"login": "staff", "password": password})
        hall = Hall(server, congress_id, int(vote["id"]), cookie)
        hall.spare = spare  # type: ignore[attr-defined]
        yield hall
    finally:
        server.stop()


def result_in(snapshot: dict[str, Any], vote_id: int) -> Any:
    return next(v for v in snapshot["votes"] if v["id"] == vote_id).get("result")


def shows_result(snapshot: dict[str, Any], events: list[dict[str, Any]], vote_id: int) -> bool:
    """What a reader holds after the snapshot and the events given with it: the result, or not."""
    return result_in(snapshot, vote_id) is not None or any(
        e["type"] == "vote.published" and e["payload"]["vote_id"] == vote_id for e in events)


async def backlog(client: LiveClient, wait: float = 0.5) -> list[dict[str, Any]]:
    await asyncio.sleep(wait)  # what came with the hello arrives right behind it
    return list(client.events)


async def test_a_published_result_reaches_no_observer_path_before_the_hold(hall: Hall) -> None:
    assert result_in(hall.state()["snapshot"], hall.vote_id) is None  # the reader's start: before T
    live = hall.observer()
    first = await live.connect()
    assert first["msg"] == "hello" and result_in(first["snapshot"], hall.vote_id) is None
    resumer = hall.observer()
    await resumer.connect()
    since = resumer.seq
    await resumer.close()

    staff = LiveClient(hall.server.ws_url, hall.congress_id, hall.staff_cookie)
    await staff.connect()
    try:
        reply = await staff.command("publish_vote", vote_id=hall.vote_id)
        assert reply["msg"] == "ack", reply
        published = next(e for e in staff.events if e["type"] == "vote.published")
        at = datetime.fromisoformat(published["at"]).timestamp()  # T: staff have it at once
        # Checked in now too: observers' coalesced 应到/实到 carries its moment and is held like events
        assert (await staff.command("check_in_at_desk", employee_id=hall.spare))["msg"] == "ack"

        # Before T + H: no path shows the result.
        held_state = hall.state()
        newcomer = hall.observer()
        hello = await newcomer.connect()
        newcomer_events = await backlog(newcomer)
        back = hall.observer()
        resumed = await back.connect(since=since)
        resumed_events = await backlog(back)
        receipts_early = await live.command("receipts", vote_id=hall.vote_id)
        assert time.time() < at + HOLD, "the early reads took longer than the hold: the test proves nothing"
        early = {"GET state": shows_result(held_state["snapshot"], held_state.get("events", []), hall.vote_id),
                 "a new socket's hello": shows_result(hello["snapshot"], newcomer_events, hall.vote_id),
                 "a resumed socket": shows_result({"votes": [{"id": hall.vote_id}]}, resumed_events, hall.vote_id),
                 "the live socket": "vote.published" in live.event_types(),
                 "the receipt list": receipts_early["msg"] == "ack"}
        assert early == dict.fromkeys(early, False), "the result reached an observer before T + H"
        assert resumed["resumed"] is True
        assert not any(m.get("msg") == "attendance" and m["present"] == 4 for m in live.ephemeral)
        assert held_state["held_seconds"] == hello["held_seconds"] == HOLD

        # From T + H on, every path shows it: the checks above could fail.
        await live.wait_for(lambda: "vote.published" in live.event_types(), timeout=HOLD + 10)
        assert time.time() >= at + HOLD - 0.05
        await asyncio.sleep(max(0.0, at + HOLD + 1.5 - time.time()))  # the history takes a snapshot a second
        after = hall.state()
        assert shows_result(after["snapshot"], after.get("events", []), hall.vote_id)
        late = hall.observer()
        late_hello = await late.connect()
        assert shows_result(late_hello["snapshot"], await backlog(late), hall.vote_id)
        assert (await live.command("receipts", vote_id=hall.vote_id))["msg"] == "ack"
        await newcomer.wait_for(lambda: "vote.published" in newcomer.event_types(), timeout=5)
        await back.wait_for(lambda: "vote.published" in back.event_types(), timeout=5)
        await live.wait_for(lambda: any(m.get("msg") == "attendance" and m["present"] == 4 for m in live.ephemeral),
                            timeout=10)
        counted = next(m for m in live.ephemeral if m.get("msg") == "attendance" and m["present"] == 4)
        assert datetime.fromisoformat(counted["at"]).timestamp() >= at  # read after the check-in

        # as_of: the state as it was just before T, from the history (the events after it come with
        # their moments, for the page to apply when its picture gets there); after T, the result.
        before = hall.state(as_of=datetime.fromtimestamp(at - 0.5, UTC).isoformat())
        assert result_in(before["snapshot"], hall.vote_id) is None
        assert [e["at"] for e in before["events"] if e["type"] == "vote.published"] == [published["at"]]
        assert before["as_of_too_old"] is False
        assert datetime.fromisoformat(before["shows"]).timestamp() <= at - 0.5
        since_t = hall.state(as_of=str(at + 0.01))
        assert shows_result(since_t["snapshot"], since_t.get("events", []), hall.vote_id)
        asked = hall.observer()
        old_hello = await connect_as_of(asked, at - 0.5)
        assert result_in(old_hello["snapshot"], hall.vote_id) is None
        assert [e["at"] for e in await backlog(asked) if e["type"] == "vote.published"] == [published["at"]]
        # Older than the history kept: its oldest is given, and flagged.
        oldest = hall.state(as_of=str(at - 3600))
        assert oldest["as_of_too_old"] is True and result_in(oldest["snapshot"], hall.vote_id) is None
        for client in (live, newcomer, back, late, asked):
            await client.close()
    finally:
        await staff.close()


async def connect_as_of(client: LiveClient, moment: float) -> dict[str, Any]:
    """An observer socket asking for the state as of `moment` (the page does this for its picture's time)."""
    client.ws = await connect(f"{client.ws_url}?congress={client.congress_id}&as_of={moment}", open_timeout=30)
    hello = json.loads(await client.ws.recv())
    client.hello, client.seq = hello, hello["seq"]
    client._reader = asyncio.get_running_loop().create_task(client._read())
    return hello


def test_a_bad_as_of_is_refused_naming_it(hall: Hall) -> None:
    response = httpx.get(f"{hall.server.url}/api/congresses/{hall.congress_id}/state", params={"as_of": "yesterday"},
                         timeout=30)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "bad_request" and "as_of" in response.json()["error"]["message"]
