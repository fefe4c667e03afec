"""What the demo sets as the congress's stream: the test picture when its ffmpeg runs; nothing, and
why, when that ffmpeg stopped at once (here: a tone ffmpeg refuses, standing for any ffmpeg that
fails to start, such as one built without libx264); and back to nothing when ffmpeg is gone on a later `congress demo --keep`."""

from __future__ import annotations

import sqlalchemy as sa

from congress.db.engine import Database
from congress.db.models import Congress
from congress.demo.story import DEMO_STREAM_URL, NO_FFMPEG_HINT, set_demo_stream
from congress.streaming.encoder import PictureSpec, TestPicture
from tests.story import build_story
from tests.stream.conftest import require_ffmpeg


def stream_of(db: Database, congress_id: int) -> tuple[str, str | None, int]:
    with db.read() as session:
        row = session.execute(sa.select(Congress.stream_kind, Congress.stream_url, Congress.stream_delay_seconds)
                              .where(Congress.id == congress_id)).one()
    return tuple(row)


def test_the_demo_sets_the_picture_only_while_its_ffmpeg_runs(database_url, tmp_path):
    ffmpeg = require_ffmpeg()
    db = Database(database_url)
    try:
        cid = build_story(db, with_codes=False).congress_id

        broken = TestPicture(tmp_path / "broken", title="纸业", ffmpeg=ffmpeg, spec=PictureSpec(tone_hz=-1),
                             log_path=tmp_path / "broken.log").start()
        try:
            broken.process.wait(30)
        finally:
            broken.stop()
        said = set_demo_stream(database_url, cid, broken)
        assert "ffmpeg 未能生成测试画面" in said and str(tmp_path / "broken.log") in said
        assert "out of range" in said  # the reason, from ffmpeg's own log
        assert stream_of(db, cid) == ("none", None, 0)

        with TestPicture(tmp_path / "live", title="纸业", ffmpeg=ffmpeg, log_path=tmp_path / "live.log") as picture:
            said = set_demo_stream(database_url, cid, picture)
            assert "直播测试画面" in said and DEMO_STREAM_URL in said
            assert stream_of(db, cid) == ("hls", DEMO_STREAM_URL, 2)

        assert set_demo_stream(database_url, cid, None) == NO_FFMPEG_HINT  # --keep, ffmpeg uninstalled since
        assert stream_of(db, cid) == ("none", None, 0)
    finally:
        db.dispose()
