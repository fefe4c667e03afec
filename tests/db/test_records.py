"""Records anyone can check, on SQLite and PostgreSQL: the hash chain of the event log, the archive
(`congress export`), its independent verification (`congress verify`), ballot receipts, and the
minutes (`congress minutes`).

A small congress (3 groups, 40 voting delegates) is held through the real actions: a named motion
with one group counting by show of hands, and a secret election with 30 ballots cast in a known
order. Tampering is done the way someone with database access would do it: with SQL."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pypdf
import pytest
import sqlalchemy as sa

from congress.actions.attendance import check_in_at_desk
from congress.actions.ballots import cast_ballot, enter_group_count
from congress.actions.base import Context
from congress.actions.receipts import check_receipt, my_ballot, receipts
from congress.actions.setup import create_congress
from congress.actions.votes import certify_vote, close_vote, create_vote, open_vote, publish_vote
from congress.cli import main
from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.db.models import Ballot, BallotCast, Delegate, Event, Group, GroupCount, SealedBallot
from congress.domain.errors import DomainError
from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.reads.snapshot import build_snapshot
from congress.records.archive import build_archive, read_archive
from congress.records.chain import GENESIS, canonical, event_hash
from congress.records.verify import verify_archive
from tests.conftest import PG_ADMIN_URL, create_pg_database, drop_pg_database
from tests.log_events import TEST_EVENTS
from tests.sealing import Trustees, make_trustees, seal
from tests.story import build_story, story_roster

NOW = datetime(2026, 3, 20, 1, 30, tzinfo=UTC)
STAFF = Actor(role=Role.STAFF, name="工会工作人员")
OBSERVER = Actor(role=Role.OBSERVER, name="观众")
GROUPS = ["主会场", "岳阳", "宁波"]
SIZES = {"主会场": 15, "岳阳": 15, "宁波": 7}  # voting delegates besides the group's leader


def small_roster() -> bytes:
    """The story's roster cut to 3 groups: 16 + 16 + 8 voting delegates and 4 non-voting."""
    reader = csv.DictReader(io.StringIO(story_roster().decode("utf-8-sig")))
    kept, taken = [], dict.fromkeys(GROUPS, 0)
    for row in reader:
        group = row["group"]
        if group not in SIZES:
            continue
        if row["delegate_type"] != "正式代表" or row["is_group_leader"] == "1":
            kept.append(row)
        elif taken[group] < SIZES[group]:
            taken[group] += 1
            kept.append(row)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(kept[0]))
    writer.writeheader()
    writer.writerows(kept)
    return out.getvalue().encode("utf-8")


def actor_of(delegate: Delegate) -> Actor:
    return Actor(role=Role.DELEGATE, name=delegate.name, congress_id=delegate.congress_id,
                 delegate_id=delegate.id, group_id=delegate.group_id,
                 is_group_leader=delegate.is_group_leader, is_voting=delegate.is_voting)


@dataclass
class Held:
    """A congress held to the end: both votes closed, certified and published."""

    db: Database
    url: str
    congress_id: int
    groups: dict[str, int]
    delegates: list[Delegate]
    named_vote_id: int
    motion_id: str
    secret_vote_id: int
    election_id: str
    secret_order: list[tuple[Delegate, str, list[str]]]  # who cast, receipt, answer — in casting order
    trustees: Trustees | None = None

    def act(self, fn: Any, *args: Any, actor: Actor = STAFF, **kwargs: Any) -> Any:
        with self.db.write() as session:
            return fn(Context(session, actor, NOW), self.congress_id, *args, **kwargs)

    def read(self, fn: Any, *args: Any, actor: Actor = OBSERVER, **kwargs: Any) -> Any:
        with self.db.read() as session:
            return fn(Context(session, actor, NOW), self.congress_id, *args, **kwargs)

    def verify(self, *extra: str) -> tuple[int, str]:
        return run_cli(["verify", "--db", self.url, "--congress", str(self.congress_id), *extra])

    def event_seq(self, type: str, **payload: Any) -> int:
        with self.db.read() as session:
            for event in session.scalars(sa.select(Event).where(Event.congress_id == self.congress_id,
                                                                Event.type == type).order_by(Event.seq)):
                if all(event.payload.get(k) == v for k, v in payload.items()):
                    return event.seq
        raise LookupError(type)


def run_cli(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


def hold_congress(db: Database, url: str) -> Held:
    story = build_story(db, roster=small_roster(), groups=GROUPS, with_codes=False)
    cid = story.congress_id
    with db.read() as session:
        groups = dict(session.execute(sa.select(Group.name, Group.id).where(Group.congress_id == cid)).all())
    voting = {name: story.voting(gid) for name, gid in groups.items()}
    held = Held(db, url, cid, groups, story.delegates, 0, "", 0, "", [])

    with db.write() as session:
        ctx = Context(session, STAFF, NOW)
        absent = {d.id for d in voting["岳阳"][-2:]}
        for d in story.voting():
            if d.id not in absent:
                check_in_at_desk(ctx, cid, d.employee_id)

    motion_item, election_item = story.agenda[1]["id"], story.agenda[2]["id"]
    vote = held.act(create_vote, motion_item, "表决《职工薪酬福利调整方案》",
                    [{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"}],
                    hand_count_groups=[groups["宁波"]])
    held.named_vote_id, held.motion_id = vote["id"], str(vote["questions"][0]["id"])
    held.act(open_vote, held.named_vote_id)
    answers = ["yes"] * 12 + ["no"] * 2 + ["abstain"] * 2 + ["yes"] * 10 + ["no"] * 3
    voters = voting["主会场"] + voting["岳阳"][:13]
    with db.write() as session:
        for d, answer in zip(voters, answers, strict=True):
            cast_ballot(Context(session, actor_of(d), NOW), cid, held.named_vote_id, {held.motion_id: answer})
    leader = story.leader(groups["宁波"])
    held.act(enter_group_count, held.named_vote_id, groups["宁波"], "show_of_hands", 8,
             {held.motion_id: {"counts": {"yes": 6, "no": 1, "abstain": 1}}}, "王监票", actor=actor_of(leader))

    vote = held.act(create_vote, election_item, "补选职工董事（无记名）",
                    [{"kind": "election", "text": "补选职工董事 1 名", "candidates": ["周海燕", "陈立新"], "seats": 1}],
                    is_secret=True)
    held.secret_vote_id, held.election_id = vote["id"], str(vote["questions"][0]["id"])
    held.trustees = make_trustees(db, cid, voting["宁波"][:3])
    vote = held.act(open_vote, held.secret_vote_id)
    with db.write() as session:
        for number, d in enumerate(voting["主会场"] + voting["岳阳"][:14]):
            choice = ["周海燕"] if number % 5 else ["陈立新"]
            ack = cast_ballot(Context(session, actor_of(d), NOW), cid, held.secret_vote_id,
                              sealed=seal(vote, {held.election_id: choice}))
            held.secret_order.append((d, ack["receipt"], choice))

    for vote_id in (held.named_vote_id, held.secret_vote_id):
        if held.act(close_vote, vote_id).get("awaiting_trustees"):
            held.trustees.decrypt(vote_id, [2, 3])
        held.act(certify_vote, vote_id, "刘志强")
        held.act(publish_vote, vote_id)
    return held


# The congress is held once per database kind (a template); each test gets its own copy to tamper with:
# a copied SQLite file, or a PostgreSQL database created from the template database.


def _build_template(url: str) -> Held:
    upgrade(url)
    db = Database(url)
    try:
        return hold_congress(db, url)
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Held:
    path = tmp_path_factory.mktemp("template") / "congress.db"
    return _build_template(f"sqlite:///{path}")


@pytest.fixture(scope="module")
def postgresql_template() -> Iterator[Held]:
    url = create_pg_database()
    try:
        yield _build_template(url)
    finally:
        drop_pg_database(url)


def _copy(template: Held, tmp_path: Path) -> tuple[str, Callable[[], None]]:
    if template.url.startswith("sqlite"):
        source = Path(sa.engine.make_url(template.url).database or "")
        for suffix in ("", "-wal"):
            if Path(f"{source}{suffix}").exists():
                shutil.copyfile(f"{source}{suffix}", tmp_path / f"congress.db{suffix}")
        return f"sqlite:///{tmp_path / 'congress.db'}", lambda: None
    name = f"congress_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template.url.rsplit("/", 1)[1]}"')
    admin.dispose()
    url = template.url.rsplit("/", 1)[0] + "/" + name
    return url, lambda: drop_pg_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def held(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Held]:
    template: Held = request.getfixturevalue(f"{request.param}_template")
    url, drop = _copy(template, tmp_path)
    db = Database(url)
    try:
        yield dataclasses.replace(template, db=db, url=url)
    finally:
        db.dispose()
        drop()


@pytest.fixture
def held_sqlite(sqlite_template: Held, tmp_path: Path) -> Iterator[Held]:
    url, _drop = _copy(sqlite_template, tmp_path)
    db = Database(url)
    yield dataclasses.replace(sqlite_template, db=db, url=url)
    db.dispose()


# ---------------------------------------------------------------- the chain itself (pure)


def test_event_hash_fields_cannot_shift_into_each_other() -> None:
    base = event_hash(GENESIS, 12, "vote.closed", {"vote_id": 1})
    assert re.fullmatch(r"[0-9a-f]{64}", base)
    assert event_hash(GENESIS, 12, "vote.closed", {"vote_id": 1}) == base
    assert event_hash(GENESIS, 1, "2vote.closed", {"vote_id": 1}) != base  # "12"+"vote" vs "1"+"2vote"
    assert event_hash(GENESIS, 12, "vote.closed", {"vote_id": 2}) != base
    assert canonical({"b": 1, "a": "岳阳"}) == '{"a":"岳阳","b":1}'.encode()


class Boom(Exception):
    """Raised inside a transaction after it emitted, so that it rolls back."""


def test_concurrent_writers_leave_one_unbroken_chain(db: Database) -> None:
    """Each emit chains to seq n-1 under the congress row lock, whoever wrote it; rollbacks leave no trace."""
    with db.write() as session:
        congress = create_congress(Context(session, STAFF, NOW), "并发测试", GROUPS)
    start, failures = threading.Barrier(8), []

    def writer(index: int) -> None:
        try:
            start.wait()
            for n in range(5):
                try:
                    with db.write() as session:
                        ctx = Context(session, STAFF, NOW, declared=TEST_EVENTS)
                        for k in range(2):  # two emits in one transaction: the second uses the cache
                            ctx.emit(congress.id, "test.written", {"writer": index, "n": n, "k": k})
                        if n == 2:
                            raise Boom
                except Boom:
                    pass
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with db.read() as session:
        report = verify_archive(build_archive(session, congress.id, NOW))
    assert report.ok, report.text()
    assert report.head_seq == 1 + 8 * 4 * 2


# ---------------------------------------------------------------- a clean congress verifies


def test_clean_congress_verifies_ok_and_prints_the_head_hash(held: Held) -> None:
    code, out = held.verify()
    assert code == 0, out
    with held.db.read() as session:
        head = session.scalars(sa.select(Event).where(Event.congress_id == held.congress_id)
                               .order_by(Event.seq.desc())).first()
        assert head is not None
        before = session.scalar(sa.select(Event.hash).where(Event.congress_id == held.congress_id,
                                                            Event.seq == head.seq - 1))
        snapshot = build_snapshot(session, held.congress_id, OBSERVER)
    assert out.startswith(f"OK  head seq {head.seq}  hash {head.hash}")
    # The head is public: on the observer's snapshot, and in every published result.
    assert snapshot["record"] == {"seq": head.seq, "hash": head.hash}
    assert head.type == "vote.published"
    assert head.payload["record"] == {"seq": head.seq - 1, "hash": before}
    # A watcher who noted the head can check the archive against it.
    assert held.verify("--expect", f"{head.seq - 1}:{before[:12]}")[0] == 0
    code, out = held.verify("--expect", f"{head.seq - 1}:{'0' * 12}")
    assert code == 1 and f"seq {head.seq - 1}: hash {before} is not the hash you noted" in out


def test_the_recount_matches_the_stored_results(held: Held) -> None:
    with held.db.read() as session:
        files = build_archive(session, held.congress_id, NOW)
    report = verify_archive(files)
    assert report.ok, report.text()
    assert (report.votes, report.ballots) == (2, 29 + 30)
    named = json.loads(files[f"votes/vote-{held.named_vote_id}.json"])
    question = named["result"]["questions"][0]
    assert [o["count"] for o in question["options"]] == [28, 6, 3]
    assert next(g for g in question["groups"] if g["name"] == "宁波")["method"] == "show_of_hands"
    assert named["group_counts"][0]["scrutineer"] == "王监票"


# ---------------------------------------------------------------- tampering is named


def test_altering_one_stored_event_payload_fails_naming_its_seq(held: Held) -> None:
    seq = held.event_seq("vote.closed", vote_id=held.named_vote_id)
    with held.db.write() as session:
        event = session.scalar(sa.select(Event).where(Event.congress_id == held.congress_id, Event.seq == seq))
        assert event is not None
        event.payload = {**event.payload, "cast": event.payload["cast"] + 1}
    code, out = held.verify()
    assert code == 1
    assert f"seq {seq}: hash does not match (stored " in out
    assert f"seq {seq + 1}: hash" not in out  # the next link still holds: only the changed event is named


def test_swapping_two_events_fails_naming_the_seq(held: Held) -> None:
    seq = held.event_seq("vote.certified", vote_id=held.named_vote_id)
    with held.db.write() as session:
        where = (Event.congress_id == held.congress_id)
        session.execute(sa.update(Event).where(where, Event.seq == seq).values(seq=-1))
        session.execute(sa.update(Event).where(where, Event.seq == seq + 1).values(seq=seq))
        session.execute(sa.update(Event).where(where, Event.seq == -1).values(seq=seq + 1))
    code, out = held.verify()
    assert code == 1
    assert f"seq {seq}: hash does not match" in out


def test_deleting_one_event_fails_naming_the_missing_seq(held: Held) -> None:
    seq = held.event_seq("vote.opened", id=held.secret_vote_id)
    with held.db.write() as session:
        session.execute(sa.delete(Event).where(Event.congress_id == held.congress_id, Event.seq == seq))
    code, out = held.verify()
    assert code == 1
    assert f"seq {seq} missing" in out


def test_changing_a_stored_group_count_names_the_vote_and_group(held: Held) -> None:
    with held.db.write() as session:
        count = session.scalar(sa.select(GroupCount).where(GroupCount.vote_id == held.named_vote_id))
        assert count is not None
        figures = json.loads(json.dumps(count.figures))
        figures["questions"][held.motion_id]["counts"].update(yes=7, no=0)
        count.figures = figures
    code, out = held.verify()
    assert code == 1
    assert f"vote {held.named_vote_id} question {held.motion_id} group 宁波: yes stored 6, counted 7" in out
    assert f"vote {held.named_vote_id} question {held.motion_id} group 宁波: no stored 1, counted 0" in out


def test_a_ballot_added_for_a_delegate_who_did_not_vote_is_caught_by_participation(held: Held) -> None:
    with held.db.write() as session:
        session.add(Ballot(id=uuid.uuid4(), vote_id=held.named_vote_id, group_id=held.groups["岳阳"],
                           delegate_id=None, answers={held.motion_id: "no"}, receipt="ZZZZ-ZZZZ-ZZZZ"))
    code, out = held.verify()
    assert code == 1
    assert f"vote {held.named_vote_id} group 岳阳: 14 ballots, but 13 delegates recorded as voting" in out


# ---------------------------------------------------------------- a sealed vote's recount cannot be fooled


def rewrite_record(files: dict[str, bytes], change: Callable[[dict[str, Any]], None]) -> dict[str, bytes]:
    """An archive rewritten the way a forger with the whole database and the export would: `change`
    edits the events, then every later hash, every published record head and the manifest are
    recomputed, so the chain and the file hashes hold again. Only the mathematics can catch it."""
    events = [json.loads(line) for line in files["events.jsonl"].decode("utf-8").splitlines() if line.strip()]
    for event in events:
        change(event)
    prev, heads = GENESIS, {}
    for event in events:
        record = event["payload"].get("record")
        if isinstance(record, dict) and record.get("seq") in heads:
            record["hash"] = heads[record["seq"]]
        event["hash"] = prev = event_hash(prev, event["seq"], event["type"], event["payload"])
        heads[event["seq"]] = prev
    out = dict(files)
    out["events.jsonl"] = ("\n".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) for e in events)
                           + "\n").encode("utf-8")
    manifest = json.loads(files["manifest.json"])
    manifest["head"] = {"seq": events[-1]["seq"], "hash": events[-1]["hash"]}
    for name, data in out.items():
        if name != "manifest.json":
            manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    out["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode("utf-8")
    return out


def set_file(files: dict[str, bytes], name: str, data: Any) -> None:
    files[name] = json.dumps(data, ensure_ascii=False).encode("utf-8")


def archive_of(held: Held) -> dict[str, bytes]:
    with held.db.read() as session:
        return build_archive(session, held.congress_id, NOW)


def test_a_sealed_ballot_changed_in_the_database_is_named_by_its_failing_proof(held: Held) -> None:
    with held.db.write() as session:
        ballot = session.scalars(sa.select(SealedBallot).where(SealedBallot.vote_id == held.secret_vote_id)
                                 .order_by(SealedBallot.hash)).first()
        assert ballot is not None
        content = json.loads(json.dumps(ballot.content))
        first, second = content["questions"][0]["choices"]
        content["questions"][0]["choices"] = [second, first]  # a mark moved to the other candidate
        ballot.content = content
    code, out = held.verify()
    assert code == 1
    assert f"vote {held.secret_vote_id}: ballot {ballot.hash[:16]}: 事项 {held.election_id} 第 1 个密文的 0/1 证明不成立" in out


def test_a_sealed_ballot_dropped_with_its_voter_is_named_from_the_list_published_at_close(held: Held) -> None:
    voter, _receipt, _choice = held.secret_order[3]
    with held.db.write() as session:  # a consistent administrator: the ballot and who cast it, both gone
        doomed = session.scalars(sa.select(SealedBallot).where(SealedBallot.vote_id == held.secret_vote_id)).first()
        assert doomed is not None
        session.delete(doomed)
        session.execute(sa.delete(BallotCast).where(BallotCast.vote_id == held.secret_vote_id,
                                                    BallotCast.delegate_id == voter.id))
        dropped = doomed.hash
    code, out = held.verify()
    assert code == 1
    assert (f"vote {held.secret_vote_id}: the event log listed 30 ballots at close, the archive holds 29 "
            f"(1 listed but missing, 0 not listed), e.g. {dropped[:16]}") in out


def test_a_wrong_decryption_share_is_caught_even_in_a_record_rewritten_consistently(held: Held) -> None:
    files = archive_of(held)
    assert verify_archive(files).ok

    def forge(event: dict[str, Any]) -> None:
        if event["type"] == "tally.share_posted" and event["payload"]["vote_id"] == held.secret_vote_id \
                and event["payload"]["trustee"] == 2:
            item = event["payload"]["message"]["shares"][0]
            item["share"] = event["payload"]["message"]["shares"][1]["share"]

    report = verify_archive(rewrite_record(files, forge))
    assert not any("hash" in p for p in report.problems), report.problems  # the chain itself holds
    assert f"vote {held.secret_vote_id}: 第 2 位监票人的解密份额：第 1 份的解密证明不成立" in report.text()


def test_a_wrong_total_is_caught_even_in_a_record_rewritten_consistently(held: Held) -> None:
    files = archive_of(held)
    name = f"votes/vote-{held.secret_vote_id}.json"
    data = json.loads(files[name])
    options = data["result"]["questions"][0]["options"]
    true_counts = {o["label"]: o["count"] for o in options}
    options[0]["count"], options[1]["count"] = options[1]["count"], options[0]["count"]  # the winner swapped
    set_file(files, name, data)

    def forge(event: dict[str, Any]) -> None:
        if event["type"] in ("vote.published", "vote.tallied") and event["payload"]["vote_id"] == held.secret_vote_id:
            event["payload"]["result"] = data["result"]

    report = verify_archive(rewrite_record(files, forge))
    assert not any("hash" in p for p in report.problems), report.problems
    assert (f"vote {held.secret_vote_id} question {held.election_id}: 周海燕 stored {true_counts['陈立新']}, "
            f"counted {true_counts['周海燕']}") in report.text()


def test_the_sealed_election_is_counted_by_group_from_the_trustees_decryption(held: Held) -> None:
    files = archive_of(held)
    result = json.loads(files[f"votes/vote-{held.secret_vote_id}.json"])["result"]
    question = result["questions"][0]
    chosen = [c[0] for _d, _r, c in held.secret_order]
    assert {o["label"]: o["count"] for o in question["options"]} == {"周海燕": chosen.count("周海燕"),
                                                                     "陈立新": chosen.count("陈立新")}
    by_group = {g["name"]: g["returned"] for g in question["groups"]}
    assert by_group["主会场"] == 16 and by_group["岳阳"] == 14
    decrypted = [e for e in json.loads("[" + ",".join(files["events.jsonl"].decode().split("\n")[:-1]) + "]")
                 if e["type"] == "tally.decrypted"]
    assert decrypted and decrypted[0]["payload"]["trustees"] == [2, 3]


# ---------------------------------------------------------------- the archive keeps secret votes secret


def test_secret_ballots_are_sealed_in_the_archive_with_no_voter_and_sorted_by_hash(held: Held, tmp_path: Path) -> None:
    code, out = run_cli(["--database-url", held.url, "export", "--congress", str(held.congress_id),
                         str(tmp_path / "archive")])
    assert code == 0, out
    files = read_archive(tmp_path / "archive")
    text = files[f"ballots/vote-{held.secret_vote_id}.json"].decode("utf-8")
    for d in held.delegates:
        assert d.employee_id not in text and d.name not in text
    assert "周海燕" not in text and "陈立新" not in text  # no choice in any form
    ballots = json.loads(text)["ballots"]
    assert {tuple(sorted(b)) for b in ballots} == {("content", "group", "group_id", "hash")}
    hashes = [b["hash"] for b in ballots]
    assert hashes == sorted(hashes) and len(hashes) == 30
    cast = [receipt for _d, receipt, _a in held.secret_order]
    assert sorted(h[:16].upper() for h in hashes) == sorted(r.replace("-", "") for r in cast)
    manifest = json.loads(files["manifest.json"])
    assert set(manifest["files"]) == set(files) - {"manifest.json"}
    named = json.loads(files[f"ballots/vote-{held.named_vote_id}.json"])["ballots"]
    assert {b["employee_id"] for b in named} <= {d.employee_id for d in held.delegates}
    assert all(b["name"] for b in named)


def test_export_to_a_zip_verifies_from_the_archive_alone(held: Held, tmp_path: Path) -> None:
    archive = tmp_path / "档案.zip"
    assert run_cli(["--database-url", held.url, "export", "--congress", str(held.congress_id), str(archive)])[0] == 0
    code, out = run_cli(["verify", str(archive)])
    assert code == 0 and out.startswith("OK  head seq "), out


# ---------------------------------------------------------------- receipts


def test_a_receipt_finds_its_ballot_and_a_wrong_one_does_not(held: Held) -> None:
    voter, receipt, _choice = held.secret_order[7]
    found = held.read(check_receipt, held.secret_vote_id, receipt.lower().replace("-", " "))
    assert found["found"] and found["is_counted"] and found["receipt"] == receipt and found["group"] == "主会场"
    # What it proves: the ballot is in the counted set. What it cannot: how its holder voted.
    assert "answers" not in found and "choices" not in found
    assert "周海燕" not in json.dumps(found, ensure_ascii=False) and "陈立新" not in json.dumps(found, ensure_ascii=False)
    assert voter.name not in json.dumps(found, ensure_ascii=False) and "delegate_id" not in found

    missing = held.read(check_receipt, held.secret_vote_id, "ABCD-EF01-2345-6789")
    assert not missing["found"] and not missing["is_counted"]
    with pytest.raises(DomainError):
        held.read(check_receipt, held.secret_vote_id, "not a receipt")

    listed = held.read(receipts, held.secret_vote_id)
    assert listed["count"] == 30
    assert [r["receipt"] for r in listed["receipts"]] == sorted(r for _d, r, _a in held.secret_order)
    assert all(set(r) == {"receipt", "ballot_hash", "group"} for r in listed["receipts"])


def test_a_delegate_sees_their_own_named_ballot_and_of_a_secret_one_only_that_it_was_cast(held: Held) -> None:
    with held.db.read() as session:
        delegate = session.scalar(sa.select(Delegate).join(Ballot, Ballot.delegate_id == Delegate.id)
                                  .where(Ballot.vote_id == held.named_vote_id).limit(1))
        assert delegate is not None
        session.expunge(delegate)
    mine = held.read(my_ballot, held.named_vote_id, actor=actor_of(delegate))
    assert mine["has_voted"] and mine["answers"][held.motion_id] in ("yes", "no", "abstain")
    assert held.read(check_receipt, held.named_vote_id, mine["receipt"])["found"]
    assert "answers" not in held.read(check_receipt, held.named_vote_id, mine["receipt"])
    secret = held.read(my_ballot, held.secret_vote_id, actor=actor_of(delegate))
    assert secret["has_voted"] is True and secret["is_sealed"] is True
    assert not {"answers", "choices"} & set(secret)
    assert "周海燕" not in json.dumps(secret, ensure_ascii=False) and "陈立新" not in json.dumps(secret, ensure_ascii=False)


# ---------------------------------------------------------------- the demo and the minutes (SQLite)


def test_export_and_verify_the_demo_congress(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert run_cli(["--database-url", url, "demo", "--no-serve"])[0] == 0
    archive = tmp_path / "demo.zip"
    code, out = run_cli(["--database-url", url, "export", "--congress", "1", str(archive)])
    assert code == 0, out
    head = re.search(r"哈希 ([0-9a-f]{64})", out)
    assert head is not None
    code, out = run_cli(["verify", str(archive)])
    assert code == 0, out
    assert out.startswith("OK  head seq ") and head.group(1) in out


def pdf_text(path: Path) -> str:
    """The text of a PDF without whitespace (pypdf spaces CJK characters out, or puts NULs between them)."""
    return re.sub(r"[\s\x00]+", "", "".join(page.extract_text() for page in pypdf.PdfReader(path).pages))


def test_minutes_hold_a_result_sheet_in_chinese(held_sqlite: Held, tmp_path: Path) -> None:
    held = held_sqlite
    outdir = tmp_path / "minutes"
    code, out = run_cli(["--database-url", held.url, "minutes", "--congress", str(held.congress_id), str(outdir)])
    assert code == 0, out
    sheets = sorted(outdir.glob("表决结果-*.pdf"))
    assert len(sheets) == 2
    text = pdf_text(sheets[0])
    for words in ("表决结果报告单", "职工薪酬福利调整方案", "赞成票超过全体职工代表的半数", "宁波", "举手表决",
                  "赞成28票", "通过", "总监票人刘志强", "记录头"):
        assert words in text, words
    check_in = pdf_text(outdir / "签到表.pdf")
    assert "签到表" in check_in and "代为签到" in check_in and "未签到" in check_in
    resolutions = (outdir / "会议决议.html").read_text(encoding="utf-8")
    assert "会议决议" in resolutions and "当选 1 名：周海燕 24 票" in resolutions
    assert (outdir / "签到表.xlsx").stat().st_size > 0 and (outdir / "提案汇总表.xlsx").exists()
