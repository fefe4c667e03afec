"""Reading HLS playlists (RFC 8216): a media playlist's segments with their program-date-time, or a
master playlist's variants. Pure: text in, frozen values out; the stream health check
(`congress.streaming.health`) fetches the text.

Only what the health figures need is kept: target duration, media sequence, each segment's URI,
duration and wall-clock start (EXT-X-PROGRAM-DATE-TIME, carried forward over segments without
one as players do), whether the list ended (EXT-X-ENDLIST) and its type (EVENT, VOD or none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_PLAYLIST_CHARS = 2_000_000  # a live window is a few KB; more is not a playlist we should read


class PlaylistError(ValueError):
    """The text is not an HLS playlist we can read; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Segment:
    sequence: int  # media sequence number
    uri: str
    duration: float  # seconds (EXTINF)
    program_date_time: datetime | None  # wall-clock time of its first frame (aware), when known

    @property
    def ends_at(self) -> datetime | None:
        if self.program_date_time is None:
            return None
        return self.program_date_time + timedelta(seconds=self.duration)


@dataclass(frozen=True, slots=True)
class MediaPlaylist:
    target_duration: float
    media_sequence: int
    segments: tuple[Segment, ...]
    ended: bool  # EXT-X-ENDLIST: nothing more will be added
    playlist_type: str | None  # "EVENT", "VOD" or None (a live sliding window)

    @property
    def newest(self) -> Segment | None:
        return self.segments[-1] if self.segments else None


@dataclass(frozen=True, slots=True)
class Variant:
    uri: str
    bandwidth: int | None
    resolution: str | None


@dataclass(frozen=True, slots=True)
class MasterPlaylist:
    variants: tuple[Variant, ...]


def parse_playlist(text: str) -> MediaPlaylist | MasterPlaylist:
    """A media or a master playlist, whichever the text is."""
    lines = _lines(text)
    if any(line.startswith("#EXT-X-STREAM-INF") for line in lines):
        return _master(lines)
    return _media(lines)


def parse_media_playlist(text: str) -> MediaPlaylist:
    playlist = parse_playlist(text)
    if isinstance(playlist, MasterPlaylist):
        raise PlaylistError("a master playlist (variants), not a media playlist (segments)")
    return playlist


def _lines(text: str) -> list[str]:
    if len(text) > MAX_PLAYLIST_CHARS:
        raise PlaylistError(f"not an HLS playlist: longer than {MAX_PLAYLIST_CHARS} characters")
    lines = [line.strip() for line in text.lstrip("\ufeff").splitlines()]
    lines = [line for line in lines if line]
    if not lines or lines[0] != "#EXTM3U":
        first = lines[0][:40] if lines else "nothing"
        raise PlaylistError(f"not an HLS playlist: it must start with #EXTM3U, it starts with {first!r}")
    return lines


def _value(line: str) -> str:
    return line.split(":", 1)[1].strip() if ":" in line else ""


def _number(line: str, kind: type[int] | type[float]) -> float:
    text = _value(line).split(",", 1)[0].strip()
    try:
        return kind(text)
    except ValueError:
        raise PlaylistError(f"{line.split(':', 1)[0]} must be a number, not {text!r}") from None


def parse_program_date_time(text: str) -> datetime:
    """ISO 8601 with a zone, as encoders write it: 2026-12-04T20:26:21.551+0000 or ...Z."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise PlaylistError(f"EXT-X-PROGRAM-DATE-TIME is not a date and time: {text!r}") from None
    if moment.tzinfo is None:
        raise PlaylistError(f"EXT-X-PROGRAM-DATE-TIME has no time zone: {text!r}")
    return moment


def _media(lines: list[str]) -> MediaPlaylist:
    target: float | None = None
    media_sequence = 0
    ended = False
    playlist_type: str | None = None
    segments: list[Segment] = []
    duration: float | None = None
    pdt: datetime | None = None
    next_pdt: datetime | None = None  # the previous segment's end: a segment without its own PDT starts there
    for line in lines[1:]:
        if line.startswith("#EXT-X-TARGETDURATION"):
            target = _number(line, float)
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE"):
            media_sequence = int(_number(line, int))
        elif line.startswith("#EXT-X-PLAYLIST-TYPE"):
            playlist_type = _value(line).upper() or None
        elif line.startswith("#EXT-X-ENDLIST"):
            ended = True
        elif line.startswith("#EXTINF"):
            duration = _number(line, float)
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME"):
            pdt = parse_program_date_time(_value(line))
        elif line.startswith("#EXT-X-DISCONTINUITY") and not line.startswith("#EXT-X-DISCONTINUITY-"):
            next_pdt = None  # the clock may jump at a discontinuity: only its own PDT says when
        elif line.startswith("#"):
            continue  # other tags and comments
        else:  # a segment's URI
            if duration is None:
                raise PlaylistError(f"segment {line[:80]!r} has no #EXTINF duration before it")
            start = pdt or next_pdt
            segment = Segment(media_sequence + len(segments), line, duration, start)
            segments.append(segment)
            next_pdt = segment.ends_at
            duration, pdt = None, None
    if target is None:
        raise PlaylistError("a media playlist must have #EXT-X-TARGETDURATION")
    return MediaPlaylist(target, media_sequence, tuple(segments), ended, playlist_type)


def _attributes(line: str) -> dict[str, str]:
    """KEY=value,KEY="quoted, with commas" from a tag's attribute list."""
    out: dict[str, str] = {}
    rest = _value(line)
    while rest:
        key, _, rest = rest.partition("=")
        if rest.startswith('"'):
            value, _, rest = rest[1:].partition('"')
            rest = rest.partition(",")[2]
        else:
            value, _, rest = rest.partition(",")
        out[key.strip().upper()] = value.strip()
    return out


def _master(lines: list[str]) -> MasterPlaylist:
    variants: list[Variant] = []
    attributes: dict[str, str] | None = None
    for line in lines[1:]:
        if line.startswith("#EXT-X-STREAM-INF"):
            attributes = _attributes(line)
        elif line.startswith("#"):
            continue
        elif attributes is not None:
            bandwidth = attributes.get("BANDWIDTH", "")
            variants.append(Variant(line, int(bandwidth) if bandwidth.isdigit() else None,
                                    attributes.get("RESOLUTION")))
            attributes = None
    if not variants:
        raise PlaylistError("a master playlist without a variant URI after #EXT-X-STREAM-INF")
    return MasterPlaylist(tuple(variants))
