"""Runs actions for the interfaces: one transaction, then publish. Writes are group-committed by the
writer thread (congress.application.group_commit); here are the way in (parse, prepare, check, queue), reads,
publishing each committed batch and answering its commands, and the log read for resumes.

The loop publishes and answers each committed batch, in commit order, while the writer runs the next
one (congress.application.group_commit says why the writer is a thread of its own).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any

import anyio
import sqlalchemy as sa

from congress.actions.base import Context, event_message
from congress.application.access import ENDS_ACCESS, require_access
from congress.application.commands import COMMANDS, load_all
from congress.application.group_commit import GroupCommitWriter, _Job, args_digest
from congress.application.watching import WatchGate
from congress.db.engine import Database, DatabaseUnavailable, is_outage
from congress.db.models import Event
from congress.domain.commands import Command, parse_args
from congress.domain.errors import DomainError
from congress.domain.permissions import Actor
from congress.live.backplane import ACCESS_NOTICE, Backplane
from congress.live.hub import Hub, Published, encode
from congress.ops import metrics
from congress.ops.die_with_parent import die_with_parent

log = logging.getLogger(__name__)
CHECK_BATCH = 32  # checks sent to a pool worker together (see Service._check)
CHECK_WAIT = 0.002  # seconds a check waits for others to go with it


def proof_pool(workers: int) -> ProcessPoolExecutor:
    """The secret ballots' proof pool: spawned workers that end with this server, even a SIGKILLed one."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=die_with_parent)


def run_checks(check: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """In a pool worker: one command's check for each of several commands."""
    return [check(item) for item in items]
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def to_published(event: Event) -> Published:
    return Published(event.congress_id, event.seq, event.audience, event.audience_id,
                     encode(event_message(event)), event.created_at.timestamp(), event.type)


class Service(GroupCommitWriter):
    def __init__(self, db: Database, hub: Hub, backplane: Backplane, clock: Clock = system_clock, *,
                 is_https: bool = False) -> None:
        load_all()  # the command table this service runs
        self.db = db
        self.is_https = is_https  # Settings.is_https, handed to every action's Context
        self.hub = hub
        self.backplane = backplane
        self.clock = clock
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()  # to the writer thread; None: stop
        # Committed batches waiting to be published and answered, in commit order: the writer goes on
        # with the next batch meanwhile.
        self._committed: asyncio.Queue[list[_Job]] = asyncio.Queue()
        self._writer: threading.Thread | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._pool: ProcessPoolExecutor | None = None  # see _check
        self._checks_waiting: list[tuple[Callable[[Any], Any], Any, asyncio.Future[Any]]] = []
        self._checks_timer: asyncio.TimerHandle | None = None
        self._check_tasks: set[asyncio.Future[None]] = set()
        # What a command's prepare may keep between commands: only what can no longer change
        # (an open vote's key and questions: ballots.prepare_ballot). Per Service, never shared.
        self._prepare_cache: dict[Any, Any] = {}
        self.proof_workers = max(1, os.cpu_count() or 1)
        # What this process knows of each congress's watch setting, and the wrong-token throttle
        # (congress.application.watching): this Service's, forgotten on a watch.set event (congress.live.state.LiveState).
        self.watch_gate = WatchGate(db, hub)

    async def start(self) -> None:
        # The writer has its own thread, and sign-ins (an argon2 check each, CPU-bound) their own
        # limiter, at most one per core. Found in the story's rehearsal: 295 sign-ins held the shared
        # pool's 40 threads, and check-ins waited seconds for a commit.
        self.sign_in_limiter = anyio.CapacityLimiter(os.cpu_count() or 2)
        loop = asyncio.get_running_loop()
        self._writer = threading.Thread(target=self._write_loop, args=(loop,), name="congress-writer", daemon=True)
        self._writer.start()
        self._publisher = loop.create_task(self._publish_loop())

    async def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._writer is not None:
            self._queue.put(None)
            await anyio.to_thread.run_sync(self._writer.join)
        if self._publisher is not None:
            self._publisher.cancel()
            try:
                await self._publisher
            except asyncio.CancelledError:
                pass

    # -- the way in --------------------------------------------------------------------------
    async def run(self, actor: Actor, op: str, congress_id: int | None, body: dict[str, Any],
                  command_id: str | None = None) -> dict[str, Any]:
        """Parse, run in the next group commit, publish; raises DomainError for a refusal.

        Every command, from the websocket or HTTP, is counted and timed here by op and outcome
        (congress.ops.metrics): from its arrival to its answer, the wait for the group commit included."""
        started = time.perf_counter()
        outcome = "error"
        try:
            reply = await self._run(actor, op, congress_id, body, command_id)
            outcome = "ok"
            return reply
        except DomainError as refusal:
            outcome = "unavailable" if refusal.code == "unavailable" else "refused"
            raise
        except asyncio.CancelledError:  # the client went away before the answer
            outcome = "cancelled"
            raise
        finally:
            metrics.command(op, outcome, time.perf_counter() - started)

    async def _run(self, actor: Actor, op: str, congress_id: int | None, body: dict[str, Any],
                   command_id: str | None) -> dict[str, Any]:
        command = COMMANDS.get(op)
        if command is None:
            raise DomainError("unknown_op", f"未知的操作：{op}")
        actor.require_congress(congress_id)  # a delegate acts only in their own congress
        if command_id is not None and not (isinstance(command_id, str) and 0 < len(command_id) <= 64):
            raise DomainError("bad_request", "命令编号（id 或 Idempotency-Key）应为 1–64 个字符的文本")
        args = parse_args(command, body)
        if not command.writes:
            try:
                return await anyio.to_thread.run_sync(self._read, actor, command, congress_id, args)
            except Exception as exc:
                if is_outage(exc):
                    raise DatabaseUnavailable() from None
                raise
        prepared = None
        if command.prepare_from_cache is not None:
            prepared = command.prepare_from_cache(self._prepare_cache, args)
        if command.prepare is not None and prepared is None:
            prepared = await anyio.to_thread.run_sync(self._prepare, command, actor, congress_id, args)
        if command.check is not None and prepared is not None:
            prepared = await self._check(command.check, prepared)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        digest = args_digest(congress_id, args) if command_id else None
        self._queue.put(_Job(actor, command, congress_id, args, command_id, future, prepared, digest))
        reply = await future
        if command.readies_checks is not None and command.readies_checks(reply):
            self._start_pool()  # e.g. a secret vote's first ballots need not wait for the workers to start
        return reply

    def _start_pool(self) -> None:
        if self._pool is None:
            self._pool = proof_pool(self.proof_workers)
            for _ in range(self.proof_workers):  # start every worker now (spawning takes ~0.5 s each)
                self._pool.submit(abs, 0)

    async def _check(self, check: Callable[[Any], Any], prepared: Any) -> Any:
        """A command's CPU-bound check in the proof pool: worker processes, one per core, started at
        the first use (a server without secret votes never starts them). Found in bench/votes.py:
        3,000 sealed ballots checked on threads took 18.6 s, the GIL holding them to one core.

        Checks that arrive together go to a worker together (up to CHECK_BATCH, or what arrived
        within CHECK_WAIT): one task per ballot spent the server's GIL on the pool's bookkeeping."""
        self._start_pool()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._checks_waiting.append((check, prepared, future))
        if len(self._checks_waiting) >= CHECK_BATCH:
            self._send_checks()
        elif self._checks_timer is None:
            self._checks_timer = loop.call_later(CHECK_WAIT, self._send_checks)
        return await future

    def _send_checks(self) -> None:
        if self._checks_timer is not None:
            self._checks_timer.cancel()
            self._checks_timer = None
        waiting, self._checks_waiting = self._checks_waiting, []
        by_check: dict[Callable[[Any], Any], list[tuple[Any, asyncio.Future[Any]]]] = {}
        for check, prepared, future in waiting:
            by_check.setdefault(check, []).append((prepared, future))
        for check, entries in by_check.items():
            task = asyncio.ensure_future(self._run_checks(check, entries))
            self._check_tasks.add(task)
            task.add_done_callback(self._check_tasks.discard)

    async def _run_checks(self, check: Callable[[Any], Any], entries: list[tuple[Any, asyncio.Future[Any]]]) -> None:
        items = [prepared for prepared, _future in entries]
        try:
            assert self._pool is not None
            results = await asyncio.get_running_loop().run_in_executor(self._pool, run_checks, check, items)
        except Exception:  # a broken pool: check on a thread instead (slower, still correct)
            log.exception("the proof pool failed; checking on a thread")
            try:
                results = await anyio.to_thread.run_sync(run_checks, check, items)
            except Exception:  # the write checks each one itself
                results = [None] * len(items)
        for (_prepared, future), result in zip(entries, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _prepare(self, command: Command, actor: Actor, congress_id: int | None, args: dict[str, Any]) -> Any:
        """A command's work before the write; if it fails, the action does that work itself."""
        assert command.prepare is not None
        try:
            with self.db.read() as session:
                session.info["prepare_cache"] = self._prepare_cache
                return command.prepare(session, actor, congress_id, args)
        except Exception as exc:
            if not is_outage(exc):  # an outage is answered by the write, without a traceback each
                log.exception("preparing %s failed; it is done in the write instead", command.op)
            return None

    def _read(self, actor: Actor, command: Command, congress_id: int | None, args: dict[str, Any]) -> dict[str, Any]:
        with self.db.read() as session:
            now = self.clock()
            require_access(session, actor, now)  # a read too: nothing for a sign-in that has ended
            return command.action(Context(session, actor, now, is_https=self.is_https), congress_id, **args)

    async def _publish_loop(self) -> None:
        """Publish each committed batch's events, then answer its commands: batches in commit order."""
        while True:
            jobs = await self._committed.get()
            published = [to_published(e) for job in jobs if job.error is None for e in job.events]
            try:
                if published:
                    metrics.events_published(len(published))
                    await self.backplane.publish(published)
            except Exception:  # committed all the same: clients catch up by seq; the replies must go out
                log.exception("publishing %d events failed", len(published))
            if any(e.type in ENDS_ACCESS for job in jobs if job.error is None for e in job.events):
                await self.access_changed()
            for job in jobs:
                if job.future.done():
                    continue
                if job.error is not None:
                    job.future.set_exception(job.error)
                else:
                    job.future.set_result(job.reply or {})

    # -- reading the log -----------------------------------------------------------------------
    def events_between(self, congress_id: int, after: int, upto: int | None = None) -> list[Event]:
        with self.db.read() as session:
            query = sa.select(Event).where(Event.congress_id == congress_id, Event.seq > after)
            if upto is not None:
                query = query.where(Event.seq <= upto)
            return list(session.scalars(query.order_by(Event.seq)))

    async def fetch_missing(self, congress_id: int, after: int, upto: int) -> list[Published]:
        events = await anyio.to_thread.run_sync(self.events_between, congress_id, after, upto)
        return [to_published(e) for e in events]

    async def run_direct(self, actor: Actor, fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        """An action outside the command table (sign-in, imports): its own transaction, then publish."""
        def work() -> tuple[dict[str, Any], list[Event]]:
            with self.db.write() as session:
                now = self.clock()
                require_access(session, actor, now)
                ctx = Context(session, actor, now, is_https=self.is_https)
                return fn(ctx, *args), ctx.events

        reply, events = await anyio.to_thread.run_sync(work)
        if events:
            metrics.events_published(len(events))
            await self.backplane.publish([to_published(e) for e in events])
        if any(e.type in ENDS_ACCESS for e in events):
            await self.access_changed()
        return reply

    async def access_changed(self) -> None:
        """Sign-ins may have ended or roster rows changed: every worker re-checks its open connections
        now (congress.application.connection_access) and closes those whose access ended, with the reason."""
        try:
            await self.backplane.notice(ACCESS_NOTICE)
        except Exception:  # each worker's periodic check closes them a little later
            log.exception("telling the workers to re-check access failed")
