"""Checking an archive (congress.records.archive) from its files alone.

This is an independent recount. It does not call congress.actions (which produced the results);
it shares only the pure rules — the hash chain's definition (congress.records.chain), the tally's
validity and ratification rules (congress.tally) and the default congress rules — and recomputes:

- the manifest: every file's sha256;
- the chain: every event's hash from the previous one, seqs 1..last without gaps, every published
  record head, and any head a watcher noted (`expect`);
- every vote with a result: who was entitled and present when it closed (roster + the check-ins
  and check-outs replayed from the event log), each group's figures from the archived ballots or
  the group's hand count — for a sealed (secret) vote from the ballots' proofs, the encrypted sums
  and the trustees' decryption proofs (congress.records.verify_sealed) — the totals, the quorum and each question's outcome; ballots per group
  against delegates recorded as voting; the stored result against the one published;
- every document version's sha256.

Each difference is one line naming the seq, vote, question or group and both figures.

This module runs the checks; each lives in its own module: the files (verify_files), the hash
chain (verify_chain), attendance and the votes' recount (verify_recount, verify_sealed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from congress.domain.errors import DomainError
from congress.records.verify_chain import ChainCheck
from congress.records.verify_files import FilesCheck, Unreadable, load_json
from congress.records.verify_recount import Recount


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    head_seq: int = 0
    head_hash: str | None = None
    events: int = 0
    votes: int = 0
    ballots: int = 0
    sealed: list[str] = field(default_factory=list)  # what was rechecked of each sealed vote

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        if self.ok:
            lines = [f"OK  head seq {self.head_seq}  hash {self.head_hash}",
                     f"    {self.events} events chained, {self.votes} votes recounted from {self.ballots} ballots"]
            lines += [f"    {line}" for line in self.sealed]
        else:
            lines = [f"FAILED: {len(self.problems)} difference(s)"] + [f"  {p}" for p in self.problems]
            lines.append(f"    head seq {self.head_seq}  hash {self.head_hash} (as stored)")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def parse_expect(text: str) -> tuple[int, str]:
    """`SEQ:HASH` as noted by a watcher (a hash prefix of at least 8 characters is enough)."""
    seq, _, digest = text.partition(":")
    digest = digest.strip().lower()
    if not seq.strip().isdigit() or len(digest) < 8 or any(c not in "0123456789abcdef" for c in digest):
        raise DomainError("bad_field", f"--expect 应为 序号:哈希，例如 412:3fa1c09e…（收到 {text}）",
                          params={"field": "--expect"})
    return int(seq), digest


def verify_archive(files: Mapping[str, bytes], expect: Sequence[tuple[int, str]] = ()) -> Report:
    report = Report()
    try:
        _Checker(files, report).run(expect)
    except Unreadable as exc:
        report.problems.append(str(exc))
    except (KeyError, TypeError, ValueError, AttributeError, DomainError) as exc:
        # A file altered into a shape this format never has: a difference too, not a crash.
        detail = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        report.problems.append(f"the archive is malformed and could not be checked further ({detail})")
    return report


class _Checker(FilesCheck, ChainCheck, Recount):
    def __init__(self, files: Mapping[str, bytes], report: Report) -> None:
        self.files, self.report = files, report

    def problem(self, text: str) -> None:
        self.report.problems.append(text)

    def run(self, expect: Sequence[tuple[int, str]]) -> None:
        manifest = load_json(self.files, "manifest.json")
        if manifest.get("format") != "congress-archive":
            raise Unreadable("manifest.json does not describe a congress archive")
        self.check_manifest(manifest)
        self.congress = load_json(self.files, "congress.json")
        self.roster = load_json(self.files, "roster.json")
        self.attendance = load_json(self.files, "attendance.json")
        self.events = self.read_events()
        self.check_chain(self.congress.get("last_seq", 0), manifest.get("head") or {}, expect)
        self.groups = {g["id"]: g for g in self.congress["groups"]}
        self.order = [g["id"] for g in sorted(self.congress["groups"], key=lambda g: g["position"])]
        self.check_attendance()
        for name in sorted(self.files, key=_natural):
            if name.startswith("votes/") and name.endswith(".json"):
                self.check_vote(load_json(self.files, name), name)
        self.check_documents()


def _natural(name: str) -> tuple[Any, ...]:
    digits = "".join(c for c in name if c.isdigit())
    return (name.split("-")[0], int(digits) if digits else 0, name)
