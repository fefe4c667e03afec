"""The archive of a congress (职代会档案): everything needed to check its results, as plain files.

    manifest.json          format, congress, head of the record, sha256 and size of every other file
    congress.json          the congress, its groups and agenda, its rules, last_seq
    events.jsonl           the event log in seq order, each event with its hash (congress.records.chain)
    roster.json            the delegates: 工号, name, group, type
    attendance.json        签到表: every stay (check-in, method, 补签到 reason, check-out)
    votes/vote-<id>.json   the vote as defined, who took part (not what they chose), the group counts
                           with their scrutineers, and the stored result (Vote.result)
    ballots/vote-<id>.json the ballots: named votes with 工号 and name; secret votes sealed
                           (ciphertexts and proofs, docs/secrecy.md) with no voter and no time,
                           sorted by their hash; the trustees' key ceremony, the encrypted sums and
                           the decryption shares are public events in events.jsonl
    documents.json, documents/<sha256>   every version of every document, stored by its sha256

A secret vote's ballots are sorted by HMAC-SHA256 of their random id under a fresh 32-byte key from
os.urandom that is thrown away at once: a uniformly random order, different in every export, and
unrelated to check-in, arrival, insertion order or receipt.

Reading a database is here; checking an archive is congress.records.verify, which reads only files.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import zipfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.engine import Database
from congress.db.models import (
    AgendaItem,
    Attendance,
    Ballot,
    BallotCast,
    Congress,
    Delegate,
    Document,
    DocumentVersion,
    Event,
    Group,
    GroupCount,
    SealedBallot,
    Vote,
)
from congress.domain.errors import DomainError
from congress.reads.terms import term_json

FORMAT = "congress-archive"
VERSION = 1
MANIFEST = "manifest.json"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _json(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _line(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def vote_definition(vote: Vote) -> dict[str, Any]:
    return {
        "id": vote.id, "agenda_item_id": vote.agenda_item_id, "round": vote.round, "title": vote.title,
        "status": vote.status, "is_secret": vote.is_secret, "is_changeable": vote.is_changeable,
        "group_modes": vote.group_modes, "ceremony_id": vote.ceremony_id,
        "questions": [
            {"id": q.id, "position": q.position, "kind": q.kind, "text": q.text, "seats": q.seats,
             "allows_write_in": q.allows_write_in, "basis": q.basis, "threshold": q.threshold,
             "is_strict": q.is_strict, "options": [{"key": o.key, "label": o.label} for o in q.options]}
            for q in vote.questions
        ],
        "opened_at": _iso(vote.opened_at), "closes_at": _iso(vote.closes_at), "closed_at": _iso(vote.closed_at),
        "certified_by": vote.certified_by, "certified_at": _iso(vote.certified_at),
        "published_at": _iso(vote.published_at),
    }


def _secret_order(ballots: list[Ballot]) -> list[Ballot]:
    key = os.urandom(32)
    return sorted(ballots, key=lambda b: hmac.new(key, b.id.bytes, hashlib.sha256).digest())


def build_archive(session: Session, congress_id: int, now: datetime) -> dict[str, bytes]:
    """Every file of the archive, by name, read in the caller's (one) transaction."""
    congress = session.get(Congress, congress_id)
    if congress is None:
        raise DomainError("not_found", f"没有编号为 {congress_id} 的职代会")
    groups = list(session.scalars(sa.select(Group).where(Group.congress_id == congress_id).order_by(Group.position)))
    group_name = {g.id: g.name for g in groups}
    position = {g.id: g.position for g in groups}
    files: dict[str, bytes] = {}

    items = session.scalars(sa.select(AgendaItem).where(AgendaItem.congress_id == congress_id)
                            .order_by(AgendaItem.position))
    files["congress.json"] = _json({
        "id": congress.id, "name": congress.name, "status": congress.status, "is_rehearsal": congress.is_rehearsal,
        "term": term_json(session, congress),  # its 届 and 第N届第M次, as the pages show it
        "rules": congress.rules, "last_seq": congress.last_seq, "created_at": _iso(congress.created_at),
        "groups": [{"id": g.id, "name": g.name, "position": g.position} for g in groups],
        "agenda": [{"id": i.id, "position": i.position, "kind": i.kind, "title": i.title, "names": i.names,
                    "status": i.status} for i in items],
    })

    delegates = list(session.scalars(sa.select(Delegate).where(Delegate.congress_id == congress_id)))
    delegates.sort(key=lambda d: (position.get(d.group_id, 0), d.employee_id))
    by_id = {d.id: d for d in delegates}
    files["roster.json"] = _json([
        {"delegate_id": d.id, "employee_id": d.employee_id, "name": d.name, "group_id": d.group_id,
         "group": group_name.get(d.group_id, ""), "delegate_type": d.delegate_type,
         "is_group_leader": d.is_group_leader, "is_active": d.is_active}
        for d in delegates
    ])

    stays = list(session.scalars(sa.select(Attendance).where(Attendance.congress_id == congress_id)))
    stays.sort(key=lambda s: (position.get(by_id[s.delegate_id].group_id, 0), by_id[s.delegate_id].employee_id,
                              s.checked_in_at))
    files["attendance.json"] = _json([
        {"delegate_id": s.delegate_id, "employee_id": by_id[s.delegate_id].employee_id,
         "name": by_id[s.delegate_id].name, "group": group_name.get(by_id[s.delegate_id].group_id, ""),
         "delegate_type": by_id[s.delegate_id].delegate_type, "checked_in_at": _iso(s.checked_in_at),
         "method": s.method, "reason": s.reason, "checked_out_at": _iso(s.checked_out_at),
         "checkout_reason": s.checkout_reason}
        for s in stays
    ])

    events = session.scalars(sa.select(Event).where(Event.congress_id == congress_id).order_by(Event.seq))
    lines: list[str] = []
    head: dict[str, Any] = {"seq": 0, "hash": None}
    for e in events:
        lines.append(_line({"seq": e.seq, "type": e.type, "payload": e.payload, "audience": e.audience,
                            "audience_id": e.audience_id, "created_at": _iso(e.created_at), "hash": e.hash}))
        head = {"seq": e.seq, "hash": e.hash}
    files["events.jsonl"] = ("\n".join(lines) + "\n" if lines else "").encode("utf-8")

    for vote in session.scalars(sa.select(Vote).where(Vote.congress_id == congress_id).order_by(Vote.id)):
        files.update(_vote_files(session, vote, group_name, position, by_id))

    documents = []
    for document in session.scalars(sa.select(Document).where(Document.congress_id == congress_id)
                                    .order_by(Document.id)):
        versions = []
        for v in session.scalars(sa.select(DocumentVersion).where(DocumentVersion.document_id == document.id)
                                 .order_by(DocumentVersion.version)):
            name = f"documents/{hashlib.sha256(v.content).hexdigest()}"
            files[name] = v.content
            versions.append({"version": v.version, "filename": v.filename, "content_type": v.content_type,
                             "sha256": v.sha256, "size": len(v.content), "file": name,
                             "uploaded_by": v.uploaded_by, "uploaded_at": _iso(v.uploaded_at)})
        documents.append({"id": document.id, "title": document.title, "agenda_item_id": document.agenda_item_id,
                          "is_public": document.is_public, "is_tabled": document.is_tabled,
                          "created_at": _iso(document.created_at), "versions": versions})
    files["documents.json"] = _json(documents)

    files[MANIFEST] = _json({
        "format": FORMAT, "version": VERSION, "congress_id": congress.id, "congress": congress.name,
        "exported_at": now.isoformat(), "head": head,
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                  for name, data in sorted(files.items())},
    })
    return files


def _vote_files(session: Session, vote: Vote, group_name: dict[int, str], position: dict[int, int],
                delegates: dict[int, Delegate]) -> dict[str, bytes]:
    counts = session.scalars(sa.select(GroupCount).where(GroupCount.vote_id == vote.id))
    casts = list(session.scalars(sa.select(BallotCast).where(BallotCast.vote_id == vote.id)))
    by_group: dict[str, int] = {}
    for cast in casts:
        by_group[str(cast.group_id)] = by_group.get(str(cast.group_id), 0) + 1
    # Who took part (领票签名), never what they chose, and never in the order they voted.
    participants = [{"delegate_id": c.delegate_id, "employee_id": delegates[c.delegate_id].employee_id,
                     "name": delegates[c.delegate_id].name, "group_id": c.group_id}
                    for c in sorted(casts, key=lambda c: (position.get(c.group_id, 0),
                                                          delegates[c.delegate_id].employee_id))]
    definition = {
        "vote": vote_definition(vote),
        "result": vote.result,
        "group_counts": [
            {"group_id": c.group_id, "group": group_name.get(c.group_id, ""), "method": c.method,
             "figures": c.figures, "scrutineer": c.scrutineer, "entered_by": c.entered_by,
             "entered_at": _iso(c.entered_at)}
            for c in sorted(counts, key=lambda c: position.get(c.group_id, 0))
        ],
        "participation": {"by_group": by_group, "delegates": participants},
    }
    ballots = list(session.scalars(sa.select(Ballot).where(Ballot.vote_id == vote.id)))
    if vote.is_secret and vote.ceremony_id is not None:
        sealed = session.execute(sa.select(SealedBallot.hash, SealedBallot.group_id, SealedBallot.content)
                                 .where(SealedBallot.vote_id == vote.id).order_by(SealedBallot.hash))
        definition["sealed_tally"] = vote.sealed_tally
        rows = [{"hash": h, "group_id": g, "group": group_name.get(g, ""), "content": c} for h, g, c in sealed]
        return {
            f"votes/vote-{vote.id}.json": _json(definition),
            f"ballots/vote-{vote.id}.json": _json({"vote_id": vote.id, "is_secret": True, "is_sealed": True,
                                                   "ballots": rows}),
        }
    if vote.is_secret:  # secret votes held before ballots were sealed (before 2026-12)
        rows = [{"receipt": b.receipt, "group_id": b.group_id, "group": group_name.get(b.group_id, ""),
                 "answers": b.answers} for b in _secret_order(ballots)]
    else:
        ballots.sort(key=lambda b: (position.get(b.group_id, 0),
                                    delegates[b.delegate_id].employee_id if b.delegate_id in delegates else ""))
        rows = [{"employee_id": delegates[b.delegate_id].employee_id if b.delegate_id in delegates else None,
                 "name": delegates[b.delegate_id].name if b.delegate_id in delegates else None,
                 "receipt": b.receipt, "group_id": b.group_id, "group": group_name.get(b.group_id, ""),
                 "answers": b.answers, "updated_at": _iso(b.updated_at)} for b in ballots]
    return {
        f"votes/vote-{vote.id}.json": _json(definition),
        f"ballots/vote-{vote.id}.json": _json({"vote_id": vote.id, "is_secret": vote.is_secret, "ballots": rows}),
    }


def export_congress(db: Database, congress_id: int, now: datetime) -> dict[str, bytes]:
    """Build the archive from one consistent read of the database (PostgreSQL: REPEATABLE READ)."""
    with db.read() as session:
        if not db.is_sqlite:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return build_archive(session, congress_id, now)


def write_archive(files: Mapping[str, bytes], out: Path) -> None:
    """To a .zip file, or to a folder (which must be new or empty: stale files would not verify)."""
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in sorted(files.items()):
                archive.writestr(name, data)
        return
    if out.exists() and any(out.iterdir()):
        raise DomainError("folder_not_empty", f"文件夹 {out} 不是空的，请指定新的文件夹或 .zip 文件")
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def read_archive(path: Path) -> dict[str, bytes]:
    """The files of an archive written by write_archive (a .zip or a folder), by name."""
    if path.is_dir():
        return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
    if not path.exists():
        raise FileNotFoundError(2, "No such file", str(path))
    try:
        with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
            return {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    except zipfile.BadZipFile as exc:
        raise DomainError("bad_archive", f"{path} 不是职代会档案（既不是文件夹也不是 zip 文件）") from exc
