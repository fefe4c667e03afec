"""A 届 and its sessions on both databases (issue 19, point 2): the story's congress with the demo's
proposals is followed by its next session — same groups, roster, leaders and rules; a roster
re-import reports exactly the changes made to it; 30 open proposals are carried over with their
history and marked; the statistics of both sessions and of the term are what the tables say, and
the XLSX has them with charts. Only staff may do it; a bad carry-over list changes nothing."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from congress.actions.base import Context
from congress.actions.roster import import_roster
from congress.actions.setup import set_rules
from congress.actions.terms import (
    carry_over_candidates,
    carry_over_proposals,
    start_next_session,
    term_statistics,
)
from congress.application.auth import delegate_actor
from congress.application.service import system_clock
from congress.cli import main as cli_main
from congress.db.models import (
    Assignment,
    Congress,
    Cosignature,
    Decision,
    Delegate,
    Event,
    Group,
    Proposal,
    Rating,
    Reply,
    Term,
)
from congress.demo.story import DEPARTMENTS
from congress.domain.errors import DomainError
from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.domain.terms import OPEN_STATUSES
from congress.records.term_report import term_xlsx
from tests.story import SETUP, build_story, story_roster, story_with_demo_proposals


@pytest.fixture
def story(db):  # type: ignore[no-untyped-def]
    story = build_story(db, with_codes=False)
    with db.write() as session:
        ctx = Context(session, SETUP, system_clock())
        story_with_demo_proposals(ctx, story.congress_id)
        yongzhou = session.scalar(sa.select(Group.id).where(Group.congress_id == story.congress_id,
                                                            Group.name == "永州"))
        set_rules(ctx, story.congress_id, {"leader_pre_review_groups": [yongzhou]})
    return story


def _run(db, fn, *args, actor=SETUP, **kwargs):  # type: ignore[no-untyped-def]
    with db.write() as session:
        return fn(Context(session, actor, system_clock()), *args, **kwargs)


def _open_numbers(db, congress_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    with db.read() as session:
        return list(session.scalars(sa.select(Proposal.number).where(
            Proposal.congress_id == congress_id, Proposal.status.in_(OPEN_STATUSES)).order_by(Proposal.number)))


def _changed_roster() -> tuple[bytes, dict[str, object]]:
    """The story's roster with two delegates gone, one new, and one each moved to another group,
    another unit, another gender, made non-voting: the changes a re-import must report."""
    rows = list(csv.DictReader(io.StringIO(story_roster().decode())))
    fields = list(rows[0])
    left = [rows[5], rows[40]]
    moved, unit, gender, kind = rows[10], rows[70], rows[100], rows[130]
    rows = [r for r in rows if r not in left]
    assert moved["group"] != "宁波" and kind["delegate_type"] == "正式代表"
    before = {"moved": moved["group"], "unit": unit["unit"], "gender": gender["gender"]}
    moved["group"] = "宁波"
    unit["unit"] = "新设的数字化中心"
    gender["gender"] = "男" if gender["gender"] == "女" else "女"
    kind["delegate_type"] = "列席代表"
    rows.append({**rows[0], "employee_id": "E99001", "name": "新代表", "group": "长沙", "is_group_leader": "0"})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    expected = {
        "added": [("E99001", "新代表", "长沙")],
        "left": sorted((r["employee_id"], r["name"]) for r in left),
        "changed": sorted([
            (moved["employee_id"], (("group", before["moved"], "宁波"),)),
            (unit["employee_id"], (("unit", before["unit"], "新设的数字化中心"),)),
            (gender["employee_id"], (("gender", before["gender"], gender["gender"]),)),
            (kind["employee_id"], (("delegate_type", "正式代表", "列席代表"),)),
        ]),
    }
    return out.getvalue().encode(), expected


def test_next_session_keeps_the_roster_groups_leaders_and_rules(db, story):
    with db.write() as session:  # a delegate's e-mail for notices goes with their roster row
        someone = session.scalar(sa.select(Delegate).where(Delegate.congress_id == story.congress_id).limit(1))
        someone.email, someone_id = "xia@example.com", someone.employee_id
    result = _run(db, start_next_session, story.congress_id)
    new_id = result["id"]
    assert result["label"] == "第十届第四次"
    assert result["name"] == "第十届职代会第四次会议"
    assert result["open_proposals"] == len(_open_numbers(db, story.congress_id)) >= 30
    with db.read() as session:
        old, new = session.get(Congress, story.congress_id), session.get(Congress, new_id)
        assert new.term_id == old.term_id and (old.session_number, new.session_number) == (3, 4)
        term = session.get(Term, new.term_id)
        assert (term.name, term.number) == ("第十届职代会", 10)

        def roster(cid: int) -> set[tuple]:  # type: ignore[type-arg]
            return set(session.execute(sa.select(Delegate.employee_id, Delegate.name, Delegate.gender, Group.name,
                                                 Delegate.unit, Delegate.role, Delegate.is_group_leader,
                                                 Delegate.delegate_type).join(Group, Delegate.group_id == Group.id)
                                       .where(Delegate.congress_id == cid, Delegate.is_active)))
        assert roster(new_id) == roster(story.congress_id) and len(roster(new_id)) == 305
        assert session.scalar(sa.select(Delegate.email).where(Delegate.congress_id == new_id,
                                                              Delegate.employee_id == someone_id)) == "xia@example.com"
        groups = {g.name: g.id for g in session.scalars(sa.select(Group).where(Group.congress_id == new_id))}
        assert list(groups) == ["主会场", "长沙", "岳阳", "怀化", "益阳", "永州", "宁波"]
        assert new.rules["leader_pre_review_groups"] == [groups["永州"]]  # the new session's 永州
        assert {k: v for k, v in new.rules.items() if k != "leader_pre_review_groups"} == \
            {k: v for k, v in old.rules.items() if k != "leader_pre_review_groups"}
        # No access code is copied: the new session issues its own
        assert session.scalar(sa.select(sa.func.count()).select_from(Delegate).where(
            Delegate.congress_id == new_id, Delegate.access_code_hash.is_not(None))) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(Proposal.congress_id == new_id)) == 0
    # The session after the latest one only: starting from the third again is refused
    with pytest.raises(DomainError, match="本届已有下一次会议"):
        _run(db, start_next_session, story.congress_id)


def test_roster_reimport_into_the_next_session_reports_exactly_the_changes(db, story):
    new_id = _run(db, start_next_session, story.congress_id)["id"]
    data, expected = _changed_roster()
    with db.read() as session:
        before = set(session.execute(sa.select(Delegate.employee_id, Delegate.group_id, Delegate.unit, Delegate.is_active)
                                     .where(Delegate.congress_id == new_id)))
    preview = _run(db, import_roster, new_id, data, "roster.csv", dry_run=True)
    with db.read() as session:  # the preview wrote nothing
        assert set(session.execute(sa.select(Delegate.employee_id, Delegate.group_id, Delegate.unit, Delegate.is_active)
                                   .where(Delegate.congress_id == new_id))) == before
    for summary in (preview, _run(db, import_roster, new_id, data, "roster.csv")):
        changes = summary["changes"]
        assert [(r["employee_id"], r["name"], r["group"]) for r in changes["added"]] == expected["added"]
        assert sorted((r["employee_id"], r["name"]) for r in changes["left"]) == expected["left"]
        assert sorted((r["employee_id"], tuple((f["field"], f["before"], f["after"]) for f in r["fields"]))
                      for r in changes["changed"]) == expected["changed"]
        assert (summary["added"], summary["removed"], summary["updated"]) == (1, 2, 4)
    with db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Delegate).where(
            Delegate.congress_id == new_id, Delegate.is_active)) == 304
        # The previous session's roster is its own: untouched
        assert session.scalar(sa.select(sa.func.count()).select_from(Delegate).where(
            Delegate.congress_id == story.congress_id, Delegate.is_active)) == 305


def _history(session, proposal_id: int) -> dict:  # type: ignore[no-untyped-def]
    def names(ids: list[int]) -> list[str]:
        return [session.get(Delegate, i).employee_id for i in ids]
    return {
        "cosigners": [(e, s) for e, s in zip(names(list(session.scalars(sa.select(Cosignature.delegate_id).where(
            Cosignature.proposal_id == proposal_id).order_by(Cosignature.id)))), session.scalars(
            sa.select(Cosignature.status).where(Cosignature.proposal_id == proposal_id).order_by(Cosignature.id)),
            strict=True)],
        "decisions": list(session.execute(sa.select(Decision.kind, Decision.reason).where(
            Decision.proposal_id == proposal_id).order_by(Decision.id))),
        "assignments": list(session.execute(sa.select(Assignment.department_id, Assignment.is_lead, Assignment.round,
                                                      Assignment.due_at).where(Assignment.proposal_id == proposal_id)
                                            .order_by(Assignment.id))),
        "replies": list(session.execute(sa.select(Reply.round, Reply.reply_class, Reply.text).where(
            Reply.proposal_id == proposal_id).order_by(Reply.id))),
        "ratings": list(session.execute(sa.select(Rating.rating, Rating.comment).where(
            Rating.proposal_id == proposal_id).order_by(Rating.id))),
    }


def test_thirty_open_proposals_carry_over_with_their_history_and_the_statistics_cover_both(db, story, tmp_path):
    new_id = _run(db, start_next_session, story.congress_id)["id"]
    open_numbers = _open_numbers(db, story.congress_id)
    assert len(open_numbers) >= 30
    candidates = _run(db, carry_over_candidates, new_id)
    assert [p["number"] for p in candidates["proposals"]] == open_numbers
    chosen = open_numbers[:30]
    result = _run(db, carry_over_proposals, new_id, chosen)
    assert [r["from_number"] for r in result["carried"]] == chosen
    assert [r["number"] for r in result["carried"]] == list(range(1, 31))
    with db.read() as session:
        old = {p.number: p for p in session.scalars(sa.select(Proposal).where(Proposal.congress_id == story.congress_id))}
        new = list(session.scalars(sa.select(Proposal).where(Proposal.congress_id == new_id).order_by(Proposal.number)))
        assert len(new) == 30
        with_history = 0
        for p in new:
            source = old[p.carried_from_number]
            assert (p.carried_from_id, p.carried_from_session) == (source.id, "第十届第三次")
            assert (p.title, p.status, p.category, p.reason) == (source.title, source.status, source.category, source.reason)
            assert session.get(Delegate, p.proposer_id).congress_id == new_id
            assert session.get(Delegate, p.proposer_id).employee_id == session.get(Delegate, source.proposer_id).employee_id
            assert _history(session, p.id) == _history(session, source.id)
            with_history += bool(_history(session, p.id)["replies"])
            assert source.status in OPEN_STATUSES  # the old one stays as it was in its session
        assert with_history >= 5  # replied and reopened cases came with their replies and ratings
        events = list(session.scalars(sa.select(Event).where(Event.congress_id == new_id,
                                                             Event.type == "proposal.carried_over")
                                      .order_by(Event.seq)))
        assert len(events) == 30 and all(e.audience == "public" for e in events)
        assert events[0].payload["carried_from"] == {"session": "第十届第三次", "number": chosen[0]}

    stats = _run(db, term_statistics, new_id)
    first, second = stats["sessions"]
    assert (first["label"], second["label"]) == ("第十届第三次", "第十届第四次")
    assert (second["total"], second["carried_in"], first["carried_on"]) == (30, 30, 30)
    with db.read() as session:
        def count(cid: int, statuses: tuple[str, ...]) -> int:
            return session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(
                Proposal.congress_id == cid, Proposal.status.in_(statuses)))
        cases = ("registered", "assigned", "replied", "following_up", "closed")
        public = (*cases, "submitted", "merged", "forwarded", "rejected", "to_agenda")
        assert first["total"] == count(story.congress_id, public)
        assert first["closed_rate"] == round(count(story.congress_id, ("closed",)) / count(story.congress_id, cases), 4)
        assert second["cases"] == count(new_id, cases)
        ratings = Counter(session.scalars(sa.select(Rating.rating).join(Proposal).where(Proposal.congress_id == new_id)))
        assert second["ratings"] == {r: ratings[r] for r in ("满意", "基本满意", "不满意")}
        # The term counts each proposal once, where it ended up
        assert stats["term"]["total"] == first["total"]
        all_ratings = Counter(session.scalars(sa.select(Rating.rating).join(Proposal).where(
            Proposal.congress_id == story.congress_id)))
        assert sum(stats["term"]["ratings"].values()) == sum(all_ratings.values())
    assert stats["year_on_year"][0]["from"] == "第十届第三次"
    assert {d["department"] for d in second["by_department"]} <= set(DEPARTMENTS) | {"（未交办）"}

    book = load_workbook(io.BytesIO(term_xlsx(stats)))
    assert book.sheetnames == ["第十届第三次统计", "第十届第四次统计", "届汇总"]
    summary = book["届汇总"]
    rows = {r[0]: r for r in summary.iter_rows(values_only=True) if r and r[0]}
    assert rows["第十届第三次"][1:5] == (first["total"], first["cases"], first["closed"], 0)
    assert rows["第十届第四次"][1:5] == (30, second["cases"], second["closed"], 30)
    assert rows["第十届第四次"][6] == second["closed_rate"]
    assert summary["A1"].value == "第十届职代会 各次会议提案统计"
    assert len(summary._charts) == 2  # rates and counts by session
    assert "办结率" in str(book["第十届第四次统计"]["A2"].value)

    # The CLI prints the same and writes the workbook
    output = tmp_path / "届统计.xlsx"
    assert cli_main(["--database-url", db.url, "session", "stats", "--congress", str(new_id), "-o", str(output)]) == 0
    assert load_workbook(output).sheetnames[-1] == "届汇总"

    # The register (提案汇总表) and the progress report of the later session carry the same sheets
    register = tmp_path / "提案汇总表.xlsx"
    assert cli_main(["--database-url", db.url, "proposals", "export", "--congress", str(new_id), "-o", str(register)]) == 0
    book = load_workbook(register)
    assert book.sheetnames == ["提案汇总表", "第十届第三次统计", "第十届第四次统计", "届汇总"]
    assert len(book["届汇总"]._charts) == 2
    states = [row[7] for row in book["提案汇总表"].iter_rows(min_row=3, values_only=True)]
    assert len(states) == 30 and all(f"（上次会议转入：第十届第三次 {n} 号）" in s for s, n in zip(states, chosen, strict=True))
    report = tmp_path / "report.xlsx"
    assert cli_main(["--database-url", db.url, "proposals", "report", "--congress", str(new_id), "--date", "2099-01-01",
                     "--format", "xlsx", "-o", str(report)]) == 0
    assert load_workbook(report).sheetnames[-3:] == ["第十届第三次统计", "第十届第四次统计", "届汇总"]
    # A first session's register stays as it was
    first_register = tmp_path / "first.xlsx"
    assert cli_main(["--database-url", db.url, "proposals", "export", "--congress", str(story.congress_id),
                     "-o", str(first_register)]) == 0
    assert load_workbook(first_register).sheetnames == ["提案汇总表"]


def test_carrying_over_is_all_or_nothing_and_names_what_is_wrong(db, story):
    new_id = _run(db, start_next_session, story.congress_id)["id"]
    with db.read() as session:
        closed = session.scalar(sa.select(Proposal.number).where(Proposal.congress_id == story.congress_id,
                                                                 Proposal.status == "closed").limit(1))
    good = _open_numbers(db, story.congress_id)[:3]
    with pytest.raises(DomainError) as refused:
        _run(db, carry_over_proposals, new_id, [*good, 999, closed])
    assert "999（上次会议没有这个编号）" in refused.value.message
    assert f"{closed}（已办结，不是未办结的提案）" in refused.value.message
    with db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(Proposal.congress_id == new_id)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Event).where(
            Event.congress_id == new_id, Event.type == "proposal.carried_over")) == 0
    _run(db, carry_over_proposals, new_id, good)
    with pytest.raises(DomainError, match=f"{good[0]}（已经转入过）"):
        _run(db, carry_over_proposals, new_id, [good[0]])
    # Default: all the open ones not carried yet
    rest = _run(db, carry_over_proposals, new_id)
    assert [r["from_number"] for r in rest["carried"]] == _open_numbers(db, story.congress_id)[3:]


def test_only_staff_start_a_session_or_carry_proposals(db, story):
    with db.read() as session:
        delegate = session.scalar(sa.select(Delegate).where(Delegate.congress_id == story.congress_id,
                                                            Delegate.is_group_leader))
        session.expunge(delegate)
    others = [delegate_actor(delegate), Actor(role=Role.DEPARTMENT, name="人力资源部", department_id=1),
              Actor(role=Role.OBSERVER, name="观众")]
    for actor in others:
        with pytest.raises(DomainError) as refused:
            _run(db, start_next_session, story.congress_id, actor=actor)
        assert refused.value.code in ("forbidden", "read_only")
    new_id = _run(db, start_next_session, story.congress_id)["id"]
    for actor in others:
        for fn in (carry_over_proposals, term_statistics):
            with pytest.raises(DomainError) as refused:
                _run(db, fn, new_id, actor=actor)
            assert refused.value.code in ("forbidden", "read_only")
    with db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Congress)) == 2
        assert session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(Proposal.congress_id == new_id)) == 0


def test_cli_starts_the_next_session_previews_the_roster_and_carries_proposals(db, story, tmp_path, capsys):
    url = db.url
    assert cli_main(["--database-url", url, "new", "--from", str(story.congress_id)]) == 0
    out = capsys.readouterr().out
    assert "已开始第十届第四次会议：职代会 2（第十届职代会第四次会议）" in out and "305 名代表" in out
    with db.read() as session:
        new_id = session.scalar(sa.select(sa.func.max(Congress.id)))
    data, expected = _changed_roster()
    path = tmp_path / "名册.csv"
    path.write_bytes(data)
    assert cli_main(["--database-url", url, "roster", "import", str(path), "--congress", str(new_id), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "新增：新代表（E99001，长沙）" in out
    for employee_id, _name in expected["left"]:
        assert f"（{employee_id}，" in out
    assert out.count("变更：") == 4 and "代表团(组) " in out and "→ 宁波" in out
    numbers = _open_numbers(db, story.congress_id)
    assert cli_main(["--database-url", url, "session", "carry", "--congress", str(new_id), "--numbers",
                     ",".join(map(str, numbers[:2]))]) == 0
    assert "转入 2 件提案" in capsys.readouterr().out
    assert cli_main(["--database-url", url, "session", "carry", "--congress", str(new_id), "--numbers", "998"]) == 1
    assert "998（上次会议没有这个编号）" in capsys.readouterr().err


def test_a_carried_proposal_is_handled_in_the_new_session_only(db, story):
    """Once carried over, the old copy takes no more steps (a reply there would never reach the copy
    the next session works on): the department is told where it went; the new copy takes the reply."""
    from congress.actions.casework import decide_proposal, reply_proposal

    new_id = _run(db, start_next_session, story.congress_id)["id"]
    _run(db, carry_over_proposals, new_id, None)
    with db.read() as session:
        old = session.scalars(sa.select(Proposal).where(Proposal.congress_id == story.congress_id,
                                                        Proposal.status == "assigned").order_by(Proposal.number)).first()
        new = session.scalar(sa.select(Proposal).where(Proposal.carried_from_id == old.id))
        lead = session.scalar(sa.select(Assignment.department_id).where(Assignment.proposal_id == old.id,
                                                                        Assignment.is_lead.is_(True)))
    department = Actor(role=Role.DEPARTMENT, name="承办部门", department_id=lead)
    with pytest.raises(DomainError) as refused:
        _run(db, reply_proposal, story.congress_id, old.id, "A", "已落实：明年起按新标准执行，详见附件。", actor=department)
    assert refused.value.code == "carried_over"
    assert f"已转入第十届第四次会议（第 {new.number} 号）" in refused.value.message
    with pytest.raises(DomainError, match="已转入第十届第四次会议"):
        _run(db, decide_proposal, story.congress_id, old.id, "rejected", "不予立案")
    _run(db, reply_proposal, new_id, new.id, "A", "已落实：明年起按新标准执行，详见附件。", actor=department)
    with db.read() as session:
        assert session.get(Proposal, new.id).status == "replied"
        assert session.get(Proposal, old.id).status == "assigned"  # nothing written on the old copy
        assert session.scalar(sa.select(sa.func.count()).select_from(Reply).where(Reply.proposal_id == old.id)) \
            == session.scalar(sa.select(sa.func.count()).select_from(Reply).where(Reply.proposal_id == new.id)) - 1
