"""A congress's term (届) and session (次) as the pages and the archive show them: 第N届第M次.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from congress.db.models import (
    Congress,
    Term,
)
from congress.domain.terms import session_label


def label_of(session: sa.orm.Session, congress: Congress) -> str:
    term = session.get(Term, congress.term_id) if congress.term_id else None
    return session_label(term.number if term else None, congress.session_number)


def term_json(session: sa.orm.Session, congress: Congress) -> dict[str, Any]:
    """What the pages show beside the congress's name: its term and 第N届第M次."""
    term = session.get(Term, congress.term_id) if congress.term_id else None
    return {"id": term.id if term else None, "name": term.name if term else congress.name,
            "number": term.number if term else None, "session_number": congress.session_number,
            "label": session_label(term.number if term else None, congress.session_number)}


def previous_session(session: sa.orm.Session, congress: Congress) -> Congress | None:
    """The session before this one in its term (the nearest lower 次)."""
    if congress.term_id is None:
        return None
    return session.scalar(sa.select(Congress).where(
        Congress.term_id == congress.term_id, Congress.session_number < congress.session_number)
        .order_by(Congress.session_number.desc()).limit(1))
