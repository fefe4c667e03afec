"""Trustees and sealed ballots for tests: the ceremony run through the actions with Python trustees
(congress.sealed.kit, the same steps the CLI and the trustee page take), ballots sealed as a phone
would, decryption shares posted by `threshold` of the trustees."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from congress.actions.base import Context
from congress.actions.sealed_tally import post_decryption, sealed_ballots
from congress.actions.trustees import ceremony_state, name_trustees, post_trustee_message
from congress.application.auth import delegate_actor
from congress.db.engine import Database
from congress.db.models import Delegate
from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.sealed.kit import decryption_message, next_message, seal_answers
from congress.sealed.trustees import new_seed

NOW = datetime(2026, 3, 20, 1, 30, tzinfo=UTC)
STAFF = Actor(role=Role.STAFF, name="工会工作人员")


@dataclass
class Trustees:
    """Trustees 1..n of one ceremony and the seeds their own computers keep."""

    db: Database
    congress_id: int
    ceremony_id: int
    members: list[Delegate]
    seeds: dict[int, bytes] = field(default_factory=dict)

    def act(self, fn: Callable[..., Any], actor: Actor, *args: Any) -> Any:
        with self.db.write() as session:
            return fn(Context(session, actor, NOW), self.congress_id, *args)

    def state(self) -> dict[str, Any]:
        with self.db.read() as session:
            return ceremony_state(Context(session, STAFF, NOW), self.congress_id, self.ceremony_id)["ceremony"]

    def run_ceremony(self) -> dict[str, Any]:
        """Every trustee posts every round, in turn, as their computers would; returns the state."""
        for _round in range(3):
            for index, member in enumerate(self.members, start=1):
                step = next_message(self.state(), index, self.seeds[index])
                if step is not None:
                    self.act(post_trustee_message, delegate_actor(member), self.ceremony_id, step[0], step[1])
        return self.state()

    def decrypt(self, vote_id: int, indices: list[int]) -> list[dict[str, Any]]:
        with self.db.read() as session:
            sealed = sealed_ballots(Context(session, STAFF, NOW), self.congress_id, vote_id)["sealed_tally"]
        replies = []
        for index in indices:
            message = decryption_message(self.state(), index, self.seeds[index], vote_id, sealed)
            replies.append(self.act(post_decryption, delegate_actor(self.members[index - 1]), vote_id, message))
        return replies


def make_trustees(db: Database, congress_id: int, members: list[Delegate], threshold: int = 2,
                  run: bool = True) -> Trustees:
    with db.write() as session:
        named = name_trustees(Context(session, STAFF, NOW), congress_id, [m.employee_id for m in members], threshold)
    trustees = Trustees(db, congress_id, named["ceremony_id"], members,
                        {i: new_seed() for i in range(1, len(members) + 1)})
    if run:
        state = trustees.run_ceremony()
        assert state["status"] == "ready", state["status"]
    return trustees


def seal(vote: dict[str, Any], choices: dict[str, Any]) -> dict[str, Any]:
    return seal_answers(vote, choices)
