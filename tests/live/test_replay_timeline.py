"""The replay's timeline over HTTP (GET …/timeline.json, congress/routes/replay.py), through a real
server, on SQLite and PostgreSQL: the state after each public event, a result only from its
publication on, and for an anonymous reader nothing younger than the stream's hold — neither in the
timeline nor in the chapters — while signed-in staff read it all."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from congress.actions.accounts import add_staff
from congress.actions.agenda import add_agenda_item, set_current_item
from congress.actions.attendance import check_in_at_desk
from congress.actions.ballots import cast_ballot
from congress.actions.base import Context
from congress.actions.roster import import_roster
from congress.actions.setup import create_congress, set_stream
from congress.actions.votes import certify_vote, close_vote, create_vote, open_vote, publish_vote
from congress.application.auth import delegate_actor
from congress.application.service import system_clock
from congress.db.engine import Database
from congress.db.models import Delegate
from congress.settings import Settings
from tests.story import SETUP, LiveServer, sign_in

ROSTER = """employee_id,name,gender,group,unit,role,is_group_leader,delegate_type
A001,甲组长,男,甲组,一车间,一线职工,1,正式代表
A002,甲代表,女,甲组,一车间,一线职工,0,正式代表
B001,乙组长,女,乙组,二车间,一线职工,1,正式代表
"""
HOLD_SECONDS = 60


@dataclass
class Replayed:
    server: LiveServer
    congress_id: int
    items: list[int]
    old_vote: int  # published ten minutes ago
    new_vote: int  # published just now: inside the stream's hold
    staff_cookie: str

    def get(self, name: str, cookie: str | None = None) -> httpx.Response:
        headers = {"cookie": f"congress_session={cookie}"} if cookie else {}
        return httpx.get(f"{self.server.url}/api/congresses/{self.congress_id}/{name}", headers=headers, timeout=30)


def _vote(ctx: Context, session: Any, congress_id: int, item_id: int, title: str, minutes_ago: float) -> int:
    """A named vote opened, cast by everyone, closed, certified and published `minutes_ago`."""
    now = system_clock() - timedelta(minutes=minutes_ago)
    at = Context(session, SETUP, now)
    vote = create_vote(at, congress_id, item_id, title, [{"kind": "yes_no", "text": "是否同意"}])
    open_vote(at, congress_id, vote["id"])
    question = str(vote["questions"][0]["id"])
    for delegate in session.scalars(sa.select(Delegate).where(Delegate.congress_id == congress_id)):
        cast_ballot(Context(session, delegate_actor(delegate), now), congress_id, vote["id"], {question: "yes"})
    close_vote(at, congress_id, vote["id"])
    certify_vote(at, congress_id, vote["id"], "刘志强")
    publish_vote(at, congress_id, vote["id"])
    return int(vote["id"])


@pytest.fixture
def replayed(db: Database, database_url: str) -> Iterator[Replayed]:
    start = system_clock() - timedelta(minutes=20)
    with db.write() as session:
        ctx = Context(session, SETUP, start)
        congress_id = create_congress(ctx, "第十届职代会第三次会议", ["甲组", "乙组"]).id
        import_roster(ctx, congress_id, ROSTER.encode(), "roster.csv")
        _account, password = add_staff(ctx, "staff")
        items = [add_agenda_item(ctx, congress_id, "审议", "审议公司工作报告")["id"],
                 add_agenda_item(ctx, congress_id, "审议通过", "表决《职工薪酬福利调整方案》")["id"]]
        for employee_id in session.scalars(sa.select(Delegate.employee_id).where(Delegate.congress_id == congress_id)):
            check_in_at_desk(ctx, congress_id, employee_id)
        set_stream(ctx, congress_id, "hls", "/live/demo.m3u8", HOLD_SECONDS)
        set_current_item(Context(session, SETUP, start + timedelta(minutes=1)), congress_id, items[0])
        set_current_item(Context(session, SETUP, start + timedelta(minutes=5)), congress_id, items[1])
        old_vote = _vote(ctx, session, congress_id, items[1], "薪酬方案", minutes_ago=10)
        new_vote = _vote(ctx, session, congress_id, items[1], "福利方案", minutes_ago=0)
    server = LiveServer(Settings(database_url=database_url, port=0)).start()
    try:
        cookie, _csrf = sign_in(server.url, {"login": "staff", "password": password})
        yield Replayed(server, congress_id, items, old_vote, new_vote, cookie)
    finally:
        server.stop()


def test_the_timeline_shows_each_moment_and_a_result_only_from_its_publication(replayed: Replayed) -> None:
    response = replayed.get("timeline.json", cookie=replayed.staff_cookie)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    timeline = response.json()
    moments = timeline["moments"]
    assert [m["type"] for m in moments][:4] == ["agenda.item_added", "agenda.item_added",
                                                "agenda.current_changed", "agenda.current_changed"]
    first, second = replayed.items
    assert timeline["items"][str(second)]["title"] == "表决《职工薪酬福利调整方案》"
    assert moments[2]["current_item_id"] == first
    assert moments[3]["agenda"] == [{"id": first, "status": "done"}, {"id": second, "status": "current"}]
    old = str(replayed.old_vote)
    assert timeline["votes"][old]["result"]["questions"][0]["words"]  # the published outcome, in words
    assert timeline["votes"][old]["certified_by"] == "刘志强"
    # Before its publication the vote shows as closed, after it as published; never a result before.
    statuses = [next((v["status"] for v in m["votes"] if v["id"] == replayed.old_vote), None) for m in moments]
    assert statuses[4:9] == ["open", "closed", "closed", "published", "published"]
    assert [m["type"] for m in moments[4:8]] == ["vote.opened", "vote.closed", "vote.certified", "vote.published"]


def test_an_anonymous_reader_gets_nothing_younger_than_the_stream_s_hold(replayed: Replayed) -> None:
    staff = replayed.get("timeline.json", cookie=replayed.staff_cookie).json()
    anonymous = replayed.get("timeline.json")
    assert anonymous.status_code == 200, anonymous.text
    held = anonymous.json()
    assert str(replayed.new_vote) in staff["votes"] and "result" in staff["votes"][str(replayed.new_vote)]
    assert str(replayed.new_vote) not in held["votes"]  # opened and published within the last 60 s
    assert held["votes"][str(replayed.old_vote)]["result"] == staff["votes"][str(replayed.old_vote)]["result"]
    assert held["moments"] == staff["moments"][:len(held["moments"])]
    assert len(held["moments"]) == len(staff["moments"]) - 4

    staff_chapters = replayed.get("chapters.vtt", cookie=replayed.staff_cookie).text
    chapters = replayed.get("chapters.vtt").text
    assert "结果公布：薪酬方案" in chapters and "结果公布：薪酬方案" in staff_chapters
    assert "结果公布：福利方案" in staff_chapters
    assert "福利方案" not in chapters


def test_a_congress_that_does_not_exist_is_a_clear_404(replayed: Replayed) -> None:
    response = httpx.get(f"{replayed.server.url}/api/congresses/999/timeline.json", timeout=30)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_such_congress"
