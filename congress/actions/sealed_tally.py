"""Counting a secret vote: encrypted sums at close, the trustees' decryption shares, the result.

At close the server adds up the sealed ballots of each pool of groups (congress.sealed.counting)
and publishes the sums. Each trustee posts a decryption share of every sum, with proofs; once
`threshold` trustees have, the server combines them into counts and computes the result with the same
rules as any other vote. No single ballot is ever decrypted, by anyone.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.actions.base import Context
from congress.actions.results import compute_result
from congress.db.models import Congress, DecryptionShare, Group, SealedBallot, TrusteeMessage, Vote
from congress.domain.commands import Command, Key, ListOf, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience, GroupMode, VoteStatus
from congress.domain.permissions import Permission
from congress.domain.rules import CongressRules
from congress.reads.votes import group_rolls
from congress.sealed.ballot import Ciphertext
from congress.sealed.counting import (
    MIN_POOL,
    PoolSums,
    add_up,
    ballots_digest,
    counts_of,
    decryption_context,
    pool_groups,
    pool_tallies,
    sums_from_json,
    to_decrypt,
)
from congress.sealed.trustees import (
    Ceremony,
    CeremonyError,
    check_decryption,
    check_round2,
    combine,
    verification_key,
)

HASHES_PER_EVENT = 500  # 500 × 67 bytes ≈ 33 KB a `tally.ballots` event


def sealed_hashes(session: Session, vote: Vote) -> list[str]:
    return sorted(session.scalars(sa.select(SealedBallot.hash).where(SealedBallot.vote_id == vote.id)))


def _ciphertexts(content: dict[str, Any]) -> dict[int, list[Ciphertext]]:
    # Checked (valid points, proofs) when cast; read without checking again.
    return {part["question_id"]: [Ciphertext(bytes.fromhex(c["alpha"]), bytes.fromhex(c["beta"]))
                                  for c in part["choices"]] for part in content["questions"]}


def online_order(session: Session, vote: Vote) -> list[int]:
    hand = {int(g) for g, m in vote.group_modes.items() if m == GroupMode.HAND_COUNT}
    return [g for g in session.scalars(sa.select(Group.id).where(Group.congress_id == vote.congress_id)
                                       .order_by(Group.position)) if g not in hand]


def seal_tally(session: Session, vote: Vote) -> dict[str, Any]:
    """The encrypted sums per pool, stored on the vote and returned for the `tally.sealed` event."""
    rows = list(session.execute(sa.select(SealedBallot.group_id, SealedBallot.hash, SealedBallot.content)
                                .where(SealedBallot.vote_id == vote.id)))
    order = online_order(session, vote)
    per_group = dict.fromkeys(order, 0)
    for group_id, _h, _c in rows:
        per_group[group_id] = per_group.get(group_id, 0) + 1
    pools = pool_groups(per_group, order, MIN_POOL)
    options = {q.id: len(q.options) for q in vote.questions}
    sums = add_up(pools, ((g, _ciphertexts(c)) for g, _h, c in rows), options)
    vote.sealed_tally = {"ballots": len(rows), "ballots_digest": ballots_digest([h for _g, h, _c in rows]),
                         "min_pool": MIN_POOL, "pools": [ps.json() for ps in sums]}
    return vote.sealed_tally


def ceremony_keys(session: Session, ceremony: Ceremony) -> dict[int, bytes]:
    """Every trustee's verification key, recomputed from the public round-2 commitments."""
    round2 = {m.trustee_index: m.content for m in session.scalars(sa.select(TrusteeMessage).where(
        TrusteeMessage.ceremony_id == ceremony.ceremony_id, TrusteeMessage.round == 2))}
    commitments = {i: check_round2(ceremony, i, m) for i, m in round2.items()}
    return {j: verification_key(commitments, j) for j in ceremony.indices()}


def post_decryption(ctx: Context, congress_id: int, vote_id: int, message: dict[str, Any]) -> dict[str, Any]:
    """A trustee's decryption shares of a closed secret vote's sums; the t-th one yields the result."""
    from congress.actions.trustees import ceremony_of  # trustees imports votes' neighbours; keep it late

    ctx.actor.require(Permission.ACT_AS_TRUSTEE)
    vote = ctx.session.get(Vote, vote_id)
    if vote is None or vote.congress_id != congress_id or not vote.is_secret or vote.ceremony is None:
        raise DomainError("not_found", f"本次职代会没有这项无记名表决（编号 {vote_id}）")
    ctx.session.refresh(vote, with_for_update=True)
    if vote.status != VoteStatus.CLOSED or vote.sealed_tally is None:
        raise DomainError("bad_vote_state", f"表决“{vote.title}”尚未截止，不能解密")
    if vote.result is not None:
        raise DomainError("already_decrypted", f"表决“{vote.title}”已经解密计票")
    row = vote.ceremony
    index = next((t.index for t in row.trustees if t.delegate_id == ctx.actor.delegate_id), None)
    if index is None:
        raise DomainError("forbidden", "您不是本次表决所用密钥的监票人")
    ceremony = ceremony_of(row)
    sums = sums_from_json(vote.sealed_tally["pools"], check=False)
    items = to_decrypt(sums)
    context = decryption_context(vote.id, row.public_key or "", vote.sealed_tally["ballots_digest"])
    keys = ceremony_keys(ctx.session, ceremony)
    try:
        check_decryption(context, index, keys[index], [ct.alpha for ct in items], message)
    except CeremonyError as error:
        raise DomainError("bad_decryption", str(error)) from None
    posted = {s.trustee_index: s.content for s in ctx.session.scalars(
        sa.select(DecryptionShare).where(DecryptionShare.vote_id == vote.id))}
    if index in posted:
        raise DomainError("already_posted", "您已提交本次表决的解密份额")
    ctx.session.add(DecryptionShare(vote_id=vote.id, trustee_index=index, content=message, created_at=ctx.now))
    posted[index] = message
    payload = {"vote_id": vote.id, "trustee": index, "message": message}
    ctx.emit(congress_id, "tally.share_posted", payload)
    if len(posted) >= ceremony.threshold:
        used = sorted(posted)[:ceremony.threshold]
        shares = {i: [bytes.fromhex(s["share"]) for s in posted[i]["shares"]] for i in used}
        counts = counts_of(sums, combine([ct.beta for ct in items], shares))
        congress = ctx.get(Congress, congress_id, "职代会")
        vote.result = compute_result(ctx.session, vote, CongressRules.from_json(congress.rules),
                                     sealed=sealed_tallies(ctx.session, vote, sums, counts))
        ctx.emit(congress_id, "tally.decrypted", {"vote_id": vote.id, "trustees": used,
                                                  "cast": vote.result["cast"]})
        ctx.emit(congress_id, "vote.tallied", {"vote_id": vote.id, "result": vote.result}, Audience.STAFF)
    return {"vote_id": vote.id, "trustee": index, "shares_posted": len(posted),
            "threshold": ceremony.threshold, "decrypted": vote.result is not None}


def sealed_tallies(session: Session, vote: Vote, sums: list[PoolSums],
                   counts: list[dict[int, list[int]]]) -> dict[str, Any]:
    rolls = {g: (e, p) for g, (_n, e, p) in group_rolls(session, vote).items()}
    questions = [(q.id, [o.key for o in q.options]) for q in vote.questions]
    return pool_tallies(questions, rolls, sums, counts)


def sealed_ballots(ctx: Context, congress_id: int, vote_id: int) -> dict[str, Any]:
    """The public list of ballots received in a secret vote: their hashes only, sorted (not in the
    order they came). A delegate finds their receipt here; anyone can count them."""
    vote = ctx.session.get(Vote, vote_id)
    if vote is None or vote.congress_id != congress_id or not vote.is_secret:
        raise DomainError("not_found", f"本次职代会没有这项无记名表决（编号 {vote_id}）")
    hashes = sorted(ctx.session.scalars(sa.select(SealedBallot.hash).where(SealedBallot.vote_id == vote.id)))
    posted = sorted(ctx.session.scalars(sa.select(DecryptionShare.trustee_index)
                                        .where(DecryptionShare.vote_id == vote.id)))
    return {"vote_id": vote.id, "count": len(hashes), "hashes": hashes,
            "ballots_digest": ballots_digest(hashes), "sealed_tally": vote.sealed_tally,
            "sealing": {"ceremony_id": vote.ceremony_id,
                        "public_key": vote.ceremony.public_key if vote.ceremony else None},
            # who has posted decryption shares (public: tally.share_posted), of how many needed
            "decryption": {"trustees": posted, "threshold": vote.ceremony.threshold if vote.ceremony else None,
                           "decrypted": vote.result is not None}}


DECRYPTION = Obj((
    Key("trustee", int, "the sender's index"),
    Key("shares", ListOf(Obj((Key("share", str, "D = alpha^x (hex point)"),
                              Key("proof", Obj((Key("c", str), Key("s", str))), "Chaum–Pedersen"))),
                         "one per encrypted sum, in the order of sealed_ballots' pools")),
), "a decryption share of every sum, with proofs (docs/secrecy.md, Decryption)")

COMMANDS: tuple[Command, ...] = (
    Command("post_decryption", post_decryption, (Param("vote_id", int), Param("message", dict, shape=DECRYPTION)),
            "监票人提交无记名表决的解密份额",
            result=Obj((Key("vote_id", int), Key("trustee", int, "the trustee's index"), Key("shares_posted", int),
                        Key("threshold", int), Key("decrypted", bool)),
                       "checked and published; the threshold-th share computes the result"),
            errors=("already_decrypted", "already_posted", "bad_decryption", "bad_field", "bad_vote_state",
                    "ballots_exceed_present", "count_exceeds_total", "duplicate_group", "invalid_question",
                    "invalid_scale", "invalid_seats", "invalid_threshold", "negative_count", "not_found",
                    "unknown_group", "unknown_option", "unknown_question"),
            permissions=(Permission.ACT_AS_TRUSTEE,), who="a trustee of the vote's key"),
    Command("sealed_ballots", sealed_ballots, (Param("vote_id", int),), "无记名表决收到的全部选票指纹（可核对回执）",
            writes=False,
            result=Obj((Key("vote_id", int), Key("count", int), Key("hashes", ListOf(str), "sorted"),
                        Key("ballots_digest", str, "SHA-256 of the sorted hashes"),
                        Key("sealed_tally", Obj((Key("ballots", int), Key("ballots_digest", str), Key("min_pool", int),
                                                 Key("pools", ListOf(None), "per pool: group_ids, ballots, sums"))),
                            "the encrypted sums once closed, else null"),
                        Key("sealing", Obj((Key("ceremony_id", int), Key("public_key", str)))),
                        Key("decryption", Obj((Key("trustees", ListOf(int), "who has posted shares"),
                                               Key("threshold", int), Key("decrypted", bool))))),
                       "a secret vote's ballot hashes: anyone can count them and find their receipt"),
            errors=("not_found",)),
)
