"""The replay's timeline (congress.streaming.timeline): the state an observer saw after each public
event — the agenda and current item, each vote's status, a result only once it is published; and
the recording's ffmpeg output (congress.streaming.recording)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from congress.streaming.recording import recording_output
from congress.streaming.timeline import moment_at, timeline_from_events

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
RESULT = {"questions": [{"question_id": 9, "words": "通过"}], "cast": 120}


@dataclass
class Ev:
    seq: int
    type: str
    payload: dict[str, Any]
    created_at: datetime


def log(*entries: tuple[int, str, dict[str, Any]]) -> list[Ev]:
    return [Ev(seq, type_, payload, T0 + timedelta(seconds=second))
            for seq, (second, type_, payload) in enumerate(entries, start=1)]


def item(item_id: int, title: str) -> dict[str, Any]:
    return {"id": item_id, "position": item_id, "kind": "审议", "title": title, "description": "",
            "names": [], "status": "pending"}


def vote(vote_id: int, title: str, *, secret: bool = False) -> dict[str, Any]:
    return {"id": vote_id, "agenda_item_id": 2, "round": 1, "title": title, "status": "open", "is_secret": secret,
            "questions": [{"id": 9, "kind": "motion", "text": title, "options": []}], "opened_at": "x",
            "sealing": {"public_key": "k"} if secret else None, "quorum": "实到 200 人，超过三分之二"}


STORY = log(
    (0, "agenda.item_added", item(1, "审议公司工作报告")),
    (1, "agenda.item_added", item(2, "表决《职工薪酬福利调整方案》")),
    (10, "agenda.current_changed", {"item_id": 1}),
    (20, "agenda.current_changed", {"item_id": 2}),
    (25, "vote.opened", vote(5, "薪酬方案")),
    (40, "vote.closed", {"vote_id": 5, "at": "t", "cast": 120}),
    (45, "vote.certified", {"vote_id": 5, "certified_by": "王监票", "at": "t"}),
    (50, "vote.published", {"vote_id": 5, "result": RESULT, "certified_by": "王监票", "record": {"seq": 7}}),
)


def test_each_public_event_is_a_moment_with_the_state_right_after_it() -> None:
    moments = timeline_from_events(STORY)["moments"]
    assert [m["type"] for m in moments] == [e.type for e in STORY]
    assert [m["seq"] for m in moments] == list(range(1, 9))
    assert moments[2]["current_item_id"] == 1
    assert moments[2]["agenda"] == [{"id": 1, "status": "current"}, {"id": 2, "status": "pending"}]
    # Moving on marks the previous item done, as set_current_item does.
    assert moments[3]["agenda"] == [{"id": 1, "status": "done"}, {"id": 2, "status": "current"}]
    assert [m["votes"] for m in moments[4:]] == [[{"id": 5, "status": s}] for s in
                                                 ("open", "closed", "closed", "published")]


def test_a_result_is_in_the_timeline_only_once_published() -> None:
    timeline = timeline_from_events(STORY[:7])  # closed and certified, not published
    assert "result" not in timeline["votes"]["5"]
    assert timeline["votes"]["5"]["certified_by"] == "王监票"
    published = timeline_from_events(STORY)["votes"]["5"]
    assert published["result"] == RESULT
    assert published["published_at"] == (T0 + timedelta(seconds=50)).isoformat()


def test_a_vote_carries_what_the_page_shows_not_its_key_or_quorum_words() -> None:
    shown = timeline_from_events(log((0, "vote.opened", vote(6, "秘密表决", secret=True))))["votes"]["6"]
    assert shown["is_secret"] is True and shown["title"] == "秘密表决"
    assert "sealing" not in shown and "status" not in shown


def test_events_that_change_nothing_shown_are_no_moments() -> None:
    noise = log((0, "agenda.item_added", item(1, "一")), (1, "proposal.submitted", {"id": 1}),
                (2, "tally.ballots", {"vote_id": 5}), (3, "vote.closed", {"vote_id": 99, "at": "t"}))
    assert [m["type"] for m in timeline_from_events(noise)["moments"]] == ["agenda.item_added"]


def test_reordering_and_clearing_the_current_item() -> None:
    moments = timeline_from_events(log(
        (0, "agenda.item_added", item(1, "一")), (0, "agenda.item_added", item(2, "二")),
        (1, "agenda.current_changed", {"item_id": 1}), (2, "agenda.reordered", {"order": [2, 1]}),
        (3, "agenda.current_changed", {"item_id": None})))["moments"]
    assert moments[3]["agenda"] == [{"id": 2, "status": "pending"}, {"id": 1, "status": "current"}]
    assert moments[4]["current_item_id"] is None
    assert moments[4]["agenda"] == [{"id": 2, "status": "pending"}, {"id": 1, "status": "done"}]


def test_a_cancelled_vote_never_gets_a_result() -> None:
    moments = timeline_from_events(log((0, "vote.opened", vote(5, "作废")),
                                       (1, "vote.cancelled", {"vote_id": 5, "reason": "议程调整"})))["moments"]
    assert moments[-1]["votes"] == [{"id": 5, "status": "cancelled"}]


def test_the_moment_at_a_time_is_the_last_one_at_or_before_it() -> None:
    timeline = timeline_from_events(STORY)
    assert moment_at(timeline, T0 - timedelta(seconds=1)) is None
    assert moment_at(timeline, T0 + timedelta(seconds=49.9))["type"] == "vote.certified"
    assert moment_at(timeline, T0 + timedelta(seconds=50))["type"] == "vote.published"
    assert moment_at(timeline, T0 + timedelta(hours=3))["type"] == "vote.published"
    # Two events in the same instant: the later one's state shows.
    same = timeline_from_events(log((5, "agenda.item_added", item(1, "一")),
                                    (5, "agenda.current_changed", {"item_id": 1})))
    assert moment_at(same, T0 + timedelta(seconds=5))["current_item_id"] == 1


def test_a_sealed_vote_closes_without_totals_and_shows_them_only_when_published() -> None:
    sealed = log((0, "vote.opened", vote(7, "秘密表决", secret=True)),
                 (5, "vote.closed", {"vote_id": 7, "at": "t", "cast": 120}),
                 (6, "tally.sealed", {"vote_id": 7, "sums": "密文"}),
                 (9, "tally.share_posted", {"vote_id": 7, "trustee": 1}),
                 (20, "vote.published", {"vote_id": 7, "result": RESULT, "certified_by": "王监票"}))
    before = timeline_from_events(sealed[:4])
    assert before["moments"][-1]["votes"] == [{"id": 7, "status": "closed"}]
    assert "result" not in before["votes"]["7"]
    assert "sums" not in str(before)  # the sealed board's sums are not part of what the replay shows
    after = timeline_from_events(sealed)
    assert after["votes"]["7"]["result"] == RESULT
    assert [m["type"] for m in after["moments"]] == ["vote.opened", "vote.closed", "vote.published"]


def test_the_recording_is_an_event_playlist_kept_whole_with_program_date_time() -> None:
    out = recording_output(Path("/srv/hls/record/hall.m3u8"))
    options = dict(zip(out[0:-1:2], out[1::2], strict=False))
    assert options["-hls_playlist_type"] == "event" and options["-hls_list_size"] == "0"
    assert "program_date_time" in options["-hls_flags"] and "delete_segments" not in options["-hls_flags"]
    assert options["-hls_segment_filename"] == "/srv/hls/record/hall-%d.ts" and out[-1] == "/srv/hls/record/hall.m3u8"
    with pytest.raises(ValueError, match="ends in .m3u8"):
        recording_output(Path("/srv/hls/record/hall.mp4"))
