"""The test picture never outlives what started it: a process that started one and is then killed
outright (SIGKILL: no finally, no Ctrl-C handler) takes its ffmpeg with it, so a killed demo leaves
no encoder running and writing segments."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.stream.conftest import require_ffmpeg

STARTER = """
import sys, time
from pathlib import Path
from congress.streaming.encoder import TestPicture
picture = TestPicture(Path(sys.argv[1]), title="测试", log_path=Path(sys.argv[1]) / "ffmpeg.log").start()
picture.wait_for_playlist(30)
print(picture.process.pid, flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left for its parent


def test_a_killed_starter_takes_its_ffmpeg_with_it(tmp_path):
    require_ffmpeg()
    starter = subprocess.Popen([sys.executable, "-c", STARTER, str(tmp_path / "live")], stdout=subprocess.PIPE, text=True)
    try:
        ffmpeg_pid = int(starter.stdout.readline())
        assert alive(ffmpeg_pid)
        playlist = tmp_path / "live" / "demo.m3u8"
        os.kill(starter.pid, signal.SIGKILL)
        starter.wait(10)
        deadline = time.monotonic() + 15
        while alive(ffmpeg_pid):
            assert time.monotonic() < deadline, "ffmpeg kept running after its starter was killed"
            time.sleep(0.1)
        written = playlist.stat().st_mtime
        time.sleep(3)  # more than a segment: nothing writes the playlist any more
        assert playlist.stat().st_mtime == written
    finally:
        if starter.poll() is None:
            starter.kill()
