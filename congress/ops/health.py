"""/healthz and /readyz, for nginx, systemd and any orchestrator (docs/deploy.md, "Health checks and metrics").

/healthz: the process is alive and its event loop answers; no I/O, always 200 while it runs.
/readyz: this worker can serve now — its database answers `SELECT 1`, its Redis answers PING (when
it has one) and it is not draining (`app.state.draining`, set on SIGTERM by congress.live.drain).
200 {"status": "ready", "checks": ...} or 503 {"status": "not_ready", "failing": [{"check", "error"}]}.

Both are GETs: no cookie, no CSRF token, no rate budget (congress.application.ratelimit charges only the routes
that call it). Each check has a short timeout, so a probe never hangs on a database that does not
answer; the database check runs on a thread, and only one at a time per worker (a probe every
second against a hung database would otherwise leave a blocked thread behind each time and use up
the pool the requests need).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

CHECK_TIMEOUT = 2.0  # seconds each check may take before it counts as failing
NO_STORE = {"Cache-Control": "no-store"}


def is_draining(app: Any) -> bool:
    """THE draining flag (issue 17): set by the SIGTERM handler, read by /readyz. False until set."""
    return bool(getattr(app.state, "draining", False))


@dataclass(frozen=True, slots=True)
class Check:
    name: str  # database | redis | draining
    error: str | None  # None: passed
    seconds: float = 0.0


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{exc.__class__.__name__}: {text[:200]}" if text else exc.__class__.__name__


class _OneAtATime:
    """A blocking check on a thread, at most one running: later callers wait for the same run."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn = fn
        self._task: asyncio.Future[None] | None = None

    async def __call__(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(anyio.to_thread.run_sync(self.fn))
            # Its result is read here, or by nobody if every caller timed out: never "never retrieved"
            self._task.add_done_callback(lambda t: t.cancelled() or t.exception())
        await asyncio.shield(self._task)  # a caller's timeout cancels its wait, not the check


class Readiness:
    """The checks of one worker (one per app, made at its first probe)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        service = app.state.service
        db = service.db
        self.backplane = service.backplane

        # PostgreSQL: a connection of its own, not one from the pool the requests use. A join storm
        # may hold every pooled connection for a moment; the worker is busy then, not unready, and
        # taking it out of the balancer would only load the others more. SQLite: the read engine (a
        # deferred BEGIN, never the write lock the writer holds).
        self.engine = db.read_engine if db.is_sqlite else sa.create_engine(
            db.url, pool_size=1, max_overflow=0, pool_pre_ping=True, pool_timeout=CHECK_TIMEOUT,
            connect_args={"connect_timeout": max(2, int(CHECK_TIMEOUT))})
        self._own_engine = not db.is_sqlite
        engine = self.engine

        def select_one() -> None:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")

        self._database = _OneAtATime(select_one)

    async def _timed(self, name: str, check: Callable[[], Any]) -> Check:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT)
        except TimeoutError:
            return Check(name, f"no answer within {CHECK_TIMEOUT:g} s", time.perf_counter() - started)
        except Exception as exc:
            return Check(name, _describe(exc), time.perf_counter() - started)
        return Check(name, None, time.perf_counter() - started)

    async def checks(self) -> list[Check]:
        work = [self._timed("database", self._database)]
        ping = getattr(self.backplane, "ping", None)  # only the Redis backplane has one
        if ping is not None:
            work.append(self._timed("redis", ping))
        results = list(await asyncio.gather(*work))
        draining = is_draining(self.app)
        results.append(Check("draining", "this worker is shutting down: connect to another one" if draining else None))
        return results


    def close(self) -> None:
        if self._own_engine:
            self.engine.dispose()


def close_readiness(app: Any) -> None:
    """At shutdown: the probe's own database connection (app.py, lifespan)."""
    readiness = getattr(app.state, "readiness", None)
    if readiness is not None:
        readiness.close()


def readiness_of(app: Any) -> Readiness:
    readiness = getattr(app.state, "readiness", None)
    if readiness is None:
        readiness = app.state.readiness = Readiness(app)
    return readiness


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


def readiness_body(checks: list[Check]) -> tuple[dict[str, Any], int]:
    """The /readyz answer for these checks: (body, status)."""
    states = {c.name: ("ok" if c.error is None else "failing") for c in checks}
    timings = {c.name: round(c.seconds, 4) for c in checks if c.name != "draining"}
    failing = [{"check": c.name, "error": c.error} for c in checks if c.error is not None]
    if failing:
        return {"status": "not_ready", "failing": failing, "checks": states, "seconds": timings}, 503
    return {"status": "ready", "checks": states, "seconds": timings}, 200


async def readyz(request: Request) -> JSONResponse:
    body, status = readiness_body(await readiness_of(request.app).checks())
    return JSONResponse(body, status_code=status, headers=NO_STORE)


routes = [Route("/healthz", healthz, methods=["GET", "HEAD"]), Route("/readyz", readyz, methods=["GET", "HEAD"])]
