"""The stream's health on the pages, for real: an ffmpeg test picture writing live HLS, `congress serve`
serving it at /live/demo.m3u8, the staff console on a laptop and a viewer's /watch on a phone in
headless Chromium (two viewers: a phone and a laptop).

While the picture runs the staff console says 直播中 with the newest segment's age, the edge latency,
how many watch, and the suggested server hold beside the delay field; the viewer's video plays.
Stopping the encoder shows staff 直播已中断 N 秒：请检查推流（OBS/编码器） and the viewer
直播信号中断，正在等待恢复… within 15 s; starting it again clears both and the picture moves on.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LAPTOP, PHONE, accessibility_problems, browser, shot  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
ADVANCING = """async () => {
  const v = document.querySelector('#stream video');
  if (!v || v.readyState < 2) return false;
  const t = v.currentTime;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return v.currentTime > t;
}"""


def watch_errors(page: Any, errors: list[str]) -> None:
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    page.on("console", lambda msg: errors.append(f"{page.url}: {msg.text}") if msg.type == "error"
            and "WebSocket" not in msg.text and "Failed to load resource" not in msg.text else None)


def wait_until(page: Any, script: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"not true within {seconds} s: {script}"
        page.wait_for_timeout(250)


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_staff_see_the_stream_live_then_stalled_and_the_viewer_is_told_until_it_is_back(stream_site, browser) -> None:  # noqa: F811
    site, picture = stream_site, stream_site.picture
    staff_http = httpx.Client(base_url=site.url, timeout=30)
    signed = staff_http.post("/api/sign-in", json={"login": site.story.staff_login, "password": site.story.staff_password})
    signed.raise_for_status()
    staff_http.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
    set_stream = staff_http.post(f"/api/congresses/{site.story.congress_id}/commands/set_stream",
                                 json={"kind": "hls", "url": site.stream_url, "delay_seconds": 2})
    assert set_stream.status_code == 200, set_stream.text

    errors: list[str] = []
    staff_context = browser.new_context(viewport=LAPTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    staff_context.add_cookies([{"name": "congress_session", "value": signed.cookies["congress_session"], "url": site.url}])
    viewer_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN",
                                         timezone_id="Asia/Shanghai")
    laptop_context = browser.new_context(viewport=LAPTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    figures: list[str] = []
    try:
        viewer = viewer_context.new_page()
        watch_errors(viewer, errors)
        viewer.goto(f"{site.url}/watch?congress={site.story.congress_id}")
        laptop_viewer = laptop_context.new_page()
        watch_errors(laptop_viewer, errors)
        laptop_viewer.goto(f"{site.url}/watch?congress={site.story.congress_id}")
        staff = staff_context.new_page()
        watch_errors(staff, errors)
        staff.goto(f"{site.url}/staff?congress={site.story.congress_id}#setup")

        wait_until(viewer, ADVANCING, 30)  # the viewers' pictures play
        wait_until(laptop_viewer, ADVANCING, 30)
        stall_note = viewer.locator("#stream .stream-stalled")
        laptop_stall_note = laptop_viewer.locator("#stream .stream-stalled")
        expect(stall_note).to_be_hidden()
        expect(laptop_stall_note).to_be_hidden()

        card = staff.locator(".stream-health")
        expect(card.locator(".health-state")).to_have_text("直播中", timeout=20_000)
        expect(card.locator(".health-observers")).to_have_text("观看人数 2")
        expect(card.locator(".health-latency")).to_contain_text("边缘延迟", timeout=10_000)
        expect(card.locator(".health-latency")).not_to_contain_text("未知")
        expect(card.locator(".health-age")).to_have_text(_seconds_ago_pattern())
        expect(staff.locator(".stream-hold-suggestion")).to_contain_text("建议服务器保留")
        pill = staff.locator("#status-line .stream-health-pill")
        expect(pill).to_contain_text("直播状态：直播中")
        expect(staff.locator(".stream-stall-banner")).to_have_count(0)
        figures.append(f"live: {card.locator('.health-age').inner_text()}, {card.locator('.health-latency').inner_text()}, "
                       f"{staff.locator('.stream-hold-suggestion').inner_text()}")
        assert accessibility_problems(staff) == []
        shot(staff, "stream-health-live")

        stopped_at = time.monotonic()
        picture.stop()
        banner = staff.locator("#stream-alert .stream-stall-banner")
        expect(banner).to_be_visible(timeout=15_000)
        expect(banner).to_contain_text("直播已中断")
        expect(banner).to_contain_text("秒：请检查推流（OBS/编码器）")
        staff_after = time.monotonic() - stopped_at
        expect(card.locator(".health-state")).to_have_text("中断")
        expect(stall_note).to_be_visible(timeout=max(1, 15 - (time.monotonic() - stopped_at)) * 1000)
        expect(stall_note).to_have_text("直播信号中断，正在等待恢复…")
        viewer_after = time.monotonic() - stopped_at
        expect(laptop_stall_note).to_be_visible(timeout=max(1, 15 - (time.monotonic() - stopped_at)) * 1000)
        expect(laptop_stall_note).to_have_text("直播信号中断，正在等待恢复…")
        laptop_viewer_after = time.monotonic() - stopped_at
        assert max(viewer_after, laptop_viewer_after) <= 15, (viewer_after, laptop_viewer_after)
        figures.append(f"stalled: staff banner after {staff_after:.1f} s ({banner.inner_text()}), viewer message "
                       f"after {viewer_after:.1f} s (phone), {laptop_viewer_after:.1f} s (laptop)")
        shot(staff, "stream-health-stalled")
        shot(viewer, "stream-viewer-stalled")

        started_at = time.monotonic()
        picture.start()
        expect(staff.locator(".stream-stall-banner")).to_have_count(0, timeout=30_000)
        expect(card.locator(".health-state")).to_have_text("直播中")
        wait_until(viewer, ADVANCING, 30)
        wait_until(laptop_viewer, ADVANCING, 30)
        expect(stall_note).to_be_hidden(timeout=5_000)
        expect(laptop_stall_note).to_be_hidden(timeout=5_000)
        figures.append(f"back: staff and viewer clear after {time.monotonic() - started_at:.1f} s")

        # The console in English, and on a phone without sideways scrolling
        phone = staff_context.new_page()
        watch_errors(phone, errors)
        phone.set_viewport_size(PHONE)
        phone.goto(f"{site.url}/staff?congress={site.story.congress_id}&lang=en#setup")
        english = phone.locator(".stream-health")
        expect(english.locator("h3")).to_have_text("Stream health")
        expect(english.locator(".health-state")).to_have_text("Live", timeout=20_000)
        expect(english.locator(".health-observers")).to_have_text("2 watching")
        expect(phone.locator("#status-line .stream-health-pill")).to_contain_text("Stream: Live")
        expect(phone.locator(".stream-hold-suggestion")).to_contain_text("Suggested server hold")
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        shot(phone, "stream-health-phone-en")
    finally:
        staff_context.close()
        viewer_context.close()
        laptop_context.close()
        staff_http.close()
    print("\n".join(figures))
    assert not errors, "JavaScript errors:\n" + "\n".join(errors)


def _seconds_ago_pattern() -> Any:
    import re

    return re.compile(r"^最新分片 \d+ 秒前$")
