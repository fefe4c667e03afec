"""`congress demo` has a picture: with ffmpeg on the machine it starts a live test picture (the
congress's name and a clock), sets it as the congress's stream, and the observer page on a phone and
on a desktop, and the big screen, play it; stopping the demo (Ctrl-C) leaves no ffmpeg behind.
Without ffmpeg the demo says how to get the picture and the observer page says plainly that the
stream has not started and staff have not set it up. The demo runs as a newcomer runs it: its own
process, in a folder of its own, nothing but `congress demo --port P`."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from congress.demo.process import DemoProcess
from tests.browser.conftest import CSP_WATCH, LAPTOP, PROJECTOR, _is_csp_report, accessibility_problems, shot
from tests.stream.conftest import require_ffmpeg

pytestmark = pytest.mark.browser

PHONE_390 = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DESKTOP = {"viewport": LAPTOP}
ADVANCING = """([selector, after]) => { const v = document.querySelector(selector);
  return !!v && v.readyState >= 2 && !v.paused && v.currentTime > after; }"""


def processes_naming(text: str) -> list[int]:
    """Live processes whose command line names `text` (here: the demo's picture folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class Pages:
    """Pages in fresh browser contexts; every CSP violation or page error is collected."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser, self.base_url = browser, base_url
        self.contexts: list[Any] = []
        self.problems: list[str] = []

    def open(self, path: str, device: dict[str, Any]) -> Any:
        context = self.browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", service_workers="block", **device)
        context.add_init_script(CSP_WATCH)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.problems.append(f"{path}: {exc}"))
        page.on("console", lambda msg: self.problems.append(f"{path}: {msg.text}") if _is_csp_report(msg.text) else None)
        page.set_default_timeout(20_000)
        page.goto(self.base_url + path)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def pages(browser: Any) -> Iterator[Any]:
    made: list[Pages] = []
    yield lambda url: made.append(Pages(browser, url)) or made[-1]
    for each in made:
        each.close()


def plays(page: Any, selector: str = "#stream video") -> float:
    """Waits until the video plays and its time moves on by a second; returns where it was."""
    page.wait_for_function(ADVANCING, arg=[selector, 0], timeout=60_000)
    at = page.locator(selector).evaluate("v => v.currentTime")
    page.wait_for_function(ADVANCING, arg=[selector, at + 1], timeout=20_000)
    return at


def test_the_demo_plays_its_test_picture_on_phone_desktop_and_big_screen_and_stops_ffmpeg_with_it(
        browser, pages, tmp_path):
    require_ffmpeg()
    demo = DemoProcess(tmp_path / "demo")
    live_folder = str(tmp_path / "demo" / "congress-demo-live")
    try:
        output = demo.output()
        assert "直播测试画面" in output and "/live/demo.m3u8" in output, output[-1500:]
        assert processes_naming(live_folder), "no ffmpeg is making the demo's picture"
        site = pages(demo.url)

        desktop = site.open("/watch?congress=1", DESKTOP)
        plays(desktop)
        expect(desktop.locator("#stream")).not_to_contain_text("直播尚未开始")
        assert desktop.locator("#stream video").evaluate("v => [v.videoWidth, v.videoHeight]") == [640, 360]
        shot(desktop, "watch-video-desktop", docs="watch-video.png")

        phone = site.open("/watch?congress=1", PHONE_390)
        plays(phone)
        box = phone.locator("#stream video").bounding_box()
        assert box is not None and box["width"] <= 390 and box["width"] > 300  # the picture fills the phone's width
        assert accessibility_problems(phone) == []
        shot(phone, "watch-video-phone")

        screen = site.open("/screen?congress=1", {"viewport": PROJECTOR})
        plays(screen)
        expect(screen.locator("#screen-item")).to_have_text("审议公司工作报告")
        shot(screen, "screen-video")
        assert site.problems == []
    finally:
        returncode = demo.stop(signal.SIGINT)  # as Ctrl-C
    assert returncode == 0, demo.output()[-1500:]
    assert processes_naming(live_folder) == [], "ffmpeg outlived the demo"


def test_without_ffmpeg_the_demo_says_how_to_get_the_picture_and_the_page_says_the_stream_is_not_set(
        browser, pages, tmp_path):
    no_tools = tmp_path / "bin"
    no_tools.mkdir()
    demo = DemoProcess(tmp_path / "demo", env={"PATH": str(no_tools)})  # a machine without ffmpeg
    try:
        output = demo.output()
        assert "未找到 ffmpeg" in output and "apt-get install ffmpeg" in output and "brew install ffmpeg" in output
        assert "congress demo" in output.split("未找到 ffmpeg", 1)[1]  # … then run it again
        assert not (tmp_path / "demo" / "congress-demo-live").exists()  # no picture was started
        site = pages(demo.url)
        phone = site.open("/watch?congress=1", PHONE_390)
        stream = phone.locator("#stream")
        expect(stream).to_contain_text("直播尚未开始")
        expect(stream).to_contain_text("工作人员尚未设置直播。")
        expect(stream.locator("video")).to_have_count(0)
        assert accessibility_problems(phone) == []
        shot(phone, "watch-demo-without-ffmpeg-phone")
        phone.get_by_role("button", name="English").click()
        expect(stream).to_contain_text("The live stream has not started yet")
        expect(stream).to_contain_text("Staff have not set up the stream yet.")
        screen = site.open("/screen?congress=1", {"viewport": PROJECTOR})
        expect(screen.locator("#screen-item")).to_have_text("审议公司工作报告")
        expect(screen.locator("#stream")).to_be_hidden()
        assert site.problems == []
    finally:
        demo.stop()
