"""Every event type declared once (congress.domain.events): what `check_event` refuses, that every
type the code emits is declared. (docs/protocol.md's events table is written from them by docs/generate.py,
with the commands: tests/unit/test_protocol.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from congress.domain.events import DECLARED, EVENTS, EventDeclarationError, check_event
from congress.domain.kinds import Audience, Role
from congress.domain.watching import may_see

ROOT = Path(__file__).resolve().parents[2]
CLOSED = {"vote_id": 3, "at": "2026-12-05T01:00:00+00:00", "cast": 201}


def test_a_payload_as_declared_is_accepted() -> None:
    assert check_event("vote.closed", CLOSED, Audience.PUBLIC).name == "vote.closed"
    assert check_event("agenda.current_changed", {"item_id": None}, "public")  # int|null


@pytest.mark.parametrize(("type", "payload", "audience", "words"), [
    ("vote.shut", CLOSED, Audience.PUBLIC, "'vote.shut' is not declared"),
    ("vote.closed", CLOSED, Audience.STAFF, "audience 'staff' is not one of ['public']"),
    ("vote.closed", {"vote_id": 3, "at": "…"}, Audience.PUBLIC, "cast missing"),
    ("vote.closed", {**CLOSED, "cast": "201"}, Audience.PUBLIC, "cast is str, not int"),
    ("vote.closed", {**CLOSED, "cast": True}, Audience.PUBLIC, "cast is bool, not int"),  # True is an int in Python
    ("vote.closed", {**CLOSED, "choice": "yes"}, Audience.PUBLIC, "choice not declared"),
    ("ballot.recorded", {"vote_id": 3, "at": "…", "is_change": False, "answers": {}}, Audience.DELEGATE,
     "answers not declared"),  # a ballot's choice must never ride on its event
])
def test_a_payload_that_does_not_match_is_refused(type: str, payload: dict, audience: Audience, words: str) -> None:
    with pytest.raises(EventDeclarationError, match=re.escape(words)):
        check_event(type, payload, audience)


def test_an_open_payload_may_carry_more_than_its_declared_fields_but_not_less() -> None:
    vote = {f.name: None for f in EVENTS["vote.created"].fields}
    vote.update(id=1, round=1, title="t", status="draft", is_secret=False, is_changeable=False,
                shows_live_counts=False, questions=[])
    check_event("vote.created", {**vote, "something_new": 1}, Audience.STAFF)
    del vote["questions"]
    with pytest.raises(EventDeclarationError, match="questions missing"):
        check_event("vote.created", vote, Audience.STAFF)


def test_every_type_the_code_emits_by_name_is_declared() -> None:
    """Literal types in `emit(...)` calls and in the helpers that pass a type on (casework's `_public`,
    attendance's `_emit_change`, proposals' `_tell_people`)."""
    named: set[str] = set()
    for path in [*(ROOT / "congress").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"(?:\.emit|_public|_emit_change|_tell_people)\(([^()]*?)\"([a-z_]+\.[a-z_]+)\"", text):
            named.add(call.group(2))
    assert named, "the pattern found no emits: the test itself is broken"
    assert named - set(EVENTS) == set()
    assert set(EVENTS) - named == set(), "declared but never emitted by name: drop the declaration"


@pytest.mark.parametrize("event", DECLARED, ids=lambda e: e.name)
def test_who_sees_each_type_follows_the_one_audience_rule(event) -> None:
    """The declared audiences and congress.domain.watching.may_see agree: staff see every type; an
    observer only a type that may be public; a delegate of another group never a group's."""
    for audience in event.audiences:
        assert may_see(Role.STAFF, audience, 1)
        assert may_see(Role.OBSERVER, audience, 1) is (audience is Audience.PUBLIC)
        if audience is Audience.GROUP:
            assert may_see(Role.DELEGATE, audience, 1, group_id=1, delegate_id=7)
            assert not may_see(Role.DELEGATE, audience, 1, group_id=2, delegate_id=7)
    if Audience.PUBLIC not in event.audiences:
        assert not any(may_see(Role.OBSERVER, a, None) for a in event.audiences)
