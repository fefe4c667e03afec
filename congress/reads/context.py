"""What a read runs in: the session, who asks, and when. A writer's Context (congress.actions.base)
adds the events it appends; a read command gets either and never writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from congress.domain.errors import DomainError
from congress.domain.permissions import Actor


@dataclass
class ReadContext:
    session: Session
    actor: Actor
    now: datetime

    def get(self, model: type, id: int | None, what: str) -> Any:
        row = self.session.get(model, id) if id is not None else None
        if row is None:
            raise DomainError("not_found", f"找不到{what}（编号 {id}）")
        return row

    def find(self, model: type, id: int | None, congress_id: int | None, words: str) -> Any:
        """A row of this congress by its id. Never used or another congress's: the same `not_found`
        in the same words, so trying ids tells nobody what another congress holds."""
        row = self.session.get(model, id) if id is not None else None
        if row is None or row.congress_id != congress_id:
            raise DomainError("not_found", words)
        return row
