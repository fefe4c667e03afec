"""The stream's health figures, a pure function of what successive checks of its playlist saw.

Each check (`Look`) folds into a `History` (`observe`); `figures(history, now)` says whether the
stream is live, how old its newest segment is, the HLS edge latency, and whether it stalled. The
background check (`congress.streaming.health`) fetches the playlist and sends the figures.

- A segment's age is counted from when a check first saw it, so it is the server's own clock,
  whatever the encoder's clock says. On the very first check we cannot know when the newest
  segment appeared; its end by program-date-time is the earliest it can have (a leftover playlist
  of yesterday's stream then looks old, not live).
- The edge latency is how far the playlist's newest segment ends behind now (by its PDT) at the
  moment a check first sees it: how late the best-placed viewer can be. Checks come every ~2 s, so
  one sample can be up to a check's interval too high; the minimum of the recent samples is kept.
- Live: the playlist answers, has not ended, and its newest segment is younger than
  LIVE_TARGETS × target duration. Stalled: it was live and is not any more, without having ended
  (an encoder that stopped, a packager that died, a playlist that stopped answering).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from congress.streaming.playlist import MediaPlaylist

LIVE_TARGETS = 3  # a segment is due every target duration; three missed in a row is a stall
LATENCY_WINDOW_SECONDS = 60.0  # the recent minimum is over this long


@dataclass(frozen=True, slots=True)
class Look:
    """One check of the playlist at unix time `at`: what it read, or why it could not."""

    at: float
    playlist: MediaPlaylist | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class History:
    checked_at: float | None = None  # the last check
    reachable: bool = False  # the last check read a playlist
    error: str | None = None  # ... or why it did not
    newest: tuple[int, str, float | None] | None = None  # the newest segment seen: sequence, URI, PDT
    newest_seen_at: float | None = None  # when a check first saw it
    target_duration: float | None = None
    ended: bool = False
    was_live: bool = False  # live at some check since we began watching
    latencies: tuple[tuple[float, float], ...] = ()  # recent (at, seconds) samples of the edge latency


@dataclass(frozen=True, slots=True)
class Figures:
    live: bool
    stalled: bool
    ended: bool
    reachable: bool
    segment_age: float | None  # seconds since the newest segment appeared
    edge_latency: float | None  # recent minimum, seconds
    target_duration: float | None
    error: str | None

    @property
    def state(self) -> str:
        if self.live:
            return "live"
        return "stalled" if self.stalled else "not_live"

    @property
    def suggested_hold(self) -> int | None:
        """The server's hold for an `hls` stream (congress.stream_delay_seconds): the edge latency."""
        return None if self.edge_latency is None else max(0, math.ceil(self.edge_latency))


def observe(history: History, look: Look) -> History:
    """The history after one more check."""
    if look.playlist is None:
        return replace(history, checked_at=look.at, reachable=False, error=look.error or "unreachable")
    playlist = look.playlist
    newest = playlist.newest
    seen = replace(history, checked_at=look.at, reachable=True, error=None,
                   target_duration=playlist.target_duration, ended=playlist.ended)
    if newest is not None:
        pdt = newest.program_date_time.timestamp() if newest.program_date_time else None
        identity = (newest.sequence, newest.uri, pdt)
        if identity != history.newest:
            ends_at = newest.ends_at.timestamp() if newest.ends_at else None
            latencies = history.latencies
            if history.checked_at is None:  # the first check: it appeared at its end, at the earliest
                seen_at = look.at if ends_at is None else min(look.at, ends_at)
            else:
                seen_at = look.at
                if ends_at is not None:
                    latencies = (*latencies, (look.at, look.at - ends_at))
            seen = replace(seen, newest=identity, newest_seen_at=seen_at,
                           latencies=tuple(s for s in latencies if look.at - s[0] <= LATENCY_WINDOW_SECONDS))
    return replace(seen, was_live=history.was_live or _is_live(seen, look.at))


def _is_live(history: History, now: float) -> bool:
    if not history.reachable or history.ended or history.newest_seen_at is None or not history.target_duration:
        return False
    return now - history.newest_seen_at <= LIVE_TARGETS * history.target_duration


def figures(history: History, now: float) -> Figures:
    live = _is_live(history, now)
    recent = [seconds for at, seconds in history.latencies if now - at <= LATENCY_WINDOW_SECONDS]
    return Figures(
        live=live,
        stalled=history.was_live and not live and not (history.reachable and history.ended),
        ended=history.reachable and history.ended,
        reachable=history.reachable,
        segment_age=None if history.newest_seen_at is None else max(0.0, now - history.newest_seen_at),
        edge_latency=min(recent) if recent else None,
        target_duration=history.target_duration,
        error=history.error,
    )
