"""The stream health check: a background task of each worker (started in the app's lifespan).

Every CHECK_SECONDS, for each congress whose stream is kind `hls` and that has connections on this
worker, it reads the stream's playlist (following a master playlist's first variant), folds what it
saw into that congress's history and sends the figures (`congress.streaming.figures`):

- to staff, `{"msg": "stream_health", ...}` after every check (docs/protocol.md);
- to observers, `{"msg": "stream_status", "stalled": bool, "at": ISO}` only when `stalled` changes.

Where the playlist is read from: an absolute URL as it is; `/live/NAME` from the folder the app
serves at /live/ (Settings.stream_dir) when there is one; another relative URL against
CONGRESS_STREAM_CHECK_ORIGIN (Settings.stream_check_origin); otherwise it cannot be checked from
the server, and staff are told so (state `unchecked`), which is not an error of the stream.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import anyio
import httpx
import sqlalchemy as sa

from congress.db.engine import is_outage
from congress.db.models import Congress
from congress.domain.kinds import Role
from congress.live.hub import Published, encode
from congress.streaming.figures import Figures, History, Look, figures, observe
from congress.streaming.playlist import (
    MAX_PLAYLIST_CHARS,
    MasterPlaylist,
    MediaPlaylist,
    PlaylistError,
    parse_playlist,
)

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0
FETCH_TIMEOUT_SECONDS = 1.5  # shorter than a check's interval: a hanging edge never piles checks up
LOCAL_PREFIX = "/live/"


@dataclass(frozen=True, slots=True)
class StreamSetting:
    kind: str
    url: str | None
    hold_seconds: int  # congress.stream_delay_seconds


@dataclass(frozen=True, slots=True)
class Source:
    """Where a check reads the playlist: a file, a URL, or nowhere (`reason` says why)."""

    path: Path | None = None
    url: str | None = None
    reason: str | None = None


def source_for(url: str, stream_dir: Path | None, check_origin: str | None) -> Source:
    """Pure: where the server can read the stream's playlist from."""
    scheme = urlsplit(url).scheme
    if scheme in ("http", "https"):
        return Source(url=url)
    if scheme or url.startswith("//"):  # file:, data:, a host without a scheme: nothing to read
        return Source(reason="cannot_check")
    if url.startswith(LOCAL_PREFIX) and stream_dir is not None:
        relative = urlsplit(url).path[len(LOCAL_PREFIX):]
        return _local(stream_dir, relative)
    if check_origin:
        return Source(url=urljoin(check_origin.rstrip("/") + "/", url.lstrip("/")))
    return Source(reason="cannot_check")


def _local(folder: Path, relative: str) -> Source:
    root = folder.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        return Source(reason="outside_stream_dir")
    return Source(path=path)


def health_message(figures_now: Figures | None, setting: StreamSetting, observers: int, now: float,
                   reason: str | None = None) -> dict[str, Any]:
    """Pure: the staff's `stream_health` message."""
    at = datetime.fromtimestamp(now, UTC).isoformat()
    if figures_now is None:  # not checked from the server
        return {"msg": "stream_health", "state": "unchecked", "reason": reason, "live": None, "stalled": False,
                "observers": observers, "hold_seconds": setting.hold_seconds, "at": at}
    return {
        "msg": "stream_health", "state": figures_now.state, "live": figures_now.live,
        "stalled": figures_now.stalled, "ended": figures_now.ended, "reachable": figures_now.reachable,
        "error": figures_now.error,
        "segment_age": _round(figures_now.segment_age), "edge_latency": _round(figures_now.edge_latency),
        "target_duration": figures_now.target_duration, "suggested_hold": figures_now.suggested_hold,
        "hold_seconds": setting.hold_seconds, "observers": observers, "at": at,
    }


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


class StreamHealth:
    def __init__(self, service: Any, stream_dir: Path | None, check_origin: str | None,
                 interval: float = CHECK_SECONDS) -> None:
        self.service = service
        self.stream_dir = stream_dir
        self.check_origin = check_origin
        self.interval = interval
        self._settings: dict[int, StreamSetting] = {}
        self._histories: dict[int, tuple[str, History]] = {}  # congress -> (url checked, history)
        self._stalled_told: dict[int, bool] = {}  # what observers were last told

    def on_event(self, item: Published) -> None:
        if item.type == "stream.set":
            self._settings.pop(item.congress_id, None)

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=True) as client:
            while True:
                await asyncio.sleep(self.interval)
                try:
                    await self.check_all(client)
                except Exception as exc:
                    # While the database is down (a restart, a failover) one line a pass, not a traceback:
                    # the other background loops say the same (congress.app._log_failure)
                    if is_outage(exc):
                        log.warning("the stream health check failed: the database is unreachable (%s)",
                                    exc.__class__.__name__)
                    else:
                        log.exception("the stream health check failed")

    async def check_all(self, client: httpx.AsyncClient) -> None:
        hub = self.service.hub
        watched = [cid for cid, conns in hub.connections.items() if conns]
        for cid in list(self._histories):
            if cid not in watched:  # nobody here to tell; whoever comes back starts afresh
                self._histories.pop(cid, None)
                self._stalled_told.pop(cid, None)
        for cid in watched:
            await self._check(client, cid)

    async def _check(self, client: httpx.AsyncClient, cid: int) -> None:
        setting = await self._setting(cid)
        hub = self.service.hub
        observers = hub.count(cid, Role.OBSERVER)
        if setting.kind != "hls" or not setting.url:
            self._histories.pop(cid, None)
            self._tell_observers(cid, False)
            return
        source = source_for(setting.url, self.stream_dir, self.check_origin)
        now = time.time()
        if source.reason is not None:
            self._to_staff(cid, health_message(None, setting, observers, now, source.reason))
            return
        look = await self._look(client, source)
        url, history = self._histories.get(cid, (setting.url, History()))
        if url != setting.url:  # a new stream: nothing of the old one carries over
            history = History()
        history = observe(history, look)
        self._histories[cid] = (setting.url, history)
        now = time.time()
        current = figures(history, now)
        self._to_staff(cid, health_message(current, setting, observers, now))
        self._tell_observers(cid, current.stalled)

    async def _look(self, client: httpx.AsyncClient, source: Source) -> Look:
        try:
            playlist = parse_playlist(await self._read(client, source))
            if isinstance(playlist, MasterPlaylist):  # one variant says how the stream goes
                playlist = parse_playlist(await self._read(client, _variant(source, playlist.variants[0].uri)))
            if not isinstance(playlist, MediaPlaylist):
                raise PlaylistError("a master playlist whose first variant is a master playlist again")
            return Look(time.time(), playlist)
        except PlaylistError as exc:
            # Not what another server answered (the URL is staff's to choose): only that it is no playlist
            said = str(exc) if source.url is None else str(exc).split(", it starts with", 1)[0]
            return Look(time.time(), error=said)
        except FileNotFoundError:
            return Look(time.time(), error="no playlist file")
        except httpx.HTTPError as exc:
            return Look(time.time(), error=f"{exc.__class__.__name__}: {exc}"[:200])
        except (OSError, UnicodeDecodeError) as exc:
            return Look(time.time(), error=f"{exc.__class__.__name__}"[:200])

    async def _read(self, client: httpx.AsyncClient, source: Source) -> str:
        if source.reason is not None:
            raise PlaylistError(f"the playlist cannot be read: {source.reason}")
        if source.path is not None:
            path = source.path
            return await anyio.to_thread.run_sync(lambda: _read_file(path))
        assert source.url is not None
        async with client.stream("GET", source.url, headers={"Cache-Control": "no-cache"}) as response:
            if response.status_code != 200:
                raise PlaylistError(f"the playlist answered HTTP {response.status_code}")
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_PLAYLIST_CHARS:
                    raise PlaylistError(f"not an HLS playlist: longer than {MAX_PLAYLIST_CHARS} bytes")
            return body.decode("utf-8")

    async def _setting(self, cid: int) -> StreamSetting:
        if cid not in self._settings:
            def read() -> StreamSetting:
                with self.service.db.read() as session:
                    row = session.execute(sa.select(Congress.stream_kind, Congress.stream_url,
                                                    Congress.stream_delay_seconds).where(Congress.id == cid)).one_or_none()
                return StreamSetting("none", None, 0) if row is None else StreamSetting(row[0], row[1], int(row[2] or 0))

            self._settings[cid] = await anyio.to_thread.run_sync(read)
        return self._settings[cid]

    def _to_staff(self, cid: int, message: dict[str, Any]) -> None:
        data = encode(message)
        self.service.hub.broadcast_ephemeral(cid, lambda actor: data if actor.role is Role.STAFF else None)

    def _tell_observers(self, cid: int, stalled: bool) -> None:
        if self._stalled_told.get(cid, False) == stalled:
            return
        self._stalled_told[cid] = stalled
        data = encode({"msg": "stream_status", "stalled": stalled, "at": datetime.now(UTC).isoformat()})
        # Not held back by the stream's delay: the page weighs it against its own picture (web/js/stream.js)
        self.service.hub.broadcast_ephemeral(cid, lambda actor: data if actor.role is Role.OBSERVER else None)


def _read_file(path: Path) -> str:
    with path.open("rb") as file:
        body = file.read(MAX_PLAYLIST_CHARS + 1)
    if len(body) > MAX_PLAYLIST_CHARS:
        raise PlaylistError(f"not an HLS playlist: longer than {MAX_PLAYLIST_CHARS} bytes")
    return body.decode("utf-8")


def _variant(source: Source, uri: str) -> Source:
    if source.path is not None:
        if urlsplit(uri).scheme:
            return Source(url=uri)
        return _local(source.path.parent, urlsplit(uri).path)
    assert source.url is not None
    return Source(url=urljoin(source.url, uri))
