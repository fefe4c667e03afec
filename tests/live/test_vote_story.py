"""The story's vote end to end through a real server: 295 voting delegates in 7 groups sign in and check
themselves in over the websocket, 宁波 votes on site and its leader enters the hand count, everyone else
votes online at once, staff close, certify and publish, and an observer sees exactly what was cast."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from congress.db.models import Group
from tests.story import GROUPS, LiveClient, ServerProcess, build_story, sign_in

pytestmark = pytest.mark.anyio
CHOICES = ("yes", "no", "abstain")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_story_sized_vote_by_group_reaches_the_observer_as_cast(db, database_url, tmp_path):
    story = build_story(db)
    with db.read() as session:
        groups = {g.name: g.id for g in session.scalars(sa.select(Group).where(Group.congress_id == story.congress_id))}
    voting = story.voting()
    assert len(voting) == 295
    # The server in its own process (`congress serve`), so 297 clients here do not share its interpreter.
    server = ServerProcess(database_url, tmp_path / "server.log")
    clients: list[LiveClient] = []
    try:
        staff_cookie, _ = sign_in(server.url, {"login": "staff", "password": story.staff_password})
        staff = LiveClient(server.ws_url, story.congress_id, staff_cookie)
        observer = LiveClient(server.ws_url, story.congress_id)
        await staff.connect()
        await observer.connect()
        clients += [staff, observer]

        # Every voting delegate signs in with employee id and access code (argon2: in parallel) …
        loop = asyncio.get_running_loop()
        with httpx.Client(base_url=server.url, timeout=60) as http, ThreadPoolExecutor(max_workers=8) as pool:
            def sign_in_delegate(employee_id: str) -> str:
                response = http.post("/api/sign-in", json={
                    "employee_id": employee_id, "code": story.codes[employee_id], "congress_id": story.congress_id})
                response.raise_for_status()
                return response.cookies["congress_session"]

            cookies = await asyncio.gather(*(loop.run_in_executor(pool, sign_in_delegate, d.employee_id)
                                             for d in voting))
        delegates = {d.id: LiveClient(server.ws_url, story.congress_id, cookie) for d, cookie in
                     zip(voting, cookies, strict=True)}
        clients += delegates.values()
        await asyncio.gather(*(c.connect() for c in delegates.values()))
        assert {c.hello["role"] for c in delegates.values()} == {"delegate"}

        # … and checks themself in.
        # 295 commands at once wait their turn in the group commit: a generous harness timeout, not a target
        checked_in = await asyncio.gather(*(c.command("check_in", timeout=180) for c in delegates.values()))
        assert all(r["msg"] == "ack" for r in checked_in), [r for r in checked_in if r["msg"] != "ack"][:3]
        assert max(r["result"]["attendance"]["present"] for r in checked_in) == 295

        created = await staff.command(
            "create_vote", agenda_item_id=story.agenda[1]["id"], title="薪酬方案与财务报告",
            questions=[{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"},
                       {"kind": "yes_no", "text": "是否同意《财务预决算报告》"}],
            hand_count_groups=[groups["宁波"]])
        assert created["msg"] == "ack", created
        vote = created["result"]
        qids = [str(q["id"]) for q in vote["questions"]]
        opened = await staff.command("open_vote", vote_id=vote["id"])
        assert opened["msg"] == "ack" and "符合法定人数" in opened["result"]["quorum"], opened

        # Everyone outside 宁波 votes online at the same moment, with random choices.
        rng = random.Random(20200815)
        cast: dict[str, dict[str, Counter[str]]] = {q: {g: Counter() for g in GROUPS} for q in qids}
        ballots = []
        group_names = {gid: name for name, gid in groups.items()}
        for d in voting:
            if d.group_id == groups["宁波"]:
                continue
            answers = {q: rng.choice(CHOICES) for q in qids}
            for q, choice in answers.items():
                cast[q][group_names[d.group_id]][choice] += 1
            ballots.append(delegates[d.id].command("cast_ballot", timeout=180, vote_id=vote["id"], answers=answers))
        replies = await asyncio.gather(*ballots)
        assert len(replies) == 280
        assert all(r["msg"] == "ack" and r["result"]["recorded"] for r in replies), \
            [r for r in replies if r["msg"] != "ack"][:3]

        # 宁波 votes by show of hands; its leader enters the count over the websocket.
        hands = {}
        for q in qids:
            yes = rng.randint(5, 12)
            no = rng.randint(0, 15 - yes)
            hands[q] = {"yes": yes, "no": no, "abstain": 15 - yes - no}
            cast[q]["宁波"].update(hands[q])
        leader = delegates[story.leader(groups["宁波"]).id]
        entered = await leader.command("enter_group_count", vote_id=vote["id"], group_id=groups["宁波"],
                                       method="show_of_hands", present=15,
                                       questions={q: {"counts": hands[q]} for q in qids}, scrutineer="陈监票")
        assert entered["msg"] == "ack", entered

        for op, args in (("close_vote", {}), ("certify_vote", {"scrutineer": "刘志强"}), ("publish_vote", {})):
            reply = await staff.command(op, vote_id=vote["id"], **args)
            assert reply["msg"] == "ack", reply

        await observer.wait_for(lambda: "vote.published" in observer.event_types(), timeout=30)
        assert observer.closed is None, observer.closed
        assert "vote.tallied" not in observer.event_types()
        published = next(e for e in observer.events if e["type"] == "vote.published")["payload"]
        result = published["result"]
        assert published["certified_by"] == "刘志强"
        assert (result["eligible"], result["present"], result["cast"]) == (295, 295, 295)
        for q, question in zip(qids, result["questions"], strict=True):
            by_group = {g["name"]: g for g in question["groups"]}
            assert list(by_group) == GROUPS
            for name in GROUPS:
                assert _counts(by_group[name]["counts"]) == _counts(cast[q][name]), (q, name)
            expected: Counter[str] = sum((cast[q][name] for name in GROUPS), Counter())
            assert _counts({o["key"]: o["count"] for o in question["options"]}) == _counts(expected)
            assert question["returned"] == 295 and by_group["宁波"]["method"] == "show_of_hands"
            assert question["passed"] == (expected["yes"] >= 148)
            verdict = "通过" if question["passed"] else "未通过"
            assert question["words"].startswith(f"赞成 {expected['yes']} 票，") and question["words"].endswith(verdict)
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        server.stop()


def _counts(counts: Any) -> dict[str, int]:
    return {choice: int(counts.get(choice, 0)) for choice in CHOICES}
