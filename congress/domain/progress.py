"""提案办理情况报告: the figures of the proposals as they stood at the end of a given day. Pure, no I/O.

The input is the congress's public proposal events (`proposal.*`, each carrying the proposal as the
board shows it) with the time each was written; replaying those written before the end of the day
gives what was true on that day, not what is true today. A case reopened later, a reply given
later, a rating given later: none of them count in a report for an earlier day.

Definitions (docs/proposals.md, "Progress report"):
- 提案 (total): submitted proposals that reached the committee (drafts and 团长初审 are not public).
- 立案 (cases): registered, assigned, replied, following up or closed (CASE_STATUSES), as in
  proposal_stats; 立案率 = (cases + 合并立案) / total — a merged proposal is answered through its case.
- 办复率 = cases with a reply (replied, following up, closed) / cases; 办结率 = closed / cases.
- 满意率 = (满意 + 基本满意) / all ratings given by then (every round's rating counts).
- Overdue: a case still 办理中 whose lead department's due time was before the end of the day;
  days overdue counts calendar days in Beijing time (0 = it fell due that very day).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from congress.domain.proposals import CASE_STATUSES, RATINGS, ProposalStatus
from congress.domain.time import BEIJING

S = ProposalStatus
ANSWERED = frozenset({S.REPLIED, S.FOLLOWING_UP, S.CLOSED})
NO_DEPARTMENT = "（未交办）"
NO_CATEGORY = "未分类"


@dataclass(frozen=True)
class ProposalEvent:
    at: datetime  # when it was written (naive = UTC, as SQLite gives it back)
    type: str
    payload: dict[str, Any]


def end_of_day(day: date) -> datetime:
    """The report's moment: midnight after `day` in Beijing time, in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), BEIJING).astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _satisfied(ratings: Counter[str]) -> int:
    return ratings["满意"] + ratings["基本满意"]


def progress_figures(events: Iterable[ProposalEvent], day: date) -> dict[str, Any]:
    """The report's figures for the end of `day` (see the module's docstring)."""
    cutoff = end_of_day(day)
    proposals: dict[int, dict[str, Any]] = {}
    ratings: list[tuple[int, str, str | None]] = []  # (proposal id, rating, its lead department then)
    for event in events:
        if _utc(event.at) >= cutoff or not event.type.startswith("proposal."):
            continue
        p = event.payload
        if not isinstance(p.get("id"), int) or "status" not in p:
            continue  # not a board entry (e.g. staff's category suggestion)
        known = proposals.setdefault(p["id"], {"lead_department": None, "due_at": None})
        known.update({k: p.get(k) for k in ("number", "title", "status", "category", "group", "merged_into_id")})
        if event.type == "proposal.assigned":  # the current round's lead and due date
            known["lead_department"], known["due_at"] = p.get("lead_department"), p.get("due_at")
        if event.type == "proposal.rated" and p.get("rating") in RATINGS:
            ratings.append((p["id"], p["rating"], known["lead_department"]))

    rows = [p for p in proposals.values() if p["status"] in {s.value for s in S if s not in (S.DRAFT, S.PRE_REVIEW)}]
    by_status = Counter(p["status"] for p in rows)
    cases = [p for p in rows if p["status"] in CASE_STATUSES]
    answered = [p for p in cases if p["status"] in ANSWERED]
    closed = [p for p in cases if p["status"] == S.CLOSED]
    rating_counts = Counter(r for _pid, r, _d in ratings)
    overdue = sorted((_overdue_row(p, day) for p in cases if _is_overdue(p, cutoff)),
                     key=lambda o: (o["department"], -o["days_overdue"], o["number"] or 0))

    departments: dict[str, dict[str, Any]] = {}
    for p in cases:
        d = departments.setdefault(p["lead_department"] or NO_DEPARTMENT, _blank_department())
        d["cases"] += 1
        d["answered"] += p["status"] in ANSWERED
        d["closed"] += p["status"] == S.CLOSED
    for o in overdue:
        departments[o["department"]]["overdue"] += 1
    for _pid, rating, department in ratings:
        d = departments.setdefault(department or NO_DEPARTMENT, _blank_department())
        d["ratings"][rating] += 1
    categories: dict[str, dict[str, Any]] = {}
    for p in rows:
        c = categories.setdefault(p["category"] or NO_CATEGORY, {"proposals": 0, "cases": 0, "closed": 0,
                                                                  "ratings": Counter()})
        c["proposals"] += 1
        c["cases"] += p["status"] in CASE_STATUSES
        c["closed"] += p["status"] == S.CLOSED
    for pid, rating, _d in ratings:
        category = proposals[pid]["category"] or NO_CATEGORY
        categories.setdefault(category, {"proposals": 0, "cases": 0, "closed": 0, "ratings": Counter()})
        categories[category]["ratings"][rating] += 1

    return {
        "date": day.isoformat(), "as_of": cutoff.isoformat(),
        "total": len(rows), "cases": len(cases), "merged": by_status[S.MERGED],
        "by_status": {s.value: by_status[s] for s in S if by_status[s]},
        "answered": len(answered), "closed": len(closed),
        "register_rate": _rate(len(cases) + by_status[S.MERGED], len(rows)),  # 立案率
        "answered_rate": _rate(len(answered), len(cases)),  # 办复率
        "closed_rate": _rate(len(closed), len(cases)),  # 办结率
        "ratings": {r: rating_counts[r] for r in RATINGS},
        "satisfaction_rate": _rate(_satisfied(rating_counts), sum(rating_counts.values())),  # 满意率
        "overdue": overdue,
        "by_department": [_department_row(name, d) for name, d in sorted(departments.items())],
        "by_category": [{"category": name, "proposals": c["proposals"], "cases": c["cases"], "closed": c["closed"],
                         "closed_rate": _rate(c["closed"], c["cases"]),
                         "satisfaction_rate": _rate(_satisfied(c["ratings"]), sum(c["ratings"].values()))}
                        for name, c in sorted(categories.items(), key=lambda kv: (-kv[1]["proposals"], kv[0]))],
    }


def _is_overdue(p: dict[str, Any], cutoff: datetime) -> bool:
    return p["status"] == S.ASSIGNED and bool(p["due_at"]) and _utc(datetime.fromisoformat(p["due_at"])) < cutoff


def _overdue_row(p: dict[str, Any], day: date) -> dict[str, Any]:
    due = datetime.fromisoformat(p["due_at"])
    return {"number": p["number"], "title": p["title"], "department": p["lead_department"] or NO_DEPARTMENT,
            "due_at": p["due_at"], "days_overdue": (day - _utc(due).astimezone(BEIJING).date()).days}


def _blank_department() -> dict[str, Any]:
    return {"cases": 0, "answered": 0, "closed": 0, "overdue": 0, "ratings": Counter()}


def _department_row(name: str, d: dict[str, Any]) -> dict[str, Any]:
    rated = sum(d["ratings"].values())
    return {"department": name, "cases": d["cases"], "answered": d["answered"], "closed": d["closed"],
            "overdue": d["overdue"], "closed_rate": _rate(d["closed"], d["cases"]),
            "ratings": {r: d["ratings"][r] for r in RATINGS},
            "satisfaction_rate": _rate(_satisfied(d["ratings"]), rated)}


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"
