"""The sender: claims due rows of the outbox, sends each on its channel, records the outcome.

Claiming is one conditional UPDATE (pending and due, or `sending` with an expired lease ->
`sending` with a new lease), over rows picked with FOR UPDATE SKIP LOCKED on PostgreSQL: with
several workers or processes each row goes to one sender. Success is recorded with a conditional
UPDATE right after the channel accepted the message; a crash between the two leaves the row
`sending`, and when its lease expires it is sent once more (at-least-once: docs/notices.md). A
failure waits `backoff(attempts)`; after MAX_ATTEMPTS the row is `failed` and staff are told
(a `notice.failed` event and the staff page's notices section), naming channel and recipient only.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

import anyio
import sqlalchemy as sa

from congress.actions.base import Context
from congress.db.engine import Database
from congress.db.models import Assignment, Delegate, Event, Notice, NoticeChannel, Proposal
from congress.domain.kinds import Audience, Role
from congress.domain.notices import MAX_ATTEMPTS, backoff, still_applies
from congress.domain.permissions import Actor
from congress.notices import channels
from congress.notices.settings import Smtp, public_url, smtp_settings
from congress.reads.notices import failure_json

log = logging.getLogger(__name__)
SENDER = Actor(role=Role.STAFF, name="系统（通知）")
LEASE = timedelta(minutes=2)  # far above one message's timeouts (SMTP 20 s, webhook 15 s)
T = Notice.__table__.c


def _claimable(now: datetime) -> Any:
    return sa.or_(sa.and_(T.status == "pending", T.next_attempt_at <= now),
                  sa.and_(T.status == "sending", T.lease_until < now))


class Sender:
    def __init__(self, db: Database, clock: Callable[[], datetime], *, batch: int = 20,
                 smtp: Smtp | None = None, lease: timedelta = LEASE) -> None:
        self.db = db
        self.clock = clock
        self.batch = batch
        self.smtp = smtp
        self.lease = lease
        self.stopping = threading.Event()  # set when `run` is cancelled: the pass in flight claims no more

    # -- one pass --------------------------------------------------------------------------------
    def drain(self) -> tuple[dict[str, int], list[Event]]:
        """Claim and send what is due now, batch after batch; the outcomes and any staff events."""
        counts = {"sent": 0, "retry": 0, "failed": 0, "cancelled": 0}
        events: list[Event] = []
        while not self.stopping.is_set():
            ids = self.claim()
            if not ids:
                return counts, events
            for n, notice_id in enumerate(ids):
                if self.stopping.is_set():  # stopping: the rest go back, for the next sender at once
                    self._release(ids[n:])
                    return counts, events
                outcome, told = self.send_one(notice_id)
                counts[outcome] = counts.get(outcome, 0) + 1
                events.extend(told)
        return counts, events

    def _release(self, ids: list[int]) -> None:
        with self.db.write() as session:
            session.execute(sa.update(Notice.__table__).where(T.id.in_(ids), T.status == "sending")
                            .values(status="pending", lease_until=None, attempts=T.attempts - 1))

    def claim(self) -> list[int]:
        now = self.clock()
        with self.db.read() as session:  # most passes find nothing: no write transaction for that
            if session.scalar(sa.select(T.id).where(_claimable(now)).limit(1)) is None:
                return []
        with self.db.write() as session:
            due = sa.select(T.id).where(_claimable(now)).order_by(T.next_attempt_at, T.id).limit(self.batch)
            if not self.db.is_sqlite:
                due = due.with_for_update(skip_locked=True)
            ids = list(session.execute(
                sa.update(Notice.__table__).where(T.id.in_(due.scalar_subquery()), _claimable(now))
                .values(status="sending", lease_until=now + self.lease, attempts=T.attempts + 1)
                .returning(T.id)).scalars())
        return sorted(ids)

    def send_one(self, notice_id: int) -> tuple[str, list[Event]]:
        now = self.clock()
        with self.db.read() as session:
            notice = session.get(Notice, notice_id)
            if notice is None or notice.status != "sending":
                return "cancelled", []
            why_not = _why_not(session, notice)
            target = None if why_not else _target(session, notice)
            if target is None and not why_not:
                why_not = "收件人或通知渠道已删除"
            copy: dict[str, Any] = {"subject": notice.subject, "body": notice.body, "link": notice.link,
                                    "kind": notice.channel, "attempts": notice.attempts}
        if why_not:
            self._finish(notice_id, status="cancelled", last_error=why_not)
            return "cancelled", []
        assert target is not None
        try:
            if copy["kind"] == "email":
                channels.send_email(self.smtp, target[0], copy["subject"], copy["body"], copy["link"],
                                    message_id=channels.message_id(notice_id, public_url()), now=now)
            else:
                channels.send_webhook(copy["kind"], target[0], target[1], copy["subject"], copy["body"],
                                      copy["link"], now=now)
        except channels.SendFailed as failure:
            return self._failed(notice_id, copy["attempts"], str(failure))
        except Exception as exc:  # a bug or an odd answer: counted as a failure, its class only
            log.warning("notice %s: %s", notice_id, exc.__class__.__name__)
            return self._failed(notice_id, copy["attempts"], f"发送出错：{exc.__class__.__name__}")
        self._finish(notice_id, status="sent", sent_at=self.clock(), last_error=None)
        return "sent", []

    def _finish(self, notice_id: int, **values: Any) -> bool:
        with self.db.write() as session:
            # An UPDATE's result is a CursorResult (Session.execute is typed as any Result).
            done = cast("sa.CursorResult[Any]", session.execute(sa.update(Notice.__table__).where(
                T.id == notice_id, T.status == "sending").values(lease_until=None, **values)))
            return bool(done.rowcount)

    def _failed(self, notice_id: int, attempts: int, error: str) -> tuple[str, list[Event]]:
        now = self.clock()
        if attempts < MAX_ATTEMPTS:
            self._finish(notice_id, status="pending", next_attempt_at=now + backoff(attempts), last_error=error[:500])
            return "retry", []
        with self.db.write() as session:
            done = cast("sa.CursorResult[Any]", session.execute(sa.update(Notice.__table__).where(
                T.id == notice_id, T.status == "sending").values(status="failed", lease_until=None,
                                                                 last_error=error[:500])))
            if not done.rowcount:
                return "cancelled", []
            notice = session.get(Notice, notice_id)
            assert notice is not None
            ctx = Context(session, SENDER, now)
            ctx.emit(notice.congress_id, "notice.failed", failure_json(notice), Audience.STAFF)
            return "failed", ctx.events

    # -- the server's task -------------------------------------------------------------------------
    async def run(self, publish: Callable[[list[Event]], Any] | None = None, interval: float = 2.0) -> None:
        """Drain every `interval` seconds until cancelled; a failure is logged and the loop goes on.

        Cancelled during a pass, it waits for that pass's thread (which claims nothing more) before it
        ends: an asyncio cancellation does not wait for a worker thread by itself, and a pass left
        running would record its rows after the sender "stopped", or leave them `sending` until their
        lease expires and another sender sends them again (seen in tests/notices/test_delivery.py,
        whose clock jumps a day past the lease)."""
        while True:
            drained = asyncio.ensure_future(anyio.to_thread.run_sync(self.drain))
            try:
                _counts, events = await asyncio.shield(drained)
                if events and publish is not None:
                    await publish(events)
            except asyncio.CancelledError:
                self.stopping.set()
                await asyncio.gather(drained, return_exceptions=True)
                raise
            except Exception as exc:
                log.warning("sending notices failed: %s", exc.__class__.__name__)
            await asyncio.sleep(interval)


def _why_not(session: sa.orm.Session, notice: Notice) -> str | None:
    """Why a reminder no longer applies (congress.domain.notices.still_applies), or None."""
    if notice.proposal_id is None or notice.due_at is None:
        return None
    proposal = session.get(Proposal, notice.proposal_id)
    lead_due = session.scalar(sa.select(Assignment.due_at).where(
        Assignment.proposal_id == notice.proposal_id, Assignment.is_lead).order_by(
        Assignment.round.desc(), Assignment.id.desc()).limit(1))
    if not still_applies(notice.kind, status=proposal.status if proposal else None, queued_due=notice.due_at,
                         current_due=lead_due):
        return "提案已答复、已办结或期限已改，提醒不再发送"
    what, _, ref = notice.recipient.partition(":")
    channel = session.get(NoticeChannel, int(ref)) if what == "channel" else None
    if channel is not None and channel.department_id is not None:  # still one of the case's departments?
        current = sa.select(sa.func.max(Assignment.round)).where(
            Assignment.proposal_id == notice.proposal_id).scalar_subquery()
        if session.scalar(sa.select(Assignment.id).where(
                Assignment.proposal_id == notice.proposal_id, Assignment.round == current,
                Assignment.department_id == channel.department_id).limit(1)) is None:
            return "提案已改由其他部门办理，提醒不再发送"
    return None


def _target(session: sa.orm.Session, notice: Notice) -> tuple[str, str | None] | None:
    """(address, signing secret) of the notice's recipient reference, looked up at send time."""
    what, _, ref = notice.recipient.partition(":")
    if what == "channel":
        channel = session.get(NoticeChannel, int(ref))
        return (channel.address, channel.secret) if channel else None
    if what == "delegate":
        delegate = session.get(Delegate, int(ref))
        return (delegate.email, None) if delegate and delegate.email else None
    return None


def from_env(db: Database, clock: Callable[[], datetime]) -> Sender:
    return Sender(db, clock, smtp=smtp_settings())
