"""Reading HLS playlists (congress.streaming.playlist): playlists ffmpeg wrote (tests/unit/hls/, made
with -hls_flags program_date_time: a live window, a VOD, a master) and hand-written edge cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from congress.streaming.playlist import (
    MasterPlaylist,
    MediaPlaylist,
    PlaylistError,
    parse_media_playlist,
    parse_playlist,
)

HLS = Path(__file__).parent / "hls"


def read(name: str) -> str:
    return (HLS / name).read_text(encoding="utf-8")


def test_an_ffmpeg_live_window_gives_segments_with_their_wall_clock_and_no_end() -> None:
    playlist = parse_playlist(read("ffmpeg-live.m3u8"))
    assert isinstance(playlist, MediaPlaylist)
    assert (playlist.target_duration, playlist.media_sequence, playlist.ended, playlist.playlist_type) == (2, 0, False, None)
    assert [s.uri for s in playlist.segments] == ["live0.ts", "live1.ts", "live2.ts", "live3.ts", "live4.ts"]
    assert [s.sequence for s in playlist.segments] == [0, 1, 2, 3, 4]
    assert [s.duration for s in playlist.segments] == [2.0, 2.0, 2.0, 2.0, 0.92]
    first = datetime(2026, 12, 4, 20, 26, 21, 551000, tzinfo=UTC)
    assert [s.program_date_time for s in playlist.segments] == [first + timedelta(seconds=2 * i) for i in range(5)]
    assert playlist.newest is not None and playlist.newest.ends_at == first + timedelta(seconds=8.92)


def test_an_ffmpeg_vod_has_ended_and_its_type() -> None:
    playlist = parse_media_playlist(read("ffmpeg-vod.m3u8"))
    assert playlist.ended and playlist.playlist_type == "VOD"
    assert len(playlist.segments) == 3 and playlist.segments[-1].duration == 1.0


def test_an_ffmpeg_master_lists_its_variant() -> None:
    playlist = parse_playlist(read("ffmpeg-master.m3u8"))
    assert isinstance(playlist, MasterPlaylist)
    assert [(v.uri, v.bandwidth, v.resolution) for v in playlist.variants] == [("stream_0.m3u8", 75900, "320x180")]
    with pytest.raises(PlaylistError, match="master playlist"):
        parse_media_playlist(read("ffmpeg-master.m3u8"))


def test_a_master_with_quoted_commas_and_several_variants_keeps_their_order() -> None:
    text = ('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720\n'
            'https://cdn.example/720/index.m3u8?token=a,b\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nlow/index.m3u8\n')
    playlist = parse_playlist(text)
    assert isinstance(playlist, MasterPlaylist)
    assert [(v.uri, v.bandwidth, v.resolution) for v in playlist.variants] == [
        ("https://cdn.example/720/index.m3u8?token=a,b", 2000000, "1280x720"), ("low/index.m3u8", 800000, None)]


def test_program_date_time_carries_forward_and_restarts_at_a_discontinuity() -> None:
    text = """\ufeff#EXTM3U\r
#EXT-X-TARGETDURATION:6\r
#EXT-X-MEDIA-SEQUENCE:1717\r
#EXT-X-PLAYLIST-TYPE:event\r
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T08:00:00Z\r
#EXTINF:6,\r
a.ts\r
#EXTINF:5.5,title\r
b.ts?x=1\r
#EXT-X-DISCONTINUITY\r
#EXTINF:6,\r
c.ts\r
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T16:30:00.250+08:00\r
#EXTINF:6,\r
d.ts\r
"""
    playlist = parse_media_playlist(text)
    eight = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    assert playlist.playlist_type == "EVENT" and playlist.media_sequence == 1717
    assert [(s.sequence, s.uri) for s in playlist.segments] == [(1717, "a.ts"), (1718, "b.ts?x=1"), (1719, "c.ts"), (1720, "d.ts")]
    assert playlist.segments[1].program_date_time == eight + timedelta(seconds=6)
    assert playlist.segments[2].program_date_time is None  # after a discontinuity only its own PDT says when
    assert playlist.segments[3].program_date_time == eight + timedelta(minutes=30, milliseconds=250)


def test_a_playlist_without_program_date_time_has_segments_without_a_wall_clock() -> None:
    playlist = parse_media_playlist("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nx.ts\n#EXT-X-ENDLIST\n")
    assert playlist.newest is not None and playlist.newest.program_date_time is None and playlist.newest.ends_at is None
    assert playlist.ended


def test_an_empty_live_window_has_no_newest_segment() -> None:
    assert parse_media_playlist("#EXTM3U\n#EXT-X-TARGETDURATION:2\n").newest is None


@pytest.mark.parametrize(("text", "message"), [
    ("", "must start with #EXTM3U, it starts with 'nothing'"),
    ("<!doctype html><title>404 Not Found</title>", "must start with #EXTM3U, it starts with '<!doctype html>"),
    ('{"error": "not found"}', "must start with #EXTM3U"),
    ("#EXTM3U\n#EXTINF:2,\na.ts\n", "must have #EXT-X-TARGETDURATION"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:two\n", "#EXT-X-TARGETDURATION must be a number, not 'two'"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:abc,\na.ts\n", "#EXTINF must be a number, not 'abc'"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:2\na.ts\n", "segment 'a.ts' has no #EXTINF duration before it"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PROGRAM-DATE-TIME:yesterday\n#EXTINF:2,\na.ts\n",
     "EXT-X-PROGRAM-DATE-TIME is not a date and time: 'yesterday'"),
    ("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PROGRAM-DATE-TIME:2026-12-04T08:00:00\n#EXTINF:2,\na.ts\n",
     "EXT-X-PROGRAM-DATE-TIME has no time zone"),
    ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n", "master playlist without a variant URI"),
    ("#EXTM3U\n" + "#" * 2_000_001, "longer than 2000000 characters"),
])
def test_what_is_not_a_playlist_is_refused_saying_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PlaylistError) as raised:
        parse_playlist(text)
    assert message in str(raised.value)
