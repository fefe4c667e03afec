"""Each viewer in step with their own picture, for real (issue 16 point 3, docs/streaming.md "Each viewer
in step"): an ffmpeg test picture writing live HLS with program-date-time, `congress serve` serving it at
/live/demo.m3u8, and two Chromium viewers of the same /watch page — one at the live edge as hls.js plays
it (about 6 s behind), one behind a lagging CDN edge: its playlist requests are answered with the
playlist as it was LAG seconds ago (kept by the test), so its picture is about 20 s behind.

Staff publish a vote result at T (the event's time). Each page must show the result card when its own
picture reaches T: |the page's picture time when the card appears − T| ≤ 1 s, and so the late viewer
sees it about LAG seconds after the other. The server's hold H (stream_delay_seconds) is 4 s, less than
either viewer's delay: the pages hold the rest themselves. The late viewer starts further behind than
H, so its first snapshot is asked `as_of` its picture's time.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

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
from congress.db.models import Delegate, Event
from congress.ops.server_process import ServerProcess
from congress.streaming.encoder import PictureSpec, TestPicture
from tests.browser.conftest import LAPTOP, PHONE, browser, shot  # noqa: F401 (fixture)
from tests.story import SETUP
from tests.stream.conftest import STREAM_URL, TITLE, require_ffmpeg

pytestmark = pytest.mark.browser
ROSTER = """employee_id,name,gender,group,unit,role,is_group_leader,delegate_type
A001,甲组长,男,甲组,一车间,一线职工,1,正式代表
A002,甲代表,女,甲组,一车间,一线职工,0,正式代表
B001,乙组长,女,乙组,二车间,一线职工,1,正式代表
"""
HOLD = 4  # the server's hold (s): below both viewers' own delay
LAG = 14.0  # the lagging edge's playlist is this much older than the live one
# 2-s segments: hls.js plays 3 segments behind the newest, about 6 s. A long list keeps the segments
# the lagging edge still names.
SPEC = PictureSpec(segment_seconds=2, list_size=40)
# In the page: when the vote's result card first appears, the wall clock and the picture's moment
# (the same pictureTime() the page paces itself by: stream.js, from hls.js playingDate).
RECORD_APPEARANCE = """async (voteId) => {
  const { pictureTime } = await import('/static/js/stream.js');
  window.__seen = null;
  const look = () => {
    if (window.__seen || !document.querySelector(`#results .result-card[data-vote-id="${voteId}"]`)) return;
    const picture = pictureTime();
    window.__seen = { wall: Date.now(), picture: picture ? picture.getTime() : null };
  };
  new MutationObserver(look).observe(document.body, { childList: true, subtree: true });
  look();
}"""
PLAYING = """async () => {
  const v = document.querySelector('#stream video');
  if (!v || v.readyState < 2) return false;
  const t = v.currentTime;
  await new Promise((resolve) => setTimeout(resolve, 1200));
  return v.currentTime > t;
}"""
PICTURE_LAG = """async () => {
  const { pictureTime } = await import('/static/js/stream.js');
  const p = pictureTime();
  return p ? (Date.now() - p.getTime()) / 1000 : null;
}"""


class LaggingEdge:
    """The playlist as a CDN edge that is LAG seconds late serves it: the test keeps every version."""

    def __init__(self, playlist: Path, lag: float) -> None:
        self.playlist, self.lag = playlist, lag
        self.versions: deque[tuple[float, str]] = deque()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._keep, daemon=True)

    def _keep(self) -> None:
        while not self.stopped.wait(0.2):
            try:
                text = self.playlist.read_text()
            except OSError:
                continue
            if "#EXTINF" in text and (not self.versions or self.versions[-1][1] != text):
                self.versions.append((time.time(), text))

    def old_enough(self) -> bool:
        return bool(self.versions) and self.versions[0][0] <= time.time() - self.lag

    def serve(self, route: Any) -> None:
        wanted = time.time() - self.lag
        older = [text for at, text in self.versions if at <= wanted]
        if not older:
            route.fulfill(status=404, body="not yet")
            return
        route.fulfill(status=200, body=older[-1], headers={"content-type": "application/vnd.apple.mpegurl",
                                                           "cache-control": "no-store"})

    def __enter__(self) -> LaggingEdge:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(5)


@dataclass
class Hall:
    server: ServerProcess
    picture: TestPicture
    congress_id: int
    vote_id: int
    staff_login: str
    staff_password: str
    database_url: str


@pytest.fixture
def hall(database_url: str, tmp_path: Path) -> Iterator[Hall]:
    """A counted, certified vote waiting to be published; the test picture at /live/demo.m3u8 as its stream."""
    picture = TestPicture(tmp_path / "live", title=TITLE, name="demo", spec=SPEC, ffmpeg=require_ffmpeg(),
                          log_path=tmp_path / "ffmpeg.log").start()
    db = Database(database_url)
    try:
        earlier = system_clock() - timedelta(minutes=10)
        with db.write() as session:
            ctx = Context(session, SETUP, earlier)
            congress_id = create_congress(ctx, TITLE, ["甲组", "乙组"]).id
            import_roster(ctx, congress_id, ROSTER.encode(), "roster.csv")
            _account, password = add_staff(ctx, "staff")
            item = add_agenda_item(ctx, congress_id, "审议通过", "表决《职工薪酬福利调整方案》")["id"]
            delegates = list(session.scalars(sa.select(Delegate).where(Delegate.congress_id == congress_id)))
            for delegate in delegates:
                check_in_at_desk(ctx, congress_id, delegate.employee_id)
            set_stream(ctx, congress_id, "hls", STREAM_URL, HOLD)
            set_current_item(ctx, congress_id, item)
            vote = create_vote(ctx, congress_id, item, "薪酬方案", [{"kind": "yes_no", "text": "是否同意"}])
            open_vote(ctx, congress_id, vote["id"])
            question = str(vote["questions"][0]["id"])
            for delegate in delegates:
                cast_ballot(Context(session, delegate_actor(delegate), earlier), congress_id, vote["id"], {question: "yes"})
            close_vote(ctx, congress_id, vote["id"])
            certify_vote(ctx, congress_id, vote["id"], "刘志强")
    finally:
        db.dispose()
    server = ServerProcess(database_url, tmp_path / "server.log", env={"CONGRESS_STREAM_DIR": str(picture.folder)})
    try:
        picture.wait_for_playlist(timeout=30)
        yield Hall(server, picture, congress_id, int(vote["id"]), "staff", password, database_url)
    finally:
        server.stop()
        picture.stop()


def published_at(hall: Hall) -> float:
    db = Database(hall.database_url)
    try:
        with db.read() as session:
            return session.scalar(sa.select(Event.created_at).where(
                Event.congress_id == hall.congress_id, Event.type == "vote.published")).timestamp()
    finally:
        db.dispose()


def wait_until(page: Any, script: str, seconds: float, arg: Any = None) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = page.evaluate(script, arg)
        if value:
            return value
        assert time.monotonic() < deadline, f"not true within {seconds} s: {script}"
        page.wait_for_timeout(250)


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_two_viewers_each_see_the_result_when_their_own_picture_reaches_it(hall: Hall, browser) -> None:  # noqa: F811
    errors: list[str] = []
    watch = f"{hall.server.url}/watch?congress={hall.congress_id}"
    near_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    late_context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    with LaggingEdge(hall.picture.playlist, LAG) as edge:  # type: ignore[arg-type]
        try:
            near = near_context.new_page()
            near.on("pageerror", lambda exc: errors.append(f"near: {exc}"))
            near.goto(watch)
            # Before its picture plays the page says it is syncing, not a state its video has not reached
            expect(near.locator("#sync-line")).to_have_text("正在与直播画面同步…")
            wait_until(near, PLAYING, 30)
            expect(near.locator("#sync-line")).to_have_text("议程、出席和表决结果与您的直播画面同步显示。", timeout=10_000)
            expect(near.locator("#current")).to_contain_text("表决《职工薪酬福利调整方案》")

            while not edge.old_enough():
                near.wait_for_timeout(250)
            late = late_context.new_page()
            late.on("pageerror", lambda exc: errors.append(f"late: {exc}"))
            late_context.route(f"**{STREAM_URL}*", edge.serve)
            late.goto(watch)
            wait_until(late, PLAYING, 40)
            expect(late.locator("#sync-line")).to_have_text("议程、出席和表决结果与您的直播画面同步显示。", timeout=15_000)
            lags = {"near": near.evaluate(PICTURE_LAG), "late": late.evaluate(PICTURE_LAG)}
            assert lags["late"] > HOLD + 8 and lags["late"] - lags["near"] > LAG - 4, lags
            for page in (near, late):
                page.evaluate(RECORD_APPEARANCE, hall.vote_id)
                expect(page.locator("#no-results")).to_be_visible()

            staff = httpx.Client(base_url=hall.server.url, timeout=30)
            signed = staff.post("/api/sign-in", json={"login": hall.staff_login, "password": hall.staff_password})
            signed.raise_for_status()
            staff.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
            reply = staff.post(f"/api/congresses/{hall.congress_id}/commands/publish_vote", json={"vote_id": hall.vote_id})
            assert reply.status_code == 200, reply.text
            staff.close()
            at = published_at(hall)

            seen = {"near": wait_until(near, "() => window.__seen", 30),
                    "late": wait_until(late, "() => window.__seen", 40)}
            offsets = {who: s["picture"] - at * 1000 for who, s in seen.items()}
            behind = {who: (s["wall"] - s["picture"]) / 1000 for who, s in seen.items()}
            apart = (seen["late"]["wall"] - seen["near"]["wall"]) / 1000
            print(f"\nin step: picture time at the result card minus T (ms) {offsets}; "
                  f"viewers behind live (s) {behind}; the late viewer saw it {apart:.1f} s after the near one")
            assert all(abs(offset) <= 1000 for offset in offsets.values()), offsets
            assert LAG - 3 <= apart <= LAG + 3, apart
            for page in (near, late):
                expect(page.locator(f'#results .result-card[data-vote-id="{hall.vote_id}"]')).to_contain_text("薪酬方案")
            shot(near, "watch-in-step-phone")
            shot(late, "watch-in-step-late-laptop")
        finally:
            near_context.close()
            late_context.close()
    assert not errors, "JavaScript errors:\n" + "\n".join(errors)


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_a_stalled_picture_falls_back_to_the_servers_hold_and_comes_back_in_step(hall: Hall, browser) -> None:  # noqa: F811
    """The encoder stops: after 15 s without a moving picture the page stops waiting for it, applies
    what the server gives (held by H) and says so in one line; the encoder starts again: in step."""
    errors: list[str] = []
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{hall.server.url}/watch?congress={hall.congress_id}")
        line = page.locator("#sync-line")
        wait_until(page, PLAYING, 30)
        expect(line).to_have_text("议程、出席和表决结果与您的直播画面同步显示。", timeout=10_000)

        hall.picture.stop()
        expect(line).to_have_text(f"直播画面未在播放：议程、出席和结果按 {HOLD} 秒延迟显示。", timeout=30_000)
        # Held by the server alone now: a result published meanwhile shows H after it, with no picture
        staff = httpx.Client(base_url=hall.server.url, timeout=30)
        signed = staff.post("/api/sign-in", json={"login": hall.staff_login, "password": hall.staff_password})
        signed.raise_for_status()
        staff.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
        assert staff.post(f"/api/congresses/{hall.congress_id}/commands/publish_vote",
                          json={"vote_id": hall.vote_id}).status_code == 200
        staff.close()
        expect(page.locator(f'#results .result-card[data-vote-id="{hall.vote_id}"]')).to_be_visible(timeout=HOLD * 1000 + 5_000)
        shot(page, "watch-in-step-fallback-phone")

        hall.picture.start()
        wait_until(page, PLAYING, 40)
        expect(line).to_have_text("议程、出席和表决结果与您的直播画面同步显示。", timeout=20_000)
    finally:
        context.close()
    assert not errors, "JavaScript errors:\n" + "\n".join(errors)
