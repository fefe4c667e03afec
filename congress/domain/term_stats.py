"""Statistics of a 届: each session's figures and the term's, year on year. Pure, no I/O.

The figures are congress.domain.progress's (立案率, 办结率, 满意率, by department and by category, the
same definitions as the progress report, docs/proposals.md), computed from each proposal as it
stands now rather than replayed from the event log: a session's proposals include those carried
into it, with their history (their ratings count where the proposal now is).

Across the term each proposal counts once, where it ended up: a proposal carried into a later
session supersedes the one it was copied from (same case, same ratings), so the term's totals are
not the sum of the sessions' (docs/terms.md, "Statistics").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from congress.domain.progress import ProposalEvent, progress_figures

RATES = ("register_rate", "closed_rate", "satisfaction_rate")  # 立案率, 办结率, 满意率
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ProposalRow:
    id: int
    number: int | None
    title: str
    status: str
    category: str | None
    lead_department: str | None  # the current round's lead (主办) department
    carried_from_id: int | None = None


@dataclass(frozen=True)
class RatingRow:
    proposal_id: int
    rating: str  # 满意 | 基本满意 | 不满意
    department: str | None  # the lead department of the round the rating was given on


@dataclass(frozen=True)
class SessionRows:
    congress_id: int
    label: str  # 第十届第三次
    name: str
    proposals: tuple[ProposalRow, ...]
    ratings: tuple[RatingRow, ...]


def _events(proposals: Iterable[ProposalRow], ratings: Iterable[RatingRow]) -> list[ProposalEvent]:
    """progress_figures' input: each rating under the department it was given to, then the
    proposal as it stands (its current lead department)."""
    by_proposal: dict[int, list[RatingRow]] = {}
    for r in ratings:
        by_proposal.setdefault(r.proposal_id, []).append(r)
    events = []
    for p in proposals:
        board = {"id": p.id, "number": p.number, "title": p.title, "status": p.status, "category": p.category,
                 "group": None, "merged_into_id": None}
        for r in by_proposal.get(p.id, []):
            events.append(ProposalEvent(_EPOCH, "proposal.assigned", {**board, "lead_department": r.department}))
            events.append(ProposalEvent(_EPOCH, "proposal.rated", {**board, "rating": r.rating}))
        events.append(ProposalEvent(_EPOCH, "proposal.assigned", {**board, "lead_department": p.lead_department}))
    return events


def figures(proposals: Iterable[ProposalRow], ratings: Iterable[RatingRow], day: date) -> dict[str, Any]:
    """The progress figures of these proposals as they stand (overdue counted at the end of `day`)."""
    return progress_figures(_events(proposals, ratings), day)


def term_figures(sessions: list[SessionRows], day: date) -> dict[str, Any]:
    """Each session's figures, the term's (each proposal once, where it ended up) and the change of
    each rate from one session to the next (in percentage points; None when either is undefined)."""
    ordered = list(sessions)
    superseded = {p.carried_from_id for s in ordered for p in s.proposals if p.carried_from_id is not None}
    per_session = []
    for s in ordered:
        f = figures(s.proposals, s.ratings, day)
        f.update(congress_id=s.congress_id, label=s.label, name=s.name,
                 carried_in=sum(p.carried_from_id is not None for p in s.proposals),
                 carried_on=sum(p.id in superseded for p in s.proposals))
        per_session.append(f)
    latest = [p for s in ordered for p in s.proposals if p.id not in superseded]
    kept = {p.id for p in latest}
    term = figures(latest, [r for s in ordered for r in s.ratings if r.proposal_id in kept], day)
    return {"sessions": per_session, "term": term, "year_on_year": year_on_year(per_session)}


def year_on_year(per_session: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Session n against n-1: each rate's change in percentage points."""
    rows = []
    for before, after in zip(per_session, per_session[1:], strict=False):
        row: dict[str, Any] = {"from": before["label"], "to": after["label"]}
        for key in RATES:
            a, b = before.get(key), after.get(key)
            row[key] = None if a is None or b is None else round((b - a) * 100, 1)
        rows.append(row)
    return rows
