"""Counting sealed ballots: add them up per delegate group, decrypt only the sums.

A group's sum tells how that group voted. With one or two online ballots it would tell how those
one or two delegates voted, so groups with fewer than MIN_POOL ballots are pooled before anything is
decrypted (docs/secrecy.md, "Small groups"): the small groups together; if that pool is still small,
with the group that has the fewest ballots among the others. A group with no online ballot has
nothing to decrypt and counts zero.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from congress.sealed.ballot import Ciphertext
from congress.sealed.group import IDENTITY, add, add_all, base_mul, read_point
from congress.tally import GroupTally

MIN_POOL = 5


@dataclass(frozen=True, slots=True)
class Pool:
    """Groups whose online ballots are added up and decrypted together."""

    group_ids: tuple[int, ...]
    ballots: int


def pool_groups(ballots_by_group: Mapping[int, int], order: Iterable[int], minimum: int = MIN_POOL) -> list[Pool]:
    """Pools of online groups, in the groups' `order` (first group of each pool)."""
    order = [g for g in order if g in ballots_by_group]
    small = [g for g in order if 0 < ballots_by_group[g] < minimum]
    large = [g for g in order if ballots_by_group[g] >= minimum]
    members: dict[int, list[int]] = {g: [g] for g in order if g not in small}
    if small:
        if sum(ballots_by_group[g] for g in small) >= minimum or not large:
            members[small[0]] = small
        else:
            host = min(large, key=lambda g: (ballots_by_group[g], order.index(g)))
            members[host] = sorted([host, *small], key=order.index)
    pools = [Pool(tuple(groups), sum(ballots_by_group[g] for g in groups)) for groups in members.values()]
    return sorted(pools, key=lambda p: order.index(p.group_ids[0]))


@dataclass(frozen=True, slots=True)
class PoolSums:
    """One pool's encrypted sums: question id -> one ciphertext per option."""

    pool: Pool
    sums: dict[int, list[Ciphertext]]

    def json(self) -> dict[str, Any]:
        return {"group_ids": list(self.pool.group_ids), "ballots": self.pool.ballots,
                "sums": {str(q): [ct.json() for ct in cts] for q, cts in self.sums.items()}}


def add_up(pools: list[Pool], ballots: Iterable[tuple[int, Mapping[int, list[Ciphertext]]]],
           options: Mapping[int, int]) -> list[PoolSums]:
    """The homomorphic sum of every pool's ballots (group id, question id -> ciphertexts)."""
    where = {g: i for i, pool in enumerate(pools) for g in pool.group_ids}
    alphas: list[dict[int, list[list[bytes]]]] = [{q: [[] for _ in range(n)] for q, n in options.items()} for _ in pools]
    betas: list[dict[int, list[list[bytes]]]] = [{q: [[] for _ in range(n)] for q, n in options.items()} for _ in pools]
    for group_id, ciphertexts in ballots:
        i = where[group_id]
        for q, cts in ciphertexts.items():
            for k, ct in enumerate(cts):
                alphas[i][q][k].append(ct.alpha)
                betas[i][q][k].append(ct.beta)
    return [PoolSums(pool, {q: [Ciphertext(add_all(alphas[i][q][k]), add_all(betas[i][q][k])) for k in range(n)]
                            for q, n in options.items()})
            for i, pool in enumerate(pools)]


def ballots_digest(hashes: list[str]) -> str:
    """SHA-256 over the sorted ballot hashes, one per line: the event log commits to the set of
    ballots counted without listing thousands of them in one event."""
    return hashlib.sha256("\n".join(sorted(hashes)).encode("ascii")).hexdigest()


def sums_from_json(pools: list[dict[str, Any]], *, check: bool) -> list[PoolSums]:
    """PoolSums from their JSON. `check`: read every point as coming from outside — a trustee does,
    since raising a small-order point to their secret share would leak bits of it."""
    def point(text: str) -> bytes:
        return read_point(text, "密文") if check else bytes.fromhex(text)

    return [PoolSums(Pool(tuple(p["group_ids"]), p["ballots"]),
                     {int(q): [Ciphertext(point(c["alpha"]), point(c["beta"])) for c in cts] if p["ballots"] else
                      [Ciphertext(IDENTITY, IDENTITY) for _c in cts] for q, cts in p["sums"].items()})
            for p in pools]


def decryption_context(vote_id: int, public_key: str, ballots_digest: str) -> tuple[str, ...]:
    """What a decryption share is bound to: this vote, this key, this set of ballots."""
    return ("tally", f"vote:{vote_id}", f"key:{public_key}", f"ballots:{ballots_digest}")


def to_decrypt(sums: list[PoolSums]) -> list[Ciphertext]:
    """The ciphertexts the trustees decrypt, in a fixed order: pools with ballots, question ids
    ascending (not the JSON's key order, which a database may change), options."""
    return [ct for ps in sums if ps.pool.ballots for q in sorted(ps.sums) for ct in ps.sums[q]]


def discrete_log(point: bytes, most: int) -> int | None:
    """m with g^m = point, 0 <= m <= most; None if there is none (a wrong decryption)."""
    current, g = IDENTITY, base_mul(1)
    for m in range(most + 1):
        if current == point:
            return m
        current = add(current, g)
    return None


def counts_of(sums: list[PoolSums], plaintexts: list[bytes]) -> list[dict[int, list[int]]]:
    """Each pool's counts (question id -> votes per option) from the decrypted g^m, in to_decrypt's
    order. ValueError if one is not between 0 and the pool's ballots."""
    it = iter(plaintexts)
    out = []
    for ps in sums:
        counts: dict[int, list[int]] = {}
        for q in sorted(ps.sums):  # the order of to_decrypt: question ids ascending, whatever the JSON's
            cts = ps.sums[q]
            row = []
            for k in range(len(cts)):
                if not ps.pool.ballots:
                    row.append(0)
                    continue
                m = discrete_log(next(it), ps.pool.ballots)
                if m is None:
                    raise ValueError(f"事项 {q} 第 {k + 1} 项的解密结果不在 0–{ps.pool.ballots} 之间")
                row.append(m)
            counts[q] = row
        out.append(counts)
    return out



def pool_tallies(questions: list[tuple[int, list[str]]], rolls: Mapping[int, tuple[int, int]],
                 sums: list[PoolSums], counts: list[dict[int, list[int]]]) -> dict[str, Any]:
    """Per question id (as text), one GroupTally per pool, keyed by the pool's first group, with 应到
    and 实到 (`rolls`: group -> (eligible, present)) summed over its groups; and each pool's members.
    What the result is computed from in place of opened ballots: every sealed ballot is valid (its
    proofs were checked), so valid = returned."""
    tallies: dict[str, list[GroupTally]] = {str(qid): [] for qid, _keys in questions}
    members: dict[int, list[int]] = {}
    for ps, pool_counts in zip(sums, counts, strict=True):
        first = ps.pool.group_ids[0]
        members[first] = list(ps.pool.group_ids)
        eligible = sum(rolls[g][0] for g in ps.pool.group_ids)
        present = sum(rolls[g][1] for g in ps.pool.group_ids)
        for qid, keys in questions:
            tallies[str(qid)].append(GroupTally(
                str(first), eligible, present, issued=present, returned=ps.pool.ballots, valid=ps.pool.ballots,
                void=0, counts=dict(zip(keys, pool_counts[qid], strict=True))))
    return {"tallies": tallies, "members": members}
