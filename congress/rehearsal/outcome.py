"""The outcome: what the clients saw merged and checked against the server's log (the truth),
each published tally against the ballots cast, the figures and the verdict in the report."""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Any

from congress.rehearsal.faults import summarise
from congress.rehearsal.ledger import PublicLog, StaffLedger

if TYPE_CHECKING:
    from congress.rehearsal.client import Peer
    from congress.rehearsal.faults import FaultRun


class Outcome:
    """The Coordinator's merging of the results (congress.rehearsal.scenario)."""

    # The host's (Coordinator's) attributes, declared for the type checker.
    ledger: StaffLedger
    causes: dict[tuple[str, Any], float]
    errors: list[dict[str, Any]]
    expected_errors: int
    staff: Peer | None
    report: dict[str, Any]
    fault: FaultRun | None
    fault_probe: dict[str, Any] | None
    fault_acks: list[dict[str, Any]]

    # -- merging ---------------------------------------------------------------------------------
    def _truth(self, log: PublicLog, marker: int) -> dict[str, Any]:
        causes = {seq: self.causes[key] for seq, key in self.ledger.keys.items() if key in self.causes}
        start = self.staff.intervals[0][0] if self.staff is not None and self.staff.intervals else 0
        public = sorted(s for s in log.public if start < s <= marker)  # from when the ledger began
        return {"public": public, "marker": marker,
                "at": {s: self.ledger.at[s] for s in public if s in self.ledger.at},
                "types": dict(self.ledger.types), "causes": causes,
                "group_events": dict(self.ledger.group_events), "checked_in": dict(self.ledger.checked_in)}

    def _merge(self, results: list[dict[str, Any]], synced: list[dict[str, Any]], truth: dict[str, Any],
               log: PublicLog, ledger_start: int, marker: int) -> None:
        r = self.report
        totals: Counter[str] = Counter()
        latency: dict[str, Counter[int]] = {}
        latency_max: dict[str, float] = {}
        examples: list[str] = []
        resync: list[float] = []
        for res in results:
            totals.update(res["totals"])
            examples += res["examples"]
            for etype, hist in res["latency"].items():
                latency.setdefault(etype, Counter()).update({int(k): v for k, v in hist.items()})
            for etype, value in res["latency_max"].items():
                latency_max[etype] = max(latency_max.get(etype, 0.0), value)
            self.errors += res["errors"]
            self.expected_errors += res["expected_errors"]
            resync += res["resync_seconds"]
            totals["type_conflicts"] += res["type_conflict_count"]
        staff = self.staff
        assert staff is not None
        staff_dups = len(staff.seqs) - len(set(staff.seqs))
        gaps = self.ledger.gaps(ledger_start, marker)
        public = set(truth["public"])
        not_in_ledger = sorted(s for s in public if s not in self.ledger.types)
        type_mismatch = sorted(s for s in public if self.ledger.types.get(s) not in (None, log.public[s]))
        behind = sum(s["count"] for s in synced)
        r["integrity"] = {
            "public_events": len(public), "ledger_events": marker - ledger_start,
            "clients_checked": totals["clients"], "expected_deliveries": totals["expected"],
            "lost": totals["lost"], "duplicated": totals["duplicated"], "leaked": totals["leaked"],
            "out_of_order": totals["order_violations"], "type_conflicts": totals["type_conflicts"],
            "unknown_seqs": totals["unknown"], "clients_failed": totals["failed_clients"],
            "clients_never_connected": totals["never_connected"],
            "clients_behind_at_end": behind,
            "staff_ledger": {"from": ledger_start, "to": marker, "gaps": len(gaps), "duplicated": staff_dups,
                             "resumes": staff.resumes, "snapshot_fallbacks": staff.snapshot_fallbacks},
            "log_reader": {"pages": log.pages, "holes": log.holes, "anomalies": log.anomalies[:5],
                           "public_not_in_ledger": not_in_ledger[:5], "type_mismatch": type_mismatch[:5]},
            "examples": examples[:15] + [f"{s['behind']}" for s in synced if s["count"]][:3],
        }
        r["drops"] = {
            "planned": totals["planned_drops"], "resumes": totals["resumes"],
            "snapshot_fallbacks": totals["snapshot_fallbacks"], "resends": totals["resends"],
            "connect_failures": totals["connect_failures"],
            "closes": {k[6:]: v for k, v in totals.items() if k.startswith("close ")},
            "resync_p50_seconds": _round(_pct(resync, 50)), "resync_p99_seconds": _round(_pct(resync, 99)),
        }
        merged: Counter[int] = Counter()
        for hist in latency.values():
            merged.update(hist)
        fanout_by_type: dict[str, Counter[int]] = {}
        for res in results:
            for etype, hist in res["fanout"].items():
                fanout_by_type.setdefault(etype, Counter()).update({int(k): v for k, v in hist.items()})
        fanout: Counter[int] = Counter()
        for hist in fanout_by_type.values():
            fanout.update(hist)
        # command sent -> the event's server time: the part spent queueing for and in the writer
        in_writer: dict[str, list[float]] = {}
        for seq, sent in truth["causes"].items():
            if seq in truth["at"]:
                in_writer.setdefault(truth["types"].get(seq, "?"), []).append((truth["at"][seq] - sent) * 1000.0)
        r["delivery"] = {
            "observer_deliveries": totals["live_deliveries"] + totals["backlog_deliveries"],
            "live": totals["live_deliveries"], "after_resume": totals["backlog_deliveries"],
            "measured": sum(merged.values()), "caused_events": len(truth["causes"]),
            "p50_ms": _hist_pct(merged, 50), "p99_ms": _hist_pct(merged, 99),
            "max_ms": round(max(latency_max.values()), 1) if latency_max else None,
            "server_time_to_observer": {"p50_ms": _hist_pct(fanout, 50), "p99_ms": _hist_pct(fanout, 99),
                                        "max_ms": round(max(x["fanout_max"] for x in results), 1)},
            "by_type": {etype: {"n": sum(h.values()), "p50_ms": _hist_pct(h, 50), "p99_ms": _hist_pct(h, 99),
                                "max_ms": round(latency_max.get(etype, 0.0), 1),
                                "to_server_time_p50_ms": _round(_pct(in_writer.get(etype, []), 50)),
                                "to_server_time_p99_ms": _round(_pct(in_writer.get(etype, []), 99)),
                                "server_time_to_observer_p50_ms": _hist_pct(fanout_by_type.get(etype, Counter()), 50),
                                "server_time_to_observer_p99_ms": _hist_pct(fanout_by_type.get(etype, Counter()), 99)}
                        for etype, h in sorted(latency.items())},
        }
        unexpected = Counter(e["code"] for e in self.errors)
        r["errors"] = {"unexpected": len(self.errors), "by_code": dict(unexpected), "expected_refusals":
                       self.expected_errors, "examples": self.errors[:10]}
        r["clients"].update(cpu_seconds=round(sum(x["cpu_seconds"] for x in results), 1),
                            max_rss_mb=round(max(x["max_rss_mb"] for x in results), 1),
                            max_open_files_per_process=max(x["max_open_files"] for x in results))
        mismatches = [m for v in r.get("votes", []) for m in v["mismatches"]]
        unpublished = [v["vote_id"] for v in r.get("votes", []) if not v["tally_matches"] and not v["mismatches"]]
        r["tallies"] = {"votes": len(r.get("votes", [])), "mismatches": len(mismatches) + len(unpublished)}
        integrity = r["integrity"]
        problems = []
        for name in ("lost", "duplicated", "leaked", "out_of_order", "type_conflicts", "clients_failed",
                     "clients_never_connected", "clients_behind_at_end"):
            if integrity[name]:
                problems.append(f"{name}: {integrity[name]}")
        if gaps or staff_dups or self.ledger.repeats:
            problems.append(f"staff ledger: {len(gaps)} gaps, {staff_dups + self.ledger.repeats} duplicates")
        if log.holes or log.anomalies or not_in_ledger or type_mismatch:
            problems.append("public log reader: incomplete or inconsistent truth")
        if r["tallies"]["mismatches"]:
            problems.append(f"tally mismatches: {r['tallies']['mismatches']}")
        if self.errors:
            problems.append(f"unexpected errors: {len(self.errors)}")
        storm = r.get("storm")  # slow resync is a missed target; never resyncing shows as behind/lost above
        p99 = r["delivery"]["p99_ms"]
        r["targets"] = {"zero_lost": integrity["lost"] == 0 and integrity["duplicated"] == 0,
                        "observer_p99_under_1s": p99 is not None and p99 < 1000}
        if storm:
            r["targets"]["storm_under_15s"] = (storm["resynced"] == storm["observers"] and storm["seconds"] is not None
                                               and storm["seconds"] < 15)
        r["problems"] = problems
        r["ok"] = not problems

    def _fault_report(self, synced: list[dict[str, Any]]) -> None:
        assert self.fault is not None
        r = self.report
        entry = summarise(self.fault, self.fault_acks, [o for s in synced for o in s.get("outages", [])],
                          sum(s.get("away", 0) for s in synced), self.fault_probe,
                          sum(s.get("retried", 0) for s in synced) + (self.staff.retried if self.staff else 0),
                          sum(s.get("moved", 0) for s in synced))
        r["faults"] = [entry]
        r["problems"] += [f"fault: {p}" for p in entry["problems"]]
        r["ok"] = not r["problems"]


def compare_tally(questions: list[dict[str, Any]], acks: list[dict[str, Any]], hands: list[dict[str, Any]],
                  result: dict[str, Any] | None) -> list[str]:
    """The published result against the ballots acknowledged and the hand counts entered, per
    question, per group and in total. Returns the differences in words (none: it matches)."""
    if result is None:
        return ["the result was never published to the staff connection"]
    expected: dict[str, dict[int, Counter[str]]] = {str(q["id"]): {} for q in questions}
    returned: dict[int, int] = Counter()
    for a in acks:
        returned[a["group_id"]] += 1
        for qid, answer in a["answers"].items():
            group = expected[qid].setdefault(a["group_id"], Counter())
            group.update(answer if isinstance(answer, list) else [answer])
    for h in hands:
        gid = h["group_id"]
        returned[gid] += h["args"]["present"] if h["args"]["method"] == "show_of_hands" else \
            next(iter(h["args"]["questions"].values()))["returned"]
        for qid, figures in h["args"]["questions"].items():
            expected[qid][gid] = Counter(figures["counts"])
    problems = []
    published = {str(q["question_id"]): q for q in result.get("questions", [])}
    for qid, groups in expected.items():
        q = published.get(qid)
        if q is None:
            problems.append(f"question {qid} missing from the published result")
            continue
        got_groups = {int(g["group_id"]): g for g in q.get("groups", [])}
        total: Counter[str] = Counter()
        for gid, counts in groups.items():
            total.update(counts)
            got = got_groups.get(gid)
            want = {k: v for k, v in counts.items() if v}
            have = {k: v for k, v in (got or {}).get("counts", {}).items() if v}
            if want != have:
                problems.append(f"question {qid} group {gid}: published {have}, cast {want}")
            if got is not None and got.get("returned") != returned.get(gid, 0):
                problems.append(f"question {qid} group {gid}: returned {got.get('returned')}, cast {returned.get(gid, 0)}")
        for gid, got in got_groups.items():
            if gid not in groups and any(got.get("counts", {}).values()):
                problems.append(f"question {qid} group {gid}: published {got['counts']}, nothing cast")
        have_total = {o["key"]: o["count"] for o in q.get("options", []) if o["count"]}
        if have_total != {k: v for k, v in total.items() if v}:
            problems.append(f"question {qid} total: published {have_total}, cast {dict(total)}")
    return problems


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))], 1)


def _hist_pct(hist: Counter[int], p: float) -> float | None:
    total = sum(hist.values())
    if not total:
        return None
    rank = max(1, math.ceil(p / 100 * total))
    seen = 0
    for ms in sorted(hist):
        seen += hist[ms]
        if seen >= rank:
            return float(ms)
    return float(max(hist))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
