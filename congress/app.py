"""create_app(settings) -> the Starlette application: one route table, shared objects in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles

from congress.commands import load_all
from congress.db.engine import Database, is_outage
from congress.db.models import Congress, Vote
from congress.domain.kinds import Role, VoteStatus
from congress.live.access import AccessWatch
from congress.live.backplane import make_backplane
from congress.live.frames import ExposeWebsocketProtocol
from congress.live.hub import CLOSE_SERVER_RESTART, Hub, Published, encode
from congress.live.observer_history import ObserverHistory
from congress.live.observer_start import iso, read_snapshot
from congress.notices.sender import Sender
from congress.notices.settings import smtp_settings
from congress.ops import exposition, health
from congress.ops.drain import Drain
from congress.origin import RefuseCrossSite
from congress.permissions import Actor
from congress.ratelimit import RateBudget
from congress.routes import admin, api, attachments, documents, pages, replay
from congress.routes.headers import HeaderSources, SecurityHeaders
from congress.routes.ws import forget_watch_mode, live_endpoint
from congress.service import Clock, Service, system_clock, to_published
from congress.settings import Settings
from congress.streaming.health import StreamHealth
from congress.streaming.live_files import LiveFiles

log = logging.getLogger(__name__)
WEB_DIR = Path(__file__).resolve().parents[1] / "web"
SYSTEM = Actor(role=Role.STAFF, name="系统（定时截止）")


def _by_viewer(staff: str, public: str, others_due: bool, observers_due: bool) -> Callable[[Actor], str | None]:
    """Which message a viewer gets now: staff theirs, delegates the public one, observers on their cadence."""
    def data_for(actor: Actor) -> str | None:
        if actor.role is Role.OBSERVER:
            return public if observers_due else None
        if not others_due:
            return None
        return staff if actor.role is Role.STAFF else public
    return data_for


class LiveState:
    """Coalesced, high-rate state (presence, vote progress): a few updates a second per congress.

    Staff and delegates get them every `interval`; observers at most every `observer_interval`, and
    presence only when the observer count changed. With 4,000 observers every message to them is
    4,000 writes on the server and 4,000 reads on their side; four a second during check-in and
    votes was most of what the story's rehearsal spent, for a count nobody reads that fast.
    """

    def __init__(self, service: Service, interval: float, observer_interval: float) -> None:
        self.service = service
        self.interval = interval
        self.observer_interval = observer_interval
        self._presence_dirty: set[int] = set()
        self._progress_dirty: set[int] = set()
        # the same, still owed to observers (cleared on the slower observer cadence)
        self._observer_presence_dirty: set[int] = set()
        self._observer_progress_dirty: set[int] = set()
        self._observer_attendance_dirty: set[int] = set()  # 应到 / 实到: observers get the numbers here
        self._observers_told: dict[int, int] = {}  # congress -> observer count last sent to observers
        self._observers_next = 0.0
        self._delays: dict[int, float] = {}
        service.hub.on_delivered.append(self._on_event)

    def presence_changed(self, congress_id: int) -> None:
        self._presence_dirty.add(congress_id)
        self._observer_presence_dirty.add(congress_id)

    def progress_wanted(self, congress_id: int) -> None:
        """A staff or delegate page has just connected: its snapshot carries no progress, and progress
        was sent only after a ballot, so a staff page opened after the last ballot showed none until
        the close. The next tick sends it (to staff and delegates; observers keep their cadence)."""
        self._progress_dirty.add(congress_id)

    def stream_delay(self, congress_id: int) -> float:
        if congress_id not in self._delays:
            with self.service.db.read() as session:
                self._delays[congress_id] = float(session.scalar(
                    sa.select(Congress.stream_delay_seconds).where(Congress.id == congress_id)) or 0)
        return self._delays[congress_id]

    def _on_event(self, item: Published) -> None:
        if any(f'"type":"{family}.' in item.data for family in ("ballot", "attendance", "vote", "group_count")):
            self._progress_dirty.add(item.congress_id)
            self._observer_progress_dirty.add(item.congress_id)
        if '"type":"attendance.changed"' in item.data:
            self._observer_attendance_dirty.add(item.congress_id)
        if '"type":"stream.set"' in item.data:
            self._delays.pop(item.congress_id, None)
        if '"type":"watch.set"' in item.data:
            forget_watch_mode(self.service, item.congress_id)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._tick()
            except Exception as exc:
                _log_failure(exc, "live state tick failed")

    async def _tick(self) -> None:
        hub = self.service.hub
        now = asyncio.get_running_loop().time()
        observers_due = now >= self._observers_next
        if observers_due:
            self._observers_next = now + self.observer_interval
            observer_presence, self._observer_presence_dirty = self._observer_presence_dirty, set()
            observer_progress, self._observer_progress_dirty = self._observer_progress_dirty, set()
            observer_attendance, self._observer_attendance_dirty = self._observer_attendance_dirty, set()
        else:
            observer_presence, observer_progress, observer_attendance = set(), set(), set()
        presence, self._presence_dirty = self._presence_dirty, set()
        for congress_id in presence | observer_presence:
            conns = hub.connections.get(congress_id, set())
            by_group: dict[int, int] = {}
            for conn in conns:
                if conn.actor.role is Role.DELEGATE and conn.actor.group_id is not None:
                    by_group[conn.actor.group_id] = by_group.get(conn.actor.group_id, 0) + 1
            observers = hub.count(congress_id, Role.OBSERVER)
            tell_observers = congress_id in observer_presence and self._observers_told.get(congress_id) != observers
            if tell_observers:
                self._observers_told[congress_id] = observers
            read_at = time.time()  # observers get it H later, each page at this moment of its picture
            public = encode({"msg": "presence", "observers": observers, "at": iso(read_at)})
            staff = encode({"msg": "presence", "observers": observers,
                            "delegates_connected": {str(g): n for g, n in by_group.items()},
                            "staff_connected": hub.count(congress_id, Role.STAFF)})
            hub.broadcast_ephemeral(congress_id, _by_viewer(staff, public, congress_id in presence, tell_observers),
                                    created_at=read_at)
        progress, self._progress_dirty = self._progress_dirty, set()
        for congress_id in progress | observer_progress:
            if not hub.connections.get(congress_id):
                continue
            from congress.actions.ballots import vote_progress

            def read(cid: int = congress_id) -> list[dict[str, Any]]:
                with self.service.db.read() as session:
                    return vote_progress(session, cid)

            votes = await anyio.to_thread.run_sync(read)
            read_at = time.time()
            data = encode({"msg": "progress", "votes": votes, "at": iso(read_at)})
            hub.broadcast_ephemeral(congress_id, _by_viewer(data, data, congress_id in progress,
                                                             congress_id in observer_progress), created_at=read_at)
        for congress_id in observer_attendance:
            if not hub.count(congress_id, Role.OBSERVER):
                continue
            from congress.actions.attendance import attendance_by_group, attendance_json

            def counts(cid: int = congress_id) -> dict[str, Any]:
                with self.service.db.read() as session:
                    return attendance_json(attendance_by_group(session, cid))

            counted = await anyio.to_thread.run_sync(counts)
            read_at = time.time()
            data = encode({"msg": "attendance", **counted, "at": iso(read_at)})
            hub.broadcast_ephemeral(congress_id, _by_viewer(data, data, False, True),  # observers only
                                    created_at=read_at)

    async def close_due_votes(self) -> None:
        """Votes set to close after a duration are closed here (any worker may; the first wins)."""
        while True:
            await asyncio.sleep(1.0)
            try:
                def due() -> list[tuple[int, int]]:
                    with self.service.db.read() as session:
                        return list(session.execute(sa.select(Vote.congress_id, Vote.id).where(
                            Vote.status == VoteStatus.OPEN, Vote.closes_at <= self.service.clock())))

                for congress_id, vote_id in await anyio.to_thread.run_sync(due):
                    with contextlib.suppress(Exception):
                        await self.service.run(SYSTEM, "close_vote", congress_id, {"vote_id": vote_id})
            except Exception as exc:
                _log_failure(exc, "closing due votes failed")


def _log_failure(exc: Exception, what: str) -> None:
    """A background loop's failure: while the database is unreachable one line, not a traceback a second."""
    if is_outage(exc):
        log.warning("%s: the database is unreachable (%s)", what, exc.__class__.__name__)
    else:
        log.exception(what)


# Young-generation collections every 50,000 allocations instead of 700, and a full one rarely: with
# thousands of connections the heap is large, and a full collection stopped the event loop for a
# few hundred milliseconds — the tail of bench/fanout.py at 4,000 observers (p99 0.38–0.61 s against
# 0.19 s with collection off). Cycles are still collected, just in fewer, later passes.
GC_THRESHOLDS = (50_000, 20, 100)


async def _warm_up(service: Service) -> None:
    from congress.actions.suggestions import warm_categoriser

    def warm() -> None:
        with service.db.read() as session:
            warm_categoriser(session)

    try:
        await anyio.to_thread.run_sync(warm)
    except Exception as exc:  # the first submission trains it instead (a database restart: one line)
        _log_failure(exc, "warming the categoriser failed")
    # Everything loaded so far (the libraries, the categoriser) lives as long as the process: out of
    # the collector's way, so a full collection scans only what connections and commands made.
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, clock: Clock = system_clock) -> Starlette:
    settings = settings or Settings.from_env()
    load_all()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        backplane = make_backplane(settings.redis_url, db)  # db: the deployment's own channel
        service: Service
        hub = Hub(fetch_missing=lambda c, a, u: service.fetch_missing(c, a, u))
        service = Service(db, hub, backplane, clock, is_https=settings.is_https)
        live = LiveState(service, settings.coalesce_seconds, settings.observer_coalesce_seconds)
        gc.set_threshold(*GC_THRESHOLDS)
        await backplane.start(hub)
        await service.start()
        # Open connections of sign-ins that ended or whose roster rows changed are closed (congress.live.access)
        access = AccessWatch(service)
        # Observers' snapshots as they were, for the stream's hold (congress.live.observer_history)
        history = ObserverHistory(lambda cid: anyio.to_thread.run_sync(read_snapshot, service, cid))
        hub.on_received.append(lambda item: history.changed(item.congress_id))
        # Staff see the stream's health, observers hear when it stalls (congress.streaming.health)
        stream_health = StreamHealth(service, settings.stream_dir, settings.stream_check_origin)
        hub.on_received.append(stream_health.on_event)
        # Notices from the outbox, by e-mail and group robots; with several workers each row goes to one
        notice_sender = Sender(db, clock, smtp=smtp_settings())  # (congress.notices.sender)
        tasks = [asyncio.create_task(history.run()), asyncio.create_task(live.run()), asyncio.create_task(live.close_due_votes()),
                 asyncio.create_task(access.run()), asyncio.create_task(stream_health.run()),
                 asyncio.create_task(_warm_up(service)),
                 asyncio.create_task(notice_sender.run(lambda events: backplane.publish([to_published(e) for e in events])))]
        app.state.settings = settings
        app.state.service = service
        # SIGTERM: finish the commands in flight, close every websocket with 1012, exit (congress.ops.drain)
        app.state.drain = Drain(app.state, hub)  # sets app.state.draining = False
        app.state.drain.install()
        app.state.budget = RateBudget(settings.commands_per_second)  # one per person, HTTP and websocket alike
        app.state.presence_changed = live.presence_changed
        app.state.progress_wanted = live.progress_wanted
        app.state.stream_delay = live.stream_delay
        app.state.observer_history = history
        # The pages' CSP names the stream and embedding origins; stale after their events (routes/headers.py)
        app.state.header_sources = HeaderSources(db)
        hub.on_received.append(app.state.header_sources.on_event)
        try:
            yield
        finally:
            app.state.drain.uninstall()
            await hub.close_all(CLOSE_SERVER_RESTART, "server restarting")
            for task in tasks:
                task.cancel()
            # the notice sender's pass in flight ends before the database closes (Sender.run)
            await asyncio.gather(tasks[-1], return_exceptions=True)
            await service.stop()
            await backplane.stop()
            db.dispose()
            exposition.forget_this_worker()  # its connections ended with it (several workers' metrics)
            health.close_readiness(app)  # the readiness probe's own database connection

    routes = [
        *health.routes,  # /healthz, /readyz (congress.ops.health)
        *exposition.routes,  # /metrics, restricted (congress.ops.exposition)
        *admin.routes,
        *attachments.routes,
        *api.routes,
        *replay.routes,
        *documents.routes,
        WebSocketRoute("/ws", live_endpoint),
        *pages.routes,
        Mount("/static", StaticFiles(directory=WEB_DIR, check_dir=False), name="static"),
    ]
    if settings.stream_dir is not None:  # live HLS on this machine (the demo's picture; docs/streaming.md)
        routes.append(Mount("/live", LiveFiles(directory=settings.stream_dir, check_dir=False), name="live"))
    # Starlette's ServerErrorMiddleware passes a websocket's send through unwrapped: this layer sees
    # uvicorn's own (congress.live.frames).
    # RefuseCrossSite: every state-changing request from another site is refused in one place
    # (congress.origin). The database unreachable: 503 `unavailable` from any route (api.database_outage).
    return Starlette(routes=routes, lifespan=lifespan,
                     middleware=[Middleware(SecurityHeaders, is_https=settings.is_https),
                                 Middleware(RefuseCrossSite, is_https=settings.is_https),
                                 Middleware(ExposeWebsocketProtocol)],
                     exception_handlers={sa.exc.DBAPIError: api.database_outage,
                                         sa.exc.TimeoutError: api.database_outage})
