"""The congress in session, on SQLite and PostgreSQL: quorum and check-in, casting ballots, group hand
counts, the stored result and its words, secret ballots, and resent or concurrent commands.

Every action runs through a Context inside `db.write()` (one transaction, as the interfaces run it) or
through congress.application.service.Service where group commit and command ids matter."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from congress.actions.agenda import add_agenda_item
from congress.actions.attendance import check_in, check_in_at_desk, check_out
from congress.actions.ballots import cast_ballot, enter_group_count
from congress.actions.base import Context
from congress.actions.roster import import_roster
from congress.actions.setup import create_congress, set_check_in_window
from congress.actions.votes import certify_vote, close_vote, create_vote, open_vote, publish_vote, repeat_vote
from congress.application.commands import load_all
from congress.application.service import Service
from congress.db.engine import Database
from congress.db.models import (
    Attendance,
    Ballot,
    BallotCast,
    Delegate,
    Event,
    SealedBallot,
    Vote,
)
from congress.domain.errors import DomainError
from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.live.backplane import MemoryBackplane
from congress.live.hub import Hub
from congress.reads.attendance import attendance_by_group
from congress.reads.votes import vote_json, votes_snapshot
from congress.records.chain import GENESIS, event_hash
from tests.sealing import Trustees, make_trustees, seal
from tests.story import GROUPS, story_roster

NOW = datetime(2026, 3, 20, 1, 30, tzinfo=UTC)
STAFF = Actor(role=Role.STAFF, name="工会工作人员")
MOTION = [{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"}]


def actor_of(delegate: Delegate) -> Actor:
    """The actor a signed-in delegate acts as (what congress.application.auth.actor_for_session builds)."""
    return Actor(role=Role.DELEGATE, name=delegate.name, congress_id=delegate.congress_id,
                 delegate_id=delegate.id, group_id=delegate.group_id,
                 is_group_leader=delegate.is_group_leader, is_voting=delegate.is_voting)


@dataclass
class Hall:
    """The story's congress (295 voting delegates in 7 groups) with an agenda, built by the actions."""

    db: Database
    congress_id: int
    groups: dict[str, int]
    delegates: list[Delegate]
    motion_item_id: int
    election_item_id: int
    trustees: Trustees | None = None

    def voting(self, group: str | None = None) -> list[Delegate]:
        return [d for d in self.delegates
                if d.is_voting and (group is None or d.group_id == self.groups[group])]

    def non_voting(self) -> list[Delegate]:
        return [d for d in self.delegates if not d.is_voting]

    def leader(self, group: str) -> Delegate:
        return next(d for d in self.voting(group) if d.is_group_leader)

    def act(self, fn: Callable[..., Any], *args: Any, actor: Actor = STAFF, now: datetime = NOW,
            **kwargs: Any) -> Any:
        with self.db.write() as session:
            return fn(Context(session, actor, now), self.congress_id, *args, **kwargs)

    def check_in(self, delegates: list[Delegate]) -> None:
        with self.db.write() as session:
            ctx = Context(session, STAFF, NOW)
            for d in delegates:
                check_in_at_desk(ctx, self.congress_id, d.employee_id)

    def cast(self, vote_id: int, ballots: list[tuple[Delegate, dict[str, Any]]]) -> list[dict[str, Any]]:
        """Each delegate's answers; for a secret vote sealed first, as the delegate page does."""
        with self.db.write() as session:
            vote = vote_json(session.get(Vote, vote_id))
            if vote["is_secret"]:
                return [cast_ballot(Context(session, actor_of(d), NOW), self.congress_id, vote_id,
                                    sealed=seal(vote, answers)) for d, answers in ballots]
            return [cast_ballot(Context(session, actor_of(d), NOW), self.congress_id, vote_id, answers)
                    for d, answers in ballots]

    def ensure_trustees(self) -> Trustees:
        """Three 主会场 delegates as trustees (2 of 3 decrypt), their key made: secret votes can open."""
        if self.trustees is None:
            self.trustees = make_trustees(self.db, self.congress_id, self.voting("主会场")[-3:])
        return self.trustees

    def close_and_count(self, vote_id: int) -> dict[str, Any]:
        """close_vote, and for a secret vote the decryption by trustees 1 and 3: the stored result."""
        closed = self.act(close_vote, vote_id)
        if closed.get("awaiting_trustees"):
            self.ensure_trustees().decrypt(vote_id, [1, 3])
        return self.stored_result(vote_id)

    def open_motion(self, **options: Any) -> tuple[int, str]:
        """A drafted and opened yes/no vote; returns (vote id, question id)."""
        vote = self.act(create_vote, self.motion_item_id, "薪酬方案", options.pop("questions", MOTION),
                        **options)
        if vote["is_secret"]:
            self.ensure_trustees()
        self.act(open_vote, vote["id"])
        return vote["id"], str(vote["questions"][0]["id"])

    def ballot_rows(self, vote_id: int) -> tuple[list[Ballot], list[BallotCast]]:
        with self.db.read() as session:
            ballots = list(session.scalars(sa.select(Ballot).where(Ballot.vote_id == vote_id)))
            casts = list(session.scalars(sa.select(BallotCast).where(BallotCast.vote_id == vote_id)))
            return ballots, casts

    def stored_result(self, vote_id: int) -> dict[str, Any]:
        with self.db.read() as session:
            vote = session.get(Vote, vote_id)
            assert vote is not None and vote.result is not None
            return vote.result


def build_hall(db: Database, roster: bytes | None = None) -> Hall:
    with db.write() as session:
        ctx = Context(session, STAFF, NOW)
        congress = create_congress(ctx, "第十届职代会第三次会议", GROUPS)
        import_roster(ctx, congress.id, roster or story_roster(), "roster.csv")
        motion = add_agenda_item(ctx, congress.id, "审议通过", "表决《职工薪酬福利调整方案》")
        election = add_agenda_item(ctx, congress.id, "选举", "补选职工董事")
        groups = {g.name: g.id for g in congress.groups}
        delegates = list(session.scalars(sa.select(Delegate).where(Delegate.congress_id == congress.id)
                                         .order_by(Delegate.id)))
        session.expunge_all()
    return Hall(db, congress.id, groups, delegates, motion["id"], election["id"])


@pytest.fixture
def hall(db: Database) -> Hall:
    return build_hall(db)


def refused(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        fn(*args, **kwargs)
    return caught.value


def run_with_service(db: Database, work: Callable[[Service], Awaitable[Any]]) -> Any:
    """Run `work` against a started Service (the group-committing writer the server uses)."""
    load_all()

    async def main() -> Any:
        service: Service
        hub = Hub(fetch_missing=lambda c, a, u: service.fetch_missing(c, a, u))
        service = Service(db, hub, MemoryBackplane(), clock=lambda: NOW)
        await service.start()
        try:
            return await work(service)
        finally:
            await service.stop()

    return asyncio.run(main())


async def outcome(call: Awaitable[dict[str, Any]]) -> dict[str, Any] | DomainError:
    try:
        return await call
    except DomainError as error:
        return error


# ---------------------------------------------------------------- quorum and check-in


def test_vote_opens_only_with_two_thirds_of_all_voting_delegates_checked_in(hall: Hall) -> None:
    vote = hall.act(create_vote, hall.motion_item_id, "薪酬方案", MOTION)
    voting = hall.voting()
    hall.check_in(voting[:196])

    error = refused(hall.act, open_vote, vote["id"])
    assert error.code == "quorum_not_met"
    assert error.message == "实到 196 人，未达到应到 295 人的三分之二（197 人）"

    hall.check_in(voting[196:197])
    opened = hall.act(open_vote, vote["id"])
    assert opened["status"] == "open"
    assert opened["quorum"] == "实到 197 人，达到应到 295 人的三分之二（197 人），符合法定人数"


def test_checked_in_non_voting_delegates_do_not_count_towards_quorum(hall: Hall) -> None:
    vote = hall.act(create_vote, hall.motion_item_id, "薪酬方案", MOTION)
    assert {d.delegate_type for d in hall.non_voting()} == {"列席代表", "特邀代表"}
    hall.check_in(hall.voting()[:196] + hall.non_voting())

    with hall.db.read() as session:
        groups = attendance_by_group(session, hall.congress_id)
    assert sum(g.present for g in groups) == 196
    assert sum(g.present_non_voting for g in groups) == 10
    assert refused(hall.act, open_vote, vote["id"]).message == "实到 196 人，未达到应到 295 人的三分之二（197 人）"


def test_leaving_early_lowers_the_number_present(hall: Hall) -> None:
    vote = hall.act(create_vote, hall.motion_item_id, "薪酬方案", MOTION)
    voting = hall.voting()
    hall.check_in(voting[:197])

    leaving = voting[0]
    left = hall.act(check_out, actor=actor_of(leaving), reason="车间抢修")
    assert left["attendance"]["present"] == 196
    assert refused(hall.act, open_vote, vote["id"]).message == "实到 196 人，未达到应到 295 人的三分之二（197 人）"

    # Coming back is a new check-in and counts again.
    hall.check_in([leaving])
    assert hall.act(open_vote, vote["id"])["status"] == "open"


def test_desk_check_in_after_the_window_closes_needs_a_reason_and_keeps_it(hall: Hall) -> None:
    hall.act(set_check_in_window, (NOW - timedelta(hours=2)).isoformat(), (NOW - timedelta(hours=1)).isoformat())
    late = hall.voting("长沙")[3]

    assert refused(hall.act, check_in, actor=actor_of(late)).code == "check_in_closed"
    error = refused(hall.act, check_in_at_desk, late.employee_id)
    assert (error.code, error.message) == ("reason_required", "签到已截止，补签到必须填写原因")
    assert refused(hall.act, check_in_at_desk, late.employee_id, "   ").code == "reason_required"

    reply = hall.act(check_in_at_desk, late.employee_id, "高铁晚点，会议开始后到场")
    assert reply["method"] == "desk" and reply["attendance"]["present"] == 1
    with hall.db.read() as session:
        stay = session.scalar(sa.select(Attendance).where(Attendance.delegate_id == late.id))
        assert stay is not None
        assert (stay.method, stay.reason) == ("desk", "高铁晚点，会议开始后到场")


def test_self_check_in_inside_the_window_is_counted(hall: Hall) -> None:
    hall.act(set_check_in_window, (NOW - timedelta(hours=1)).isoformat(), (NOW + timedelta(hours=1)).isoformat())
    delegate = hall.voting("岳阳")[0]
    reply = hall.act(check_in, actor=actor_of(delegate))
    assert reply["method"] == "self" and reply["attendance"]["present"] == 1
    assert refused(hall.act, check_in, actor=actor_of(delegate)).code == "already_checked_in"


# ---------------------------------------------------------------- one ballot per delegate


def test_concurrent_casts_for_one_delegate_in_separate_transactions_leave_one_ballot(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion()
    voter = hall.voting("怀化")[5]
    start = threading.Barrier(10)
    accepted: list[dict[str, Any]] = []
    refusals: list[Exception] = []

    def cast_once(answer: str) -> None:
        start.wait()
        try:
            accepted.append(hall.cast(vote_id, [(voter, {qid: answer})])[0])
        except Exception as exc:  # a DomainError, or the database's unique constraint
            refusals.append(exc)

    threads = [threading.Thread(target=cast_once, args=(("yes", "no")[i % 2],)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(accepted) == 1 and len(refusals) == 9
    assert all(isinstance(e, sa.exc.IntegrityError) or getattr(e, "code", "") == "already_voted" for e in refusals)
    ballots, casts = hall.ballot_rows(vote_id)
    assert len(ballots) == 1 and len(casts) == 1
    assert casts[0].delegate_id == voter.id


def test_concurrent_casts_through_the_service_with_different_command_ids_leave_one_ballot(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion()
    voter = hall.voting("益阳")[2]

    async def work(service: Service) -> list[Any]:
        return await asyncio.gather(*(outcome(service.run(
            actor_of(voter), "cast_ballot", hall.congress_id, {"vote_id": vote_id, "answers": {qid: "yes"}},
            f"cast-{i}")) for i in range(10)))

    results = run_with_service(hall.db, work)
    recorded = [r for r in results if isinstance(r, dict)]
    assert len(recorded) == 1 and recorded[0]["recorded"] is True
    assert [r.code for r in results if isinstance(r, DomainError)] == ["already_voted"] * 9
    ballots, casts = hall.ballot_rows(vote_id)
    assert len(ballots) == 1 and len(casts) == 1


def test_two_server_workers_casting_for_one_delegate_leave_one_ballot(hall: Hall) -> None:
    """Two Services on their own engines, as two worker processes sharing the database."""
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion()
    voter = hall.voting("永州")[4]
    other = Database(hall.db.url)
    load_all()

    async def main() -> list[Any]:
        services = []
        for db in (hall.db, other):
            hub = Hub(fetch_missing=lambda c, a, u: asyncio.sleep(0, []))
            services.append(Service(db, hub, MemoryBackplane(), clock=lambda: NOW))
        for s in services:
            await s.start()
        try:
            return await asyncio.gather(*(outcome(services[i % 2].run(
                actor_of(voter), "cast_ballot", hall.congress_id, {"vote_id": vote_id, "answers": {qid: "no"}},
                f"worker-{i}")) for i in range(10)))
        finally:
            for s in services:
                await s.stop()

    try:
        results = asyncio.run(main())
    finally:
        other.dispose()
    assert sum(isinstance(r, dict) for r in results) == 1
    assert {r.code for r in results if isinstance(r, DomainError)} == {"already_voted"}
    ballots, casts = hall.ballot_rows(vote_id)
    assert len(ballots) == 1 and len(casts) == 1


def test_resent_cast_with_the_same_command_id_is_answered_with_the_first_result_and_counted_once(
        hall: Hall) -> None:
    hall.check_in(hall.voting())
    named_id, named_q = hall.open_motion()
    hall.ensure_trustees()
    secret_vote = hall.act(create_vote, hall.election_item_id, "补选职工董事",
                           [{"kind": "election", "text": "职工董事", "seats": 1, "candidates": ["王建国", "李秀英"]}],
                           is_secret=True)
    secret_vote = hall.act(open_vote, secret_vote["id"])
    secret_q = str(secret_vote["questions"][0]["id"])
    voter = hall.voting("主会场")[7]
    first = seal(secret_vote, {secret_q: ["王建国"]})

    async def work(service: Service) -> dict[str, Any]:
        def send(vote_id: int, body: dict[str, Any], command_id: str) -> Awaitable[dict[str, Any]]:
            return service.run(actor_of(voter), "cast_ballot", hall.congress_id, {"vote_id": vote_id, **body},
                               command_id)

        replies: dict[str, Any] = {}
        replies["named"] = await send(named_id, {"answers": {named_q: "yes"}}, "named-1")
        # The resend (the ack was lost) carries the same command: the first reply.
        replies["named_again"] = await send(named_id, {"answers": {named_q: "yes"}}, "named-1")
        # The same id with other answers is another command under a used id: refused, nothing
        # applied (issue 18; it used to be answered with the first reply as if it were a resend).
        replies["named_changed"] = await outcome(send(named_id, {"answers": {named_q: "no"}}, "named-1"))
        replies["secret"] = await send(secret_vote["id"], {"sealed": first}, "secret-1")
        replies["secret_again"] = await send(secret_vote["id"], {"sealed": first}, "secret-1")
        # Resent while the first is still waiting for its group commit; a newly sealed ballot each time.
        replies["burst"] = await asyncio.gather(*(outcome(send(
            secret_vote["id"], {"sealed": seal(secret_vote, {secret_q: ["李秀英"]})}, "x")) for _ in range(3)))
        return replies

    replies = run_with_service(hall.db, work)
    assert replies["named"]["recorded"] is True and replies["named"]["receipt"]
    assert replies["named_again"] == replies["named"]
    assert isinstance(replies["named_changed"], DomainError) and replies["named_changed"].code == "id_reused"
    assert replies["secret"]["recorded"] is True and replies["secret"]["receipt"]
    # The resend is answered with the first reply: the same receipt, which the delegate can look up.
    assert replies["secret_again"] == replies["secret"]
    assert all(isinstance(r, DomainError) and r.code == "already_voted" for r in replies["burst"])

    ballots, casts = hall.ballot_rows(named_id)
    assert [b.answers for b in ballots] == [{named_q: "yes"}] and [c.delegate_id for c in casts] == [voter.id]
    ballots, casts = hall.ballot_rows(secret_vote["id"])
    assert ballots == [] and [c.delegate_id for c in casts] == [voter.id]  # no plaintext row at all
    with hall.db.read() as session:
        sealed = list(session.scalars(sa.select(SealedBallot).where(SealedBallot.vote_id == secret_vote["id"])))
    assert [b.hash for b in sealed] == [replies["secret"]["ballot_hash"]]


def test_ballots_of_one_group_commit_are_logged_like_any_other_event(hall: Hall) -> None:
    """Ballots committed together take their seqs together: still one `ballot.recorded` per ballot for
    its delegate, consecutive seqs, an unbroken hash chain, and the same fields as any emitted event."""
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion()
    voters = hall.voting("岳阳")[:40]

    async def work(service: Service) -> list[Any]:
        return await asyncio.gather(*(service.run(actor_of(d), "cast_ballot", hall.congress_id,
                                                  {"vote_id": vote_id, "answers": {qid: "abstain"}}, f"c-{d.id}")
                                      for d in voters))

    replies = run_with_service(hall.db, work)
    assert all(r["recorded"] for r in replies)
    with hall.db.read() as session:
        events = list(session.scalars(sa.select(Event).where(Event.congress_id == hall.congress_id)
                                      .order_by(Event.seq)))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    head = GENESIS
    for event in events:
        assert event.hash == event_hash(head, event.seq, event.type, event.payload), event.seq
        head = event.hash
    recorded = [e for e in events if e.type == "ballot.recorded"]
    assert sorted(e.audience_id for e in recorded) == sorted(d.id for d in voters)
    assert {e.audience for e in recorded} == {"delegate"}

    def filled(event: Event) -> set[str]:
        return {c.key for c in sa.inspect(Event).columns if getattr(event, c.key) is not None}

    # The first of them went through Context.emit itself; the others must look exactly like it.
    assert len({frozenset(filled(e)) for e in recorded}) == 1


def test_two_delegates_may_send_the_same_command_id(hall: Hall) -> None:
    """Command ids are chosen by each client (a page may count 1, 2, 3 …): they identify a command of
    one person, so another delegate's id must never make a ballot look like a duplicate."""
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion()
    first, second = hall.voting("长沙")[:2]

    async def work(service: Service) -> list[Any]:
        replies = []
        for d in (first, second):
            replies.append(await outcome(service.run(actor_of(d), "cast_ballot", hall.congress_id,
                                                     {"vote_id": vote_id, "answers": {qid: "yes"}}, "1")))
        return replies

    replies = run_with_service(hall.db, work)
    assert [isinstance(r, dict) and r["recorded"] for r in replies] == [True, True], replies
    _ballots, casts = hall.ballot_rows(vote_id)
    assert sorted(c.delegate_id for c in casts) == sorted([first.id, second.id])


# ---------------------------------------------------------------- who may cast, and when


def test_ballot_arriving_after_close_is_not_counted_and_the_delegate_and_staff_are_told(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion()
    early, late = hall.voting("岳阳")[:2]
    hall.cast(vote_id, [(early, {qid: "yes"})])
    hall.act(close_vote, vote_id)

    reply = hall.cast(vote_id, [(late, {qid: "yes"})])[0]
    assert reply["recorded"] is False and reply["late"] is True and reply["code"] == "arrived_after_close"
    assert "截止" in reply["words"] and "之后才送达，未被计入" in reply["words"]
    _ballots, casts = hall.ballot_rows(vote_id)
    assert [c.delegate_id for c in casts] == [early.id]
    assert hall.stored_result(vote_id)["cast"] == 1
    with hall.db.read() as session:
        late_events = list(session.scalars(sa.select(Event).where(Event.type == "ballot.late")))
    assert [(e.audience, e.payload["vote_id"], e.payload["group_id"]) for e in late_events] == [
        ("staff", vote_id, hall.groups["岳阳"])]
    assert "yes" not in str(late_events[0].payload)  # a count for staff, never a choice
    with hall.db.read() as session:  # a reloaded staff page still knows; a delegate's does not
        staff_view = {v["id"]: v for v in votes_snapshot(session, hall.congress_id, STAFF)}
        delegate_view = {v["id"]: v for v in votes_snapshot(session, hall.congress_id, actor_of(early))}
    assert staff_view[vote_id]["late_ballots"] == 1 and "late_ballots" not in delegate_view[vote_id]


def test_a_draft_vote_refuses_ballots_as_not_open(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote = hall.act(create_vote, hall.motion_item_id, "薪酬方案", MOTION)
    error = refused(hall.cast, vote["id"], [(hall.voting()[0], {str(vote["questions"][0]["id"]): "yes"})])
    assert error.code == "vote_not_open"


def test_ballot_after_the_set_closing_time_is_refused(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion(closes_after_seconds=60)
    voter = hall.voting("岳阳")[0]
    with hall.db.write() as session:
        ctx = Context(session, actor_of(voter), NOW + timedelta(seconds=60))
        reply = cast_ballot(ctx, hall.congress_id, vote_id, {qid: "yes"})
    assert reply["recorded"] is False and reply["code"] == "arrived_after_close"
    assert hall.ballot_rows(vote_id) == ([], [])


def test_delegate_not_checked_in_cannot_vote(hall: Hall) -> None:
    voting = hall.voting()
    hall.check_in(voting[:250])
    vote_id, qid = hall.open_motion()
    error = refused(hall.cast, vote_id, [(voting[260], {qid: "yes"})])
    assert (error.code, error.message) == ("not_checked_in", "请先签到再投票")


def test_non_voting_delegate_cannot_vote(hall: Hall) -> None:
    attending = next(d for d in hall.non_voting() if d.delegate_type == "列席代表")
    hall.check_in(hall.voting() + [attending])
    vote_id, qid = hall.open_motion()
    error = refused(hall.cast, vote_id, [(attending, {qid: "yes"})])
    assert (error.code, error.message) == ("not_voting_delegate", "只有正式代表可以表决、提出或附议提案")
    assert hall.ballot_rows(vote_id) == ([], [])


def test_delegate_made_non_voting_by_a_roster_reimport_cannot_vote_on_an_earlier_sign_in(hall: Hall) -> None:
    voter = hall.voting("怀化")[1]
    signed_in_as = actor_of(voter)  # the connection's actor, built when the delegate signed in
    rows = list(csv.reader(io.StringIO(story_roster().decode("utf-8"))))
    for row in rows:
        if row[0] == voter.employee_id:
            row[-1] = "列席代表"
    changed = io.StringIO()
    csv.writer(changed, lineterminator="\n").writerows(rows)
    hall.act(import_roster, changed.getvalue().encode("utf-8"), "roster.csv")
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion()

    with hall.db.write() as session:
        ctx = Context(session, signed_in_as, NOW)
        assert refused(cast_ballot, ctx, hall.congress_id, vote_id, {qid: "yes"}).code == "not_voting_delegate"


def test_ballot_of_a_delegate_removed_by_a_roster_reimport_after_voting_is_still_counted(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion()
    ningbo = hall.voting("宁波")
    hall.cast(vote_id, [(d, {qid: "yes"}) for d in ningbo])
    rows = [r for r in csv.reader(io.StringIO(story_roster().decode("utf-8"))) if r[0] != ningbo[0].employee_id]
    changed = io.StringIO()
    csv.writer(changed, lineterminator="\n").writerows(rows)
    assert hall.act(import_roster, changed.getvalue().encode("utf-8"), "roster.csv")["removed"] == 1

    result = hall.act(close_vote, vote_id)["result"]
    group = next(g for g in result["questions"][0]["groups"] if g["name"] == "宁波")
    assert (group["eligible"], group["present"], group["returned"], group["counts"]["yes"]) == (15, 15, 15, 15)
    assert result["cast"] == 15


def test_delegate_of_a_hand_counted_group_cannot_vote_online(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion(hand_count_groups=[hall.groups["宁波"]])
    error = refused(hall.cast, vote_id, [(hall.voting("宁波")[0], {qid: "yes"})])
    assert (error.code, error.message) == ("group_hand_counted", "本代表团(组)本次表决采用现场计票，请在现场表决")


def test_online_group_cannot_report_a_hand_count(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion(hand_count_groups=[hall.groups["宁波"]])
    leader = hall.leader("长沙")
    error = refused(hall.act, enter_group_count, vote_id, hall.groups["长沙"], "show_of_hands", 25,
                    {qid: {"counts": {"yes": 25}}}, "赵监票", actor=actor_of(leader))
    assert error.code == "group_votes_online"


# ---------------------------------------------------------------- group hand counts


def enter_count(hall: Hall, vote_id: int, group: str, method: str, present: int,
                questions: dict[str, Any]) -> dict[str, Any]:
    return hall.act(enter_group_count, vote_id, hall.groups[group], method, present, questions, "周监票",
                    actor=actor_of(hall.leader(group)))


def test_group_count_above_the_groups_checked_in_voting_delegates_is_refused(hall: Hall) -> None:
    ningbo = hall.voting("宁波")
    assert len(ningbo) == 15
    hall.check_in([d for d in hall.voting() if d not in ningbo] + ningbo[:12])
    vote_id, qid = hall.open_motion(hand_count_groups=[hall.groups["宁波"]])

    error = refused(enter_count, hall, vote_id, "宁波", "show_of_hands", 15, {qid: {"counts": {"yes": 15}}})
    assert error.code == "group_count_exceeds_present"
    assert "超过本组已签到的正式代表 12 人" in error.message
    accepted = enter_count(hall, vote_id, "宁波", "show_of_hands", 12, {qid: {"counts": {"yes": 12}}})
    assert accepted["figures"]["present"] == 12


def test_group_count_whose_figures_do_not_add_up_is_refused(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion(hand_count_groups=[hall.groups["宁波"]])

    hands = refused(enter_count, hall, vote_id, "宁波", "show_of_hands", 15,
                    {qid: {"counts": {"yes": 10, "no": 3, "abstain": 1}}})
    assert hands.code == "group_count_does_not_add_up"
    assert "各选项合计 14 票，与实到人数 15 不符" in hands.message
    paper = refused(enter_count, hall, vote_id, "宁波", "paper", 15,
                    {qid: {"issued": 15, "returned": 15, "valid": 14, "void": 0,
                           "counts": {"yes": 10, "no": 3, "abstain": 1}}})
    assert paper.code == "group_count_does_not_add_up"
    assert "有效票 14 张与无效票 0 张合计 14 张，与收回的 15 张不符" in paper.message
    assert refused(hall.act, close_vote, vote_id).code == "group_counts_missing"  # nothing was stored


def test_show_of_hands_for_a_secret_vote_is_refused(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion(is_secret=True, hand_count_groups=[hall.groups["宁波"]])
    error = refused(enter_count, hall, vote_id, "宁波", "show_of_hands", 15,
                    {qid: {"counts": {"yes": 15}}})
    assert (error.code, error.message) == (
        "show_of_hands_for_secret", "本事项为无记名投票，不能以举手表决计票，请改用纸质选票")


def test_paper_round_with_more_ballots_returned_than_issued_makes_the_round_void(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion(is_secret=True, hand_count_groups=[hall.groups["宁波"]])
    hall.cast(vote_id, [(d, {qid: "yes"}) for d in hall.voting() if d.group_id != hall.groups["宁波"]])
    entered = enter_count(hall, vote_id, "宁波", "paper", 15,
                          {qid: {"issued": 15, "returned": 16, "valid": 16, "void": 0,
                                 "counts": {"yes": 16, "no": 0, "abstain": 0}}})
    assert entered["figures"]["is_void_round"] is True

    result = hall.close_and_count(vote_id)
    assert result["is_void_round"] is True
    assert result["void_round_words"] == "宁波 收回选票多于发出选票，本轮表决无效，应重新表决"
    question = result["questions"][0]
    assert question["words"] == result["void_round_words"] and "passed" not in question
    assert hall.stored_result(vote_id) == result


def test_closing_with_a_hand_counted_group_not_reported_is_refused_naming_the_group(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote_id, _qid = hall.open_motion(hand_count_groups=[hall.groups["宁波"], hall.groups["永州"]])
    error = refused(hall.act, close_vote, vote_id)
    assert (error.code, error.message) == ("group_counts_missing", "以下代表团(组)尚未报送现场计票：永州、宁波")


# ---------------------------------------------------------------- the result


def test_stored_result_totals_are_the_sums_of_the_groups_and_its_words_state_the_rule(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion(hand_count_groups=[hall.groups["宁波"]])
    online = [d for d in hall.voting() if d.group_id != hall.groups["宁波"]]
    assert len(online) == 280
    answers = ["yes"] * 191 + ["no"] * 60 + ["abstain"] * 29
    hall.cast(vote_id, [(d, {qid: a}) for d, a in zip(online, answers, strict=True)])
    enter_count(hall, vote_id, "宁波", "show_of_hands", 15, {qid: {"counts": {"yes": 10, "no": 3, "abstain": 2}}})

    closed = hall.act(close_vote, vote_id)["result"]
    result = hall.stored_result(vote_id)
    assert result == closed
    assert (result["eligible"], result["present"], result["cast"]) == (295, 295, 295)
    question = result["questions"][0]
    assert question["words"] == "赞成 201 票，超过全体职工代表 295 人的半数（148 票），通过"
    assert question["passed"] is True and question["required"] == 148
    assert {o["key"]: o["count"] for o in question["options"]} == {"yes": 201, "no": 63, "abstain": 31}
    groups = question["groups"]
    assert [g["name"] for g in groups] == GROUPS
    for figure in ("eligible", "present", "issued", "returned", "valid", "void"):
        assert question[figure] == sum(g[figure] for g in groups), figure
    for option in question["options"]:
        assert option["count"] == sum(g["counts"].get(option["key"], 0) for g in groups)
    ningbo = next(g for g in groups if g["name"] == "宁波")
    assert ningbo["method"] == "show_of_hands" and ningbo["counts"] == {"yes": 10, "no": 3, "abstain": 2}
    assert sum(g["returned"] for g in groups if g["method"] == "online") == 280


def test_motion_without_more_than_half_of_all_voting_delegates_fails_even_with_most_of_those_present(
        hall: Hall) -> None:
    hall.check_in(hall.voting()[:200])
    vote_id, qid = hall.open_motion()
    voters = hall.voting()[:200]
    hall.cast(vote_id, [(d, {qid: "yes" if i < 147 else "no"}) for i, d in enumerate(voters)])
    question = hall.act(close_vote, vote_id)["result"]["questions"][0]
    assert question["passed"] is False
    assert question["words"] == "赞成 147 票，未超过全体职工代表 295 人的半数（148 票），未通过"


def test_election_ballot_marking_more_names_than_seats_is_void(hall: Hall) -> None:
    """A named ballot is kept as cast and voided by the tally; a sealed one cannot be over-marked at
    all (its proof would fail, see test_a_sealed_ballot_marking_more_names_than_seats_is_refused)."""
    hall.check_in(hall.voting())
    vote = hall.act(create_vote, hall.election_item_id, "补选职工董事",
                    [{"kind": "election", "text": "职工董事", "seats": 1, "candidates": ["王建国", "李秀英", "张卫东"]}])
    hall.act(open_vote, vote["id"])
    qid = str(vote["questions"][0]["id"])
    voters = hall.voting()
    hall.cast(vote["id"], [(d, {qid: ["王建国"]}) for d in voters[:200]]
              + [(voters[200], {qid: ["王建国", "李秀英"]})])

    question = hall.act(close_vote, vote["id"])["result"]["questions"][0]
    assert (question["returned"], question["valid"], question["void"]) == (201, 200, 1)
    assert {o["label"]: o["count"] for o in question["options"]} == {"王建国": 200, "李秀英": 0, "张卫东": 0}
    assert question["elected"] == ["王建国"]


def test_tie_for_the_last_seat_is_reported_and_the_seat_left_open(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote = hall.act(create_vote, hall.election_item_id, "补选职工董事",
                    [{"kind": "election", "text": "职工董事", "seats": 2, "candidates": ["王建国", "李秀英", "张卫东"]}],
                    is_secret=True)
    hall.ensure_trustees()
    hall.act(open_vote, vote["id"])
    qid = str(vote["questions"][0]["id"])
    marks = [["王建国", "李秀英"]] * 100 + [["王建国", "张卫东"]] * 100 + [["李秀英", "张卫东"]] * 60
    hall.cast(vote["id"], list(zip(hall.voting(), [{qid: m} for m in marks], strict=False)))

    question = hall.close_and_count(vote["id"])["questions"][0]
    assert {o["label"]: o["count"] for o in question["options"]} == {"王建国": 200, "李秀英": 160, "张卫东": 160}
    assert question["elected"] == ["王建国"]
    assert question["tied_for_last"] == ["李秀英", "张卫东"] and question["unfilled_seats"] == 1
    assert "李秀英、张卫东 各得 160 票，并列争最后 1 个名额，均未当选" in question["words"]
    assert "空缺 1 名，需另行投票选举" in question["words"]


# ---------------------------------------------------------------- secrecy


def test_secret_ballot_is_stored_sealed_with_nothing_to_join_it_back_to_its_voter(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion(is_secret=True)
    voters = hall.voting()[:3]
    hall.cast(vote_id, [(d, {qid: a}) for d, a in zip(voters, ("yes", "no", "abstain"), strict=True)])

    ballots, casts = hall.ballot_rows(vote_id)
    assert ballots == [] and sorted(c.delegate_id for c in casts) == sorted(d.id for d in voters)
    schema = sa.inspect(hall.db.engine)
    assert {c["name"] for c in schema.get_columns("sealed_ballot")} == {"id", "vote_id", "group_id", "hash", "content"}
    with hall.db.read() as session:
        rows = list(session.scalars(sa.select(SealedBallot).where(SealedBallot.vote_id == vote_id)))
    assert len(rows) == 3 and {r.id.version for r in rows} == {4}
    for row in rows:  # ciphertexts and proofs, nothing readable
        assert set(row.content) == {"vote_id", "questions"}
        assert not {"yes", "no", "abstain", "answers"} & set(str(row.content).replace("'", " ").split())


# ---------------------------------------------------------------- certifying, publishing, repeating


def test_publishing_requires_the_chief_scrutineers_certification(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion()
    hall.cast(vote_id, [(d, {qid: "yes"}) for d in hall.voting()[:150]])
    hall.act(close_vote, vote_id)

    error = refused(hall.act, publish_vote, vote_id)
    assert (error.code, error.message) == ("not_certified", "计票结果须经总监票人确认后才能公布")
    assert refused(hall.act, certify_vote, vote_id, "  ").code == "bad_field"
    hall.act(certify_vote, vote_id, "刘志强")
    published = hall.act(publish_vote, vote_id)
    assert published["certified_by"] == "刘志强"
    assert published["result"]["questions"][0]["passed"] is True


def test_repeated_vote_is_a_new_round_and_leaves_the_earlier_result_unchanged(hall: Hall) -> None:
    hall.check_in(hall.voting())
    first_id, first_q = hall.open_motion()
    hall.cast(first_id, [(d, {first_q: "yes"}) for d in hall.voting()[:100]])
    first_result = hall.act(close_vote, first_id)["result"]

    second = hall.act(repeat_vote, first_id)
    assert second["id"] != first_id and second["round"] == 2 and second["status"] == "draft"
    assert [q["text"] for q in second["questions"]] == [MOTION[0]["text"]]
    hall.act(open_vote, second["id"])
    second_q = str(second["questions"][0]["id"])
    hall.cast(second["id"], [(d, {second_q: "yes"}) for d in hall.voting()[:200]])
    second_result = hall.act(close_vote, second["id"])["result"]

    assert second_result["questions"][0]["passed"] is True
    assert hall.stored_result(first_id) == first_result
    assert first_result["questions"][0]["passed"] is False and first_result["cast"] == 100
    assert len(hall.ballot_rows(first_id)[1]) == 100 and len(hall.ballot_rows(second["id"])[1]) == 200


def test_ballot_committed_while_the_vote_is_being_closed_is_counted(hall: Hall) -> None:
    """A ballot whose transaction commits while staff close the vote is either refused or in the
    tally, never acknowledged and then missing from the count."""
    hall.check_in(hall.voting())
    vote_id, qid = hall.open_motion()
    voter = hall.voting("宁波")[0]
    cast_done, release = threading.Event(), threading.Event()
    outcomes: dict[str, Any] = {}

    def cast_and_hold() -> None:
        with hall.db.write() as session:
            outcomes["ballot"] = cast_ballot(Context(session, actor_of(voter), NOW), hall.congress_id,
                                             vote_id, {qid: "yes"})
            cast_done.set()
            release.wait(30)

    def close() -> None:
        outcomes["closed"] = hall.act(close_vote, vote_id)

    caster = threading.Thread(target=cast_and_hold)
    caster.start()
    assert cast_done.wait(30)
    closer = threading.Thread(target=close)
    closer.start()
    time.sleep(0.5)  # let the close reach the database while the ballot is not yet committed
    release.set()
    caster.join()
    closer.join()

    assert outcomes["ballot"]["recorded"] is True
    assert outcomes["closed"]["result"]["cast"] == 1
    assert hall.stored_result(vote_id)["questions"][0]["options"][0]["count"] == 1
