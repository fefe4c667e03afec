"""create_app(settings) -> the Starlette application: one route table, shared objects in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles

from congress.application.commands import load_all
from congress.application.connection_access import AccessWatch
from congress.application.notice_sender import Sender
from congress.application.observer_start import read_snapshot
from congress.application.ratelimit import RateBudget
from congress.application.service import Clock, Service, system_clock, to_published
from congress.application.vote_timer import close_due_votes
from congress.db.engine import Database, log_loop_failure
from congress.live.backplane import make_backplane
from congress.live.drain import Drain
from congress.live.frames import ExposeWebsocketProtocol
from congress.live.hub import CLOSE_SERVER_RESTART, Hub
from congress.live.observer_history import ObserverHistory
from congress.live.state import LiveState
from congress.notices.settings import smtp_settings
from congress.ops import exposition, health
from congress.routes import admin, api, attachments, documents, pages, replay
from congress.routes.headers import HeaderSources, SecurityHeaders
from congress.routes.origin import RefuseCrossSite
from congress.routes.ws import live_endpoint
from congress.settings import Settings
from congress.streaming.health import StreamHealth
from congress.streaming.live_files import LiveFiles

log = logging.getLogger(__name__)
WEB_DIR = Path(__file__).resolve().parents[1] / "web"


def _log_failure(exc: Exception, what: str) -> None:
    log_loop_failure(log, exc, what)


# Young-generation collections every 50,000 allocations instead of 700, and a full one rarely: with
# thousands of connections the heap is large, and a full collection stopped the event loop for a
# few hundred milliseconds — the tail of bench/fanout.py at 4,000 observers (p99 0.38–0.61 s against
# 0.19 s with collection off). Cycles are still collected, just in fewer, later passes.
GC_THRESHOLDS = (50_000, 20, 100)


async def _warm_up(service: Service) -> None:
    from congress.reads.suggestions import warm_categoriser

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
        live = LiveState(hub, db, settings.coalesce_seconds, settings.observer_coalesce_seconds,
                         on_watch_set=service.watch_gate.forget)
        gc.set_threshold(*GC_THRESHOLDS)
        await backplane.start(hub)
        await service.start()
        # Open connections of sign-ins that ended or whose roster rows changed are closed (congress.application.connection_access)
        access = AccessWatch(service)
        # Observers' snapshots as they were, for the stream's hold (congress.live.observer_history)
        history = ObserverHistory(lambda cid: anyio.to_thread.run_sync(read_snapshot, service, cid))
        hub.on_received.append(lambda item: history.changed(item.congress_id))
        # Staff see the stream's health, observers hear when it stalls (congress.streaming.health)
        stream_health = StreamHealth(service, settings.stream_dir, settings.stream_check_origin)
        hub.on_received.append(stream_health.on_event)
        # Notices from the outbox, by e-mail and group robots; with several workers each row goes to one
        notice_sender = Sender(db, clock, smtp=smtp_settings())  # (congress.application.notice_sender)
        tasks = [asyncio.create_task(history.run()), asyncio.create_task(live.run()), asyncio.create_task(close_due_votes(service)),
                 asyncio.create_task(access.run()), asyncio.create_task(stream_health.run()),
                 asyncio.create_task(_warm_up(service)),
                 asyncio.create_task(notice_sender.run(lambda events: backplane.publish([to_published(e) for e in events])))]
        app.state.settings = settings
        app.state.service = service
        # SIGTERM: finish the commands in flight, close every websocket with 1012, exit (congress.live.drain)
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
    # (congress.routes.origin). The database unreachable: 503 `unavailable` from any route (api.database_outage).
    return Starlette(routes=routes, lifespan=lifespan,
                     middleware=[Middleware(SecurityHeaders, is_https=settings.is_https),
                                 Middleware(RefuseCrossSite, is_https=settings.is_https),
                                 Middleware(ExposeWebsocketProtocol)],
                     exception_handlers={sa.exc.DBAPIError: api.database_outage,
                                         sa.exc.TimeoutError: api.database_outage})
