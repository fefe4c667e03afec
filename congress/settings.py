"""Settings from environment variables and command flags; nothing secret is hard-coded."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_FILE = "congress.db"


def default_database_url(folder: Path | None = None) -> str:
    path = (folder or Path.cwd()) / DEFAULT_DATABASE_FILE
    return f"sqlite:///{path}"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # Sessions and cookies
    session_hours: int = 12
    is_https: bool = False
    # Live hub limits
    max_frame_bytes: int = 64 * 1024
    send_queue_size: int = 256
    resume_window: int = 5000  # events a client may be behind before it gets a fresh snapshot
    commands_per_second: float = 20.0
    coalesce_seconds: float = 0.25
    observer_coalesce_seconds: float = 1.0  # presence / progress to observers: at most this often
    ping_interval: float = 20.0
    # A folder of live HLS (playlists + segments) served at /live/: the demo's test picture, or a
    # stream server writing on this machine (docs/streaming.md). None: /live/ is not served.
    stream_dir: Path | None = None
    # Where the stream health check reads a relative stream URL not under /live/ (e.g. the nginx in
    # front, http://127.0.0.1:8080): CONGRESS_STREAM_CHECK_ORIGIN (congress.streaming.health)
    stream_check_origin: str | None = None
    # Sign-in throttling is a rule, not a setting: congress.domain.sign_in (growing waits, no lock-out)
    # A Prometheus elsewhere reads /metrics with `Authorization: Bearer <this>` (congress.ops.scrape_access);
    # without it only requests straight from this host are served. Never printed (repr=False).
    metrics_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        settings = cls(
            database_url=env.get("CONGRESS_DATABASE_URL") or default_database_url(),
            redis_url=env.get("CONGRESS_REDIS_URL") or None,
            is_https=env.get("CONGRESS_HTTPS", "") in ("1", "true", "yes"),
            metrics_token=env.get("CONGRESS_METRICS_TOKEN") or None,
            stream_dir=Path(env["CONGRESS_STREAM_DIR"]) if env.get("CONGRESS_STREAM_DIR") else None,
            stream_check_origin=env.get("CONGRESS_STREAM_CHECK_ORIGIN") or None,
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **clean) if clean else settings


def websocket_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's websocket options, the same for `congress serve` and the test servers.

    ws_per_message_deflate=False: every browser offers compression, and uvicorn accepts it by
    default. Each connection then keeps its own zlib streams (~45 KB, more than everything else an
    idle observer costs) and compresses every broadcast message once per connection, while our
    messages are small JSON (docs/performance.md, "Fan-out"). ws="websockets-sansio" (what "auto"
    picks today, pinned): its send completes at once while the socket takes data, and the hub can
    write a broadcast frame built once straight to each socket (congress.live.frames).
    """
    return {"ws": "websockets-sansio", "ws_max_size": settings.max_frame_bytes, "ws_per_message_deflate": False,
            "ws_ping_interval": 20, "ws_ping_timeout": 20}
