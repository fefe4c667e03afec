"""/live/: a folder of live HLS served as a stream server would (CONGRESS_STREAM_DIR).

Only playlists and media segments are served (the folder may also hold the encoder's log). A
playlist changes every segment, so it is never cached; a segment never changes once listed."""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import Any

from starlette.responses import PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# Python's mimetypes calls .ts a Qt translation file; players want these.
MEDIA_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".aac": "audio/aac",
    ".vtt": "text/vtt; charset=utf-8",
}
PLAYLIST_CACHE = "no-cache"
SEGMENT_CACHE = "public, max-age=3600"


class LiveFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        if PurePath(path).suffix.lower() not in MEDIA_TYPES:
            return PlainTextResponse("Not Found", status_code=404)
        return await super().get_response(path, scope)

    def file_response(self, full_path: str | os.PathLike[str], *args: Any, **kwargs: Any) -> Response:
        suffix = PurePath(full_path).suffix.lower()
        if suffix == ".m3u8":
            return _playlist_response(full_path)
        response = super().file_response(full_path, *args, **kwargs)
        response.headers["Content-Type"] = MEDIA_TYPES[suffix]
        response.headers["Cache-Control"] = PLAYLIST_CACHE if suffix == ".m3u8" else SEGMENT_CACHE
        return response


def _playlist_response(full_path: str | os.PathLike[str]) -> Response:
    """A playlist as read now, whole. The encoder replaces it every segment (a new file renamed over
    the old): served as a file, its length came from the stat before the replacement and its bytes
    from the file after, and the response broke off ("peer closed connection ... expected 264").
    A playlist is a few hundred bytes: reading it at once costs nothing."""
    try:
        data = Path(full_path).read_bytes()
    except FileNotFoundError:  # replaced or deleted between the lookup and now
        return PlainTextResponse("Not Found", status_code=404)
    return Response(data, headers={"Content-Type": MEDIA_TYPES[".m3u8"], "Cache-Control": PLAYLIST_CACHE})
