"""Checking an archive, the recount: attendance replayed from the event log, and every vote with a
result counted again from its archived ballots or hand counts — who was entitled and present, each
group's figures, the totals, the quorum and each question's outcome (part of congress.records.verify;
sealed votes through congress.records.verify_sealed)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from congress.domain.errors import DomainError
from congress.domain.rules import CongressRules
from congress.records.verify_files import load_json
from congress.records.verify_sealed import recount_sealed
from congress.tally import (
    Basis,
    GroupTally,
    Rule,
    ballot_is_valid,
    check_quorum,
    combine,
    decide_motion,
    elect,
    summarise_rating,
    validate_group_count,
)
from congress.tally.rules import as_threshold

FIGURES = ("eligible", "present", "issued", "returned", "valid", "void")
MAX_LINES_PER_KIND = 50

if TYPE_CHECKING:
    from congress.records.verify import Report


class Recount:
    """The _Checker's recount of attendance and votes (congress.records.verify)."""

    # The host's (_Checker's) attributes, declared for the type checker: the archive's files and
    # what was read from them.
    files: Mapping[str, bytes]
    report: Report
    congress: dict[str, Any]
    roster: list[dict[str, Any]]
    attendance: list[dict[str, Any]]
    events: list[dict[str, Any]]
    by_type: dict[str, list[dict[str, Any]]]
    groups: dict[int, dict[str, Any]]
    order: list[int]
    problem: Callable[[str], None]

    # -- attendance ------------------------------------------------------------------------------
    def present_after(self, seq: int) -> set[int]:
        """Delegates checked in after the events up to `seq`, replayed from the log."""
        here: set[int] = set()
        for event in self.events:
            if event["seq"] > seq:
                break
            if event.get("type") == "attendance.checked_in":
                here.add(event["payload"]["delegate_id"])
            elif event.get("type") == "attendance.checked_out":
                here.discard(event["payload"]["delegate_id"])
        return here

    def check_attendance(self) -> None:
        """The 签到表 tells the same story as the event log: who is checked in at the end."""
        by_id = {d["delegate_id"]: d for d in self.roster}
        listed = {s["delegate_id"] for s in self.attendance if s.get("checked_out_at") is None}
        replayed = self.present_after(self.report.head_seq)
        for delegate_id in sorted(listed ^ replayed)[:MAX_LINES_PER_KIND]:
            who = by_id.get(delegate_id, {}).get("employee_id", f"delegate {delegate_id}")
            self.problem(f"attendance of {who}: the 签到表 says {'checked in' if delegate_id in listed else 'not'}"
                         f", the event log says {'checked in' if delegate_id in replayed else 'not'}")
        stays: dict[int, int] = {}
        for stay in self.attendance:
            stays[stay["delegate_id"]] = stays.get(stay["delegate_id"], 0) + 1
        check_ins: dict[int, int] = {}
        for event in self.by_type.get("attendance.checked_in", []):
            check_ins[event["payload"]["delegate_id"]] = check_ins.get(event["payload"]["delegate_id"], 0) + 1
        if stays != check_ins:
            self.problem(f"the 签到表 holds {sum(stays.values())} check-ins, the event log "
                         f"{sum(check_ins.values())}")

    def rules_at(self, seq: int) -> CongressRules:
        changes = self.by_type.get("congress.rules_changed", [])
        before = [e for e in changes if e["seq"] < seq]
        if before:
            return CongressRules.from_json(before[-1]["payload"]["rules"])
        return CongressRules.from_json(self.congress["rules"]) if not changes else CongressRules()

    # -- votes -----------------------------------------------------------------------------------
    def check_vote(self, data: dict[str, Any], name: str) -> None:
        vote = data["vote"]
        vid = vote["id"]
        ballots_file = load_json(self.files, f"ballots/vote-{vid}.json")
        ballots = ballots_file["ballots"]
        self.report.ballots += len(ballots)
        label = f"vote {vid}"
        if ballots_file.get("is_secret") != vote["is_secret"]:
            self.problem(f"{label}: the ballot file and the vote disagree on whether it is secret")
        if ballots_file.get("is_sealed"):
            for ballot in ballots:
                if set(ballot) != {"hash", "group_id", "group", "content"}:
                    self.problem(f"{label}: a sealed ballot carries {sorted(set(ballot))}")
                    break
        elif vote["is_secret"]:
            for ballot in ballots:
                if set(ballot) - {"receipt", "group_id", "group", "answers"}:
                    self.problem(f"{label}: a secret ballot carries {sorted(set(ballot) - {'receipt', 'group_id', 'group', 'answers'})}")
                    break
        receipts = [b.get("receipt") or b.get("hash") for b in ballots]
        if len(set(receipts)) != len(receipts):
            self.problem(f"{label}: the same receipt appears on more than one ballot")
        self.check_participation(label, vote, data["participation"], ballots)
        self.check_vote_events(label, vote, data)
        stored = data.get("result")
        if stored is None:
            return
        self.report.votes += 1
        closed = [e for e in self.by_type.get("vote.closed", []) if e["payload"].get("vote_id") == vid]
        if not closed:
            self.problem(f"{label}: has a result but no vote.closed event")
            return
        self.recount(label, vote, data, ballots, stored, closed[-1]["seq"])

    def check_participation(self, label: str, vote: dict[str, Any], participation: dict[str, Any],
                            ballots: list[dict[str, Any]]) -> None:
        """Ballots per group against delegates recorded as voting (ballot_cast) and ballot.recorded events."""
        per_group: dict[int, int] = {}
        for ballot in ballots:
            per_group[ballot["group_id"]] = per_group.get(ballot["group_id"], 0) + 1
        voters = participation["delegates"]
        voted: dict[int, int] = {}
        for person in voters:
            voted[person["group_id"]] = voted.get(person["group_id"], 0) + 1
        declared = {int(g): n for g, n in participation["by_group"].items()}
        for group_id in self.order:
            name = self.groups[group_id]["name"]
            if per_group.get(group_id, 0) != voted.get(group_id, 0):
                self.problem(f"{label} group {name}: {per_group.get(group_id, 0)} ballots, but "
                             f"{voted.get(group_id, 0)} delegates recorded as voting")
            if declared.get(group_id, 0) != voted.get(group_id, 0):
                self.problem(f"{label} group {name}: participation count {declared.get(group_id, 0)} stored, "
                             f"{voted.get(group_id, 0)} listed")
        recorded = {e["audience_id"] for e in self.by_type.get("ballot.recorded", [])
                    if e["payload"].get("vote_id") == vote["id"] and not e["payload"].get("is_change")}
        listed = {p["delegate_id"] for p in voters}
        if recorded != listed:
            self.problem(f"{label}: the event log records {len(recorded)} delegates voting, the archive lists "
                         f"{len(listed)} ({len(listed - recorded)} without a ballot.recorded event, "
                         f"{len(recorded - listed)} not listed)")
        opened = [e["seq"] for e in self.by_type.get("vote.opened", []) if e["payload"].get("id") == vote["id"]]
        if not opened or any(e["seq"] > opened[-1] for e in self.by_type.get("roster.imported", [])):
            return  # the roster in the archive is today's, and may have changed since the vote
        types = {d["delegate_id"]: d for d in self.roster}
        strangers = [p["employee_id"] for p in voters if types.get(p["delegate_id"], {}).get("delegate_type") != "正式代表"]
        if strangers:
            self.problem(f"{label}: recorded as voting but not voting delegates: {', '.join(strangers[:10])}")

    def check_vote_events(self, label: str, vote: dict[str, Any], data: dict[str, Any]) -> None:
        vid = vote["id"]
        published = [e for e in self.by_type.get("vote.published", []) if e["payload"].get("vote_id") == vid]
        if vote["status"] == "published" and not published:
            self.problem(f"{label}: published, but the event log has no vote.published for it")
        for event in published:
            if event["payload"].get("result") != data.get("result"):
                self.problem(f"{label}: the stored result differs from the result published at seq {event['seq']}"
                             f"{_first_difference(event['payload'].get('result'), data.get('result'))}")
        tallied = [e for e in self.by_type.get("vote.tallied", []) if e["payload"].get("vote_id") == vid]
        if tallied and tallied[-1]["payload"].get("result") != data.get("result"):
            self.problem(f"{label}: the stored result differs from the tally recorded at seq {tallied[-1]['seq']}"
                         f"{_first_difference(tallied[-1]['payload'].get('result'), data.get('result'), 'tallied')}")
        certified = [e for e in self.by_type.get("vote.certified", []) if e["payload"].get("vote_id") == vid]
        if certified and certified[-1]["payload"].get("certified_by") != vote.get("certified_by"):
            self.problem(f"{label}: certified by {certified[-1]['payload'].get('certified_by')} (seq "
                         f"{certified[-1]['seq']}), but the vote names {vote.get('certified_by')}")
        if vote.get("certified_by") and not certified:
            self.problem(f"{label}: names a scrutineer but the event log has no vote.certified for it")
        for count in data["group_counts"]:
            if not str(count.get("scrutineer") or "").strip():
                self.problem(f"{label} group {count.get('group')}: hand count without a scrutineer")

    def rolls(self, label: str, vote: dict[str, Any], data: dict[str, Any], closed_seq: int,
              stored: dict[str, Any]) -> dict[int, tuple[int, int]]:
        """Per group: 应到 (active voting delegates) and 实到 when the vote closed (checked in, or voted)."""
        here = self.present_after(closed_seq)
        took_part = {p["delegate_id"] for p in data["participation"]["delegates"]}
        eligible: dict[int, int] = dict.fromkeys(self.order, 0)
        present: dict[int, int] = dict.fromkeys(self.order, 0)
        for d in self.roster:
            if d["delegate_type"] != "正式代表" or not d["is_active"] or d["group_id"] not in eligible:
                continue
            eligible[d["group_id"]] += 1
            if d["delegate_id"] in here or d["delegate_id"] in took_part:
                present[d["group_id"]] += 1
        if any(e["seq"] > closed_seq for e in self.by_type.get("roster.imported", [])):
            # The roster in the archive is today's; it was re-imported after this vote closed.
            stored_groups = {g["group_id"]: g for q in stored.get("questions", [])[:1] for g in q.get("groups", [])}
            self.report.notes.append(f"{label}: the roster was re-imported after this vote closed; 应到 and 实到 "
                                     "are taken from the stored result, not recomputed")
            return {g: (stored_groups[g]["eligible"], stored_groups[g]["present"]) if g in stored_groups
                    else (eligible[g], present[g]) for g in self.order}
        return {g: (eligible[g], present[g]) for g in self.order}

    def recount(self, label: str, vote: dict[str, Any], data: dict[str, Any], ballots: list[dict[str, Any]],
                stored: dict[str, Any], closed_seq: int) -> None:
        hand = {int(g) for g, mode in vote["group_modes"].items() if mode == "hand_count"}
        counts = {c["group_id"]: c for c in data["group_counts"]}
        rolls = self.rolls(label, vote, data, closed_seq, stored)
        for ballot in ballots:
            if ballot["group_id"] in hand:
                self.problem(f"{label}: a ballot (receipt {ballot.get('receipt')}) is counted online for group "
                             f"{self.groups.get(ballot['group_id'], {}).get('name')}, which counted by hand")
        for g in sorted(hand - set(counts), key=self.order.index):
            self.problem(f"{label} group {self.groups[g]['name']}: counts by hand but no group count was entered")
        for g in sorted(set(counts) & hand, key=self.order.index):
            self.check_group_count(label, vote, counts[g])
        sealed = None
        if vote.get("ceremony_id") is not None:
            recount = recount_sealed(label, vote, ballots, self.by_type, [g for g in self.order if g not in hand],
                                     {g: rolls[g] for g in self.order if g not in hand})
            if recount.tallies is None:
                for problem in recount.problems:
                    self.problem(problem)
                return
            sealed = recount.tallies
            self.report.sealed.append(f"{label} (sealed): {recount.ballots} ballots' proofs, {recount.pools} encrypted "
                                      f"sums and {recount.trustees} trustees' decryption proofs checked")
        online_ballots: dict[int, list[dict[str, Any]]] = {g: [] for g in self.order if g not in hand}
        for ballot in ballots if sealed is None else []:
            if ballot["group_id"] in online_ballots:
                online_ballots[ballot["group_id"]].append(ballot)
            elif ballot["group_id"] not in hand:
                self.problem(f"{label}: a ballot (receipt {ballot.get('receipt')}) names group {ballot['group_id']}, "
                             "which is not a group of this congress")

        eligible_total = sum(e for e, _p in rolls.values())
        present_total = sum(rolls[g][1] for g in self.order if g not in hand) + sum(
            counts[g]["figures"]["present"] for g in hand if g in counts)
        void_groups = [self.groups[g]["name"] for g in self.order if g in hand and g in counts and _void_round(counts[g])]
        self.compare(f"{label}", "eligible", stored.get("eligible"), eligible_total)
        self.compare(f"{label}", "present", stored.get("present"), present_total)
        if bool(stored.get("is_void_round")) != bool(void_groups):
            self.problem(f"{label}: void round stored {bool(stored.get('is_void_round'))}, "
                         f"counted {bool(void_groups)}")
        rules = self.rules_at(closed_seq)
        try:
            quorum = check_quorum(present_total, eligible_total, rules.quorum_fraction, rules.quorum_inclusive)
            stored_quorum = stored.get("quorum") or {}
            for key, value in (("met", quorum.met), ("required", quorum.required), ("words", quorum.words)):
                self.compare(f"{label} quorum", key, stored_quorum.get(key), value)
        except DomainError as exc:
            self.problem(f"{label}: the quorum cannot be computed: {exc.message}")

        stored_questions = {q.get("question_id"): q for q in stored.get("questions", [])}
        cast = 0
        for question in vote["questions"]:
            qlabel = f"{label} question {question['id']}"
            entry = stored_questions.pop(question["id"], None)
            if entry is None:
                self.problem(f"{qlabel}: no stored result for this question")
                continue
            tallies = []
            pooled = {int(t.group_id): t for t in sealed["tallies"][str(question["id"])]} if sealed else {}
            for g in self.order:
                eligible, present = rolls[g]
                if g in hand:
                    if g in counts:
                        tallies.append(_hand_tally(g, eligible, counts[g], str(question["id"])))
                    continue
                if sealed is None:
                    tallies.append(_count_online(g, eligible, present, question, online_ballots[g]))
                elif g in pooled:  # a pool of small groups is one entry, under its first group
                    tallies.append(pooled[g])
            self.compare_groups(qlabel, entry, tallies, {g: counts[g]["method"] for g in counts})
            try:
                tally = combine(tallies)
            except DomainError as exc:
                self.problem(f"{qlabel}: {exc.message}")
                continue
            for key in FIGURES:
                self.compare(qlabel, key, entry.get(key), getattr(tally, key))
            self.compare_counts(qlabel, {o["key"]: o["count"] for o in entry.get("options", [])}, tally.counts)
            cast = max(cast, tally.returned)
            if sealed is not None:
                self.report.sealed.append(f"{qlabel} recounted: " + ", ".join(
                    f"{o['label']} {tally.counts.get(o['key'], 0)}" for o in question["options"]))
            if not void_groups:
                self.check_outcome(qlabel, question, entry, tally)
        for extra in stored_questions:
            self.problem(f"{label}: the stored result has question {extra}, which the vote does not ask")
        self.compare(label, "cast", stored.get("cast"), cast)

    def check_group_count(self, label: str, vote: dict[str, Any], count: dict[str, Any]) -> None:
        """A hand count as entered (the group_count.entered event) and within the group's checked-in roll."""
        g, glabel = count["group_id"], f"{label} group {count['group']}"
        entered = [e for e in self.by_type.get("group_count.entered", [])
                   if e["payload"].get("vote_id") == vote["id"] and e["payload"].get("group_id") == g]
        if not entered:
            self.problem(f"{glabel}: the event log has no group_count.entered for this hand count")
            return
        last = entered[-1]
        if last["payload"].get("figures") != count["figures"]:
            self.problem(f"{glabel}: the stored hand count differs from the one entered at seq {last['seq']}"
                         f"{_first_difference(last['payload'].get('figures'), count['figures'], 'entered')}")
        if last["payload"].get("scrutineer") != count["scrutineer"]:
            self.problem(f"{glabel}: scrutineer stored {count['scrutineer']}, entered "
                         f"{last['payload'].get('scrutineer')} at seq {last['seq']}")
        here = self.present_after(last["seq"])
        checked_in = sum(1 for d in self.roster if d["group_id"] == g and d["delegate_type"] == "正式代表"
                         and d["delegate_id"] in here)
        figures = count["figures"]
        for question in vote["questions"]:
            q = figures["questions"].get(str(question["id"]))
            if q is None:
                self.problem(f"{glabel}: no figures for question {question['id']}")
                continue
            tally = _hand_tally(g, figures["present"], count, str(question["id"]))
            try:
                validate_group_count(tally, checked_in, vote["is_secret"], count["method"],
                                     question["seats"] if question["kind"] == "election" else None)
            except DomainError as exc:
                self.problem(f"{glabel} question {question['id']}: the hand count breaks the counting rules "
                             f"({checked_in} voting delegates checked in when it was entered): {exc.message}")

    def check_outcome(self, qlabel: str, question: dict[str, Any], entry: dict[str, Any], tally: Any) -> None:
        rule = Rule(Basis(question["basis"]), as_threshold(question["threshold"], question["is_strict"]),
                    question["is_strict"])
        # Candidates in the order the stored result lists them (ties keep input order in the words);
        # the figures themselves are the ones counted here.
        order = [o["key"] for o in entry.get("options", [])]
        counts = {k: tally.counts[k] for k in order if k in tally.counts}
        counts.update({k: n for k, n in tally.counts.items() if k not in counts})
        try:
            if question["kind"] == "yes_no":
                motion = decide_motion(counts, rule, voting_total=tally.eligible, present=tally.present,
                                       cast=tally.returned)
                expected: dict[str, Any] = {"passed": motion.passed, "required": motion.required,
                                            "words": motion.words}
            elif question["kind"] == "election":
                basis = rule.basis_count(tally.eligible, tally.present, tally.returned)
                outcome = elect(counts, question["seats"] or 1, rule, basis)
                expected = {"elected": outcome.elected, "tied_for_last": outcome.tied_for_last,
                            "unfilled_seats": outcome.unfilled_seats, "required": rule.required(basis),
                            "words": outcome.words}
            else:
                rating = summarise_rating(counts, [o["key"] for o in question["options"]])
                expected = {"words": rating.words}
        except DomainError as exc:
            self.problem(f"{qlabel}: the outcome cannot be decided from the counted figures: {exc.message}")
            return
        for key, value in expected.items():
            self.compare(qlabel, key, entry.get(key), value)

    def compare_groups(self, qlabel: str, entry: dict[str, Any], tallies: list[GroupTally],
                       methods: dict[int, str]) -> None:
        stored_groups = {g.get("group_id"): g for g in entry.get("groups", [])}
        for tally in tallies:
            g = int(tally.group_id)
            glabel = f"{qlabel} group {self.groups[g]['name']}"
            stored = stored_groups.pop(g, None)
            if stored is None:
                self.problem(f"{glabel}: counted, but missing from the stored result")
                continue
            self.compare(glabel, "method", stored.get("method"), methods.get(g, "online"))
            for key in FIGURES:
                self.compare(glabel, key, stored.get(key), getattr(tally, key))
            self.compare_counts(glabel, stored.get("counts") or {}, tally.counts)
        for g in stored_groups:
            self.problem(f"{qlabel} group {self.groups.get(g, {}).get('name', g)}: in the stored result, "
                         "but nothing was counted for it")

    def compare_counts(self, label: str, stored: Mapping[str, int], counted: Mapping[str, int]) -> None:
        for key in list(stored) + [k for k in counted if k not in stored]:
            self.compare(label, key, stored.get(key, 0), counted.get(key, 0))

    def compare(self, label: str, key: str, stored: Any, counted: Any) -> None:
        if stored != counted:
            self.problem(f"{label}: {key} stored {_show(stored)}, counted {_show(counted)}")

# -- counting, by hand here rather than through the code that produced the result ---------------
def _is_valid(question: dict[str, Any], answer: Any) -> bool:
    keys = [o["key"] for o in question["options"]]
    if answer is None:
        return False
    if question["kind"] == "election":
        return isinstance(answer, list) and ballot_is_valid(answer, question["seats"] or 1, keys,
                                                           question["allows_write_in"])
    return isinstance(answer, str) and answer in keys


def _count_online(group_id: int, eligible: int, present: int, question: dict[str, Any],
                  ballots: Iterable[dict[str, Any]]) -> GroupTally:
    counts = {o["key"]: 0 for o in question["options"]}
    returned = valid = 0
    for ballot in ballots:
        returned += 1
        answer = ballot["answers"].get(str(question["id"]))
        if not _is_valid(question, answer):
            continue
        valid += 1
        for choice in ([answer] if isinstance(answer, str) else answer):
            counts[choice] = counts.get(choice, 0) + 1
    return GroupTally(str(group_id), eligible, present, issued=present, returned=returned, valid=valid,
                      void=returned - valid, counts=counts)


def _hand_tally(group_id: int, eligible: int, count: dict[str, Any], question_id: str) -> GroupTally:
    figures = count["figures"]
    q = figures["questions"][question_id]
    present = figures["present"]
    if count["method"] == "show_of_hands":
        return GroupTally(str(group_id), eligible, present, present, present, present, 0, q["counts"])
    return GroupTally(str(group_id), eligible, present, q["issued"], q["returned"], q["valid"], q["void"],
                      q["counts"])


def _void_round(count: dict[str, Any]) -> bool:
    """A paper round with more ballots returned than issued is void (the group count rule)."""
    return count["method"] == "paper" and any(
        q.get("returned", 0) > q.get("issued", 0) for q in count["figures"]["questions"].values())


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def _first_difference(a: Any, b: Any, first: str = "published", path: str = "") -> str:
    """Where two JSON values first differ: ` (questions[0].options[0].count: published 40, stored 41)`."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), first, f"{path}.{key}" if path else str(key))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, first, f"{path}[{index}]")
    return f" ({path or 'value'}: {first} {_show(a)}, stored {_show(b)})"

