"""Recounting a sealed (secret) vote from the archive, without any secret (docs/secrecy.md).

From the public record alone: the trustees' key from their ceremony messages; every ballot's proofs;
the set of ballots against the digest the event log committed to at close; each pool's encrypted
sums added up again; each trustee's decryption proofs; the counts the decryption yields. The result
is then checked like any other vote's (congress.records.verify). Each step names what fails first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from congress.sealed.ballot import BallotError, SealedQuestion, check_ballot
from congress.sealed.counting import (
    add_up,
    ballots_digest,
    counts_of,
    decryption_context,
    pool_groups,
    pool_tallies,
    to_decrypt,
)
from congress.sealed.group import point_hex
from congress.sealed.trustees import (
    Ceremony,
    CeremonyError,
    check_decryption,
    check_round2,
    combine,
    joint_key,
    verification_key,
)


@dataclass
class SealedRecount:
    problems: list[str] = field(default_factory=list)
    tallies: dict[str, Any] | None = None  # pool_tallies(...) when everything holds
    ballots: int = 0
    pools: int = 0  # sums decrypted
    trustees: int = 0  # whose decryption proofs held


def _payloads(events: Mapping[str, list[dict[str, Any]]], type: str, **match: Any) -> list[dict[str, Any]]:
    return [e for e in events.get(type, []) if all(e["payload"].get(k) == v for k, v in match.items())]


def recount_sealed(label: str, vote: dict[str, Any], ballots: list[dict[str, Any]],
                   events: Mapping[str, list[dict[str, Any]]], order: list[int],
                   rolls: Mapping[int, tuple[int, int]]) -> SealedRecount:
    out = SealedRecount()
    ceremony_id = vote.get("ceremony_id")
    ready = _payloads(events, "trustees.key_ready", ceremony_id=ceremony_id)
    named = _payloads(events, "trustees.named", ceremony_id=ceremony_id)
    if ceremony_id is None or not ready or not named:
        out.problems.append(f"{label}: the event log has no completed key ceremony {ceremony_id} for this vote")
        return out
    ready_event = ready[-1]["payload"]
    round2 = {e["payload"]["trustee"]: e["payload"]["message"]
              for e in _payloads(events, "trustee.posted", ceremony_id=ceremony_id, round=2)}
    try:
        ceremony = Ceremony(ready_event["congress_id"], ceremony_id, len(named[-1]["payload"]["trustees"]),
                            named[-1]["payload"]["threshold"])
        commitments = {i: check_round2(ceremony, i, m) for i, m in sorted(round2.items())}
    except CeremonyError as error:
        out.problems.append(f"{label}: the key ceremony does not check: {error}")
        return out
    if sorted(commitments) != list(ceremony.indices()):
        out.problems.append(f"{label}: the key ceremony lacks commitments of some trustees")
        return out
    key = joint_key(commitments)
    if point_hex(key) != ready_event.get("public_key"):
        out.problems.append(f"{label}: the published key {ready_event.get('public_key')} is not the product of the "
                            f"trustees' commitments ({point_hex(key)})")
        return out

    questions = [SealedQuestion.of(q["id"], q["kind"], len(q["options"]), q["seats"]) for q in vote["questions"]]
    per_group = dict.fromkeys(order, 0)
    checked = []
    for ballot in ballots:
        try:
            result = check_ballot(vote["id"], key, questions, ballot["content"])
        except BallotError as error:
            out.problems.append(f"{label}: ballot {str(ballot.get('hash'))[:16]}: {error}")
            return out
        if result.hash != ballot.get("hash"):
            out.problems.append(f"{label}: ballot listed as {str(ballot.get('hash'))[:16]} hashes to {result.hash[:16]}")
            return out
        if ballot["group_id"] not in per_group:
            out.problems.append(f"{label}: ballot {result.hash[:16]} names group {ballot['group_id']}, which "
                                "does not vote online in this vote")
            return out
        per_group[ballot["group_id"]] += 1
        checked.append((ballot["group_id"], result.ciphertexts))
    out.ballots = len(checked)
    hashes = [b["hash"] for b in ballots]
    if len(set(hashes)) != len(hashes):
        out.problems.append(f"{label}: the same sealed ballot is listed twice")
        return out

    sealed_events = _payloads(events, "tally.sealed", vote_id=vote["id"])
    if not sealed_events:
        out.problems.append(f"{label}: the event log has no tally.sealed (the encrypted sums) for this vote")
        return out
    sealed = sealed_events[-1]["payload"]
    listed = [h for e in _payloads(events, "tally.ballots", vote_id=vote["id"]) for h in e["payload"]["hashes"]]
    if sorted(listed) != sorted(hashes):
        missing, extra = set(listed) - set(hashes), set(hashes) - set(listed)
        out.problems.append(f"{label}: the event log listed {len(listed)} ballots at close, the archive holds "
                            f"{len(hashes)} ({len(missing)} listed but missing, {len(extra)} not listed)"
                            + (f", e.g. {sorted(missing or extra)[0][:16]}" if missing or extra else ""))
        return out
    if sealed.get("ballots") != len(checked) or sealed.get("ballots_digest") != ballots_digest(hashes):
        out.problems.append(f"{label}: the archive holds {len(checked)} ballots, but at close the event log committed "
                            f"to {sealed.get('ballots')} ballots with another digest: a ballot was dropped, added or "
                            "changed")
        return out
    pools = pool_groups(per_group, order, sealed.get("min_pool", 5))
    options = {q.question_id: q.options for q in questions}
    sums = add_up(pools, checked, options)
    published_pools = [{"group_ids": p["group_ids"], "ballots": p["ballots"], "sums": p["sums"]}
                       for p in sealed.get("pools", [])]
    if [ps.json() for ps in sums] != published_pools:
        out.problems.append(f"{label}: the encrypted sums published at seq {sealed_events[-1]['seq']} are not the "
                            "sums of the archived ballots")
        return out

    items = to_decrypt(sums)
    context = decryption_context(vote["id"], ready_event["public_key"], sealed["ballots_digest"])
    shares: dict[int, list[bytes]] = {}
    for event in _payloads(events, "tally.share_posted", vote_id=vote["id"]):
        index = event["payload"]["trustee"]
        if index not in commitments:
            out.problems.append(f"{label}: a decryption share from trustee {index}, who is not a trustee of the key")
            return out
        try:
            shares[index] = check_decryption(context, index, verification_key(commitments, index),
                                             [ct.alpha for ct in items], event["payload"]["message"])
        except CeremonyError as error:
            out.problems.append(f"{label}: {error} (seq {event['seq']})")
            return out
    if len(shares) < ceremony.threshold:
        out.problems.append(f"{label}: {len(shares)} trustees decrypted, {ceremony.threshold} are needed")
        return out
    used = {i: shares[i] for i in sorted(shares)[:ceremony.threshold]}
    out.pools, out.trustees = sum(1 for ps in sums if ps.pool.ballots), len(shares)
    try:
        counts = counts_of(sums, combine([ct.beta for ct in items], used))
    except ValueError as error:
        out.problems.append(f"{label}: the decryption does not give counts: {error}")
        return out
    out.tallies = pool_tallies([(q["id"], [o["key"] for o in q["options"]]) for q in vote["questions"]],
                               rolls, sums, counts)
    return out
