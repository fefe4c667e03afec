"""The replay (回放) on the watch page: after the session the recording plays with its chapters, and
moving through the video shows the agenda, current item and results as they were at that moment.

Everything is real: ffmpeg records a test picture in real time into an HLS EVENT playlist with
program-date-time (congress.streaming.recording, as the packager's second output does at the venue)
while the test runs the congress over HTTP — an item made current, then the next, a vote opened,
ballots cast, the vote closed, certified and its result published a few seconds before the end; the
recording ends (#EXT-X-ENDLIST), staff point the stream at it, served by the app at /live/
(CONGRESS_STREAM_DIR), and Chromium opens /watch, natively and through hls.js."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from congress.streaming.recording import recording_output
from tests.browser.conftest import LAPTOP, PHONE, Site, accessibility_problems, shot, story_site
from tests.browser.test_english_pages import untranslated
from tests.stream.conftest import require_ffmpeg

pytestmark = pytest.mark.browser

RECORD_SECONDS = 24
NO_NATIVE_HLS = "HTMLMediaElement.prototype.canPlayType = function () { return ''; };"
# The page plays HLS natively only where the browser also gives the stream's start date (Safari's
# getStartDate, for sync.js); Chromium has none, so "native" here adds one to stand in for Safari.
NATIVE_HLS = "HTMLMediaElement.prototype.getStartDate = function () { return new Date(NaN); };"
VOTE_TITLE = "表决《职工薪酬福利调整方案》"


@pytest.fixture
def site(tmp_path: Path, story_template: tuple[Path, Any]) -> Iterator[Site]:
    """The browser tests' site (tests/browser/conftest.py), serving tmp_path/live at /live/."""
    (tmp_path / "live").mkdir()
    with story_site(tmp_path, story_template, stream_dir=tmp_path / "live") as running:
        yield running


def record(folder: Path, seconds: int) -> subprocess.Popen[bytes]:
    """A real-time test picture and tone, recorded as the replay is (congress.streaming.recording)."""
    argv = [require_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error",
            "-re", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=10",
            "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050", "-t", str(seconds),
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
            "-g", "20", "-keyint_min", "20", "-sc_threshold", "0", "-c:a", "aac", "-b:a", "32k",
            *recording_output(folder / "replay.m3u8")]
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=(folder.parent / "ffmpeg.log").open("wb"))


def wait_until(check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def run_the_session(site: Site) -> dict[str, Any]:
    """Over HTTP as staff and delegates, while the picture is recorded: ~17 s of a congress."""
    story = site.story
    checked_in = set(site.check_in_before_pages_open())
    staff = site.staff()
    first, second = story.agenda[0], story.agenda[1]
    site.command(staff, "set_current_item", item_id=first["id"])
    time.sleep(3)
    site.command(staff, "set_current_item", item_id=second["id"])
    vote = site.command(staff, "create_vote", agenda_item_id=second["id"], title=VOTE_TITLE,
                        questions=[{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"}])
    time.sleep(3)
    site.command(staff, "open_vote", vote_id=vote["id"])
    question = str(vote["questions"][0]["id"])
    for index, delegate in enumerate([d for d in story.voting() if d.employee_id in checked_in][:4]):
        site.command(site.delegate(delegate.employee_id), "cast_ballot", vote_id=vote["id"],
                     answers={question: "yes" if index < 3 else "no"})
    time.sleep(3)
    site.command(staff, "close_vote", vote_id=vote["id"])
    site.command(staff, "certify_vote", vote_id=vote["id"], scrutineer="刘志强")
    time.sleep(3)
    site.command(staff, "publish_vote", vote_id=vote["id"])
    return {"staff": staff, "first": first, "second": second, "vote": vote}


def replay_page(open_page: Any, site: Site, viewport: dict[str, int], *, player: str, lang: str = "") -> Any:
    page = open_page(f"/watch?congress={site.story.congress_id}{lang}", viewport,
                     init_script=NO_NATIVE_HLS if player == "hls.js" else NATIVE_HLS)
    expect(page.locator(".replay .replay-label")).to_be_visible(timeout=20_000)
    expect(page.locator(".chapter-list .chapter").first).to_be_visible(timeout=20_000)
    return page


def test_the_recording_replays_with_its_chapters_and_the_state_of_each_moment(site, open_page, tmp_path):
    folder = tmp_path / "live"
    encoder = record(folder, RECORD_SECONDS)
    try:
        playlist = folder / "replay.m3u8"
        wait_until(lambda: playlist.exists() and "#EXTINF" in playlist.read_text(), 20,
                   f"no segment recorded: {(tmp_path / 'ffmpeg.log').read_text(errors='replace')}")
        session = run_the_session(site)
        assert encoder.wait(RECORD_SECONDS + 20) == 0, (tmp_path / "ffmpeg.log").read_text(errors="replace")
    finally:
        if encoder.poll() is None:
            encoder.kill()
            encoder.wait()
    recorded = playlist.read_text()
    assert "#EXT-X-ENDLIST" in recorded and "#EXT-X-PROGRAM-DATE-TIME" in recorded
    site.command(session["staff"], "set_stream", kind="hls", url="/live/replay.m3u8", delay_seconds=0)
    first, second = session["first"]["title"], session["second"]["title"]

    for player in ("native", "hls.js"):
        page = replay_page(open_page, site, PHONE, player=player)
        source = page.locator("#stream video").evaluate("v => v.src")
        assert source.endswith("/live/replay.m3u8") if player == "native" else source.startswith("blob:"), source
        titles = page.locator(".chapter-list .chapter-title")
        expect(titles).to_have_text([f"议程：{first}", f"议程：{second}", f"表决开始：{VOTE_TITLE}",
                                     f"结果公布：{VOTE_TITLE}"])
        # The end of the session's live panels give way to the moment's.
        expect(page.locator("#results")).to_be_hidden()
        expect(page.locator("#attendance")).to_be_hidden()
        state = page.locator(".replay-state")

        page.locator(".chapter", has_text="结果公布").click()
        expect(state.locator(".result-card")).to_have_count(1)
        expect(state.locator(".result-card")).to_contain_text(VOTE_TITLE)
        expect(state.locator(".current-item .item-title")).to_have_text(second)
        expect(state.locator(".vote-progress")).to_have_count(0)  # closed and published by then
        expect(page.locator(".chapter", has_text="结果公布")).to_have_attribute("aria-current", "true")
        at = page.locator("#stream video").evaluate("v => v.currentTime")
        page.locator("#stream video").evaluate("v => v.play()")
        page.wait_for_function(f"() => document.querySelector('#stream video').currentTime > {at} + 0.5")
        if player == "native":
            shot(page, "watch-replay-phone", docs="watch-replay.png", full_page=True)

        page.locator(".chapter", has_text=f"议程：{first}").click()
        expect(state.locator(".current-item .item-title")).to_have_text(first)
        expect(state.locator(".result-card")).to_have_count(0)
        expect(state.locator(".replay-no-results")).to_be_visible()
        page.locator(".chapter", has_text="表决开始").click()
        expect(state.locator(".current-item .item-title")).to_have_text(second)
        expect(state.locator(".vote-progress")).to_contain_text(VOTE_TITLE)  # open at that moment
        expect(state.locator(".result-card")).to_have_count(0)
        assert accessibility_problems(page) == []

        if player == "hls.js":  # in English: the chapters' words change, the place in the video does not
            page.locator(".chapter", has_text="结果公布").click()
            expect(state.locator(".result-card")).to_have_count(1)
            page.get_by_role("button", name="English").click()
            expect(page.locator(".replay .replay-label")).to_have_text("Replay")
            expect(page.locator(".chapter", has_text="Result published")).to_have_attribute("aria-current", "true")
            expect(page.locator(".replay-state .result-card")).to_contain_text(VOTE_TITLE)

    laptop = replay_page(open_page, site, LAPTOP, player="hls.js", lang="&lang=en")
    expect(laptop.locator(".replay .replay-label")).to_have_text("Replay")
    laptop.locator(".chapter", has_text="Vote opened").click()
    expect(laptop.locator(".replay-state .vote-progress")).to_contain_text(VOTE_TITLE)
    assert untranslated(laptop) == []
    laptop.locator(".chapter", has_text="Result published").click()
    expect(laptop.locator(".replay-state .result-card")).to_contain_text(VOTE_TITLE)
    assert untranslated(laptop) == []
    shot(laptop, "watch-replay-laptop-en")
