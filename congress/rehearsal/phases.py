"""The day's phases the coordinator drives after check-in: one vote (with the fault and the probes
the rules must refuse), the proposals filed and triaged, the reconnect storm."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from random import Random
from typing import TYPE_CHECKING, Any

from congress.rehearsal.faults import FaultRun
from congress.rehearsal.outcome import _pct, _round, compare_tally
from congress.rehearsal.processes import RehearsalAborted
from congress.rehearsal.roster import Plan, choose, proposal_specs

if TYPE_CHECKING:
    from congress.client.trustee import TrusteeHttp
    from congress.rehearsal.ledger import StaffLedger
    from congress.rehearsal.processes import WorkerHandle
    from congress.rehearsal.scenario import UI, Options

SCRUTINEER = "演练总监票人"
STORM_WAIT_SECONDS = 300  # how long the storm is timed; observers still away are checked at the end


class Phases:
    """The Coordinator's vote, proposals and storm phases (congress.rehearsal.scenario)."""

    # The host's (Coordinator's) attributes and the other parts' methods, declared for the type checker.
    o: Options
    ui: UI
    run_id: str
    rng: Random
    ledger: StaffLedger
    causes: dict[tuple[str, Any], float]
    errors: list[dict[str, Any]]
    workers: list[WorkerHandle]
    fault: FaultRun | None
    trustees: list[tuple[TrusteeHttp, bytes]]
    sealing_key: str | None
    fault_probe: dict[str, Any] | None
    fault_acks: list[dict[str, Any]]
    guard: Callable[[], Awaitable[None]]
    staff_reply: Callable[..., Awaitable[dict[str, Any]]]
    staff_command: Callable[..., Awaitable[dict[str, Any] | None]]
    ask_all: Callable[..., Awaitable[list[Any]]]
    owner: Callable[[str], int]

    # -- one vote --------------------------------------------------------------------------------
    async def vote(self, number: int, spec: Any, item_id: int, plan: Plan, group_ids: dict[str, int],
                   checked_in: set[str]) -> dict[str, Any]:
        o = self.o
        hand_ids = [group_ids[g] for g in plan.hand_counted]
        await self.guard()
        vote = await self.staff_command("create_vote", agenda_item_id=item_id, title=spec.title,
                                        questions=spec.questions, is_secret=spec.is_secret,
                                        hand_count_groups=hand_ids)
        if vote is None:
            raise RehearsalAborted(f"create_vote failed: {self.errors[-1]}")
        vote_id = int(vote["id"])
        questions = vote["questions"]
        await self.guard()
        await self.staff_command("set_current_item", cause=("agenda.current_changed", item_id), item_id=item_id)
        # Who answers what: decided here, so the expected tally is known exactly
        ballots: dict[str, dict[str, Any]] = {}
        hand_choices: dict[int, list[dict[str, Any]]] = {g: [] for g in hand_ids}
        for p in plan.people:
            if not p.is_voting or p.employee_id not in checked_in:
                continue
            answers = {str(q["id"]): choose(q, self.rng) for q in questions}
            gid = group_ids[p.group]
            if gid in hand_ids:
                hand_choices[gid].append(answers)
            else:
                ballots[p.employee_id] = answers
        hand_counts: dict[str, dict[str, Any]] = {}
        for group in plan.hand_counted:
            gid = group_ids[group]
            members = hand_choices[gid]
            figures: dict[str, Any] = {}
            for q in questions:
                qid = str(q["id"])
                counts = Counter(a for m in members for a in (m[qid] if isinstance(m[qid], list) else [m[qid]]))
                entry: dict[str, Any] = {"counts": {o_["key"]: counts.get(o_["key"], 0) for o_ in q["options"]}}
                if spec.is_secret:
                    entry.update(issued=len(members), returned=len(members), valid=len(members), void=0)
                figures[qid] = entry
            hand_counts[plan.leader(group).employee_id] = {
                "group_id": gid, "method": "paper" if spec.is_secret else "show_of_hands",
                "present": len(members), "questions": figures, "scrutineer": f"{group}监票人"}
        fault = self.fault if number == 0 else None
        # With a fault, the ballots keep arriving until a few seconds after it ends
        spread = max(o.vote_spread, fault.plan.at + fault.plan.duration + 3) if fault is not None else o.vote_spread
        probes = self._probes(number, plan, group_ids, ballots, questions, spread) if number == 0 else []
        sealing_vote = {**vote, "sealing": {"public_key": self.sealing_key}} if spec.is_secret else None
        per_worker: list[dict[str, Any]] = [{"vote_id": vote_id, "spread": spread, "drop": o.drop_rate > 0, "sealing_vote": sealing_vote,
                       "ballots": {}, "hand_counts": {}, "probes": []} for _ in self.workers]
        for employee_id, chosen in ballots.items():
            per_worker[self.owner(employee_id)]["ballots"][employee_id] = chosen
        for employee_id, args in hand_counts.items():
            per_worker[self.owner(employee_id)]["hand_counts"][employee_id] = args
        for probe in probes:
            per_worker[0 if probe["who"] == "observer" else self.owner(probe["who"])]["probes"].append(probe)

        self.ui.phase(f"vote{vote_id}", f"表决 {number + 1} ballots", len(ballots) + len(hand_counts))
        await self.guard()
        opened = await self.staff_command("open_vote", cause=("vote.opened", vote_id), vote_id=vote_id)
        if opened is None:
            raise RehearsalAborted(f"open_vote failed: {self.errors[-1]}")
        opened_at = self.causes[("vote.opened", vote_id)]
        injecting = asyncio.get_running_loop().create_task(self._inject(fault, opened_at)) if fault else None
        replies = await self.ask_all("vote", per_worker)
        acks = [a for ans in replies for a in ans["acks"]]
        hands = [h for ans in replies for h in ans["hand"]]
        if injecting is not None:
            await injecting
            self.fault_acks = acks + hands
        last_ack = max([a["acked"] for a in acks] + [h["acked"] for h in hands], default=opened_at)
        await self.guard()
        await self.staff_command("close_vote", cause=("vote.closed", vote_id), vote_id=vote_id)
        decrypt_seconds = None
        if spec.is_secret:  # trustees 1 and 3 decrypt the sums; 2 of 3 are needed
            began = time.time()
            for trustee, seed in (self.trustees[0], self.trustees[2]):
                await asyncio.to_thread(trustee.decrypt, seed, vote_id)
            decrypt_seconds = round(time.time() - began, 2)
        await self.guard()
        await self.staff_command("certify_vote", cause=("vote.certified", vote_id), vote_id=vote_id,
                                 scrutineer=SCRUTINEER)
        await self.guard()
        published_at = time.time()
        await self.staff_command("publish_vote", cause=("vote.published", vote_id), vote_id=vote_id)
        deadline = time.monotonic() + 60
        while vote_id not in self.ledger.published and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        result = self.ledger.published.get(vote_id)
        mismatches = compare_tally(questions, acks, hands, result)
        summary = {
            "vote_id": vote_id, "title": spec.title, "is_secret": spec.is_secret,
            "ballots": len(acks), "of": len(ballots), "hand_counts": len(hands),
            "open_to_last_ack_seconds": round(last_ack - opened_at, 2),
            "ballot_ack_p50_ms": _pct([1000 * (a["acked"] - a["sent"]) for a in acks], 50),
            "ballot_ack_p99_ms": _pct([1000 * (a["acked"] - a["sent"]) for a in acks], 99),
            "close_to_published_seconds": round(time.time() - published_at, 2),
            "trustees_decrypt_seconds": decrypt_seconds,
            "drops": sum(ans["drops"] for ans in replies),
            "probes": [p for ans in replies for p in ans["probes"]],
            "tally_matches": not mismatches and result is not None, "mismatches": mismatches[:10],
            "outcome": [q.get("words") for q in (result or {}).get("questions", [])],
        }
        self.ui.done(f"vote{vote_id}", f"vote {number + 1}: {len(acks)} ballots + {len(hands)} hand counts, "
                                       f"open→last ack {summary['open_to_last_ack_seconds']} s, "
                                       f"tally {'matches' if summary['tally_matches'] else 'MISMATCH'}")
        return summary

    async def _inject(self, fault: FaultRun, opened_at: float) -> None:
        """The fault, then one staff command at its end: when it is acknowledged, commands work again
        (sent with the same id until answered; `unavailable` is answered by resending)."""
        how = "command" if fault.plan.fault_command else fault.plan.mode
        self.ui.note(f"fault {fault.plan.kind}:{how} in {fault.plan.at} s for {fault.plan.duration} s")
        await fault.run(opened_at)
        if fault.ended_at is None:
            return
        self.ui.note(f"fault ended after {fault.ended_at - (fault.started_at or fault.ended_at):.1f} s")
        reply = await self.staff_reply("set_stream", kind="none", delay_seconds=0)
        self.fault_probe = {"acked": time.time() if reply.get("msg") == "ack" else None, "reply": reply.get("code")}

    def _probes(self, number: int, plan: Plan, group_ids: dict[str, int], ballots: dict[str, Any],
                questions: list[dict[str, Any]], spread: float) -> list[dict[str, Any]]:
        """Steps the rules must refuse, played once under load: their refusals are expected."""
        answers = {str(q["id"]): (q["options"][0]["key"] if q["kind"] != "election" else [q["options"][0]["key"]])
                   for q in questions}
        after = spread + 1.0
        probes = [{"who": "observer", "expect": "read_only", "answers": answers, "after": after}]
        hand_members = [p for p in plan.people if p.is_voting and not p.is_leader and p.group in plan.hand_counted]
        if hand_members:
            probes.append({"who": hand_members[0].employee_id, "expect": "group_hand_counted", "answers": answers,
                           "after": after})
        non_voting = [p for p in plan.people if not p.is_voting]
        if non_voting:
            probes.append({"who": non_voting[0].employee_id, "expect": "not_voting_delegate", "answers": answers,
                           "after": after})
        if ballots:
            # a second ballot from someone whose first was recorded (a new command id, not a resend)
            who = sorted(ballots)[0]
            probes.append({"who": who, "expect": "already_voted", "answers": ballots[who], "after": after + 2})
        return probes

    # -- proposals -------------------------------------------------------------------------------
    async def proposals(self, plan: Plan) -> dict[str, Any]:
        o = self.o
        await self.guard()
        specs = proposal_specs(plan, o.proposals)
        by_key = {s.key: s for s in specs}
        per_worker: list[dict[str, Any]] = [{"specs": []} for _ in self.workers]
        for s in specs:
            per_worker[self.owner(s.proposer)]["specs"].append(
                {"key": s.key, "proposer": s.proposer, "cosigners": s.cosigners, "title": s.title,
                 "reason": s.reason, "suggestion": s.suggestion})
        self.ui.phase("proposals", "提案 proposals filed", len(specs))
        began = time.time()
        answers = await self.ask_all("proposals", per_worker)
        filed = [f for ans in answers for f in ans["filed"]]
        for f in filed:
            self.causes[("proposal.submitted", f["proposal_id"])] = f["sent"]
        filed_seconds = time.time() - began
        self.ui.done("proposals", f"{len(filed)}/{len(specs)} filed and submitted in {filed_seconds:.1f} s")

        # Triage: the review queue, then a decision and an assignment for each
        self.ui.phase("triage", "立案审查 triage", len(filed) * 2)
        triage_began = time.time()
        await self.guard()
        queue = await self.staff_command("triage") or {"proposals": []}
        in_queue = {int(p["id"]): p for p in queue["proposals"]}
        key_of = {f["proposal_id"]: f["key"] for f in filed}
        missing = sorted(set(key_of) - set(in_queue))
        if missing:
            self.errors.append({"who": "staff", "op": "triage", "code": "rehearsal_missing",
                                "message": f"{len(missing)} submitted proposals not in the triage queue: {missing[:5]}"})
        decided: list[int] = []
        to_assign: list[int] = []
        gate = asyncio.Semaphore(8)
        department_missing = asyncio.Event()

        async def decide(pid: int) -> None:
            spec = by_key[key_of[pid]]
            args: dict[str, Any] = {"proposal_id": pid, "decision": spec.decision}
            if spec.decision == "不予立案":
                args["reason"] = "演练：不属于职代会提案范围，转有关部门研究"
            async with gate:
                if await self.staff_command("decide_proposal", cause=("proposal.decided", pid), **args) is not None:
                    decided.append(pid)
                    if spec.decision != "不予立案":
                        to_assign.append(pid)
            self.ui.advance("triage", 1)

        assigned: list[int] = []

        async def assign(pid: int) -> None:
            if department_missing.is_set():
                return
            async with gate:
                reply = await self.staff_reply("assign_proposal", cause=("proposal.assigned", pid), proposal_id=pid,
                                               lead=o.department, due_at="2030-12-31T18:00:00+08:00")
            if reply.get("msg") == "ack":
                assigned.append(pid)
            elif reply.get("code") == "not_found" and o.department in str(reply.get("message")):
                department_missing.set()
            else:
                self.errors.append({"who": "staff", "op": "assign_proposal", "code": reply.get("code"),
                                    "message": str(reply.get("message"))[:200]})
            self.ui.advance("triage", 1)

        ids = sorted(p for p in in_queue if p in key_of)
        for start in range(0, len(ids), 50):
            await self.guard()
            await asyncio.gather(*(decide(pid) for pid in ids[start:start + 50]))
        for start in range(0, len(to_assign), 50):
            await self.guard()
            await asyncio.gather(*(assign(pid) for pid in sorted(to_assign)[start:start + 50]))
        if department_missing.is_set():
            self.errors.append({"who": "staff", "op": "assign_proposal", "code": "department_missing",
                                "message": f"承办部门“{o.department}”不存在或无法交办：请先在目标服务器上运行 "
                                           f"congress department add {o.department}"})
        self.ui.done("triage", f"{len(decided)} decided, {len(to_assign)} to assign")
        decisions = Counter(by_key[key_of[p]].decision for p in decided)
        return {"planned": len(specs), "filed": len(filed), "submitted": sum(f["status"] == "submitted" for f in filed),
                "filing_seconds": round(filed_seconds, 1), "triage_seconds": round(time.time() - triage_began, 1),
                "decided": len(decided), "decisions": dict(decisions),
                "assigned": len(assigned), "department": o.department}

    # -- reconnect storm -------------------------------------------------------------------------
    async def storm(self) -> dict[str, Any]:
        await self.guard()
        self.ui.phase("storm", "重连风暴 reconnect storm", None)
        dropped = await self.ask_all("storm")
        # Public events while they are away: every observer must get them in its resume backlog.
        for k in range(3):
            url = f"https://rehearsal.invalid/{self.run_id}/storm-{k}.m3u8"
            await self.staff_command("set_stream", cause=("stream.set", url), kind="hls", url=url, delay_seconds=0)
        await self.staff_command("set_stream", cause=("stream.set", None), kind="none", delay_seconds=0)
        waits = await self.ask_all("storm_wait", common={"timeout": STORM_WAIT_SECONDS})
        synced = sorted(s for w in waits for s in w["synced"])
        at = min(d["at"] for d in dropped)
        offsets = sorted(s + (w["at"] - at) for w in waits for s in w["synced"])
        dropped_count = sum(d["dropped"] for d in dropped)
        # the time until the last one is back; None when some were still away after the window
        seconds = round(offsets[-1], 2) if offsets and len(offsets) == dropped_count else None
        self.ui.done("storm", f"{len(synced)}/{dropped_count} observers resynchronised "
                              + (f"in {seconds} s" if seconds is not None else f"within {STORM_WAIT_SECONDS} s"))
        return {"observers": dropped_count, "resynced": len(synced), "window_seconds": STORM_WAIT_SECONDS,
                "seconds": seconds, "p50_seconds": _round(_pct(offsets, 50)), "p99_seconds": _round(_pct(offsets, 99)),
                "snapshot_fallbacks": sum(w["snapshot_fallbacks"] for w in waits)}
