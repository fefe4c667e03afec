"""云听会 for an ordinary worker: before the broadcast the picture's place says that the stream has
not started and what the page shows meanwhile (it used to be left out, an empty gap); the record's
fingerprint (记录指纹) says in one plain line what it is for, with the number, the hash and how to
check a record against them behind 详细说明 (it used to print only a bare 64-digit hash)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from congress.db.models import Event
from tests.browser.conftest import LAPTOP, PHONE, accessibility_problems, shot

pytestmark = pytest.mark.browser


def test_watch_page_without_a_stream_says_it_has_not_started_and_what_to_follow_meanwhile(site, open_page):
    watch = open_page(f"/watch?congress={site.story.congress_id}", PHONE)
    stream = watch.locator("#stream")
    expect(stream).to_be_visible()
    expect(stream).to_contain_text("直播尚未开始")
    expect(stream).to_contain_text("直播开始后，画面会自动出现在这里，无需刷新页面。")
    expect(stream.locator("video")).to_have_count(0)
    # It points to what the page offers meanwhile, further down on a phone
    for name, target in (("议程", "#agenda"), ("出席情况", "#attendance"), ("已公布的结果", "#results")):
        expect(stream.get_by_role("link", name=name)).to_have_attribute("href", target)
    stream.get_by_role("link", name="议程").click()
    expect(watch.locator("#agenda")).to_be_in_viewport()
    assert accessibility_problems(watch) == []
    watch.evaluate("window.scrollTo(0, 0)")
    shot(watch, "watch-before-the-stream-phone")

    # Staff set the stream: the player takes the placeholder's place without a reload; and back
    staff = site.staff()
    site.command(staff, "set_stream", kind="hls", url="/static/no-such-stream/live.m3u8", delay_seconds=0)
    expect(stream.locator("video")).to_have_count(1)
    expect(stream).not_to_contain_text("直播开始后，画面会自动出现在这里")
    site.command(staff, "set_stream", kind="none", url="", delay_seconds=0)
    expect(stream.locator("video")).to_have_count(0)
    expect(stream).to_contain_text("直播尚未开始")


def test_record_fingerprint_says_what_it_is_for_in_one_line_and_keeps_the_hash_behind_details(site, open_page):
    watch = open_page(f"/watch?congress={site.story.congress_id}", LAPTOP)
    card = watch.locator(".fingerprint")
    expect(card.get_by_role("heading", name="记录指纹")).to_be_visible()
    expect(card).to_contain_text("用于事后核对会议记录没有被改动。")
    hash_code = card.locator("code.hash").first
    expect(hash_code).to_be_hidden()  # the 64 hex digits wait behind 详细说明
    expect(card.get_by_text("congress verify", exact=False)).to_be_hidden()
    shot(watch, "watch-fingerprint-closed")

    card.get_by_text("详细说明", exact=True).click()
    expect(hash_code).to_be_visible()
    seq = int(re.search(r"截至第 (\d+) 条记录", card.inner_text()).group(1))
    with site.db.read() as session:
        stored = session.scalar(sa.select(Event.hash).where(
            Event.congress_id == site.story.congress_id, Event.seq == seq))
    assert hash_code.inner_text() == stored  # the record's head the page was given
    expect(card).to_contain_text("事后改动、删除或调换任何一条，指纹就对不上")
    expect(card.locator(".verify-command")).to_have_text(f"congress verify 档案.zip --expect {seq}:{stored[:8]}")
    assert accessibility_problems(watch) == []
    shot(watch, "watch-fingerprint-open")
