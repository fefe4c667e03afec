"""The test picture's ffmpeg command: what a player needs from it (program-date-time, a keyframe per
segment, H.264 + AAC, real-time pacing), its outputs, and clear refusals of a wrong output."""

from __future__ import annotations

from pathlib import Path

import pytest

from congress.streaming.encoder import PictureSpec, find_font, picture_argv, video_filter


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_hls_output_carries_program_date_time_and_a_keyframe_every_segment():
    argv = picture_argv("ffmpeg", hls_playlist=Path("/srv/live/demo.m3u8"), title_file=Path("/t/title.txt"),
                             font="/fonts/Noto.ttc")
    assert argv[-1] == "/srv/live/demo.m3u8"
    assert option(argv, "-f") == "lavfi" and argv.count("-re") == 2  # both inputs paced at real time
    flags = option(argv, "-hls_flags").split("+")
    assert {"program_date_time", "delete_segments", "omit_endlist"} <= set(flags)
    assert option(argv, "-hls_time") == "2"
    assert option(argv, "-g") == option(argv, "-keyint_min") == "50"  # 25 fps x 2 s
    assert option(argv, "-sc_threshold") == "0"
    assert option(argv, "-c:v") == "libx264" and option(argv, "-preset") == "ultrafast"
    assert option(argv, "-profile:v") == "main" and option(argv, "-c:a") == "aac"
    assert option(argv, "-hls_segment_filename") == "/srv/live/demo-%d.ts"
    assert "rtmp" not in " ".join(argv)


def test_rtmp_output_pushes_flv():
    argv = picture_argv("ffmpeg", rtmp_url="rtmp://127.0.0.1:1935/live/demo")
    assert argv[-3:] == ["-f", "flv", "rtmp://127.0.0.1:1935/live/demo"]
    assert "-hls_flags" not in argv


def test_both_outputs_share_one_encoding_through_tee():
    argv = picture_argv("ffmpeg", hls_playlist=Path("/srv/live/demo.m3u8"), rtmp_url="rtmp://h:1935/live/demo")
    assert argv.count("-c:v") == 1
    assert option(argv, "-f") == "lavfi"
    tee = argv[-1]
    assert argv[-2] == "tee" and argv[-3] == "-f"
    hls, flv = tee.split("|")
    assert hls.startswith("[f=hls:") and "hls_flags=program_date_time+delete_segments+omit_endlist" in hls
    assert hls.endswith("]/srv/live/demo.m3u8")
    assert flv == "[f=flv:onfail=ignore]rtmp://h:1935/live/demo"


def test_the_slate_draws_the_name_from_a_file_and_the_wall_clock():
    graph = video_filter(PictureSpec(), Path("/tmp/it's:here/title.txt"), "/fonts/Noto Sans.ttc")
    assert graph is not None
    name, clock = graph.split(",drawtext=")
    assert "textfile='/tmp/it'\\''s\\:here/title.txt'" in name and "expansion=none" in name
    assert "fontfile='/fonts/Noto Sans.ttc'" in name
    assert "%{localtime}" in clock
    assert video_filter(PictureSpec(), None, None) is None  # no font on the machine: a plain slate


def test_seconds_limit_the_run():
    argv = picture_argv("ffmpeg", rtmp_url="rtmp://h/live/x", seconds=12)
    assert option(argv, "-t") == "12"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "needs an output"),
    ({"hls_playlist": Path("/srv/live/demo.mp4")}, "ends in .m3u8"),
    ({"rtmp_url": "http://h/live/x"}, "starts with rtmp://"),
])
def test_a_wrong_output_is_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        picture_argv("ffmpeg", **kwargs)


def test_find_font_takes_the_first_that_exists(tmp_path):
    font = tmp_path / "a.ttf"
    font.write_bytes(b"")
    assert find_font([str(tmp_path / "missing.ttc"), str(font)]) == str(font)
