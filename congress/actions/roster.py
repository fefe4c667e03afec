"""Roster import (名册导入): the whole file is checked first, then applied in one transaction or not at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.actions.setup import add_groups
from congress.db.models import Congress, Delegate, Group
from congress.domain.errors import DomainError
from congress.domain.permissions import Permission
from congress.domain.roster import (
    LABELS,
    RosterDiff,
    RosterFile,
    RosterRow,
    composition_warnings,
    diff_roster,
    parse_roster,
)
from congress.domain.roster_email import FIELD as EMAIL
from congress.domain.roster_email import LABEL as EMAIL_LABEL
from congress.domain.roster_email import email_change


class RosterRejected(DomainError):
    """The file has errors; carries every one of them so the caller can list them."""

    def __init__(self, roster: RosterFile) -> None:
        super().__init__("roster_invalid", f"名册有 {len(roster.errors)} 处错误，未导入任何数据",
                         params={"count": len(roster.errors)})
        self.roster = roster


def import_roster(ctx: Context, congress_id: int, data: bytes, filename: str, *, dry_run: bool = False,
                  create_groups: bool = False, progress: Callable[[int, int], None] | None = None
                  ) -> dict[str, Any]:
    ctx.actor.require(Permission.IMPORT_ROSTER)
    ctx.get(Congress, congress_id, "职代会")
    groups = {g.name: g for g in ctx.session.scalars(sa.select(Group).where(Group.congress_id == congress_id))}
    roster = parse_roster(data, filename, known_groups=list(groups), create_groups=create_groups,
                          progress=progress)
    if not roster.is_valid:
        raise RosterRejected(roster)
    existing: dict[str, Delegate] = {}
    as_listed: dict[str, RosterRow] = {}  # what the roster said last time: the group by name, as in the file
    for d, group_name in ctx.session.execute(
            sa.select(Delegate, Group.name).join(Group, Delegate.group_id == Group.id)
            .where(Delegate.congress_id == congress_id, Delegate.is_active)):
        existing[d.employee_id] = d
        as_listed[d.employee_id] = RosterRow(d.employee_id, d.name, d.gender, group_name, d.unit, d.role,
                                             d.is_group_leader, d.delegate_type, d.email or "")
    diff = diff_roster(as_listed, roster.rows)
    voting = sum(1 for r in roster.rows if r.is_voting)
    summary: dict[str, Any] = {
        "congress_id": congress_id,
        "voting": voting,
        "non_voting": len(roster.rows) - voting,
        "groups": len({r.group for r in roster.rows}),
        "per_group": _per_group(roster),
        "added": len(diff.added),
        "updated": len(diff.updated),
        "unchanged": len(diff.unchanged),
        "removed": len(diff.removed),
        "changes": roster_changes(diff, existing, as_listed),
        "new_groups": roster.new_groups,
        "warnings": roster.warnings + composition_warnings(roster.rows),
        "encoding": roster.encoding,
        "dry_run": dry_run,
    }
    if dry_run:
        return summary
    # told before roster.imported, whose per-group figures then reach the new groups too
    groups.update((g.name, g) for g in add_groups(ctx, congress_id, roster.new_groups))
    # Delegates removed by an earlier import come back as the same row (one query, not one per row)
    earlier = {d.employee_id: d for d in ctx.session.scalars(sa.select(Delegate).where(
        Delegate.congress_id == congress_id, Delegate.is_active.is_(False)))}
    for row in roster.rows:
        delegate = existing.get(row.employee_id) or earlier.get(row.employee_id)
        if delegate is None:
            delegate = Delegate(congress_id=congress_id, employee_id=row.employee_id)
            ctx.session.add(delegate)
        delegate.name, delegate.gender, delegate.unit = row.name, row.gender, row.unit
        delegate.role, delegate.delegate_type = row.role, row.delegate_type
        delegate.is_group_leader, delegate.group_id, delegate.is_active = row.is_group_leader, groups[row.group].id, True
        if row.email is not None:  # a roster without the e-mail column keeps the addresses
            delegate.email = row.email or None
    for employee_id in diff.removed:
        existing[employee_id].is_active = False  # kept: ballots and proposals refer to them
    ctx.session.flush()
    ctx.emit(congress_id, "roster.imported", {k: summary[k] for k in (
        "voting", "non_voting", "groups", "per_group", "added", "updated", "removed")})
    return summary


def roster_changes(diff: RosterDiff, existing: dict[str, Delegate], as_listed: dict[str, RosterRow]
                   ) -> dict[str, list[dict[str, Any]]]:
    """Who a (re-)import adds, who leaves and what changes for the others, field by field (labels as
    in the file): what staff check before importing a new session's roster (docs/terms.md). An e-mail
    change says only 已填写 / 已更改 / 已删除 (`text`), never the address."""
    def value(row: Any, key: str) -> Any:
        v = getattr(row, key)
        return ("是" if v else "否") if isinstance(v, bool) else v

    def field(u: Any, k: str) -> dict[str, Any]:
        if k == EMAIL:
            return {"field": k, "label": EMAIL_LABEL, "text": email_change(u.before.email, u.after.email)}
        return {"field": k, "label": LABELS[k], "before": value(u.before, k), "after": value(u.after, k)}

    return {
        "added": [{"employee_id": r.employee_id, "name": r.name, "group": r.group} for r in diff.added],
        "left": [{"employee_id": e, "name": existing[e].name, "group": as_listed[e].group} for e in diff.removed],
        "changed": [{"employee_id": u.employee_id, "name": u.after.name,
                     "fields": [field(u, k) for k in u.changed]} for u in diff.updated],
    }


def _per_group(roster: RosterFile) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {}
    for row in roster.rows:
        counts = result.setdefault(row.group, {"voting": 0, "non_voting": 0})
        counts["voting" if row.is_voting else "non_voting"] += 1
    return result
