"""A sealed ballot: every answer encrypted under the trustees' key, with proofs it is well formed.

For each question the ballot holds one ciphertext per option (1 = marked, 0 = not), an individual
proof per option that it encrypts 0 or 1, and an overall proof that the marks add up to an allowed
number: exactly one for 赞成/反对/弃权 and for a 民主评议 grade, 0 to `seats` names for an election.
This is the ballot of the Belenios specification (choices, individual_proofs, overall_proof).

Every proof's hash starts with the ballot's context: the vote, the key and every ciphertext's alpha of
the whole ballot, in order. A proof copied from one ballot into another therefore fails, and a whole
ballot copied is the same ballot (the same hash), which the vote refuses as a duplicate.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from congress.sealed.group import (
    GroupError,
    add_all,
    base_mul,
    mul,
    point_hex,
    random_scalar,
    read_point,
)
from congress.sealed.proofs import Pair, prove_one_of, verify_one_of

MAX_OPTIONS = 200


class BallotError(ValueError):
    """A sealed ballot that must be refused; the text says what is wrong, in words for the delegate."""


@dataclass(frozen=True, slots=True)
class SealedQuestion:
    """What a ballot must prove about one question: `options` ciphertexts whose marks add up to
    between `least` and `most`."""

    question_id: int
    options: int
    least: int
    most: int

    @staticmethod
    def of(question_id: int, kind: str, options: int, seats: int | None) -> SealedQuestion:
        if kind == "election":
            if not seats or seats < 1:
                raise BallotError(f"选举事项 {question_id} 的应选名额应至少为 1")
            return SealedQuestion(question_id, options, 0, min(seats, options))
        return SealedQuestion(question_id, options, 1, 1)  # yes_no (赞成/反对/弃权) and rating: exactly one


@dataclass(frozen=True, slots=True)
class Ciphertext:
    alpha: bytes
    beta: bytes

    def json(self) -> dict[str, str]:
        return {"alpha": point_hex(self.alpha), "beta": point_hex(self.beta)}


@dataclass(frozen=True, slots=True)
class CheckedBallot:
    """A ballot whose proofs all hold: its receipt hash and its ciphertexts, question by question."""

    hash: str
    ciphertexts: dict[int, list[Ciphertext]]
    content: dict[str, Any]


def canonical(data: Any) -> bytes:
    """The bytes a ballot's hash is taken over: JSON, keys sorted, no spaces, ASCII only."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def ballot_hash(content: dict[str, Any]) -> str:
    """The receipt: SHA-256 of the canonical ballot, 64 hex digits; the phone computes the same."""
    return hashlib.sha256(canonical(content)).hexdigest()


def short_receipt(full: str) -> str:
    """The receipt as a delegate reads it: the hash's first 16 digits in groups of 4."""
    head = full[:16].upper()
    return "-".join(head[i:i + 4] for i in range(0, 16, 4))


def ballot_context(vote_id: int, key: bytes, alphas: list[str]) -> tuple[str, ...]:
    return ("ballot", f"vote:{vote_id}", f"key:{point_hex(key)}", "alphas:" + ",".join(alphas))


def encrypt(key: bytes, m: int) -> tuple[Ciphertext, int]:
    r = random_scalar()
    return Ciphertext(base_mul(r), add_all([base_mul(m), mul(key, r)])), r


def seal_ballot(vote_id: int, key: bytes, questions: list[SealedQuestion],
                marks: dict[int, list[int]]) -> dict[str, Any]:
    """Encrypt a delegate's marks (question id -> 0/1 per option) into a ballot; what the phone does."""
    encrypted: list[tuple[SealedQuestion, list[tuple[Ciphertext, int]], list[int]]] = []
    for question in questions:
        row = marks.get(question.question_id)
        if row is None or len(row) != question.options or any(not _is_int(m) or m not in (0, 1) for m in row):
            raise BallotError(f"事项 {question.question_id} 应为 {question.options} 个 0/1 标记")
        if not question.least <= sum(row) <= question.most:
            raise BallotError(f"事项 {question.question_id} 应选 {question.least}–{question.most} 项")
        encrypted.append((question, [encrypt(key, m) for m in row], row))
    context = ballot_context(vote_id, key, [point_hex(ct.alpha) for _q, cts, _row in encrypted for ct, _r in cts])
    parts = []
    for question, cts, row in encrypted:
        qctx = (*context, f"q:{question.question_id}")
        individual = [
            [p.json() for p in prove_one_of((*qctx, f"option:{k}"), key, ct.alpha, ct.beta, r, [0, 1], m)]
            for k, ((ct, r), m) in enumerate(zip(cts, row, strict=True))
        ]
        total = Ciphertext(add_all([ct.alpha for ct, _r in cts]), add_all([ct.beta for ct, _r in cts]))
        r_total = sum(r for _ct, r in cts)
        allowed = list(range(question.least, question.most + 1))
        overall = prove_one_of((*qctx, "overall"), key, total.alpha, total.beta, r_total, allowed,
                               allowed.index(sum(row)))
        parts.append({"question_id": question.question_id, "choices": [ct.json() for ct, _r in cts],
                      "individual_proofs": individual, "overall_proof": [p.json() for p in overall]})
    return {"vote_id": vote_id, "questions": parts}


def check_ballot(vote_id: int, key: bytes, questions: list[SealedQuestion], content: Any) -> CheckedBallot:
    """Every check a ballot must pass before it is stored, or BallotError saying the first that fails."""
    if not isinstance(content, dict) or set(content) != {"vote_id", "questions"}:
        raise BallotError("密封选票格式不对：应只含 vote_id 与 questions")
    if not _is_int(content["vote_id"]) or content["vote_id"] != vote_id:
        raise BallotError(f"这张密封选票属于表决 {content['vote_id']}，不是本次表决 {vote_id}")
    parts = content["questions"]
    if not isinstance(parts, list) or len(parts) != len(questions):
        raise BallotError(f"密封选票应依次包含 {len(questions)} 个事项")
    read: list[tuple[SealedQuestion, dict[str, Any], list[Ciphertext]]] = []
    try:
        for question, part in zip(questions, parts, strict=True):
            where = f"事项 {question.question_id}"
            if not isinstance(part, dict) or set(part) != {"question_id", "choices", "individual_proofs",
                                                           "overall_proof"}:
                raise BallotError(f"{where}：格式不对")
            if not _is_int(part["question_id"]) or part["question_id"] != question.question_id:
                raise BallotError(f"{where}：事项顺序不对（收到 {part['question_id']}）")
            choices = part["choices"]
            if not isinstance(choices, list) or len(choices) != question.options or question.options > MAX_OPTIONS:
                raise BallotError(f"{where}：应有 {question.options} 个密文")
            cts = []
            for k, choice in enumerate(choices):
                if not isinstance(choice, dict) or set(choice) != {"alpha", "beta"}:
                    raise BallotError(f"{where} 第 {k + 1} 个密文格式不对")
                cts.append(Ciphertext(read_point(choice["alpha"], f"{where} 第 {k + 1} 个密文 alpha"),
                                      read_point(choice["beta"], f"{where} 第 {k + 1} 个密文 beta")))
            read.append((question, part, cts))
    except GroupError as error:
        raise BallotError(str(error)) from None
    context = ballot_context(vote_id, key, [point_hex(ct.alpha) for _q, _p, cts in read for ct in cts])
    for question, part, cts in read:
        where = f"事项 {question.question_id}"
        qctx = (*context, f"q:{question.question_id}")
        proofs = part["individual_proofs"]
        if not isinstance(proofs, list) or len(proofs) != len(cts):
            raise BallotError(f"{where}：每个密文应有一个 0/1 证明")
        for k, (ct, proof) in enumerate(zip(cts, proofs, strict=True)):
            pairs = _pairs(proof, 2, f"{where} 第 {k + 1} 个 0/1 证明")
            if not verify_one_of((*qctx, f"option:{k}"), key, ct.alpha, ct.beta, [0, 1], pairs):
                raise BallotError(f"{where} 第 {k + 1} 个密文的 0/1 证明不成立")
        allowed = list(range(question.least, question.most + 1))
        total_alpha, total_beta = add_all([ct.alpha for ct in cts]), add_all([ct.beta for ct in cts])
        pairs = _pairs(part["overall_proof"], len(allowed), f"{where} 的总数证明")
        if not verify_one_of((*qctx, "overall"), key, total_alpha, total_beta, allowed, pairs):
            raise BallotError(f"{where}：所选项数的证明不成立（应选 {question.least}–{question.most} 项）")
    return CheckedBallot(ballot_hash(content), {q.question_id: cts for q, _p, cts in read}, content)


def _is_int(value: Any) -> bool:
    """An integer as JSON gives it: not a bool, not 7.0 (which would hash differently from 7)."""
    return type(value) is int


def _pairs(data: Any, count: int, what: str) -> list[Pair]:
    if not isinstance(data, list) or len(data) != count:
        raise BallotError(f"{what}应有 {count} 段")
    try:
        return [Pair.read(item, what) for item in data]
    except (GroupError, ValueError) as error:
        raise BallotError(str(error)) from None
