"""The live picture recovers by itself: a page opened before the broadcast (the stream address
answers 404) shows that it is waiting and retrying, tries again with back-off, and starts the
picture by itself, muted, once a real HLS stream answers — with no reload. A stream address
changed by staff reaches the open page and the player loads it, letting go of the old one.

The stream is a real one: ffmpeg encodes a minute of test picture and tone into an HLS playlist
and segments, served on this site's origin by the test (as a media server in front of the
encoder would), 404 until the test says the broadcast has started."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import IN_CI, PHONE, accessibility_problems, shot

pytestmark = pytest.mark.browser

NO_NATIVE_HLS = "HTMLMediaElement.prototype.canPlayType = function () { return ''; };"
# The page plays HLS natively only where the browser also gives the stream's start date (Safari's
# getStartDate, for sync.js); Chromium has none, so "native" here adds one to stand in for Safari.
NATIVE_HLS = "HTMLMediaElement.prototype.getStartDate = function () { return new Date(NaN); };"
PLAYING = "() => { const v = document.querySelector('#stream video'); return !!v && v.readyState >= 2 && !v.paused; }"


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        message = "ffmpeg is missing: apt-get install -y ffmpeg"
        if IN_CI:
            pytest.fail(f"{message} (CI requires the stream tests to run)")
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("hls")
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error",
                    "-f", "lavfi", "-i", "testsrc=size=160x90:rate=10",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050", "-t", "60",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "20",
                    "-c:a", "aac", "-b:a", "32k",
                    "-f", "hls", "-hls_time", "2", "-hls_list_size", "0", "-hls_playlist_type", "vod",
                    str(folder / "live.m3u8")], check=True, timeout=120)
    return folder


class MediaServer:
    """Serves /live/<name>/… from the encoded files once `is_live`; 404 before (not started yet)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.is_live = False
        self.paths: list[str] = []

    def serve(self, route: Any) -> None:
        path = urlparse(route.request.url).path
        self.paths.append(path)
        file = self.folder / path.rsplit("/", 1)[-1]
        if not self.is_live or not file.is_file():
            route.fulfill(status=404, body="stream not started")
            return
        kind = "application/vnd.apple.mpegurl" if file.suffix == ".m3u8" else "video/mp2t"
        route.fulfill(status=200, path=str(file), headers={"Content-Type": kind, "Cache-Control": "no-cache"})

    def count(self, path: str) -> int:
        return sum(1 for p in self.paths if p == path)

    def wait_for(self, page: Any, path: str, count: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.count(path) < count:
            assert time.monotonic() < deadline, f"{path} asked {self.count(path)} times, not {count}: {self.paths}"
            page.wait_for_timeout(100)  # lets Playwright answer the routed requests meanwhile


def page_state(page: Any) -> dict[str, Any]:
    """What the page holds of the stream, for a failure's message: its players' addresses, the page's
    mode (replay) and the live badge (reconnecting) if it shows."""
    return page.evaluate("""() => ({
        videos: [...document.querySelectorAll('#stream video')].map((v) => v.currentSrc || v.src),
        body: document.body.className,
        stream_notice: document.querySelector('#stream .notice')?.textContent ?? null,
        live_badge: document.querySelector('.live-badge:not([hidden])')?.textContent ?? null,
    })""")


def open_stream_page(site: Any, open_page: Any, page: str, player: str) -> Any:
    init_script = NO_NATIVE_HLS if player == "hls.js" else NATIVE_HLS
    if page == "watch":
        return open_page(f"/watch?congress={site.story.congress_id}", PHONE, init_script=init_script)
    delegate = site.story.voting()[0]
    signed_in = open_page("/sign-in", PHONE, init_script=init_script)
    signed_in.get_by_label("工号", exact=True).fill(delegate.employee_id)
    signed_in.get_by_label("访问码", exact=True).fill(site.story.codes[delegate.employee_id])
    signed_in.get_by_role("button", name="登录", exact=True).click()
    signed_in.wait_for_url("**/delegate")
    return signed_in


@pytest.mark.parametrize(("page_name", "player"), [("watch", "native"), ("watch", "hls.js"), ("delegate", "native")])
def test_the_picture_starts_by_itself_once_the_stream_answers_and_follows_a_new_address(
        site, open_page, encoded, page_name, player):
    media = MediaServer(encoded)
    staff = site.staff()
    page = open_stream_page(site, open_page, page_name, player)
    page.route(f"{site.url}/live/**", media.serve)
    expect(page.locator("#stream video")).to_have_count(0)  # no stream set yet
    page.evaluate("window.sameDocument = true")

    # Staff set the address before the broadcast: it reaches the open page, which waits and retries.
    site.command(staff, "set_stream", kind="hls", url="/live/hall/live.m3u8", delay_seconds=0)
    video = page.locator("#stream video")
    expect(video).to_be_visible()
    status = page.locator("#stream .stream-status")
    expect(status).to_contain_text("直播尚未开始，正在重试…", timeout=20_000)
    assert video.evaluate("v => [v.muted, v.hasAttribute('muted'), v.hasAttribute('playsinline')]") == [True, True, True]
    assert accessibility_problems(page) == []
    shot(page, f"stream-{page_name}-{player}-waiting")
    media.wait_for(page, "/live/hall/live.m3u8", 2, seconds=10)  # tried again by itself (2 s)
    asked = media.count("/live/hall/live.m3u8")
    page.get_by_role("button", name="立即重试").click()
    media.wait_for(page, "/live/hall/live.m3u8", asked + 1, seconds=1.5)  # at once

    # The broadcast starts: the next try (at most 4 s later) plays it, muted, on the same page.
    media.is_live = True
    page.wait_for_function(PLAYING, timeout=20_000)
    expect(status).to_be_hidden()
    expect(page.get_by_role("button", name="立即重试")).to_be_hidden()
    assert page.evaluate("window.sameDocument") is True
    assert video.evaluate("v => v.muted") is True
    shot(page, f"stream-{page_name}-{player}-playing")
    unmute = page.get_by_role("button", name="打开声音")
    unmute.click()
    assert video.evaluate("v => v.muted") is False
    expect(unmute).to_be_hidden()

    # Staff move the stream to another address: the open page loads it and lets go of the old one.
    site.command(staff, "set_stream", kind="hls", url="/live/annex/live.m3u8", delay_seconds=0)
    try:  # as long as the first picture was given: on a loaded CI machine the page is slow too
        media.wait_for(page, "/live/annex/live.m3u8", 1, seconds=20)
    except AssertionError as missed:
        raise AssertionError(f"{missed}; the page then showed {page_state(page)}") from None
    page.wait_for_function(PLAYING, timeout=20_000)
    expect(page.locator("#stream video")).to_have_count(1)
    if player == "native":
        assert page.locator("#stream video").evaluate("v => v.src").endswith("/live/annex/live.m3u8")
    page.wait_for_timeout(1000)
    old = sum(1 for p in media.paths if p.startswith("/live/hall/"))
    page.wait_for_timeout(3000)
    assert sum(1 for p in media.paths if p.startswith("/live/hall/")) == old, "the old stream is still loaded"
    assert page.evaluate("window.sameDocument") is True
