"""Secret votes with sealed ballots, on SQLite and PostgreSQL, through the actions: the trustees' key,
what a secret vote refuses, small groups pooled, decryption by the trustees only, and the story's
secret election counted by group and checked by `congress verify` from the exported archive."""

from __future__ import annotations

import contextlib
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from congress.actions.ballots import cast_ballot, enter_group_count
from congress.actions.base import Context
from congress.actions.receipts import my_ballot
from congress.actions.sealed_tally import post_decryption
from congress.actions.trustees import post_trustee_message
from congress.actions.votes import certify_vote, close_vote, create_vote, open_vote, publish_vote
from congress.application.service import Service
from congress.cli import main
from congress.db.engine import Database
from congress.db.models import BallotCast, DecryptionShare, SealedBallot, Vote
from congress.reads.votes import vote_json
from congress.sealed.kit import decryption_message
from tests.db.test_votes import NOW, Hall, actor_of, build_hall, refused, run_with_service
from tests.sealing import make_trustees, seal


@pytest.fixture
def hall(db: Database) -> Hall:
    return build_hall(db)


ELECTION = [{"kind": "election", "text": "补选职工董事 2 名", "seats": 2, "candidates": ["周海燕", "陈立新", "王志远"]}]


def open_election(hall: Hall, **options: Any) -> dict[str, Any]:
    hall.ensure_trustees()
    vote = hall.act(create_vote, hall.election_item_id, "补选职工董事（无记名）", ELECTION, is_secret=True, **options)
    return hall.act(open_vote, vote["id"])


def counts_in(session: Any, vote_id: int) -> tuple[int, int]:
    return (session.scalar(sa.select(sa.func.count()).select_from(SealedBallot).where(SealedBallot.vote_id == vote_id)),
            session.scalar(sa.select(sa.func.count()).select_from(BallotCast).where(BallotCast.vote_id == vote_id)))


def test_a_secret_vote_opens_only_with_the_trustees_key(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote = hall.act(create_vote, hall.election_item_id, "补选", ELECTION, is_secret=True)
    error = refused(hall.act, open_vote, vote["id"])
    assert error.code == "no_trustee_key" and "监票人" in error.message
    trustees = make_trustees(hall.db, hall.congress_id, hall.voting("长沙")[:3], run=False)
    assert refused(hall.act, open_vote, vote["id"]).code == "no_trustee_key"  # named, key not made yet
    trustees.run_ceremony()
    opened = hall.act(open_vote, vote["id"])
    assert opened["sealing"]["public_key"] == trustees.state()["public_key"]


def test_a_secret_election_with_write_ins_is_refused_at_creation(hall: Hall) -> None:
    error = refused(hall.act, create_vote, hall.election_item_id, "补选",
                    [{**ELECTION[0], "allows_write_in": True}], is_secret=True)
    assert error.code == "bad_field" and "另选他人" in error.message


def test_plain_answers_to_a_secret_vote_are_refused_and_nothing_is_stored(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote = open_election(hall)
    qid = str(vote["questions"][0]["id"])
    voter = hall.voting("岳阳")[3]
    with hall.db.write() as session:
        error = refused(cast_ballot, Context(session, actor_of(voter), NOW), hall.congress_id, vote["id"],
                        {qid: ["周海燕"]})
    assert error.code == "bad_ballot" and "加密" in error.message
    with hall.db.read() as session:
        assert counts_in(session, vote["id"]) == (0, 0)


def test_a_ballot_copied_from_another_delegate_is_refused_as_a_duplicate(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote = open_election(hall)
    qid = str(vote["questions"][0]["id"])
    alice, mallory = hall.voting("岳阳")[3:5]
    ballot = seal(vote, {qid: ["陈立新"]})
    with hall.db.write() as session:
        cast_ballot(Context(session, actor_of(alice), NOW), hall.congress_id, vote["id"], sealed=ballot)
    with hall.db.write() as session:
        error = refused(cast_ballot, Context(session, actor_of(mallory), NOW), hall.congress_id, vote["id"],
                        sealed=json.loads(json.dumps(ballot)))
    assert error.code == "duplicate_ballot"
    with hall.db.read() as session:
        assert counts_in(session, vote["id"]) == (1, 1)


def test_a_forged_ballot_is_refused_with_the_reason_and_nothing_is_stored(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote = open_election(hall)
    qid = str(vote["questions"][0]["id"])
    ballot = seal(vote, {qid: ["周海燕"]})
    choices = ballot["questions"][0]["choices"]
    choices[0], choices[1] = choices[1], choices[0]
    with hall.db.write() as session:
        error = refused(cast_ballot, Context(session, actor_of(hall.voting("益阳")[2]), NOW), hall.congress_id,
                        vote["id"], sealed=ballot)
    assert error.code == "bad_ballot" and f"事项 {qid} 第 1 个密文的 0/1 证明不成立" in error.message
    with hall.db.read() as session:
        assert counts_in(session, vote["id"]) == (0, 0)


def test_only_the_named_trustees_post_and_staff_never_can(hall: Hall) -> None:
    trustees = make_trustees(hall.db, hall.congress_id, hall.voting("怀化")[:3], run=False)
    message = {"trustee": 1, "comm_key": "00" * 32, "comm_proof": {"c": "00" * 32, "s": "00" * 32}}
    staff_error = refused(hall.act, post_trustee_message, trustees.ceremony_id, 1, message)
    stranger = hall.voting("怀化")[5]
    stranger_error = refused(hall.act, post_trustee_message, trustees.ceremony_id, 1, message,
                             actor=actor_of(stranger))
    assert staff_error.code == "forbidden" and stranger_error.code == "forbidden"
    # A trustee's malformed message is refused with the reason, and nothing is stored.
    bad = refused(hall.act, post_trustee_message, trustees.ceremony_id, 1, message, actor=actor_of(trustees.members[0]))
    assert bad.code == "bad_trustee_message"
    assert trustees.state()["messages"]["1"] == {}


def test_decryption_needs_the_threshold_of_trustees_and_checks_each_share(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote = open_election(hall)
    qid = str(vote["questions"][0]["id"])
    marks = [["周海燕", "陈立新"], ["周海燕"], ["王志远"], [], ["陈立新", "王志远"]] * 8
    hall.cast(vote["id"], [(d, {qid: m}) for d, m in zip(hall.voting("主会场"), marks, strict=False)])
    closed = hall.act(close_vote, vote["id"])
    assert closed == {"vote_id": vote["id"], "result": None, "awaiting_trustees": True}
    assert refused(hall.act, certify_vote, vote["id"], "刘志强").code == "awaiting_trustees"

    trustees = hall.ensure_trustees()
    with hall.db.read() as session:
        sealed_tally = session.get(Vote, vote["id"]).sealed_tally  # type: ignore[union-attr]
    # A share made with trustee 2's key but posted by trustee 1 fails its proof; nothing is stored.
    wrong = decryption_message(trustees.state(), 2, trustees.seeds[2], vote["id"], sealed_tally)
    wrong["trustee"] = 1
    error = refused(hall.act, post_decryption, vote["id"], wrong, actor=actor_of(trustees.members[0]))
    assert error.code == "bad_decryption" and "第 1 位监票人" in error.message
    # Not a trustee, not staff.
    assert refused(hall.act, post_decryption, vote["id"], wrong).code == "forbidden"
    assert refused(hall.act, post_decryption, vote["id"], wrong, actor=actor_of(hall.voting("主会场")[0])).code == "forbidden"

    first = trustees.decrypt(vote["id"], [2])[0]
    assert first["decrypted"] is False and first["shares_posted"] == 1
    assert refused(hall.act, certify_vote, vote["id"], "刘志强").code == "awaiting_trustees"
    assert trustees.decrypt(vote["id"], [3])[0]["decrypted"] is True
    with hall.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(DecryptionShare)) == 2
    question = hall.stored_result(vote["id"])["questions"][0]
    assert {o["label"]: o["count"] for o in question["options"]} == {
        name: sum(name in m for m, _d in zip(marks, hall.voting("主会场"), strict=False)) for name in ("周海燕", "陈立新", "王志远")}
    hall.act(certify_vote, vote["id"], "刘志强")
    assert hall.act(publish_vote, vote["id"])["result"] == hall.stored_result(vote["id"])


def test_groups_with_fewer_than_five_online_ballots_are_never_decrypted_alone(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote = open_election(hall)
    qid = str(vote["questions"][0]["id"])
    # 主会场 40 ballots; 长沙 2 and 岳阳 1: together 3, still fewer than 5, so they join the smallest
    # large group; 怀化 6 stands alone.
    ballots = ([(d, {qid: ["周海燕"]}) for d in hall.voting("主会场")[:40]]
               + [(d, {qid: ["陈立新"]}) for d in hall.voting("长沙")[:2]]
               + [(d, {qid: ["王志远"]}) for d in hall.voting("岳阳")[:1]]
               + [(d, {qid: ["王志远"]}) for d in hall.voting("怀化")[:6]])
    hall.cast(vote["id"], ballots)
    question = hall.close_and_count(vote["id"])["questions"][0]
    groups = {g["name"]: g for g in question["groups"]}
    assert "长沙" not in groups and "岳阳" not in groups
    pooled = groups["长沙、岳阳、怀化（合并计票）"]
    assert pooled["group_ids"] == [hall.groups[g] for g in ("长沙", "岳阳", "怀化")]
    assert pooled["returned"] == 9 and pooled["counts"] == {"周海燕": 0, "陈立新": 2, "王志远": 7}
    assert groups["主会场"]["counts"] == {"周海燕": 40, "陈立新": 0, "王志远": 0}
    assert {g: groups[g]["returned"] for g in ("益阳", "永州", "宁波")} == {"益阳": 0, "永州": 0, "宁波": 0}
    assert {o["label"]: o["count"] for o in question["options"]} == {"周海燕": 40, "陈立新": 2, "王志远": 7}
    # What was decrypted: one sum per pool with ballots, never one of the small groups alone.
    with hall.db.read() as session:
        pools = session.get(Vote, vote["id"]).sealed_tally["pools"]  # type: ignore[index, union-attr]
    assert [(p["group_ids"], p["ballots"]) for p in pools if p["ballots"]] == [
        ([hall.groups["主会场"]], 40), ([hall.groups[g] for g in ("长沙", "岳阳", "怀化")], 9)]


def test_the_story_secret_election_is_counted_by_group_and_verify_recounts_it(hall: Hall, tmp_path: Path) -> None:
    """295 delegates, 宁波 on paper: sealed ballots from the other six groups, the trustees' decryption,
    published; the exported archive verifies and the recount gives the published totals."""
    hall.check_in(hall.voting())
    vote = open_election(hall, hand_count_groups=[hall.groups["宁波"]])
    qid = str(vote["questions"][0]["id"])
    rng = random.Random(2020)
    online = [d for d in hall.voting() if d.group_id != hall.groups["宁波"]]
    marks = {d.id: rng.sample(["周海燕", "陈立新", "王志远"], rng.choice([1, 2, 2, 2])) for d in online}
    hall.cast(vote["id"], [(d, {qid: marks[d.id]}) for d in online])
    leader = hall.leader("宁波")
    hall.act(enter_group_count, vote["id"], hall.groups["宁波"], "paper", 15,
             {qid: {"issued": 15, "returned": 15, "valid": 15, "void": 0,
                    "counts": {"周海燕": 9, "陈立新": 8, "王志远": 5}}}, "宁波监票人", actor=actor_of(leader))
    result = hall.close_and_count(vote["id"])
    hall.act(certify_vote, vote["id"], "刘志强")
    hall.act(publish_vote, vote["id"])

    question = result["questions"][0]
    expected = {n: sum(n in m for m in marks.values()) for n in ("周海燕", "陈立新", "王志远")}
    assert {o["label"]: o["count"] for o in question["options"]} == {
        "周海燕": expected["周海燕"] + 9, "陈立新": expected["陈立新"] + 8, "王志远": expected["王志远"] + 5}
    by_name = {g["name"]: g for g in question["groups"]}
    assert set(by_name) == {"主会场", "长沙", "岳阳", "怀化", "益阳", "永州", "宁波"}
    for name, gid in hall.groups.items():
        if name == "宁波":
            assert by_name[name]["method"] == "paper" and by_name[name]["counts"] == {"周海燕": 9, "陈立新": 8, "王志远": 5}
            continue
        members = [d for d in online if d.group_id == gid]
        assert by_name[name]["counts"] == {n: sum(n in marks[d.id] for d in members) for n in expected}
    assert (result["eligible"], result["present"], result["cast"]) == (295, 295, 295)

    archive = tmp_path / "archive.zip"
    url = str(hall.db.engine.url.render_as_string(hide_password=False))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--database-url", url, "export", "--congress", str(hall.congress_id), str(archive)]) == 0
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["verify", str(archive)])
    assert code == 0 and out.getvalue().startswith("OK  head seq "), out.getvalue()


def test_vote_json_of_a_secret_vote_names_its_key(hall: Hall) -> None:
    hall.check_in(hall.voting())
    vote = open_election(hall)
    with hall.db.read() as session:
        data = vote_json(session.get(Vote, vote["id"]))  # type: ignore[arg-type]
    assert data["sealing"] == {"ceremony_id": hall.ensure_trustees().ceremony_id,
                               "public_key": hall.ensure_trustees().state()["public_key"]}


def test_a_delegate_can_see_their_own_sealed_receipt_again_and_never_a_choice(hall: Hall) -> None:
    """After a reload the page asks my_ballot: the receipt its phone computed, whether it is counted."""
    hall.check_in(hall.voting())
    vote = open_election(hall)
    qid = str(vote["questions"][0]["id"])
    voter, other = hall.voting("岳阳")[3:5]

    async def work(service: Service) -> dict[str, Any]:
        return await service.run(actor_of(voter), "cast_ballot", hall.congress_id,
                                 {"vote_id": vote["id"], "sealed": seal(vote, {qid: ["王志远"]})}, "v-1")

    reply = run_with_service(hall.db, work)
    mine = hall.act(my_ballot, vote["id"], actor=actor_of(voter))
    assert (mine["has_voted"], mine["receipt"], mine["ballot_hash"]) == (True, reply["receipt"], reply["ballot_hash"])
    assert mine["is_counted"] is False and "表决截止时将计入结果" in mine["words"]
    assert "王志远" not in json.dumps(mine, ensure_ascii=False)
    assert hall.act(my_ballot, vote["id"], actor=actor_of(other)) == {"vote_id": vote["id"], "has_voted": False}
    assert refused(hall.act, my_ballot, vote["id"]).code == "forbidden"  # staff: only the delegate themself
