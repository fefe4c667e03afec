"""Every lookup by id checks the congress (issue 18, point 4), on SQLite and PostgreSQL.

Two congresses are built the same way (tests/two_congresses.py), each with one object of every kind
that an op takes an id of. Then, for EVERY op of the command table that takes an id — the list comes
from the table itself, so an op added later is covered, and the test fails until it is in MATRIX —
each id is replaced, one at a time, by congress 2's object of the same kind and state, and the op is
run under congress 1 by a delegate, a group leader, staff, a department and an observer:

- it is refused, with nothing emitted;
- the refusal is `not_found` (or a permission refusal about who is asking, taken before any lookup);
- it is exactly the refusal a never-used id gets (code and words, numbers aside): trying ids tells
  nobody what another congress holds, nor that a draft exists.

Staff and departments are instance-wide (one union office and its departments serve every congress:
the staff console switches congress, a department answers cases of several), so staff working under
congress 2's path on congress 2's objects is normal work; under congress 1 with congress 2's ids it
is `not_found` like for anyone. A delegate — a group leader too — belongs to one congress: under any
other congress's path every op is refused with `other_congress` before anything is looked up, both
in the Service (websocket and HTTP alike) and at the HTTP layer for every route with a congress in
its path (tests below).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from congress.actions.base import Context
from congress.application.auth import observer_actor
from congress.application.commands import COMMANDS, load_all
from congress.application.service import Service
from congress.db.base import Base
from congress.db.engine import Database
from congress.db.models import Congress
from congress.domain.commands import Command
from congress.domain.errors import DomainError
from congress.domain.permissions import Actor
from congress.live.backplane import MemoryBackplane
from congress.live.hub import Hub
from congress.settings import Settings
from tests.story import LiveClient, LiveServer
from tests.two_congresses import YES_NO, Congresses, World, build_two

load_all()

# List params that hold ids (their names do not end in _id / _ids)
ID_LISTS = frozenset({"order", "hand_count_groups"})
# Refusals about who is asking (taken before any lookup, or from the asker's own group): they say
# nothing about the id, and a never-used id gets the same
PERMISSION_CODES = frozenset({"read_only", "forbidden", "other_group", "not_group_leader", "not_voting_delegate"})


def id_params(command: Command) -> list[str]:
    return [p.name for p in command.params if p.name.endswith(("_id", "_ids")) or p.name in ID_LISTS]


ID_OPS = sorted(op for op, command in COMMANDS.items() if id_params(command))

Args = Callable[[World], dict[str, Any]]

# op -> how to call it on a world's objects (one or more variants). Each names every id param the op
# takes, with an object of that world in the state where the op would otherwise go ahead.
MATRIX: dict[str, list[Args]] = {
    "answer_cosign": [lambda w: {"proposal_id": w.ids["draft"], "accept": True},
                      lambda w: {"proposal_id": w.ids["submitted"], "accept": False}],
    "assign_proposal": [lambda w: {"proposal_id": w.ids["registered"], "lead": "人力资源部"}],
    "award_proposal": [lambda w: {"proposal_id": w.ids["submitted"], "level": "一等奖"}],
    "cancel_vote": [lambda w: {"vote_id": w.ids["vote_draft"], "reason": "议程调整"}],
    "cast_ballot": [lambda w: {"vote_id": w.ids["vote_open"], "answers": {str(w.ids["q_open"]): "yes"}}],
    "categorise": [lambda w: {"proposal_id": w.ids["submitted"], "category": "生活福利"}],
    "ceremony_state": [lambda w: {"ceremony_id": w.ids["ceremony"]}],
    "certify_vote": [lambda w: {"vote_id": w.ids["vote_closed"], "scrutineer": "刘志强"}],
    "check_in_at_desk": [lambda w: {"employee_id": w.emp("002"), "reason": "补签"}],
    "check_out": [lambda w: {"employee_id": w.emp("002"), "reason": "请假"}],
    "check_receipt": [lambda w: {"vote_id": w.ids["vote_open"], "receipt": "ABCD-EFGH-JKMN"}],
    "clear_sign_in_wait": [lambda w: {"employee_id": w.emp("002")}],
    "close_vote": [lambda w: {"vote_id": w.ids["vote_open"]}],
    "cosign_invitation": [lambda w: {"proposal_id": w.ids["draft"]}],
    "create_vote": [lambda w: {"agenda_item_id": w.ids["item_b"], "title": "表决", "questions": YES_NO,
                               "hand_count_groups": [w.groups["甲组"], w.groups["乙组"]]}],
    "decide_proposal": [lambda w: {"proposal_id": w.ids["submitted"], "decision": "合并立案",
                                   "merge_into_id": w.ids["assigned"]}],
    "edit_proposal": [lambda w: {"proposal_id": w.ids["draft"], "title": "关于夜班食堂的建议",
                                 "reason": "夜班职工吃不上热饭。", "suggestion": "开设夜宵窗口。"}],
    "enter_group_count": [lambda w: {"vote_id": w.ids["vote_hand"], "group_id": w.groups["甲组"],
                                     "method": "show_of_hands", "present": 5, "scrutineer": "刘志强",
                                     "questions": {str(w.ids["q_hand"]): {"counts": {"yes": 5, "no": 0, "abstain": 0}}}}],
    "give_floor": [lambda w: {"request_id": w.ids["speech"], "seconds_allowed": 300}],
    "group_rooms": [lambda w: {"agenda_item_id": w.ids["item_a"]}],
    "hide_message": [lambda w: {"message_id": w.ids["message"], "reason": "与议题无关"}],
    "invite_cosigners": [lambda w: {"proposal_id": w.ids["draft"], "employee_ids": [w.emp("001")]}],
    "list_delegates": [lambda w: {"group_id": w.groups["甲组"]}],
    "list_group_counts": [lambda w: {"vote_id": w.ids["vote_hand"]}],
    "mark_key": [lambda w: {"proposal_id": w.ids["submitted"], "is_key": True}],
    "mark_opinion_handled": [lambda w: {"opinion_id": w.ids["opinion"], "handling": "已采纳"}],
    "move_agenda_item": [lambda w: {"item_id": w.ids["item_b"], "position": 1}],
    "my_ballot": [lambda w: {"vote_id": w.ids["vote_open"]}],
    "name_trustees": [lambda w: {"employee_ids": [w.emp("001"), w.emp("003"), w.emp("004")], "threshold": 2}],
    "named_ballots": [lambda w: {"vote_id": w.ids["vote_open"]}],
    "open_vote": [lambda w: {"vote_id": w.ids["vote_draft"]}],
    "opinions_for_item": [lambda w: {"agenda_item_id": w.ids["item_a"]}],
    "order_speakers": [lambda w: {"order": [w.ids["speech"]]}],
    "pin_message": [lambda w: {"message_id": w.ids["message"], "is_pinned": True}],
    "post_decryption": [lambda w: {"vote_id": w.ids["vote_sealed"], "message": {}}],
    "post_message": [lambda w: {"text": "同意", "reply_to_id": w.ids["message"], "agenda_item_id": w.ids["item_a"],
                                "group_id": w.groups["甲组"]}],
    "post_trustee_message": [lambda w: {"ceremony_id": w.ids["ceremony"], "round": 1, "message": {}}],
    "pre_review": [lambda w: {"proposal_id": w.ids["pre_review"], "approve": True}],
    "proposal_board": [lambda w: {"group_id": w.groups["甲组"]}],
    "proposal_detail": [lambda w: {"proposal_id": w.ids["draft"]}, lambda w: {"proposal_id": w.ids["submitted"]}],
    "publish_vote": [lambda w: {"vote_id": w.ids["vote_certified"]}],
    "rate_reply": [lambda w: {"proposal_id": w.ids["replied"], "rating": "满意"}],
    "receipts": [lambda w: {"vote_id": w.ids["vote_open"]}],
    "repeat_vote": [lambda w: {"vote_id": w.ids["vote_closed"]}],
    "reply_proposal": [lambda w: {"proposal_id": w.ids["assigned"], "reply_class": "A",
                                  "text": "已在夜班食堂开设夜宵窗口，供应热饭到凌晨两点。"}],
    "report_misassigned": [lambda w: {"proposal_id": w.ids["assigned"], "reason": "不属于本部门职责"}],
    "save_opinion": [lambda w: {"agenda_item_id": w.ids["item_b"], "agreement": "同意",
                                "quoted_message_ids": [w.ids["message"]]}],
    "sealed_ballots": [lambda w: {"vote_id": w.ids["vote_sealed"]}],
    "set_current_item": [lambda w: {"item_id": w.ids["item_b"]}],
    "similar_proposals": [lambda w: {"proposal_id": w.ids["submitted"]}],
    "submit_opinion": [lambda w: {"agenda_item_id": w.ids["item_a"]}],
    "submit_proposal": [lambda w: {"proposal_id": w.ids["draft"]}],
    "table_document": [lambda w: {"document_id": w.ids["document"]}],
    "withdraw_speech_request": [lambda w: {"request_id": w.ids["speech"]}],
}


def test_every_op_that_takes_an_id_is_in_the_matrix():
    """A new op with an id param fails here until it is added to MATRIX (and so to the probes)."""
    missing = [op for op in ID_OPS if op not in MATRIX]
    assert missing == [], f"ops that take an id but are not probed across congresses: {missing}"
    assert {"proposal_detail", "answer_cosign", "cast_ballot", "give_floor", "table_document",
            "mark_opinion_handled", "hide_message", "post_trustee_message"} <= set(ID_OPS)


def ghost(value: Any) -> Any:
    """An id of the same shape that was never used: 工号 and numbers alike."""
    if isinstance(value, list):
        return [ghost_one(v, i) for i, v in enumerate(value)]
    return ghost_one(value, 0)


def ghost_one(value: Any, i: int) -> Any:
    return f"Z{900 + i}" if isinstance(value, str) else 987_654 + i


def words(message: str) -> str:
    """A refusal's words with the ids in it blanked: 编号 17 and 编号 987654 read the same."""
    return re.sub(r"[A-Z]?\d+", "N", message)


@dataclass
class Outcome:
    code: str | None
    words: str
    emitted: int


class _Undo(Exception):
    """Rolls back an attempt that went through, so every attempt meets the same world."""


def attempt(db: Database, actor: Actor, congress_id: int, op: str, args: dict[str, Any]) -> Outcome:
    ctx: Context | None = None
    try:
        with db.write() as session:
            ctx = Context(session, actor, datetime.now(UTC))
            COMMANDS[op].action(ctx, congress_id, **args)
            raise _Undo
    except DomainError as error:
        assert ctx is not None
        return Outcome(error.code, words(error.message), len(ctx.events))
    except _Undo:
        assert ctx is not None
        return Outcome(None, "", len(ctx.events))


@pytest.fixture
def two(db: Database) -> Congresses:
    return build_two(db, codes=False)


def actors(two: Congresses) -> dict[str, Actor]:
    one = two.one
    return {"delegate": one.actor(one.emp("002")), "leader": one.actor(one.emp("001")), "staff": two.staff,
            "department": two.department, "observer": observer_actor(one.congress_id)}


def test_another_congress_s_ids_are_not_found_like_ids_never_used(db, two):
    one, other = two.one, two.two
    wrong: dict[str, Any] = {}
    reached: dict[str, set[str]] = {op: set() for op in MATRIX if op in COMMANDS}
    for op in ID_OPS:
        for number, make in enumerate(MATRIX[op]):
            mine, theirs = make(one), make(other)
            for param in id_params(COMMANDS[op]):
                assert param in mine, f"{op}: MATRIX does not name {param}"
                assert mine[param] != theirs[param], f"{op}.{param}: the two congresses' ids coincide"
                probe = {**mine, param: theirs[param]}
                never = {**mine, param: ghost(theirs[param])}
                for who, actor in actors(two).items():
                    got = attempt(db, actor, one.congress_id, op, probe)
                    expected = attempt(db, actor, one.congress_id, op, never)
                    key = f"{op}[{number}].{param} as {who}"
                    if got.code is None:
                        wrong[key] = "went through with congress 2's id"
                    elif got.emitted:
                        wrong[key] = f"emitted {got.emitted} event(s) before refusing"
                    elif (got.code, got.words) != (expected.code, expected.words):
                        wrong[key] = f"{got.code} {got.words!r} ≠ never-used id: {expected.code} {expected.words!r}"
                    elif got.code not in PERMISSION_CODES | {"not_found"}:
                        wrong[key] = f"{got.code}: {got.words}"
                    elif got.code == "not_found":
                        reached[op].add(who)

    assert wrong == {}, "\n".join(f"{key}: {why}" for key, why in wrong.items())
    # Not vacuous: for every op someone it is meant for got as far as looking the id up
    assert [op for op, who in reached.items() if not who] == []


def fingerprint(db: Database) -> dict[str, Any]:
    """Every table's size and each congress's event seq: what anything done would change."""
    counts = [sa.select(sa.func.count()).select_from(t).scalar_subquery().label(t.name)
              for t in Base.metadata.sorted_tables]
    with db.read() as session:
        sizes = dict(session.execute(sa.select(*counts)).one()._mapping)
        sizes["seqs"] = dict(session.execute(sa.select(Congress.id, Congress.last_seq)).all())
        return sizes


def command_args(op: str, world: World) -> dict[str, Any]:
    """What a client would send for `op` on this world's objects (any op, with or without ids)."""
    if op in MATRIX:
        return MATRIX[op][0](world)
    filler = {int: 1, str: "测试", bool: False, list: [], dict: {}}
    return {p.name: filler[p.type] for p in COMMANDS[op].params if p.required}


def test_a_delegate_is_refused_every_op_under_another_congress_in_the_service(db, two):
    """Service.run — the way in for the websocket and the HTTP API — refuses a delegate (a leader
    too) every op under a congress not theirs, before the arguments are even read."""
    one, other = two.one, two.two
    people = {"delegate": one.actor(one.emp("002")), "leader": one.actor(one.emp("001"))}

    async def main() -> dict[str, Any]:
        service: Service
        hub = Hub(fetch_missing=lambda c, a, u: service.fetch_missing(c, a, u))
        service = Service(db, hub, MemoryBackplane())
        await service.start()
        codes: dict[str, Any] = {}
        try:
            for op in sorted(COMMANDS):
                for who, actor in people.items():
                    try:
                        await service.run(actor, op, other.congress_id, command_args(op, other), f"{who}-{op}")
                        codes[f"{op} as {who}"] = None
                    except DomainError as error:
                        codes[f"{op} as {who}"] = error.code
        finally:
            await service.stop()
        return codes

    before = fingerprint(db)
    codes = asyncio.run(main())
    assert {key: code for key, code in codes.items() if code != "other_congress"} == {}
    assert fingerprint(db) == before


# -- over HTTP, against a real server -------------------------------------------------------------
def client(server: LiveServer, body: dict[str, Any]) -> httpx.Client:
    http = httpx.Client(base_url=server.url, timeout=30)
    response = http.post("/api/sign-in", json=body)
    response.raise_for_status()
    http.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return http


@pytest.fixture
def two_with_codes(db: Database) -> Congresses:
    return build_two(db)


def test_a_delegate_is_refused_every_route_under_another_congress_over_http(db, database_url, two_with_codes):
    """Every op of the table and every other route with a congress in its path, as a delegate and a
    group leader of congress 1 under congress 2 with congress 2's ids: 403 other_congress, and
    nothing in the database changes. Staff and the department (instance-wide) are served there."""
    two = two_with_codes
    one, other = two.one, two.two
    server = LiveServer(Settings(database_url=database_url, port=0, coalesce_seconds=0.05)).start()
    try:
        people = {who: client(server, {"employee_id": e, "code": one.codes[e], "congress_id": one.congress_id})
                  for who, e in (("delegate", one.emp("002")), ("leader", one.emp("001")))}
        staff = client(server, {"login": two.staff_login[0], "password": two.staff_login[1]})
        department = client(server, {"login": two.department_login[0], "password": two.department_login[1]})
        cid, ids = other.congress_id, other.ids
        routes: list[tuple[str, str, dict[str, Any]]] = [
            ("POST", f"/api/congresses/{cid}/commands/{op}", {"json": command_args(op, other)}) for op in sorted(COMMANDS)]
        routes += [
            ("GET", f"/api/congresses/{cid}/state", {}),
            ("POST", f"/api/congresses/{cid}/roster?dry_run=1", {"content": b"employee_id,name\n"}),
            ("POST", f"/api/congresses/{cid}/codes", {"json": {}}),
            ("GET", f"/api/congresses/{cid}/proposals/register.xlsx", {}),
            ("POST", f"/api/congresses/{cid}/documents", {"files": {"file": ("a.md", b"# a")}, "data": {"title": "a"}}),
            ("POST", f"/api/congresses/{cid}/documents/{ids['document']}/versions", {"files": {"file": ("a.md", b"# a")}}),
            ("PUT", f"/api/congresses/{cid}/documents/{ids['document']}/versions/1", {"files": {"file": ("a.md", b"# a")}}),
            ("GET", f"/api/congresses/{cid}/documents/{ids['document']}/versions/1", {}),
            ("GET", f"/api/congresses/{cid}/opinions/{ids['item_a']}/print", {}),
            ("GET", f"/api/congresses/{cid}/opinions/{ids['item_a']}/export.xlsx", {}),
            ("POST", f"/api/congresses/{cid}/proposals/{ids['draft']}/attachments", {"files": {"file": ("p.png", b"\x89PNG\r\n\x1a\n")}}),
            ("GET", f"/api/congresses/{cid}/proposals/{ids['draft']}/attachments/{ids['attachment']}", {}),
            ("GET", f"/api/congresses/{cid}/chapters.vtt", {}),
            ("GET", f"/api/congresses/{cid}/timeline.json", {}),
        ]
        before = fingerprint(db)
        wrong = {}
        for who, http in people.items():
            for method, path, kwargs in routes:
                response = http.request(method, path, **kwargs)
                code = response.json().get("error", {}).get("code") if response.headers.get(
                    "content-type", "").startswith("application/json") else None
                if (response.status_code, code) != (403, "other_congress"):
                    wrong[f"{method} {path} as {who}"] = (response.status_code, response.text[:120])
        assert wrong == {}, "\n".join(f"{key}: {why}" for key, why in wrong.items())
        assert fingerprint(db) == before

        # Over the websocket a delegate asking for congress 2 is connected to their own congress
        async def hello() -> dict[str, Any]:
            socket = LiveClient(server.ws_url, cid, people["delegate"].cookies.get("congress_session"))
            try:
                return await socket.connect()
            finally:
                await socket.close()

        assert asyncio.run(hello())["congress_id"] == one.congress_id

        # Staff and departments serve every congress: the same paths are their normal work
        listed = staff.post(f"/api/congresses/{cid}/commands/list_delegates", json={})
        assert listed.status_code == 200 and {d["employee_id"] for d in listed.json()["result"]["delegates"]} \
            == {e for e in other.people}
        cases = department.post(f"/api/congresses/{cid}/commands/department_cases", json={})
        assert cases.status_code == 200 and ids["assigned"] in {c["id"] for c in cases.json()["result"]["cases"]}
    finally:
        server.stop()
