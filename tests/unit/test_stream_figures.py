"""The stream's health figures (congress.streaming.figures) from successive looks at a playlist, and
where the server reads a stream's playlist from (congress.streaming.health.source_for)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from congress.streaming.figures import History, Look, figures, observe
from congress.streaming.health import StreamSetting, health_message, source_for
from congress.streaming.playlist import MediaPlaylist, Segment

T0 = 1_800_000_000.0  # unix seconds of the first look


def window(newest: int, *, latency: float = 3.0, ended: bool = False, pdt: bool = True,
           seen_at: float | None = None) -> MediaPlaylist:
    """A live window of 2-s segments whose newest, number `newest`, ends `latency` s before `seen_at`."""
    end = (seen_at if seen_at is not None else T0 + 2 * newest) - latency
    segments = tuple(Segment(n, f"demo-{n}.ts", 2.0,
                             datetime.fromtimestamp(end - 2 * (newest - n) - 2, UTC) if pdt else None)
                     for n in range(max(0, newest - 4), newest + 1))
    return MediaPlaylist(2.0, segments[0].sequence, segments, ended, None)


def run(*looks: Look) -> History:
    history = History()
    for look in looks:
        history = observe(history, look)
    return history


def test_a_running_stream_is_live_with_its_segment_age_and_the_recent_minimum_edge_latency() -> None:
    # A segment every 2 s; the checks see each 3.0, 4.5, 3.2 s after it ended by its PDT
    history = run(Look(T0, window(10, latency=3.8, seen_at=T0)),
                  Look(T0 + 2, window(11, latency=3.0, seen_at=T0 + 2)),
                  Look(T0 + 4, window(12, latency=4.5, seen_at=T0 + 4)),
                  Look(T0 + 6, window(13, latency=3.2, seen_at=T0 + 6)))
    now = figures(history, T0 + 7)
    assert now.live and not now.stalled and now.state == "live"
    assert now.segment_age == 1.0  # since the check that first saw segment 13
    assert now.edge_latency == 3.0  # the first look's 3.8 is not a sample: we do not know when it appeared
    assert now.suggested_hold == 3


def test_a_stream_whose_segments_stop_coming_stalls_after_three_target_durations_and_recovers() -> None:
    looks = [Look(T0 + 2 * i, window(i, seen_at=T0 + 2 * i)) for i in range(1, 5)]  # newest 4 seen at T0+8
    stopped = [Look(T0 + 8 + 2 * i, window(4, seen_at=T0 + 8)) for i in range(1, 5)]
    history = run(*looks, *stopped)
    assert figures(history, T0 + 14).live  # 6 s: three segments due, not yet missed
    late = figures(history, T0 + 14.5)
    assert late.stalled and not late.live and late.state == "stalled" and late.segment_age == 6.5
    # The encoder starts again (sequence numbers go on): live again, not stalled
    back = observe(history, Look(T0 + 20, window(9, seen_at=T0 + 20)))
    again = figures(back, T0 + 20)
    assert again.live and not again.stalled and again.segment_age == 0.0


def test_a_playlist_that_stops_answering_is_a_stall_with_the_reason() -> None:
    history = run(Look(T0, window(1, seen_at=T0)), Look(T0 + 2, window(2, seen_at=T0 + 2)),
                  Look(T0 + 4, error="the playlist answered HTTP 404"))
    now = figures(history, T0 + 4)
    assert now.stalled and not now.live and not now.reachable and now.error == "the playlist answered HTTP 404"


def test_a_stream_never_seen_live_is_not_live_and_not_stalled() -> None:
    unreachable = figures(run(Look(T0, error="no playlist file"), Look(T0 + 2, error="no playlist file")), T0 + 2)
    assert (unreachable.live, unreachable.stalled, unreachable.state, unreachable.segment_age) == (False, False, "not_live", None)
    # yesterday's playlist left in the folder: its newest segment ended an hour ago by its PDT
    leftover = run(Look(T0, window(5, latency=3600, seen_at=T0)), Look(T0 + 2, window(5, latency=3602, seen_at=T0 + 2)))
    old = figures(leftover, T0 + 2)
    assert (old.live, old.stalled, old.state) == (False, False, "not_live") and old.segment_age == 3602


def test_an_ended_playlist_is_not_live_and_not_a_stall() -> None:
    history = run(Look(T0, window(1, seen_at=T0)), Look(T0 + 2, window(2, seen_at=T0 + 2)),
                  Look(T0 + 4, window(3, seen_at=T0 + 4, ended=True)))
    now = figures(history, T0 + 4)
    assert (now.live, now.stalled, now.ended, now.state) == (False, False, True, "not_live")


def test_without_program_date_time_there_is_an_age_but_no_edge_latency() -> None:
    history = run(Look(T0, window(1, pdt=False, seen_at=T0)), Look(T0 + 2, window(2, pdt=False, seen_at=T0 + 2)))
    now = figures(history, T0 + 3)
    assert now.live and now.segment_age == 1.0 and now.edge_latency is None and now.suggested_hold is None


def test_a_restarted_encoder_reusing_sequence_numbers_is_still_a_new_segment() -> None:
    first = run(Look(T0, window(0, seen_at=T0)), Look(T0 + 2, window(1, seen_at=T0 + 2)))
    # the same sequence number and name, but a later wall clock: a new encoder, a new segment
    restarted = observe(first, Look(T0 + 30, window(1, seen_at=T0 + 30)))
    assert figures(restarted, T0 + 30).segment_age == 0.0


def test_latency_samples_older_than_a_minute_are_forgotten() -> None:
    def later(i: int) -> Look:
        return Look(T0 + 2 + 2 * i, window(1 + i, latency=5.0, seen_at=T0 + 2 + 2 * i))

    history = run(Look(T0, window(0, seen_at=T0)), Look(T0 + 2, window(1, latency=2.0, seen_at=T0 + 2)),
                  *(later(i) for i in range(1, 20)))
    assert figures(history, T0 + 40).edge_latency == 2.0
    history = run(Look(T0, window(0, seen_at=T0)), Look(T0 + 2, window(1, latency=2.0, seen_at=T0 + 2)),
                  *(later(i) for i in range(1, 40)))
    assert figures(history, T0 + 80).edge_latency == 5.0


def test_where_the_server_reads_the_playlist(tmp_path: Path) -> None:
    assert source_for("https://cdn.example/live/a.m3u8", tmp_path, None).url == "https://cdn.example/live/a.m3u8"
    assert source_for("/live/demo.m3u8", tmp_path, "http://edge:8080").path == (tmp_path / "demo.m3u8").resolve()
    assert source_for("/live/../../etc/passwd", tmp_path, None).reason == "outside_stream_dir"
    assert source_for("/hls/demo.m3u8", None, "http://edge:8080/").url == "http://edge:8080/hls/demo.m3u8"
    assert source_for("/live/demo.m3u8", None, None).reason == "cannot_check"
    for elsewhere in ("file:///etc/passwd", "//other.example/live.m3u8", "data:text/plain,x"):
        assert source_for(elsewhere, tmp_path, "http://edge:8080").reason == "cannot_check", elsewhere


def test_staff_get_every_figure_and_an_unchecked_stream_says_why() -> None:
    setting = StreamSetting("hls", "/live/demo.m3u8", 2)
    history = run(Look(T0, window(1, seen_at=T0)), Look(T0 + 2, window(2, latency=2.4, seen_at=T0 + 2)))
    message = health_message(figures(history, T0 + 3), setting, observers=7, now=T0 + 3)
    assert message == {"msg": "stream_health", "state": "live", "live": True, "stalled": False, "ended": False,
                       "reachable": True, "error": None, "segment_age": 1.0, "edge_latency": 2.4,
                       "target_duration": 2.0, "suggested_hold": 3, "hold_seconds": 2, "observers": 7,
                       "at": datetime.fromtimestamp(T0 + 3, UTC).isoformat()}
    unchecked = health_message(None, setting, observers=0, now=T0, reason="cannot_check")
    assert (unchecked["state"], unchecked["reason"], unchecked["live"]) == ("unchecked", "cannot_check", None)
