"""The real pipeline on one machine, with the shipped stream server config: an encoder (the ffmpeg
test picture standing in for OBS) pushes RTMP to nginx with Debian's RTMP module, which starts the
ffmpeg packager (`exec_push`) that writes HLS with EXT-X-PROGRAM-DATE-TIME; nginx serves it over
HTTP with the headers a player and a CDN need; the congress's observer page in Chromium, on another
origin, plays it; and when the encoder stops, nginx stops the packager and the playlist stops.

deploy/nginx-rtmp.conf is used as shipped: the test only moves its ports and paths into tmp_path
(and runs its workers as root when the test runs as root, so they can write there)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from congress.actions.base import Context
from congress.actions.setup import set_stream
from congress.application.service import system_clock
from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.ops.server_process import ServerProcess, free_port
from congress.streaming.encoder import TestPicture
from tests.browser.conftest import CSP_WATCH, LAPTOP, _is_csp_report, browser  # noqa: F401 (the fixture)
from tests.story import SETUP, build_story
from tests.stream.conftest import IN_CI, require_ffmpeg

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "deploy" / "nginx-rtmp.conf"
RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
PDT = re.compile(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)")
pytestmark = pytest.mark.browser
PLAYING = """(after) => { const v = document.querySelector('#stream video');
  return !!v && v.readyState >= 2 && !v.paused && v.currentTime > after; }"""


def require_nginx_rtmp() -> str:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if nginx is None or not RTMP_MODULE.exists():
        message = "nginx with the RTMP module is missing: apt-get install -y nginx libnginx-mod-rtmp"
        if IN_CI:
            pytest.fail(f"{message} (CI requires the stream tests to run)")
        pytest.skip(message)
    return nginx


def local_config(folder: Path, rtmp_port: int, http_port: int, ffmpeg: str) -> str:
    """The shipped config with only its ports and paths moved here; each one must still be there."""
    text = SHIPPED.read_text()
    moves = [("listen 1935;", f"listen {rtmp_port};"),
             ("rtmp://127.0.0.1:1935/", f"rtmp://127.0.0.1:{rtmp_port}/"),
             ("listen 8080;", f"listen 127.0.0.1:{http_port};"),
             ("/var/www/congress", str(folder / "www")),
             ("/var/log/congress-stream", str(folder / "logs")),
             ("/run/congress-stream.pid", str(folder / "nginx.pid")),
             ("/usr/bin/ffmpeg", ffmpeg)]
    if os.geteuid() == 0:
        moves.append(("user www-data;", "user root;"))
    for old, new in moves:
        assert old in text, f"deploy/nginx-rtmp.conf no longer has {old!r}: update this test with it"
        text = text.replace(old, new)
    return text


@dataclass
class StreamServer:
    process: subprocess.Popen[bytes]
    rtmp_port: int
    http_port: int
    folder: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def packagers(self) -> list[int]:
        """The running ffmpeg packagers nginx started for this server (by their RTMP input)."""
        marker = f"rtmp://127.0.0.1:{self.rtmp_port}/".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    cmdline = (entry / "cmdline").read_bytes()
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                except OSError:
                    continue
                if marker in cmdline and b"-c\x00copy" in cmdline and state != "Z":
                    found.append(int(entry.name))
        return found


@pytest.fixture
def stream_server(tmp_path: Path) -> Iterator[StreamServer]:
    nginx, ffmpeg = require_nginx_rtmp(), require_ffmpeg()
    folder = tmp_path / "nginx"
    for sub in ("www/live", "logs"):
        (folder / sub).mkdir(parents=True)
    rtmp_port, http_port = free_port(), free_port()
    config = folder / "nginx.conf"
    config.write_text(local_config(folder, rtmp_port, http_port, ffmpeg))
    checked = subprocess.run([nginx, "-t", "-p", str(folder), "-c", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    with (folder / "nginx.out").open("ab") as out:
        process = subprocess.Popen([nginx, "-p", str(folder), "-c", str(config), "-g", "daemon off;"],
                                   stdout=out, stderr=subprocess.STDOUT)
    server = StreamServer(process, rtmp_port, http_port, folder)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", rtmp_port), timeout=1):
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, (folder / "logs" / "error.log").read_text()
                time.sleep(0.1)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        for pid in server.packagers():  # only if nginx failed to end its own child
            os.kill(pid, signal.SIGKILL)


def newest_program_date_time(playlist: str) -> datetime:
    found = PDT.findall(playlist)
    assert found, f"no EXT-X-PROGRAM-DATE-TIME in:\n{playlist}"
    return datetime.fromisoformat(found[-1].replace("+0000", "+00:00"))


def wait_for_playlist(http: httpx.Client, url: str, seconds: float = 30) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = http.get(url)
        if response.status_code == 200 and "#EXTINF" in response.text:
            return response
        assert time.monotonic() < deadline, f"{url}: {response.status_code} after {seconds} s"
        time.sleep(0.3)


def test_obs_to_nginx_rtmp_to_hls_with_program_date_time_plays_on_the_watch_page(
        stream_server, browser, tmp_path):  # noqa: F811 (browser: the fixture imported above)
    encoder = TestPicture(tmp_path / "encoder", title="主会场", rtmp_url=f"rtmp://127.0.0.1:{stream_server.rtmp_port}/live/hall",
                          write_hls=False, log_path=tmp_path / "encoder.log")
    encoder.start()
    playlist_url = f"{stream_server.base}/live/hall.m3u8"
    try:
        with httpx.Client(timeout=10) as http:
            first = wait_for_playlist(http, playlist_url)
            assert first.headers["content-type"] == "application/vnd.apple.mpegurl"
            assert first.headers["cache-control"] == "no-cache"
            assert first.headers["access-control-allow-origin"] == "*"
            assert stream_server.packagers(), "nginx started no packager"
            newest = newest_program_date_time(first.text)
            assert abs((datetime.now(UTC) - newest).total_seconds()) < 10, first.text
            deadline = time.monotonic() + 20
            while (later := http.get(playlist_url).text).count("#EXTINF") <= first.text.count("#EXTINF"):
                assert time.monotonic() < deadline, f"the playlist did not grow:\n{later}"
                time.sleep(0.5)
            assert newest_program_date_time(later) > newest
            segment = http.get(f"{stream_server.base}/live/{later.strip().splitlines()[-1]}")
            assert segment.status_code == 200 and segment.headers["content-type"] == "video/mp2t"
            assert segment.content[:1] == b"\x47" and "max-age" in segment.headers["cache-control"]
            assert segment.headers["access-control-allow-origin"] == "*"
            assert http.get(f"{stream_server.base}/live/nginx.conf").status_code == 404

        # The congress's observer page, on its own origin, set to this stream, plays it.
        database_url = f"sqlite:///{tmp_path / 'congress.db'}"
        upgrade(database_url)
        db = Database(database_url)
        try:
            story = build_story(db, with_codes=False)
            with db.write() as session:
                set_stream(Context(session, SETUP, system_clock()), story.congress_id, "hls", playlist_url, 0)
        finally:
            db.dispose()
        congress = ServerProcess(database_url, tmp_path / "congress.log")
        context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
        try:
            context.add_init_script(CSP_WATCH)
            page = context.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.on("console", lambda msg: problems.append(msg.text) if _is_csp_report(msg.text) else None)
            page.goto(f"{congress.url}/watch?congress={story.congress_id}")
            page.wait_for_function(PLAYING, arg=0, timeout=60_000)
            at = page.evaluate("document.querySelector('#stream video').currentTime")
            page.wait_for_function(PLAYING, arg=at + 1, timeout=20_000)  # the picture moves on
            assert problems == []
        finally:
            context.close()
            congress.stop()
    finally:
        encoder.stop()

    # The encoder stopped: the packager ends (nginx's SIGTERM, or its own read timeout), and the
    # playlist stays as it was, with no end tag (a stall, not the end of the broadcast).
    deadline = time.monotonic() + 30
    while stream_server.packagers():
        assert time.monotonic() < deadline, "the packager kept running after the encoder stopped"
        time.sleep(0.2)
    final = httpx.get(playlist_url).text
    assert "#EXT-X-ENDLIST" not in final
    time.sleep(2.5)
    assert httpx.get(playlist_url).text == final
