"""The client processes: how many, each started with its share of observers and delegates, asked
all at once through their pipes, stopped at the end (the coordinator's side of `worker.py`)."""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from congress.rehearsal.roster import Plan
from congress.rehearsal.worker import OPEN_FILES_CEILING, WorkerConfig, worker_main

if TYPE_CHECKING:
    from congress.rehearsal.scenario import UI, Options

BUSY_PROCESS = 2_500  # connections one client process serves without its own queue showing in the figures
PER_PROCESS = OPEN_FILES_CEILING - 1_000  # connections one client process holds at most (its open files)


class RehearsalAborted(RuntimeError):
    pass


@dataclass
class WorkerHandle:
    index: int
    process: Any
    conn: Any
    replies: asyncio.Queue[tuple[str, Any]]
    employee_ids: set[str]


class ClientProcesses:
    """The Coordinator's dealings with its client processes (congress.rehearsal.scenario)."""

    # The host's (Coordinator's) attributes, declared for the type checker.
    o: Options
    ui: UI
    run_id: str
    congress_id: int
    compression: str | None
    workers: list[WorkerHandle]

    async def ask_all(self, kind: str, payloads: list[Any] | None = None, common: Any = None) -> list[Any]:
        for i, w in enumerate(self.workers):
            w.conn.send((kind, payloads[i] if payloads is not None else common))
        results = []
        for w in self.workers:
            got_kind, result = await w.replies.get()
            if got_kind == "dead":
                raise RehearsalAborted(f"client process {w.index} died")
            if isinstance(result, dict) and "crashed" in result:
                raise RehearsalAborted(f"client process {w.index} failed in {kind}: {result['crashed']}")
            results.append(result)
        return results

    def _start_workers(self, plan: Plan, codes: dict[str, str], group_ids: dict[str, int]) -> None:
        o = self.o
        clients = o.observers + len(plan.people)
        count = o.processes or client_processes(clients, os.cpu_count() or 2)
        count = max(1, min(count, max(1, clients)))
        observers: list[list[tuple[int, int]]] = [[] for _ in range(count)]
        for n in range(o.observers):
            observers[n % count].append((n + 1, n % len(o.urls)))
        delegates: list[list[dict[str, Any]]] = [[] for _ in range(count)]
        for k, p in enumerate(plan.people):
            delegates[k % count].append({"employee_id": p.employee_id, "code": codes[p.employee_id],
                                         "url": (k + 1) % len(o.urls), "group_id": group_ids[p.group],
                                         "is_voting": p.is_voting, "is_leader": p.is_leader, "name": p.name})
        context = multiprocessing.get_context("spawn")
        loop = asyncio.get_running_loop()
        for i in range(count):
            parent, child = context.Pipe()
            config = WorkerConfig(i, o.urls, self.congress_id, observers[i], delegates[i], o.drop_rate, o.seed,
                                  self.run_id, self.compression)
            process = context.Process(target=worker_main, args=(child, config), daemon=True,
                                      name=f"rehearsal-clients-{i}")
            process.start()
            child.close()
            handle = WorkerHandle(i, process, parent, asyncio.Queue(), {d["employee_id"] for d in delegates[i]})
            self.workers.append(handle)
            threading.Thread(target=self._pipe_reader, args=(handle, loop), daemon=True).start()

    def _pipe_reader(self, handle: WorkerHandle, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            try:
                kind, payload = handle.conn.recv()
            except (EOFError, OSError):
                loop.call_soon_threadsafe(handle.replies.put_nowait, ("dead", None))
                return
            if kind == "progress":
                for key, n in payload.items():
                    loop.call_soon_threadsafe(self.ui.advance, key, n)
            else:
                loop.call_soon_threadsafe(handle.replies.put_nowait, (kind, payload))

    def owner(self, employee_id: str) -> int:
        return next(w.index for w in self.workers if employee_id in w.employee_ids)

    async def _stop_workers(self, graceful: bool = True) -> None:
        """After `finish` the workers exit by themselves; after an abort they are told to stop
        (their pipe closes) and terminated if they are still busy."""
        if not graceful:
            for w in self.workers:
                w.conn.close()
        deadline = time.monotonic() + (30 if graceful else 5)
        for w in self.workers:
            while w.process.is_alive() and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            if w.process.is_alive():
                w.process.terminate()
                w.process.join(timeout=5)


def client_processes(clients: int, cores: int) -> int:
    """How many client processes carry `clients` connections on a machine with `cores` cores.

    Each process is one event loop. About 900 connections per process, at most 8, and no more than
    one more than the cores unless a process would then hold over BUSY_PROCESS connections. Measured
    on the 2-core machine that also runs the server (docs/performance.md, Rehearsal): the story's
    4,305 clients in 5 processes queued behind each other (observer p99 0.98–1.29 s), in 3 they did
    not (0.59–0.88 s); 20,305 clients in 3 processes of 6,800 each gave p99 2.74 s, in 8 of 2,540
    1.11 s. Never more than PER_PROCESS connections in one process (its open files)."""
    count = max(2, min(8, math.ceil(clients / 900), max(cores + 1, math.ceil(clients / BUSY_PROCESS))))
    return max(count, math.ceil(clients / PER_PROCESS))
