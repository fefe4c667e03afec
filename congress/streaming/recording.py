"""The recording for the replay: the broadcast's HLS kept whole, with program-date-time.

The live playlist keeps only its last segments (a sliding window). The recording is a second HLS
output of the same packager (`-c copy`, no second encoding): an EVENT playlist that lists every
segment from the start, each with its EXT-X-PROGRAM-DATE-TIME, and gets #EXT-X-ENDLIST when the
encoder stops — then players treat it as a finished video (hls.js `details.live === false`; natively
a finite duration) and the watch page plays it as the replay (web/js/replay.js, docs/streaming.md).
"""

from __future__ import annotations

from pathlib import Path


def recording_output(playlist: Path, segment_seconds: int = 2) -> list[str]:
    """ffmpeg's output options for the recording at `playlist` (…/name.m3u8, segments name-N.ts)."""
    if playlist.suffix != ".m3u8":
        raise ValueError(f"a recording's playlist ends in .m3u8, not {playlist.name!r}")
    return ["-f", "hls", "-hls_time", str(segment_seconds), "-hls_list_size", "0",
            "-hls_playlist_type", "event", "-hls_flags", "program_date_time",
            "-hls_segment_filename", str(playlist.with_name(f"{playlist.stem}-%d.ts")), str(playlist)]
