"""GET /metrics: the Prometheus text format, for this host or a bearer of the metrics token.

One worker: the default registry (with prometheus_client's process and Python series). Several
(`congress serve --workers N`): every worker's files in PROMETHEUS_MULTIPROC_DIR added up, whichever
worker answers (congress.ops.multiprocess). Either way the answering worker adds its readiness
(`congress_ready`, `congress_ready_check{check}`), measured as /readyz measures it.

A worker that died without shutting down (SIGKILL, a crash) leaves its files behind. Its counters
and histograms should stay (they are what happened), but its open connections ended with it: the
live gauges of a process that no longer exists are dropped here before each scrape. A worker that
shuts down drops its own (app.py, lifespan). Not covered: a dead worker's pid reused at once by a
new process keeps its stale gauge until that process ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import anyio
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from congress.ops.health import NO_STORE, Check, readiness_of
from congress.ops.multiprocess import folder
from congress.ops.scrape_access import scrape_refusal


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a child killed but not yet reaped by uvicorn is a zombie: dead for our purposes
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def forget_dead_workers(path: str) -> list[int]:
    """Drop the live gauges of workers that no longer run; returns their pids."""
    dead = set()
    for file in Path(path).glob("gauge_live*_*.db"):
        try:
            pid = int(file.stem.rsplit("_", 1)[1])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            dead.add(pid)
    for pid in dead:
        mark_process_dead(pid, path)
    return sorted(dead)


def forget_this_worker() -> None:
    """At a worker's shutdown: its connections are gone (a no-op with one process)."""
    path = folder()
    if path:
        mark_process_dead(os.getpid(), path)


class _Readiness:
    """The answering worker's readiness, as measured for this scrape."""

    def __init__(self, checks: list[Check]) -> None:
        self.checks = checks

    def collect(self) -> Iterator[GaugeMetricFamily]:
        ready = GaugeMetricFamily("congress_ready", "1 when /readyz of the answering worker says ready")
        ready.add_metric([], 1.0 if all(c.error is None for c in self.checks) else 0.0)
        yield ready
        each = GaugeMetricFamily("congress_ready_check", "1 when this readiness check passes", labels=["check"])
        for check in self.checks:
            each.add_metric([check.name], 1.0 if check.error is None else 0.0)
        yield each


def render(checks: list[Check]) -> bytes:
    path = folder()
    if path:
        forget_dead_workers(path)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path)
    else:
        registry = REGISTRY
    readiness = CollectorRegistry()
    readiness.register(_Readiness(checks))
    return generate_latest(registry) + generate_latest(readiness)


async def metrics(request: Request) -> Response:
    token = getattr(request.app.state.settings, "metrics_token", None)
    refusal = scrape_refusal(request.client.host if request.client else None, request.headers, token)
    if refusal is not None:
        return JSONResponse({"error": {"code": "forbidden", "message": refusal}}, status_code=403, headers=NO_STORE)
    checks = await readiness_of(request.app).checks()
    body = await anyio.to_thread.run_sync(render, checks)  # reading many workers' files is not for the loop
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)


routes = [Route("/metrics", metrics, methods=["GET"])]
