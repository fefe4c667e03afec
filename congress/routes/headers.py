"""The security headers of every HTTP response, from this one place (a pure ASGI middleware).

- Pages (`/`, `/sign-in`, `/delegate`, `/staff`, ...) get their Content-Security-Policy as a header:
  scripts, styles and everything else from this server only; the live stream's host — the origins
  of the congresses' stream addresses (set_stream), not any `http:`/`https:` — for the picture
  (media-src, connect-src for hls.js, frame-src for an embedded player); and `frame-ancestors
  'none'`, except /watch and /screen, which the sites staff name with set_embedding may frame.
- Attachments, rendered documents and printouts set their own `DOCUMENT_CSP` (a sandbox that runs
  nothing and loads nothing from elsewhere); the app's pages frame them, so `frame-ancestors 'self'`.
- Everything else (the API, static files, errors) gets `default-src 'none'; frame-ancestors 'none'`.
- All responses: nosniff, Referrer-Policy, Permissions-Policy, Cross-Origin-Opener-Policy, and
  Strict-Transport-Security when the site is served over HTTPS (CONGRESS_HTTPS=1).

Referrer-Policy is strict-origin-when-cross-origin rather than same-origin: a watch link carries its
token in the query, and this policy never sends a path or query to another site (nor anything at
all from HTTPS to HTTP), while a stream CDN's referer allow-list (防盗链, common on Chinese live CDNs)
still sees which site plays its stream. same-origin would send nothing, and such a CDN refuses.

The stream and embedding origins come from the database, cached per worker, and forgotten when a
`stream.set`, `embedding.set` or `congress.created` event reaches this worker's hub (Hub.on_received:
events reach every worker, watched there or not), so the next page served names the new host.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import anyio
import sqlalchemy as sa

from congress.db.engine import Database
from congress.domain.origins import origin_of

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

# Attachments, rendered Markdown and printouts: a sandbox (an opaque origin, no script, no form, no
# popup), nothing loaded from anywhere but this server's images and the page's own inline style.
DOCUMENT_CSP = ("sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
# JSON, files and errors: nothing to run, and no one frames them
API_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
# Powerful features no page of this site uses, refused for the pages and anything they frame.
# (Only names Chromium knows: an unknown one is an error in the console of every page.)
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "camera", "display-capture", "geolocation", "gyroscope", "hid", "magnetometer",
    "microphone", "midi", "payment", "serial", "usb", "xr-spatial-tracking"))
REFERRER_POLICY = "strict-origin-when-cross-origin"
HSTS = "max-age=31536000; includeSubDomains"  # one year (ASVS 14.4.5 asks for at least ~6 months)
EMBEDDABLE = ("/watch", "/screen")  # the observer page and the big screen
_INVALIDATING = frozenset({"stream.set", "embedding.set", "congress.created"})
_HOST_HEADER = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


@dataclass(frozen=True)
class Sources:
    """What the pages' policy names besides this server, read from the database."""

    media: tuple[str, ...] = ()  # HLS streams' origins: media-src, and connect-src for hls.js
    frames: tuple[str, ...] = ()  # embedded players' origins (stream kind "embed"): frame-src
    embedders: dict[int, tuple[str, ...]] = field(default_factory=dict)  # congress -> may frame /watch, /screen
    latest_congress: int | None = None  # what /watch shows without ?congress= (the page's own choice)


def read_sources(session: Any) -> Sources:
    from congress.db.models import Congress
    from congress.reads.embedding import all_embed_origins

    media: list[str] = []
    frames: list[str] = []
    latest = None
    for congress_id, kind, url in session.execute(
            sa.select(Congress.id, Congress.stream_kind, Congress.stream_url).order_by(Congress.id)):
        latest = congress_id
        origin = origin_of(url)  # None for a path on this server, which 'self' covers
        target = media if kind == "hls" else frames if kind == "embed" else None
        if origin is not None and target is not None and origin not in target:
            target.append(origin)
    return Sources(tuple(media), tuple(frames), all_embed_origins(session), latest)


class HeaderSources:
    """The cached Sources of this worker: read once, again after an event that changes them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._current: Sources | None = None
        self._last = Sources()  # served while the database cannot be read
        self._generation = 0
        self._lock = asyncio.Lock()

    def on_event(self, item: Any) -> None:
        """Hub.on_received: a stream, an embedding list or a new congress makes the cache stale."""
        if item.type in _INVALIDATING:
            self._generation += 1
            self._current = None

    def forget(self) -> None:
        self._generation += 1
        self._current = None

    async def current(self) -> Sources:
        if self._current is not None:
            return self._current
        async with self._lock:
            if self._current is not None:
                return self._current
            generation = self._generation

            def read() -> Sources:
                with self.db.read() as session:
                    return read_sources(session)

            try:
                sources = await anyio.to_thread.run_sync(read)
            except Exception:  # a database outage must not take the pages down with it
                log.exception("reading the stream and embedding origins failed")
                return self._last
            self._last = sources
            if generation == self._generation:  # no event came in while reading
                self._current = sources
            return sources


def _congress_of(scope: Scope, sources: Sources) -> int | None:
    given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("congress", [""])[0]
    return int(given) if given.isdigit() else sources.latest_congress


def page_csp(sources: Sources, *, websocket: str | None, frame_ancestors: tuple[str, ...]) -> str:
    ancestors = " ".join(frame_ancestors) or "'none'"
    connect = " ".join(("'self'", *((websocket,) if websocket else ()), *sources.media))
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        " ".join(("media-src 'self' blob:", *sources.media)),  # hls.js plays from a blob: MediaSource
        f"connect-src {connect}",
        " ".join(("frame-src 'self'", *sources.frames)),  # 'self': the documents' reader
        "worker-src 'self' blob:",  # hls.js demuxes in a worker it makes from a blob
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {ancestors}",
    ))


def _is_page(path: str) -> bool:
    """The pages are `/` and `/{name}` (congress/routes/pages.py); everything else is deeper."""
    return path.count("/") == 1 and not path.startswith(("/api", "/static", "/ws"))


class SecurityHeaders:
    """ASGI middleware: adds the headers above to every HTTP response that does not set its own."""

    def __init__(self, app: ASGIApp, is_https: bool = False) -> None:
        self.app = app
        self.is_https = is_https

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = await self._headers(scope, list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _headers(self, scope: Scope, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in headers}

        def put(name: str, value: str) -> None:
            if name.lower().encode() not in present:
                headers.append((name.encode(), value.encode()))

        path = scope.get("path", "")
        if b"content-security-policy" not in present:
            if _is_page(path):
                sources = await self._sources(scope)
                embedders: tuple[str, ...] = ()
                if path in EMBEDDABLE:
                    congress_id = _congress_of(scope, sources)
                    embedders = sources.embedders.get(congress_id, ()) if congress_id is not None else ()
                put("Content-Security-Policy",
                    page_csp(sources, websocket=self._websocket_origin(scope), frame_ancestors=embedders))
                if not embedders:
                    put("X-Frame-Options", "DENY")  # for browsers older than frame-ancestors
            else:
                put("Content-Security-Policy", API_CSP)
                put("X-Frame-Options", "DENY")
        elif b"x-frame-options" not in present:
            put("X-Frame-Options", "SAMEORIGIN")  # DOCUMENT_CSP's frame-ancestors 'self'
        put("X-Content-Type-Options", "nosniff")
        put("Referrer-Policy", REFERRER_POLICY)
        put("Permissions-Policy", PERMISSIONS_POLICY)
        put("Cross-Origin-Opener-Policy", "same-origin")
        if self.is_https:
            put("Strict-Transport-Security", HSTS)
        return headers

    async def _sources(self, scope: Scope) -> Sources:
        app = scope.get("app")
        cache = getattr(getattr(app, "state", None), "header_sources", None)
        return await cache.current() if cache is not None else Sources()

    def _websocket_origin(self, scope: Scope) -> str | None:
        """ws(s)://this host for the live connection ('self' covers it in current browsers, not all)."""
        host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
        if not _HOST_HEADER.match(host):
            return None
        secure = self.is_https or scope.get("scheme") == "https"
        return f"{'wss' if secure else 'ws'}://{host.lower()}"
