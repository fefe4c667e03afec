"""Stream fixtures: a real ffmpeg test picture writing live HLS (with program-date-time) into a folder,
and `congress serve` in its own process serving that folder at /live/ (CONGRESS_STREAM_DIR).

The picture's playlist is `/live/demo.m3u8`, as in the demo. In CI (CI=true) a missing ffmpeg fails
the tests; locally they skip (apt-get install ffmpeg)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from congress.db.engine import Database
from congress.ops.server_process import ServerProcess
from congress.streaming.encoder import TestPicture, ffmpeg_path
from tests.story import Story, build_story

IN_CI = os.environ.get("CI", "").lower() == "true"
TITLE = "纸业集团第十届职工代表大会第三次会议"
STREAM_URL = "/live/demo.m3u8"


def require_ffmpeg() -> str:
    found = ffmpeg_path()
    if found is None:
        message = "ffmpeg is missing: apt-get install -y ffmpeg"
        if IN_CI:
            pytest.fail(f"{message} (CI requires the stream tests to run)")
        pytest.skip(message)
    return found


@pytest.fixture
def test_picture(tmp_path: Path) -> Iterator[TestPicture]:
    """A running test picture (name slate, wall clock, tone) writing tmp_path/live/demo.m3u8, with a
    first segment already listed. Stop it (`test_picture.stop()`) to make the stream stall."""
    picture = TestPicture(tmp_path / "live", title=TITLE, name="demo", ffmpeg=require_ffmpeg(),
                          log_path=tmp_path / "ffmpeg.log")
    picture.start()
    try:
        picture.wait_for_playlist(timeout=30)
        yield picture
    finally:
        picture.stop()


@dataclass
class StreamSite:
    """`congress serve` with the story's congress (no access codes) and the test picture at /live/."""

    server: ServerProcess
    story: Story
    picture: TestPicture
    database_url: str

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def stream_url(self) -> str:
        return STREAM_URL


@pytest.fixture
def stream_site(test_picture: TestPicture, database_url: str, tmp_path: Path) -> Iterator[StreamSite]:
    """The server in its own process, so ffmpeg, the server and a browser each have their own."""
    db = Database(database_url)
    try:
        story = build_story(db, with_codes=False)
    finally:
        db.dispose()
    server = ServerProcess(database_url, tmp_path / "server.log", env={"CONGRESS_STREAM_DIR": str(test_picture.folder)})
    try:
        yield StreamSite(server, story, test_picture, database_url)
    finally:
        server.stop()
