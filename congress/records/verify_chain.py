"""Checking an archive, the hash chain: every event's hash from the previous one, seqs 1..last
without gaps, every published record head, and any head a watcher noted (part of
congress.records.verify; the chain's definition is congress.records.chain)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from congress.records.chain import GENESIS, event_hash

if TYPE_CHECKING:
    from congress.records.verify import Report


class ChainCheck:
    """The _Checker's check of the hash chain (congress.records.verify)."""

    # The host's (_Checker's) attributes, declared for the type checker.
    report: Report
    events: list[dict[str, Any]]
    by_type: dict[str, list[dict[str, Any]]]
    problem: Callable[[str], None]

    # -- the chain ------------------------------------------------------------------------------
    def check_chain(self, last_seq: int, head: dict[str, Any], expect: Sequence[tuple[int, str]]) -> None:
        expected, prev, stored_by_seq = 1, GENESIS, {}
        for event in self.events:
            seq = event.get("seq")
            if not isinstance(seq, int) or seq < expected:
                self.problem(f"seq {seq}: out of order or repeated (expected seq {expected})")
                continue
            self.missing(expected, seq - 1)
            computed = event_hash(prev, seq, event.get("type", ""), event.get("payload"))
            stored = event.get("hash")
            if stored is None:
                self.problem(f"seq {seq}: no hash stored (computed {computed})")
            elif stored != computed:
                self.problem(f"seq {seq}: hash does not match (stored {stored}, computed {computed})")
            record = (event.get("payload") or {}).get("record") if event.get("type") == "vote.published" else None
            if event.get("type") == "vote.published":
                want = {"seq": seq - 1, "hash": prev}
                if record != want:
                    self.problem(f"seq {seq}: the published record head {record} is not the head before it {want}")
            stored_by_seq[seq] = stored
            prev, expected = stored or computed, seq + 1
        self.missing(expected, last_seq)
        self.report.events = len(self.events)
        self.report.head_seq = self.events[-1]["seq"] if self.events else 0
        if self.report.head_seq > last_seq:
            self.problem(f"the congress has handed out seq {last_seq} at most, but the log goes to seq "
                         f"{self.report.head_seq}")
        self.report.head_hash = prev if self.events else None
        if head and (head.get("seq"), head.get("hash")) != (self.report.head_seq, self.report.head_hash):
            self.problem(f"manifest head seq {head.get('seq')} hash {head.get('hash')} is not the last event's "
                         f"(seq {self.report.head_seq} hash {self.report.head_hash})")
        for seq, digest in expect:
            stored = stored_by_seq.get(seq)
            if stored is None:
                self.problem(f"seq {seq} (noted by you) is not in the record")
            elif not stored.startswith(digest):
                self.problem(f"seq {seq}: hash {stored} is not the hash you noted ({digest})")
        self.by_type = {}
        for event in self.events:
            self.by_type.setdefault(event.get("type", ""), []).append(event)

    def missing(self, first: int, last: int) -> None:
        if first == last:
            self.problem(f"seq {first} missing")
        elif first < last:
            self.problem(f"seq {first}–{last} missing")

