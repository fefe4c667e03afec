"""The group-commit writer: every write command of this process, run in batches, one commit each.

Every write command from every connection of this process goes through one queue. The writer
takes whatever is waiting (up to BATCH_LIMIT), runs each command in its own SAVEPOINT inside one
transaction and commits once: one fsync for many ballots. A command that fails rolls back to its
savepoint only; a run of consecutive ballots (any command that declares Command.run_many) shares one
savepoint and set-wise reads and writes (congress.actions.ballots.cast_ballots), and goes one by one
if the database refuses any of them.
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
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from congress.actions.base import Context
from congress.application.access import refusals
from congress.db.engine import Database, DatabaseUnavailable, is_outage
from congress.db.models import CommandResult, Congress, Event
from congress.domain.commands import Command
from congress.domain.errors import DomainError
from congress.domain.permissions import Actor
from congress.ops import metrics

log = logging.getLogger("congress.application.service")  # the name the writer's lines have always had
BATCH_LIMIT = 500


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


class GroupCommitWriter:
    """The writer thread's side of the Service (a mixin): it takes jobs from `_queue`, commits them in
    batches and hands each batch to `_committed`, which the Service's event loop publishes and answers."""

    db: Database
    clock: Callable[[], datetime]
    is_https: bool
    _queue: queue.SimpleQueue[_Job | None]
    _committed: asyncio.Queue[list[_Job]]

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

    def _commit_batch(self, jobs: list[_Job]) -> None:
        for attempt in range(5):
            try:
                with self.db.write() as session:
                    locked = _lock_congresses(session, jobs)
                    batch = _Batch(self.clock(), _earlier_replies(session, jobs), locked=locked)
                    runnable = _refuse_ended_access(session, jobs, batch.now)
                    start = 0
                    while start < len(runnable):
                        # A run of consecutive commands that batch (Command.run_many, e.g. ballots)
                        # goes set-wise; anything else one by one, in order.
                        command, end = runnable[start].command, start
                        while end < len(runnable) and command.run_many is not None and runnable[end].command is command:
                            end += 1
                        if end - start > 1:
                            self._run_set_wise(session, runnable[start:end], batch)
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

    def _run_set_wise(self, session: sa.orm.Session, jobs: list[_Job], batch: _Batch) -> None:
        """Many commands of one op in one savepoint with set-wise reads and writes (its Command.run_many,
        e.g. ballots.cast_ballots).

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
                run_many = jobs[0].command.run_many
                assert run_many is not None
                outcomes = run_many([(ctx, job.congress_id, job.args) for ctx, job in zip(contexts, todo, strict=True)])
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
            duplicate = job.command.on_duplicate
            job.error = DomainError(*duplicate) if duplicate else DomainError("conflict", "操作与其他人的同时操作冲突，请重试")
            log.info("integrity error in %s: %s", job.command.op, exc.orig)
        except Exception as exc:
            if is_outage(exc):  # the whole batch fails, and is answered `unavailable`
                raise
            savepoint.rollback()
            log.exception("command %s failed", job.command.op)
            job.error = _internal(exc)


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
