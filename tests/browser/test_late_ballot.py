"""A ballot confirmed offline that reaches the server after the close: the delegate is told plainly
that it was not counted, and staff can count such ballots (issue: "a ballot can be lost without a
word")."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from congress.db.models import BallotCast, Event
from tests.browser.conftest import PHONE, Site, shot, sign_in_delegate

pytestmark = pytest.mark.browser


def test_a_ballot_confirmed_offline_and_sent_after_the_close_is_reported_as_not_counted(site: Site, open_page: Any) -> None:
    story = site.story
    checked_in = set(site.check_in_before_pages_open())
    voter = next(d for d in story.voting() if d.employee_id in checked_in and not d.is_group_leader)
    staff = site.staff()
    vote = site.command(staff, "create_vote", agenda_item_id=story.agenda[1]["id"], title="表决《职工薪酬福利调整方案》",
                        questions=[{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"}])
    site.command(staff, "open_vote", vote_id=vote["id"])

    page = sign_in_delegate(open_page, site, voter.employee_id)
    panel = page.locator(".vote-panel")
    panel.get_by_text("赞成", exact=True).click()
    panel.get_by_role("button", name="下一步：确认选择").click()

    page.context.set_offline(True)
    panel.get_by_role("button", name="确认投票").click()
    expect(panel).to_contain_text("正在提交")
    site.command(staff, "close_vote", vote_id=vote["id"])  # staff close while the phone is offline
    page.context.set_offline(False)

    notice = page.locator(".late-ballot")
    expect(notice).to_contain_text("您的选票未被计入", timeout=60_000)
    expect(notice).to_contain_text("截止")
    expect(notice).to_contain_text("之后才送达，未被计入")
    shot(page, "late-ballot-phone", full_page=True)
    with site.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(BallotCast)
                              .where(BallotCast.vote_id == vote["id"])) == 0
        late = list(session.scalars(sa.select(Event).where(Event.type == "ballot.late")))
    assert [e.payload["vote_id"] for e in late] == [vote["id"]]


def test_a_connection_that_dies_silently_while_a_ballot_is_sent_is_reported_within_seconds(site: Site, open_page: Any) -> None:
    """The network drops without a word (no FIN, no 'offline' event): the page must say within
    seconds that the ballot waits for the connection, not ~27 s later at the next heartbeat."""
    story = site.story
    checked_in = set(site.check_in_before_pages_open())
    voter = next(d for d in story.voting() if d.employee_id in checked_in and not d.is_group_leader)
    staff = site.staff()
    vote = site.command(staff, "create_vote", agenda_item_id=story.agenda[1]["id"], title="表决《职工薪酬福利调整方案》",
                        questions=[{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"}])
    site.command(staff, "open_vote", vote_id=vote["id"])

    page = open_page("/sign-in", PHONE)
    silent = {"on": False}

    def relay(ws: Any) -> None:
        # Between the page and the server, until `silent`: then frames vanish both ways.
        server = ws.connect_to_server()
        ws.on_message(lambda m: None if silent["on"] else server.send(m))
        server.on_message(lambda m: None if silent["on"] else ws.send(m))

    page.route_web_socket("**/ws*", relay)
    page.get_by_label("工号", exact=True).fill(voter.employee_id)
    page.get_by_label("访问码", exact=True).fill(story.codes[voter.employee_id])
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/delegate")
    panel = page.locator(".vote-panel")
    panel.get_by_text("赞成", exact=True).click()
    panel.get_by_role("button", name="下一步：确认选择").click()
    silent["on"] = True
    started = time.monotonic()
    panel.get_by_role("button", name="确认投票").click()
    expect(panel).to_contain_text("网络中断，恢复连接后会自动重新提交", timeout=12_000)
    assert time.monotonic() - started < 12
    silent["on"] = False  # the network is back: the same command goes again and is recorded once
    expect(panel.locator(".recorded")).to_contain_text("已记录", timeout=30_000)
    with site.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(BallotCast)
                              .where(BallotCast.vote_id == vote["id"])) == 1
