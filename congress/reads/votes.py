"""A vote as a viewer reads it, and the snapshot's `votes` section: drafts for staff only, results once
published (staff: as soon as counted), the delegate's own ballot time, late ballots for staff.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import (
    Attendance,
    BallotCast,
    DecryptionShare,
    Delegate,
    Event,
    Group,
    GroupCount,
    Vote,
)
from congress.domain.kinds import VOTING_TYPE, GroupMode, Role, VoteStatus
from congress.domain.permissions import Actor


def vote_json(vote: Vote) -> dict[str, Any]:
    """What anyone may know about a vote: its rules, not its tally."""
    return {
        "id": vote.id, "agenda_item_id": vote.agenda_item_id, "round": vote.round, "title": vote.title,
        "status": vote.status, "is_secret": vote.is_secret, "is_changeable": vote.is_changeable,
        "shows_live_counts": vote.shows_live_counts, "closes_after_seconds": vote.closes_after_seconds,
        "group_modes": vote.group_modes,
        "opened_at": vote.opened_at.isoformat() if vote.opened_at else None,
        "closes_at": vote.closes_at.isoformat() if vote.closes_at else None,
        "certified_by": vote.certified_by,
        # A secret vote is sealed under the trustees' key: the phone encrypts with it (docs/secrecy.md)
        "sealing": ({"ceremony_id": vote.ceremony_id, "public_key": vote.ceremony.public_key}
                    if vote.is_secret and vote.ceremony is not None else None),
        "questions": [
            {"id": q.id, "kind": q.kind, "text": q.text, "seats": q.seats, "allows_write_in": q.allows_write_in,
             "rule": {"basis": q.basis, "threshold": q.threshold, "is_strict": q.is_strict},
             "options": [{"key": o.key, "label": o.label} for o in q.options]}
            for q in vote.questions
        ],
    }


def votes_snapshot(session: Session, congress_id: int, actor: Actor) -> list[dict[str, Any]]:
    votes = list(session.scalars(sa.select(Vote).where(Vote.congress_id == congress_id).order_by(Vote.id)))
    is_staff = actor.role is Role.STAFF
    cast = {}
    if actor.delegate_id is not None:
        cast = {row.vote_id: row.cast_at.isoformat() for row in session.scalars(
            sa.select(BallotCast).where(BallotCast.delegate_id == actor.delegate_id))}
    late: dict[int, int] = {}
    told: dict[tuple[str, int], dict[str, Any]] = {}  # what only the log keeps: a cancel's reason, a result's record
    # hand counts as group_count.entered told them (with the words of the check), the latest per group:
    # staff every group's, a delegate their own group's (the event's audience)
    group_counts: dict[int, dict[str, dict[str, Any]]] = {}
    types = ("vote.cancelled", "vote.published", "group_count.entered", *(("ballot.late",) if is_staff else ()))
    for etype, payload in session.execute(sa.select(Event.type, Event.payload).where(
            Event.congress_id == congress_id, Event.type.in_(types)).order_by(Event.seq)):
        if etype == "ballot.late":  # ballots that arrived after the close: a count per vote, for staff
            late[payload["vote_id"]] = late.get(payload["vote_id"], 0) + 1
        elif etype == "group_count.entered":
            if is_staff or (actor.role is Role.DELEGATE and payload["group_id"] == actor.group_id):
                group_counts.setdefault(payload["vote_id"], {})[str(payload["group_id"])] = payload
        else:
            told[(etype, payload["vote_id"])] = payload
    shares: dict[int, list[int]] = {}  # a secret vote's decryption shares: which trustees posted
    sealed = [v.id for v in votes if v.is_secret and v.sealed_tally is not None]
    if sealed:  # most hellos have none to read
        for vote_id, index in session.execute(sa.select(DecryptionShare.vote_id, DecryptionShare.trustee_index)
                                              .where(DecryptionShare.vote_id.in_(sealed))):
            shares.setdefault(vote_id, []).append(index)
    result = []
    for vote in votes:
        if vote.status == VoteStatus.DRAFT and not is_staff:
            continue
        if vote.status == VoteStatus.CANCELLED and vote.opened_at is None and not is_staff:
            continue  # cancelled while a draft: others never saw it, and nobody voted on it
        data = vote_json(vote)
        if vote.status == VoteStatus.PUBLISHED or (is_staff and vote.result is not None):
            data["result"] = vote.result
        if vote.closed_at is not None:  # as vote.closed told it: when, and how many took part
            data["closed_at"] = vote.closed_at.isoformat()
            data["cast"] = (vote.result or {}).get("cast", (vote.sealed_tally or {}).get("ballots"))
        if vote.status == VoteStatus.PUBLISHED and ("vote.published", vote.id) in told:
            data["record"] = told[("vote.published", vote.id)]["record"]  # the head just before it
        if vote.status == VoteStatus.CANCELLED and ("vote.cancelled", vote.id) in told:
            data["cancel_reason"] = told[("vote.cancelled", vote.id)]["reason"]
        if vote.id in group_counts:
            data["group_counts"] = group_counts[vote.id]
        if actor.delegate_id is not None:
            data["my_ballot_at"] = cast.get(vote.id)
        if vote.is_secret and vote.sealed_tally is not None:  # public: tally.sealed / share_posted / decrypted
            data.update(secret_tally_json(vote, shares.get(vote.id, [])))
        if late.get(vote.id):
            data["late_ballots"] = late[vote.id]
        result.append(data)
    return result


def secret_tally_json(vote: Vote, posted: list[int]) -> dict[str, Any]:
    """How far a closed secret vote's decryption is, as tally.sealed, tally.share_posted and tally.decrypted
    told it: the sealed ballots, which trustees posted shares, whose shares gave the result (the first
    `threshold` by index: once decrypted, no share is taken)."""
    posted = sorted(posted)
    data: dict[str, Any] = {"awaiting_trustees": vote.result is None,
                            "sealed_ballots": (vote.sealed_tally or {}).get("ballots")}
    if posted:
        data["shares_posted"] = posted
    if vote.result is not None and vote.ceremony is not None:
        data["decrypted_by"] = posted[:vote.ceremony.threshold]
    return data


def group_rolls(session: Session, vote: Vote) -> dict[int, tuple[str, int, int]]:
    """Per group: name, 应到 (active voting delegates), and 实到 for this vote — checked in now, or
    having cast a ballot (a delegate who voted and then left early still took part).

    A delegate who cast a ballot counts, in 应到 and 实到, in the group their ballot counts in: the
    group they had when they voted. Fix: they were counted by their current roster entry, so a roster
    re-import that removed or moved a delegate after they voted left their group with more ballots
    than delegates present, and close_vote refused to count ("ballots_exceed_present") for good."""
    groups = list(session.execute(sa.select(Group.id, Group.name).where(Group.congress_id == vote.congress_id)
                                  .order_by(Group.position)))
    took_part = {d: g for d, g in session.execute(sa.select(BallotCast.delegate_id, BallotCast.group_id)
                                                  .where(BallotCast.vote_id == vote.id))}
    here = set(session.scalars(sa.select(Attendance.delegate_id).where(
        Attendance.congress_id == vote.congress_id, Attendance.checked_out_at.is_(None))))
    eligible: dict[int, int] = {}
    present: dict[int, int] = {}
    for group_id in took_part.values():
        eligible[group_id] = eligible.get(group_id, 0) + 1
        present[group_id] = present.get(group_id, 0) + 1
    voting = (sa.select(Delegate.id, Delegate.group_id)
              .where(Delegate.congress_id == vote.congress_id, Delegate.delegate_type == VOTING_TYPE,
                     Delegate.is_active))
    for delegate_id, group_id in session.execute(voting):
        if delegate_id in took_part:
            continue
        eligible[group_id] = eligible.get(group_id, 0) + 1
        if delegate_id in here:
            present[group_id] = present.get(group_id, 0) + 1
    return {gid: (name, eligible.get(gid, 0), present.get(gid, 0)) for gid, name in groups}


def vote_progress(session: Session, congress_id: int) -> list[dict[str, Any]]:
    """Ballots in against eligible, per group, for every open vote: counts, never choices."""
    votes = list(session.scalars(sa.select(Vote).where(Vote.congress_id == congress_id,
                                                       Vote.status == VoteStatus.OPEN)))
    progress = []
    for vote in votes:
        rolls = group_rolls(session, vote)
        cast = dict(session.execute(sa.select(BallotCast.group_id, sa.func.count()).where(
            BallotCast.vote_id == vote.id).group_by(BallotCast.group_id)).all())
        reported = set(session.scalars(sa.select(GroupCount.group_id).where(GroupCount.vote_id == vote.id)))
        groups: list[dict[str, Any]] = [{"group_id": g, "name": name, "eligible": eligible, "present": present, "cast": cast.get(g, 0),
                   "mode": vote.group_modes.get(str(g), GroupMode.ONLINE), "reported": g in reported}
                  for g, (name, eligible, present) in rolls.items()]
        progress.append({"vote_id": vote.id, "cast": sum(cast.values()),
                         "present": sum(g["present"] for g in groups),
                         "eligible": sum(g["eligible"] for g in groups), "groups": groups})
    return progress
