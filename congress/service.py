"""Runs actions for the interfaces: one transaction, then publish. Writes are group-committed.

Every write command from every connection of this process goes through one queue. The writer
takes whatever is waiting (up to BATCH_LIMIT), runs each command in its own SAVEPOINT inside one
transaction and commits once: one fsync for many ballots. A command that fails rolls back to its
savepoint only; a run of consecutive ballots shares one savepoint and set-wise reads and writes
(congress.actions.ballots.cast_ballots), and goes one by one if the database refuses any of them.
Replies are sent after the commit, so "recorded" always means durable.

The writer is a thread of its own that runs batch after batch without waiting for the event loop:
the loop publishes and answers each committed batch, in commit order, while the next one runs.
Found in the story's rehearsal: with the writer in a worker thread started from the loop, each
batch waited for a loop busy writing to thousands of observers, and filing 273 proposals took
21–25 s instead of 18 (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

import anyio
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from congress.access import ENDS_ACCESS, refusals, require_access
from congress.actions.ballots import BallotRequest, cast_ballot, cast_ballots
from congress.actions.base import Context, event_message
from congress.commands import COMMANDS, Command, parse_args
from congress.db.engine import Database, DatabaseUnavailable, is_outage
from congress.db.models import CommandResult, Congress, Event
from congress.domain.errors import DomainError
from congress.live.backplane import ACCESS_NOTICE, Backplane
from congress.live.hub import Hub, Published, encode
from congress.ops import metrics
from congress.ops.die_with_parent import die_with_parent
from congress.permissions import Actor

log = logging.getLogger(__name__)
BATCH_LIMIT = 500
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
                     encode(event_message(event)), event.created_at.timestamp())


@dataclass
class _Job:
    actor: Actor
    command: Command
    congress_id: int | None
    args: dict[str, Any]
    command_id: str | None
    future: asyncio.Future[dict[str, Any]]
    prepared: Any = None
    digest: str | None = None  # args_digest, when the command has an id
    events: list[Event] = field(default_factory=list)
    reply: dict[str, Any] | None = None
    error: Exception | None = None


class _Earlier(NamedTuple):
    """A command id's stored first reply, and what the id was used for (None: stored before 0004)."""

    reply: dict[str, Any]
    op: str | None
    digest: str | None


def args_digest(congress_id: int | None, args: dict[str, Any]) -> str:
    """SHA-256 of the command's congress and parsed arguments as canonical JSON (sorted keys, no
    spaces): the same arguments, however the client spelled or ordered them, give the same digest."""
    text = json.dumps({"congress_id": congress_id, "args": args}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _answer_resend(job: _Job, earlier: _Earlier) -> None:
    """A command id seen before: the same op with the same arguments gets the first reply and applies
    nothing; anything else is refused. Fix: an id reused for another op answered with the first op's
    result (a `cast_ballot` acknowledged with a speech request's reply, the ballot never cast)."""
    if earlier.op is not None and (earlier.op != job.command.op or earlier.digest != job.digest):
        what = earlier.op if earlier.op != job.command.op else f"{earlier.op}（参数不同）"
        job.error = DomainError("id_reused", f"命令编号 {job.command_id} 已用于另一条命令 {what}，本条未执行；"
                                             "新命令请用新的编号")
    else:
        job.reply = earlier.reply


@dataclass
class _Batch:
    """What the commands of one group commit share."""

    now: datetime
    replies: dict[tuple[str, str], _Earlier]  # (principal, command id) -> the first reply
    heads: dict[int, tuple[int, str]] = field(default_factory=dict)  # congress -> last (seq, hash)
    locked: set[int] = field(default_factory=set)  # congresses whose rows the batch holds (_lock_congresses)


def _lock_congresses(session: sa.orm.Session, jobs: list[_Job]) -> set[int]:
    """Hold the rows of the congresses this batch writes to until it commits (PostgreSQL: FOR UPDATE).

    With several workers, a command's reads (a state to check, max(number) + 1, ...) then see every
    earlier batch of the same congress committed, and no other worker's batch slips in between: per
    congress, batches run one after another, as they do within one worker. The event seq needs the
    same row lock anyway, so this costs no extra concurrency. Sorted ids: no deadlock between batches.
    Fix: two proposals submitted at once on two workers both got max(number) + 1 and one was refused
    with `conflict`."""
    ids = sorted({job.congress_id for job in jobs if job.congress_id is not None})
    if ids:
        session.execute(sa.select(Congress.id).where(Congress.id.in_(ids)).order_by(Congress.id).with_for_update())
    return set(ids)


def _earlier_replies(session: sa.orm.Session, jobs: list[_Job]) -> dict[tuple[str, str], _Earlier]:
    """The stored first replies for the batch's command ids, with their op and digest: one query."""
    keys = {(job.actor.principal, job.command_id) for job in jobs if job.command_id}
    if not keys:
        return {}
    rows = session.execute(sa.select(CommandResult.principal, CommandResult.command_id, CommandResult.reply,
                                     CommandResult.op, CommandResult.args_digest).where(
        CommandResult.principal.in_({p for p, _c in keys}), CommandResult.command_id.in_({c for _p, c in keys})))
    return {(p, c): _Earlier(reply, op, digest) for p, c, reply, op, digest in rows if (p, c) in keys}


class Service:
    def __init__(self, db: Database, hub: Hub, backplane: Backplane, clock: Clock = system_clock, *,
                 is_https: bool = False) -> None:
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
        if op == "open_vote" and reply.get("sealing"):
            self._start_pool()  # the secret vote's first ballots need not wait for the workers to start
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

    # -- the writer --------------------------------------------------------------------------
    def _write_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """The writer thread: take what waits, run and commit it, hand it to the loop; again."""
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            jobs = [first]
            while len(jobs) < BATCH_LIMIT:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                jobs.append(job)
            try:
                started = time.perf_counter()
                self._commit_batch(jobs)
                metrics.commit_batch(len(jobs), time.perf_counter() - started)
            except Exception as exc:  # the batch as a whole failed to commit: nothing was written
                if is_outage(exc):  # one by one would only fail again: `unavailable`, retryable
                    log.warning("group commit of %d failed: the database is unreachable (%s)", len(jobs),
                                exc.__class__.__name__)
                    for job in jobs:
                        job.events, job.reply, job.error = [], None, DatabaseUnavailable()
                else:
                    log.warning("group commit of %d failed (%s); retrying one by one", len(jobs), exc)
                for job in jobs if not is_outage(exc) else []:
                    job.events, job.reply, job.error = [], None, None
                    try:
                        self._commit_batch([job])
                    except Exception as single:
                        job.error = (single if isinstance(single, DomainError)
                                     else DatabaseUnavailable() if is_outage(single) else _internal(single))
            try:
                loop.call_soon_threadsafe(self._committed.put_nowait, jobs)
            except RuntimeError:  # the loop is closed: nobody is waiting for these replies any more
                return

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

    def _commit_batch(self, jobs: list[_Job]) -> None:
        for attempt in range(5):
            try:
                with self.db.write() as session:
                    locked = _lock_congresses(session, jobs)
                    batch = _Batch(self.clock(), _earlier_replies(session, jobs), locked=locked)
                    runnable = _refuse_ended_access(session, jobs, batch.now)
                    start = 0
                    while start < len(runnable):
                        # A run of consecutive ballots goes set-wise; anything else one by one, in order.
                        end = start
                        while end < len(runnable) and runnable[end].command.action is cast_ballot:
                            end += 1
                        if end - start > 1:
                            self._run_ballots(session, runnable[start:end], batch)
                        else:
                            end = start + 1
                            self._run_job(session, runnable[start], batch)
                        start = end
                return
            except OperationalError as exc:  # e.g. a PostgreSQL serialization failure or deadlock
                if attempt == 4 or is_outage(exc):
                    raise
                log.warning("retrying a write batch after %s", exc.__class__.__name__)
                time.sleep(0.05 * (attempt + 1))
                for job in jobs:
                    job.events, job.reply, job.error = [], None, None

    def _run_ballots(self, session: sa.orm.Session, jobs: list[_Job], batch: _Batch) -> None:
        """Many cast_ballot commands in one savepoint with set-wise reads and writes (ballots.cast_ballots).

        The rows, events and replies are those of running them one by one; if the database refuses
        any row (another worker recorded the same ballot meanwhile) they are run one by one instead.
        """
        todo, later, keys = [], [], set()
        for job in jobs:
            key = (job.actor.principal, job.command_id or "")
            if job.command_id and (key in batch.replies or key in keys):
                later.append(job)  # a resend: answered from the first reply once that is stored
            else:
                keys.add(key)
                todo.append(job)
        session.flush()  # earlier commands' rows and events, so the savepoint holds only these
        savepoint = session.begin_nested()
        contexts = [Context(session, job.actor, batch.now, job.command_id, job.prepared, self.is_https,
                            _heads=batch.heads, _locked=set(batch.locked)) for job in todo]
        try:
            with session.no_autoflush:  # the events go in with one flush below, not one each
                # cast() for the type checker: every route that runs a command passes its congress's id.
                outcomes = cast_ballots([BallotRequest(ctx, cast(int, job.congress_id), job.args["vote_id"],
                                                       job.args.get("answers"),
                                                       job.args.get("sealed"))
                                         for ctx, job in zip(contexts, todo, strict=True)])
                stored = {}
                for job, outcome in zip(todo, outcomes, strict=True):
                    if job.command_id and not isinstance(outcome, DomainError):
                        keep = job.command.stored_reply
                        stored[(job.actor.principal, job.command_id)] = _Earlier(
                            keep(outcome) if keep else outcome, job.command.op, job.digest)
                if stored:
                    session.connection().execute(sa.insert(CommandResult.__table__), [
                        {"principal": p, "command_id": c, "reply": e.reply, "op": e.op, "args_digest": e.digest,
                         "created_at": batch.now}
                        for (p, c), e in stored.items()])
            session.flush()
            savepoint.commit()
        except OperationalError:
            savepoint.rollback()
            raise
        except Exception as exc:  # e.g. IntegrityError: sort it out one by one, each in its own savepoint
            savepoint.rollback()
            log.info("set-wise ballots fell back to one by one: %s", exc)
            for job in jobs:
                self._run_job(session, job, batch)
            return
        for job, ctx, outcome in zip(todo, contexts, outcomes, strict=True):
            if isinstance(outcome, DomainError):
                job.error = outcome
            else:
                job.reply, job.events = outcome, ctx.events
        batch.replies.update(stored)
        for job in later:
            self._run_job(session, job, batch)

    def _run_job(self, session: sa.orm.Session, job: _Job, batch: _Batch) -> None:
        principal = job.actor.principal
        key = (principal, job.command_id or "")
        if job.command_id and key in batch.replies:
            _answer_resend(job, batch.replies[key])  # the first result, or id_reused; nothing applied
            return
        savepoint = session.begin_nested()
        # One chain head for the whole batch: each event's predecessor is in memory, not re-read.
        # The congress rows locked for the batch are not locked again (a copy: a lock taken inside
        # this command's savepoint goes with it if the command is rolled back).
        ctx = Context(session, job.actor, batch.now, job.command_id, job.prepared, self.is_https,
                      _heads=batch.heads, _locked=set(batch.locked))
        try:
            reply = job.command.action(ctx, job.congress_id, **job.args)
            stored = None
            if job.command_id:
                stored = job.command.stored_reply(reply) if job.command.stored_reply else reply
                # A plain INSERT inside the savepoint: the unique (principal, command_id) still
                # refuses the same command committed meanwhile by another worker.
                session.connection().execute(sa.insert(CommandResult.__table__).values(
                    principal=principal, command_id=job.command_id, reply=stored, op=job.command.op,
                    args_digest=job.digest, created_at=batch.now))
            session.flush()
            savepoint.commit()
            job.reply, job.events = reply, ctx.events
            if stored is not None:
                batch.replies[key] = _Earlier(stored, job.command.op, job.digest)
        except DomainError as exc:
            savepoint.rollback()
            job.error = exc
        except OperationalError:
            # Fix: a deadlock or serialization failure (PostgreSQL, several workers) was turned into an
            # internal error for this one command; the whole transaction is retried instead.
            savepoint.rollback()
            raise
        except IntegrityError as exc:
            savepoint.rollback()
            if job.command_id:  # the same command committed meanwhile by another connection
                earlier = session.execute(sa.select(CommandResult.reply, CommandResult.op, CommandResult.args_digest)
                                          .where(CommandResult.principal == principal,
                                                 CommandResult.command_id == job.command_id)).first()
                if earlier is not None:
                    _answer_resend(job, _Earlier(*earlier))
                    return
            job.error = DomainError("conflict", "操作与其他人的同时操作冲突，请重试") if job.command.op != "cast_ballot" \
                else DomainError("already_voted", "您已在本次表决中投票，不能重复投票")
            log.info("integrity error in %s: %s", job.command.op, exc.orig)
        except Exception as exc:
            if is_outage(exc):  # the whole batch fails, and is answered `unavailable`
                raise
            savepoint.rollback()
            log.exception("command %s failed", job.command.op)
            job.error = _internal(exc)

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
        now (congress.live.access) and closes those whose access ended, with the reason."""
        try:
            await self.backplane.notice(ACCESS_NOTICE)
        except Exception:  # each worker's periodic check closes them a little later
            log.exception("telling the workers to re-check access failed")


def _refuse_ended_access(session: sa.orm.Session, jobs: list[_Job], now: datetime) -> list[_Job]:
    """The jobs whose sign-in still grants their actor; the others get session_ended / access_changed.

    In the batch's own transaction, for all its jobs with one query: a connection's actor is fixed
    when it connects, and after a sign-out, a re-issued code or a roster change its socket kept
    acting (a thief's ballot acknowledged, a demoted leader's hand count stored)."""
    runnable = []
    for job, error in zip(jobs, refusals(session, [job.actor for job in jobs], now), strict=True):
        if error is None:
            runnable.append(job)
        else:
            job.error = error
    return runnable


def _internal(exc: Exception) -> DomainError:
    return DomainError("internal_error", f"服务器内部错误（{exc.__class__.__name__}），操作未执行")
