"""Sealed ballots, checked as a scrutineer or an auditor would: the group refuses every point and scalar
that is not a proper group element; a sealed ballot opens to the marks it was sealed with and every
tampering, splicing or over-marking is refused naming the question; the receipt is the ballot's hash;
any t trustees of the key ceremony decrypt the sums and fewer cannot, a dishonest trustee is named;
small groups are pooled before anything is decrypted and the sums decrypt to the counts.

Nothing is mocked: the cryptography is libsodium (PyNaCl) and `cryptography`. A few small-order
and off-subgroup points are computed here with plain Edwards-curve arithmetic (RFC 8032 §5.1), which
is checked against libsodium before it is trusted."""

from __future__ import annotations

import copy
import functools
import itertools
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from congress.sealed import trustees
from congress.sealed.ballot import (
    BallotError,
    Ciphertext,
    SealedQuestion,
    ballot_context,
    ballot_hash,
    check_ballot,
    encrypt,
    seal_ballot,
    short_receipt,
)
from congress.sealed.counting import (
    MIN_POOL,
    Pool,
    PoolSums,
    add_up,
    counts_of,
    discrete_log,
    pool_groups,
    to_decrypt,
)
from congress.sealed.group import (
    IDENTITY,
    GroupError,
    L,
    add,
    add_all,
    base_mul,
    hash_to_scalar,
    mul,
    point_hex,
    random_scalar,
    read_point,
    read_scalar,
    scalar_bytes,
    scalar_hex,
    sub,
)
from congress.sealed.proofs import prove_one_of, verify_one_of
from congress.sealed.trustees import (
    Ceremony,
    CeremonyError,
    check_decryption,
    check_round1,
    check_round2,
    combine,
    decrypt_shares,
    joint_key,
    lagrange_at_zero,
    round1,
    round2,
    round3,
    verification_key,
)

FAST = settings(max_examples=15, deadline=None)


# -- plain Edwards-curve arithmetic, only to make points libsodium must refuse --------------------

P = 2**255 - 19
D = -121665 * pow(121666, -1, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
Affine = tuple[int, int]
NEUTRAL: Affine = (0, 1)


def _x_of(y: int, sign: int) -> int | None:
    x2 = (y * y - 1) * pow(D * y * y + 1, -1, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    return P - x if x & 1 != sign else x


def _add(a: Affine, b: Affine) -> Affine:
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return (x1 * y2 + x2 * y1) * pow(1 + t, -1, P) % P, (y1 * y2 + x1 * x2) * pow(1 - t, -1, P) % P


def _times(point: Affine, n: int) -> Affine:
    out = NEUTRAL
    while n:
        if n & 1:
            out = _add(out, point)
        point, n = _add(point, point), n >> 1
    return out


def _encode(point: Affine) -> bytes:
    x, y = point
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _decode(data: bytes) -> Affine:
    value = int.from_bytes(data, "little")
    y, sign = value & ((1 << 255) - 1), value >> 255
    x = _x_of(y, sign)
    assert x is not None and y < P
    return x, y


def _order_8_point() -> Affine:
    """L·Q for a curve point Q is in the torsion subgroup; the first of order 8 generates it."""
    for y in itertools.count(2):
        x = _x_of(y, 0)
        if x is None:
            continue
        t = _times((x, y), L)
        if _times(t, 4) != NEUTRAL:
            return t
    raise AssertionError("unreachable")


TORSION = [_times(_order_8_point(), k) for k in range(8)]
SMALL_ORDER = [_encode(t) for t in TORSION]
NON_CANONICAL = [(y + P + (sign << 255)).to_bytes(32, "little")
                 for y in range(19) for sign in (0, 1) if _x_of(y, sign) is not None]


def test_the_plain_curve_arithmetic_here_agrees_with_libsodium() -> None:
    g = _decode(base_mul(1))
    assert _encode(g) == base_mul(1)
    assert _encode(_times(g, 123456789)) == base_mul(123456789)
    assert _encode(_add(g, _times(g, 7))) == add(base_mul(1), base_mul(7))
    assert _times(g, L) == NEUTRAL
    assert len(set(SMALL_ORDER)) == 8 and IDENTITY in SMALL_ORDER and bytes(32) in SMALL_ORDER
    assert all(_times(t, 8) == NEUTRAL for t in TORSION)
    assert len(NON_CANONICAL) >= 4


# -- the group ------------------------------------------------------------------------------------

def test_a_proper_point_is_read_back_as_itself() -> None:
    point = base_mul(random_scalar())
    assert read_point(point_hex(point), "公钥") == point
    assert read_point(point_hex(base_mul(1)), "公钥") == base_mul(1)


@pytest.mark.parametrize("encoding", SMALL_ORDER, ids=[f"torsion{k}" for k in range(8)])
def test_a_point_of_small_order_is_refused(encoding: bytes) -> None:
    with pytest.raises(GroupError, match="公钥 不是有效的群元素"):
        read_point(encoding.hex(), "公钥")


def test_the_identity_is_refused_from_outside() -> None:
    with pytest.raises(GroupError, match="不是有效的群元素"):
        read_point(point_hex(IDENTITY), "公钥")


@pytest.mark.parametrize("k", range(1, 8))
def test_a_point_outside_the_prime_order_subgroup_is_refused(k: int) -> None:
    """A proper point plus a small-order point is on the curve but not in the group."""
    proper = _times(_decode(base_mul(1)), random_scalar())
    assert read_point(_encode(proper).hex(), "密文") == _encode(proper)
    with pytest.raises(GroupError, match="密文 不是有效的群元素"):
        read_point(_encode(_add(proper, TORSION[k])).hex(), "密文")


@pytest.mark.parametrize("encoding", NON_CANONICAL, ids=lambda b: b.hex()[:4] + b.hex()[-2:])
def test_a_non_canonical_encoding_of_a_curve_point_is_refused(encoding: bytes) -> None:
    with pytest.raises(GroupError, match="不是有效的群元素"):
        read_point(encoding.hex(), "点")


GOOD = point_hex(base_mul(987654321))


@pytest.mark.parametrize(("text", "says"), [
    (GOOD[:-2], "应为 64 位十六进制"),
    (GOOD + "00", "应为 64 位十六进制"),
    ("", "应为 64 位十六进制"),
    (None, "应为 64 位十六进制"),
    (int(GOOD, 16), "应为 64 位十六进制"),
    (bytes.fromhex(GOOD), "应为 64 位十六进制"),
    ("zz" + GOOD[2:], "不是十六进制"),
    ("0x" + GOOD[2:], "不是十六进制"),
    (GOOD.upper(), "不是有效的群元素"),
    (GOOD[:30] + GOOD[30:34].upper() + GOOD[34:], "不是有效的群元素"),
    (GOOD[:20] + " " + GOOD[21:], "不是"),
], ids=["short", "long", "empty", "none", "int", "bytes", "non-hex", "0x", "uppercase", "mixed-case", "space"])
def test_a_point_that_is_not_64_lowercase_hex_digits_is_refused(text: object, says: str) -> None:
    assert any(c in "abcdef" for c in GOOD)  # so that the uppercase cases differ from GOOD
    with pytest.raises(GroupError, match=says):
        read_point(text, "监票人公钥")


@pytest.mark.parametrize(("value", "accepted"), [
    (0, True), (1, True), (L - 1, True), (L, False), (L + 1, False), (2**255, False), (2**256 - 1, False),
])
def test_a_scalar_is_accepted_only_below_the_group_order(value: int, accepted: bool) -> None:
    text = value.to_bytes(32, "little").hex()
    if accepted:
        assert read_scalar(text, "证明.s") == value
    else:
        with pytest.raises(GroupError, match="证明.s 不是规范的标量"):
            read_scalar(text, "证明.s")


@pytest.mark.parametrize("text", [
    scalar_hex(0xABCDEF).upper(), scalar_hex(0xABCDEF)[:-2], "g" * 64, None, 0xABCDEF,
], ids=["uppercase", "short", "non-hex", "none", "int"])
def test_a_scalar_that_is_not_64_lowercase_hex_digits_is_refused(text: object) -> None:
    with pytest.raises(GroupError, match="证明.c"):
        read_scalar(text, "证明.c")


@pytest.mark.parametrize("n", [0, L, 2 * L, -L])
def test_multiplying_by_zero_gives_the_identity(n: int) -> None:
    assert base_mul(n) == IDENTITY
    assert mul(base_mul(random_scalar()), n) == IDENTITY
    assert mul(IDENTITY, random_scalar()) == IDENTITY


@FAST
@given(st.integers(0, L - 1), st.integers(0, L - 1))
def test_the_group_operations_agree_with_scalar_arithmetic(a: int, b: int) -> None:
    assert add(base_mul(a), base_mul(b)) == base_mul(a + b)
    assert sub(base_mul(a), base_mul(b)) == base_mul(a - b)
    assert mul(base_mul(a), b) == base_mul(a * b)
    assert add_all([base_mul(a), base_mul(b), base_mul(-a - b)]) == IDENTITY


PARTS = ("ballot", "vote:1", point_hex(base_mul(5)), point_hex(base_mul(6)))


@pytest.mark.parametrize("other", [
    ("ballot", "vote:2", PARTS[2], PARTS[3]),
    ("Ballot", *PARTS[1:]),
    (*PARTS[:2], point_hex(base_mul(7)), PARTS[3]),
    (*PARTS[:3], point_hex(base_mul(7))),
    (PARTS[0], PARTS[1], PARTS[3], PARTS[2]),
    PARTS[:3],
    (*PARTS, ""),
    (*PARTS, "x"),
    ("", *PARTS),
], ids=["vote", "label-case", "third", "fourth", "swapped", "dropped", "empty-added", "added", "empty-first"])
def test_the_challenge_hash_differs_when_any_part_differs(other: tuple[str, ...]) -> None:
    assert hash_to_scalar(*PARTS) == hash_to_scalar(*PARTS)
    assert hash_to_scalar(*PARTS) != hash_to_scalar(*other)
    assert 0 <= hash_to_scalar(*other) < L


# -- ballots --------------------------------------------------------------------------------------

VOTE = 7
YES_NO = SealedQuestion.of(10, "yes_no", 3, None)
RATING = SealedQuestion.of(11, "rating", 4, None)
ELECTION = SealedQuestion.of(12, "election", 5, 3)
QUESTIONS = [YES_NO, RATING, ELECTION]
SECRET = random_scalar()
KEY = base_mul(SECRET)


def _marks(yes_no: int = 0, grade: int = 2, elected: tuple[int, ...] = (0, 3)) -> dict[int, list[int]]:
    return {10: [int(k == yes_no) for k in range(3)], 11: [int(k == grade) for k in range(4)],
            12: [int(k in elected) for k in range(5)]}


def _open(ct: Ciphertext, secret: int = SECRET, most: int = 1) -> int | None:
    """What the trustees together would learn: m from beta / alpha^x."""
    return discrete_log(sub(ct.beta, mul(ct.alpha, secret)), most)


@functools.cache
def _sealed() -> dict[str, Any]:
    """One honest ballot with all three kinds of question, sealed once for the whole module."""
    return seal_ballot(VOTE, KEY, QUESTIONS, _marks())


def _ballot() -> dict[str, Any]:
    return copy.deepcopy(_sealed())


def test_the_question_kinds_ask_for_the_right_number_of_marks() -> None:
    assert (YES_NO.least, YES_NO.most) == (1, 1)
    assert (RATING.least, RATING.most) == (1, 1)
    assert (ELECTION.least, ELECTION.most) == (0, 3)
    assert SealedQuestion.of(13, "election", 2, 3).most == 2


@pytest.mark.parametrize("choice", range(3), ids=["赞成", "反对", "弃权"])
def test_a_yes_no_ballot_opens_to_the_answer_it_was_sealed_with(choice: int) -> None:
    marks = {10: [int(k == choice) for k in range(3)]}
    checked = check_ballot(VOTE, KEY, [YES_NO], seal_ballot(VOTE, KEY, [YES_NO], marks))
    assert [_open(ct) for ct in checked.ciphertexts[10]] == marks[10]


@pytest.mark.parametrize("grade", range(4))
def test_a_rating_ballot_opens_to_the_grade_it_was_sealed_with(grade: int) -> None:
    marks = {11: [int(k == grade) for k in range(4)]}
    checked = check_ballot(VOTE, KEY, [RATING], seal_ballot(VOTE, KEY, [RATING], marks))
    assert [_open(ct) for ct in checked.ciphertexts[11]] == marks[11]


ELECTED = [c for n in range(4) for c in itertools.combinations(range(5), n)]


@pytest.mark.parametrize("elected", ELECTED, ids=lambda c: "none" if not c else "+".join(map(str, c)))
def test_an_election_ballot_with_up_to_as_many_names_as_seats_is_accepted(elected: tuple[int, ...]) -> None:
    marks = {12: [int(k in elected) for k in range(5)]}
    checked = check_ballot(VOTE, KEY, [ELECTION], seal_ballot(VOTE, KEY, [ELECTION], marks))
    assert [_open(ct) for ct in checked.ciphertexts[12]] == marks[12]


def test_a_whole_ballot_opens_question_by_question() -> None:
    content = _ballot()
    checked = check_ballot(VOTE, KEY, QUESTIONS, content)
    assert {q: [_open(ct) for ct in cts] for q, cts in checked.ciphertexts.items()} == _marks()
    assert checked.content == content and checked.hash == ballot_hash(content)


def test_the_same_marks_sealed_twice_give_different_ciphertexts_and_receipts() -> None:
    again = seal_ballot(VOTE, KEY, QUESTIONS, _marks())
    assert again != _ballot()
    assert ballot_hash(again) != ballot_hash(_ballot())
    alphas = [c["alpha"] for b in (again, _ballot()) for q in b["questions"] for c in q["choices"]]
    assert len(set(alphas)) == len(alphas)


@pytest.mark.parametrize(("question", "row", "says"), [
    (YES_NO, [1, 1, 0], "事项 10 应选 1–1 项"),
    (YES_NO, [0, 0, 0], "事项 10 应选 1–1 项"),
    (YES_NO, [2, 0, 0], "事项 10 应为 3 个 0/1 标记"),
    (YES_NO, [1, 1, -1], "事项 10 应为 3 个 0/1 标记"),
    (YES_NO, [1, 0], "事项 10 应为 3 个 0/1 标记"),
    (YES_NO, [1, 0, 0, 0], "事项 10 应为 3 个 0/1 标记"),
    (YES_NO, [True, 0, 0.5], "事项 10 应为 3 个 0/1 标记"),
    (RATING, [0, 1, 1, 0], "事项 11 应选 1–1 项"),
    (RATING, [0, 0, 0, 0], "事项 11 应选 1–1 项"),
    (ELECTION, [1, 1, 1, 1, 0], "事项 12 应选 0–3 项"),
    (ELECTION, [1, 1, 1, 1, 1], "事项 12 应选 0–3 项"),
    (ELECTION, [1, 1, 1, 0, 2], "事项 12 应为 5 个 0/1 标记"),
], ids=["two-answers", "no-answer", "two-for-one", "minus-one", "short", "long", "half", "two-grades",
        "no-grade", "four-of-three", "all-five", "mark-two"])
def test_sealing_refuses_marks_the_question_does_not_allow(question: SealedQuestion, row: list[Any],
                                                           says: str) -> None:
    with pytest.raises(BallotError, match=says):
        seal_ballot(VOTE, KEY, [question], {question.question_id: row})


def test_sealing_refuses_a_ballot_missing_a_question() -> None:
    marks = _marks()
    del marks[11]
    with pytest.raises(BallotError, match="事项 11"):
        seal_ballot(VOTE, KEY, QUESTIONS, marks)


def test_a_ballot_marking_two_answers_is_refused() -> None:
    cheat = _seal_as(VOTE, KEY, [YES_NO], {10: [1, 1, 0]}, claim_overall=0)
    with pytest.raises(BallotError, match="事项 10：所选项数的证明不成立"):
        check_ballot(VOTE, KEY, [YES_NO], cheat)


# What a dishonest phone can do: encrypt whatever it likes and make every proof as well as it can,
# claiming for a value it cannot prove whichever branch it chooses.

def _seal_as(vote_id: int, key: bytes, questions: list[SealedQuestion], marks: dict[int, list[int]],
             claim_individual: int = 0, claim_overall: int = 0) -> dict[str, Any]:
    encrypted = [(q, [encrypt(key, m) for m in marks[q.question_id]], marks[q.question_id]) for q in questions]
    context = ballot_context(vote_id, key, [point_hex(ct.alpha) for _q, cts, _row in encrypted for ct, _r in cts])

    def claim(values: list[int], m: int, otherwise: int) -> int:
        return values.index(m) if m in values else otherwise

    parts = []
    for q, cts, row in encrypted:
        qctx = (*context, f"q:{q.question_id}")
        individual = [[p.json() for p in prove_one_of((*qctx, f"option:{k}"), key, ct.alpha, ct.beta, r, [0, 1],
                                                      claim([0, 1], m, claim_individual))]
                      for k, ((ct, r), m) in enumerate(zip(cts, row, strict=True))]
        alpha, beta = add_all([ct.alpha for ct, _r in cts]), add_all([ct.beta for ct, _r in cts])
        allowed = list(range(q.least, q.most + 1))
        overall = prove_one_of((*qctx, "overall"), key, alpha, beta, sum(r for _ct, r in cts), allowed,
                               claim(allowed, sum(row), claim_overall))
        parts.append({"question_id": q.question_id, "choices": [ct.json() for ct, _r in cts],
                      "individual_proofs": individual, "overall_proof": [p.json() for p in overall]})
    return {"vote_id": vote_id, "questions": parts}


def test_the_dishonest_phone_here_makes_honest_ballots_when_the_marks_are_honest() -> None:
    check_ballot(VOTE, KEY, QUESTIONS, _seal_as(VOTE, KEY, QUESTIONS, _marks(), 1, 1))


@pytest.mark.parametrize("claim", [0, 1])
@pytest.mark.parametrize(("row", "option"), [([2, 0, -1], 1), ([0, 2, -1], 2), ([1, 1, -1], 3), ([3, -1, -1], 1)])
def test_a_cheating_phone_cannot_prove_a_mark_other_than_0_or_1(row: list[int], option: int, claim: int) -> None:
    """The marks add up to one, so only the 0/1 proofs stand between them and the count."""
    cheat = _seal_as(VOTE, KEY, [YES_NO], {10: row}, claim_individual=claim)
    assert _open(Ciphertext(*(read_point(cheat["questions"][0]["choices"][option - 1][k], "")
                              for k in ("alpha", "beta"))), most=3) in (2, 3, None)
    with pytest.raises(BallotError, match=f"事项 10 第 {option} 个密文的 0/1 证明不成立"):
        check_ballot(VOTE, KEY, [YES_NO], cheat)


@pytest.mark.parametrize("claim", range(4))
@pytest.mark.parametrize("row", [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], ids=["four", "five"])
def test_a_cheating_phone_cannot_prove_more_names_than_seats(row: list[int], claim: int) -> None:
    marks = {**_marks(), 12: row}
    cheat = _seal_as(VOTE, KEY, QUESTIONS, marks, claim_overall=claim)
    with pytest.raises(BallotError, match="事项 12：所选项数的证明不成立（应选 0–3 项）"):
        check_ballot(VOTE, KEY, QUESTIONS, cheat)


@pytest.mark.parametrize(("question", "row"), [(YES_NO, [1, 1, 0]), (YES_NO, [0, 0, 0]), (YES_NO, [1, 1, 1]),
                                               (RATING, [0, 0, 0, 0]), (RATING, [1, 0, 0, 1])])
def test_a_cheating_phone_cannot_prove_other_than_exactly_one_answer(question: SealedQuestion,
                                                                     row: list[int]) -> None:
    cheat = _seal_as(VOTE, KEY, [question], {question.question_id: row})
    with pytest.raises(BallotError, match=f"事项 {question.question_id}：所选项数的证明不成立"):
        check_ballot(VOTE, KEY, [question], cheat)


def test_a_proof_for_one_value_does_not_verify_for_another_set_of_values() -> None:
    ct, r = encrypt(KEY, 2)
    for claim in range(2):
        proof = prove_one_of(("x",), KEY, ct.alpha, ct.beta, r, [0, 1], claim)
        assert not verify_one_of(("x",), KEY, ct.alpha, ct.beta, [0, 1], proof)
    proof = prove_one_of(("x",), KEY, ct.alpha, ct.beta, r, [1, 2], 1)
    assert verify_one_of(("x",), KEY, ct.alpha, ct.beta, [1, 2], proof)
    assert not verify_one_of(("y",), KEY, ct.alpha, ct.beta, [1, 2], proof)
    assert not verify_one_of(("x",), KEY, ct.alpha, ct.beta, [2, 1], proof)
    assert not verify_one_of(("x",), KEY, ct.alpha, ct.beta, [1, 2, 3], proof)


def _question(content: dict[str, Any], qid: int) -> dict[str, Any]:
    return next(q for q in content["questions"] if q["question_id"] == qid)


def _bump(hex_scalar: str) -> str:
    return scalar_hex(int.from_bytes(bytes.fromhex(hex_scalar), "little") + 1)


def _swap_options(b: dict[str, Any]) -> None:
    choices = _question(b, 10)["choices"]
    choices[0], choices[1] = choices[1], choices[0]


def _swap_options_with_proofs(b: dict[str, Any]) -> None:
    q = _question(b, 12)
    for key in ("choices", "individual_proofs"):
        q[key][0], q[key][3] = q[key][3], q[key][0]


def _swap_alpha_beta(b: dict[str, Any]) -> None:
    c = _question(b, 11)["choices"][2]
    c["alpha"], c["beta"] = c["beta"], c["alpha"]


def _set(qid: int, path: tuple[Any, ...], value: Callable[[Any], Any]) -> Callable[[dict[str, Any]], None]:
    def change(b: dict[str, Any]) -> None:
        node: Any = _question(b, qid)
        for step in path[:-1]:
            node = node[step]
        last = path[-1]
        node[last] = value(node.get(last) if isinstance(node, dict) else node[last])
    return change


OTHER_POINT = point_hex(base_mul(random_scalar()))
TAMPERING: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "ciphertexts-swapped-between-options": (_swap_options, "事项 10 第 1 个密文的 0/1 证明不成立"),
    # every proof's context holds every alpha of the ballot: moving one breaks the first proof checked
    "options-swapped-with-their-proofs": (_swap_options_with_proofs, "事项 10 第 1 个密文的 0/1 证明不成立"),
    "alpha-and-beta-swapped": (_swap_alpha_beta, "事项 10 第 1 个密文的 0/1 证明不成立"),
    "beta-replaced": (_set(11, ("choices", 1, "beta"), lambda _: OTHER_POINT), "事项 11 第 2 个密文的 0/1 证明不成立"),
    "alpha-replaced": (_set(12, ("choices", 4, "alpha"), lambda _: OTHER_POINT), "事项 10 第 1 个密文的 0/1 证明不成立"),
    "individual-c-changed": (_set(10, ("individual_proofs", 2, 0, "c"), _bump), "事项 10 第 3 个密文的 0/1 证明不成立"),
    "individual-s-changed": (_set(11, ("individual_proofs", 0, 1, "s"), _bump), "事项 11 第 1 个密文的 0/1 证明不成立"),
    "overall-c-changed": (_set(12, ("overall_proof", 3, "c"), _bump), "事项 12：所选项数的证明不成立"),
    "overall-s-changed": (_set(10, ("overall_proof", 0, "s"), _bump), "事项 10：所选项数的证明不成立"),
    "individual-pairs-swapped": (_set(10, ("individual_proofs", 0), lambda p: p[::-1]), "事项 10 第 1 个密文的 0/1 证明"),
    "overall-pairs-swapped": (_set(12, ("overall_proof",), lambda p: p[::-1]), "事项 12：所选项数的证明不成立"),
    "overall-proof-short": (_set(12, ("overall_proof",), lambda p: p[:-1]), "事项 12 的总数证明应有 4 段"),
    "individual-proof-long": (_set(11, ("individual_proofs", 3), lambda p: [*p, p[0]]), "事项 11 第 4 个 0/1 证明应有 2 段"),
    "a-proof-missing": (_set(11, ("individual_proofs",), lambda p: p[:-1]), "事项 11：每个密文应有一个 0/1 证明"),
    "a-choice-missing": (_set(12, ("choices",), lambda p: p[:-1]), "事项 12：应有 5 个密文"),
    "identity-alpha": (_set(12, ("choices", 0, "alpha"), lambda _: point_hex(IDENTITY)), "事项 12 第 1 个密文 alpha 不是有效的群元素"),
    "small-order-beta": (_set(10, ("choices", 2, "beta"), lambda _: SMALL_ORDER[3].hex()), "事项 10 第 3 个密文 beta 不是有效的群元素"),
    "uppercase-beta": (_set(10, ("choices", 2, "beta"), str.upper), "事项 10 第 3 个密文 beta"),
    "scalar-not-below-L": (_set(11, ("overall_proof", 0, "s"), lambda _: (L + 5).to_bytes(32, "little").hex()), "事项 11 的总数证明.s 不是规范的标量"),
    "extra-field": (_set(10, ("extra",), lambda _: 1), "事项 10：格式不对"),
    "choice-extra-field": (_set(10, ("choices", 0, "m"), lambda _: 1), "事项 10 第 1 个密文格式不对"),
    "question-order": (lambda b: b["questions"].reverse(), "事项 10：事项顺序不对（收到 12）"),
    "question-missing": (lambda b: b["questions"].pop(1), "密封选票应依次包含 3 个事项"),
    "question-repeated": (lambda b: b["questions"].__setitem__(1, copy.deepcopy(b["questions"][0])), "事项 11：事项顺序不对（收到 10）"),
    "wrong-vote": (lambda b: b.__setitem__("vote_id", VOTE + 1), f"属于表决 {VOTE + 1}，不是本次表决 {VOTE}"),
    "extra-top-field": (lambda b: b.__setitem__("voter", 3), "密封选票格式不对"),
}


@pytest.mark.parametrize("name", list(TAMPERING))
def test_a_tampered_ballot_is_refused_naming_what_fails(name: str) -> None:
    change, says = TAMPERING[name]
    content = _ballot()
    check_ballot(VOTE, KEY, QUESTIONS, content)
    change(content)
    assert content != _ballot()
    with pytest.raises(BallotError) as refused:
        check_ballot(VOTE, KEY, QUESTIONS, content)
    assert says in str(refused.value)


def test_a_ballot_for_another_vote_is_refused_even_with_its_number_rewritten() -> None:
    other = seal_ballot(VOTE + 1, KEY, QUESTIONS, _marks())
    with pytest.raises(BallotError, match=f"属于表决 {VOTE + 1}"):
        check_ballot(VOTE, KEY, QUESTIONS, other)
    other["vote_id"] = VOTE
    with pytest.raises(BallotError, match="事项 10 第 1 个密文的 0/1 证明不成立"):
        check_ballot(VOTE, KEY, QUESTIONS, other)


def test_a_ballot_sealed_under_another_key_is_refused() -> None:
    other_key = base_mul(random_scalar())
    content = seal_ballot(VOTE, other_key, QUESTIONS, _marks())
    check_ballot(VOTE, other_key, QUESTIONS, content)
    with pytest.raises(BallotError, match="事项 10 第 1 个密文的 0/1 证明不成立"):
        check_ballot(VOTE, KEY, QUESTIONS, content)


def _copy_individual(into: dict[str, Any], other: dict[str, Any]) -> None:
    _question(into, 11)["individual_proofs"][2] = _question(other, 11)["individual_proofs"][2]


def _copy_overall(into: dict[str, Any], other: dict[str, Any]) -> None:
    _question(into, 12)["overall_proof"] = _question(other, 12)["overall_proof"]


def _copy_choice_with_proof(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key in ("choices", "individual_proofs"):
        _question(into, 10)[key][1] = _question(other, 10)[key][1]


def _copy_question(into: dict[str, Any], other: dict[str, Any]) -> None:
    into["questions"][1] = copy.deepcopy(other["questions"][1])


@pytest.mark.parametrize(("splice", "says"), [
    (_copy_individual, "事项 11 第 3 个密文的 0/1 证明不成立"),
    (_copy_overall, "事项 12：所选项数的证明不成立"),
    (_copy_choice_with_proof, "事项 10 第 1 个密文的 0/1 证明不成立"),
    (_copy_question, "事项 10 第 1 个密文的 0/1 证明不成立"),
], ids=["individual-proof", "overall-proof", "choice-with-its-proof", "whole-question"])
def test_a_proof_copied_from_another_ballot_of_the_same_vote_is_refused(splice: Callable[..., None],
                                                                        says: str) -> None:
    """The other ballot has the same marks, vote and key: only the ballot context tells them apart."""
    content, other = _ballot(), seal_ballot(VOTE, KEY, QUESTIONS, _marks())
    check_ballot(VOTE, KEY, QUESTIONS, other)
    splice(content, other)
    with pytest.raises(BallotError) as refused:
        check_ballot(VOTE, KEY, QUESTIONS, content)
    assert says in str(refused.value)


@pytest.mark.parametrize("content", [None, [], "ballot", {"vote_id": VOTE}, {"vote_id": VOTE, "questions": {}},
                                     {"vote_id": VOTE, "questions": [1, 2, 3]}])
def test_something_that_is_not_a_ballot_is_refused_with_a_ballot_error(content: Any) -> None:
    with pytest.raises(BallotError):
        check_ballot(VOTE, KEY, QUESTIONS, content)


# -- receipts -------------------------------------------------------------------------------------

def test_the_same_ballot_hashes_to_the_same_receipt() -> None:
    content = _ballot()
    receipt = check_ballot(VOTE, KEY, QUESTIONS, content).hash
    assert re.fullmatch(r"[0-9a-f]{64}", receipt)
    assert receipt == ballot_hash(content) == ballot_hash(json.loads(json.dumps(content)))
    assert receipt == ballot_hash(json.loads(json.dumps(content, indent=2, sort_keys=True)))
    reordered = {"questions": [dict(reversed(list(q.items()))) for q in content["questions"]], "vote_id": VOTE}
    assert receipt == ballot_hash(reordered) == check_ballot(VOTE, KEY, QUESTIONS, reordered).hash


def _flip_last(hex_text: str) -> str:
    return hex_text[:-1] + ("0" if hex_text[-1] != "0" else "1")


@pytest.mark.parametrize("change", [
    lambda b: b.__setitem__("vote_id", VOTE + 1),
    _set(10, ("choices", 0, "alpha"), _flip_last),
    _set(11, ("choices", 3, "beta"), _flip_last),
    _set(12, ("individual_proofs", 4, 1, "c"), _flip_last),
    _set(12, ("overall_proof", 2, "s"), _flip_last),
    _set(10, ("question_id",), lambda q: q + 1),
    lambda b: b["questions"].reverse(),
    lambda b: b.__setitem__("extra", None),
], ids=["vote", "alpha", "beta", "individual-c", "overall-s", "question-id", "order", "extra-field"])
def test_any_change_to_a_ballot_changes_its_receipt(change: Callable[[dict[str, Any]], None]) -> None:
    content = _ballot()
    change(content)
    assert ballot_hash(content) != ballot_hash(_ballot())


def test_the_short_receipt_is_the_first_16_digits_in_groups_of_4_uppercase() -> None:
    full = ballot_hash(_ballot())
    short = short_receipt(full)
    assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", short)
    assert short.replace("-", "") == full[:16].upper()
    assert short_receipt("0123456789abcdef" + "0" * 48) == "0123-4567-89AB-CDEF"


@pytest.mark.parametrize("rewrite", [
    lambda b: b.__setitem__("vote_id", float(VOTE)),
    _set(10, ("question_id",), float),
    lambda b: b["questions"][0]["individual_proofs"][0][0].__setitem__("x", 0),
    lambda b: b["questions"][0]["overall_proof"][0].__setitem__("note", "copy"),
], ids=["vote-id-as-float", "question-id-as-float", "extra-key-in-a-proof-pair", "extra-key-in-the-overall-proof"])
def test_a_copied_ballot_cannot_pass_under_a_different_receipt(rewrite: Callable[[dict[str, Any]], None]) -> None:
    """The module promises that a whole ballot copied is the same ballot (the same hash), which the
    vote refuses as a duplicate: rewriting a number as JSON 7.0 must not give the copy a new receipt."""
    original = _ballot()
    copied = json.loads(json.dumps(original))
    rewrite(copied)
    try:
        receipt = check_ballot(VOTE, KEY, QUESTIONS, copied).hash
    except BallotError:
        return
    assert receipt == ballot_hash(original)


# -- the key ceremony -----------------------------------------------------------------------------

class Run:
    """A whole honest ceremony, as the trustees' computers and the server would run it."""

    def __init__(self, n: int, t: int) -> None:
        self.ceremony = Ceremony(congress_id=3, ceremony_id=4, trustees=n, threshold=t)
        self.seeds = {i: trustees.new_seed() for i in self.ceremony.indices()}
        self.round1 = {i: round1(self.ceremony, self.seeds[i], i) for i in self.ceremony.indices()}
        self.comm_keys = {i: check_round1(self.ceremony, i, m) for i, m in self.round1.items()}
        self.round2 = {i: round2(self.ceremony, self.seeds[i], i, self.comm_keys) for i in self.ceremony.indices()}
        self.commitments = {i: check_round2(self.ceremony, i, m) for i, m in self.round2.items()}
        self.round3 = {i: round3(self.ceremony, self.seeds[i], i, self.round2) for i in self.ceremony.indices()}
        self.shares = {i: trustees.my_share(self.ceremony, self.seeds[i], i, self.round2)
                       for i in self.ceremony.indices()}
        self.key = joint_key(self.commitments)

    def subsets(self, size: int) -> list[tuple[int, ...]]:
        return list(itertools.combinations(self.ceremony.indices(), size))


@functools.cache
def _run(n: int, t: int) -> Run:
    return Run(n, t)


SIZES = [(3, 2), (5, 3)]
DECRYPT = ("decrypt", "vote:7")


def test_a_threshold_outside_1_to_n_is_refused() -> None:
    for t in (0, 4):
        with pytest.raises(CeremonyError, match="门限应在 1 到 3 之间"):
            Ceremony(1, 1, 3, t)


@pytest.mark.parametrize(("n", "t"), SIZES)
def test_every_trustee_confirms_a_share_that_matches_their_verification_key(n: int, t: int) -> None:
    run = _run(n, t)
    assert len(set(run.shares.values())) == n
    for j in run.ceremony.indices():
        assert run.round3[j] == {"trustee": j, "verification_key": point_hex(verification_key(run.commitments, j))}
        assert base_mul(run.shares[j]) == verification_key(run.commitments, j)
        assert all(len(cs) == t for cs in run.commitments.values())


@pytest.mark.parametrize(("n", "t"), SIZES)
def test_any_t_verification_keys_interpolate_to_the_joint_key_and_fewer_do_not(n: int, t: int) -> None:
    run = _run(n, t)
    assert run.key == add_all([cs[0] for cs in run.commitments.values()])
    for size, matches in ((t, True), (t - 1, False)):
        for subset in run.subsets(size):
            point = add_all([mul(verification_key(run.commitments, i), lagrange_at_zero(list(subset), i))
                             for i in subset])
            assert (point == run.key) is matches, subset


@pytest.mark.parametrize(("n", "t"), SIZES)
def test_the_same_seed_gives_the_same_public_messages_and_another_seed_does_not(n: int, t: int) -> None:
    run = _run(n, t)
    again = round2(run.ceremony, run.seeds[1], 1, run.comm_keys)
    assert again["commitments"] == run.round2[1]["commitments"]
    assert round1(run.ceremony, run.seeds[1], 1)["comm_key"] == run.round1[1]["comm_key"]
    other = round2(run.ceremony, trustees.new_seed(), 1, run.comm_keys)
    assert other["commitments"][0] != run.round2[1]["commitments"][0]


def _decrypt_with(run: Run, subset: tuple[int, ...], cts: list[Ciphertext]) -> list[bytes]:
    """Each trustee of `subset` computes and publishes shares; the server checks them and combines."""
    alphas = [ct.alpha for ct in cts]
    checked = {}
    for i in subset:
        message = json.loads(json.dumps(decrypt_shares(DECRYPT, i, run.shares[i], alphas)))
        checked[i] = check_decryption(DECRYPT, i, verification_key(run.commitments, i), alphas, message)
    return combine([ct.beta for ct in cts], checked)


@FAST
@given(st.sampled_from(SIZES), st.data())
def test_any_t_trustees_decrypt_the_sums_to_the_right_counts(size: tuple[int, int], data: st.DataObject) -> None:
    n, t = size
    run = _run(n, t)
    subset = tuple(sorted(data.draw(st.permutations(list(run.ceremony.indices())))[:t]))
    ballots = data.draw(st.lists(st.tuples(st.integers(0, 2), st.sets(st.integers(0, 4), max_size=3)),
                                 min_size=1, max_size=5))
    questions = [YES_NO, ELECTION]
    checked = []
    for choice, elected in ballots:
        marks = {10: [int(k == choice) for k in range(3)], 12: [int(k in elected) for k in range(5)]}
        checked.append(check_ballot(VOTE, run.key, questions, seal_ballot(VOTE, run.key, questions, marks)))
    pool = Pool((1,), len(ballots))
    sums = add_up([pool], [(1, c.ciphertexts) for c in checked], {10: 3, 12: 5})
    counts = counts_of(sums, _decrypt_with(run, subset, to_decrypt(sums)))
    assert counts == [{10: [sum(c == k for c, _e in ballots) for k in range(3)],
                       12: [sum(k in e for _c, e in ballots) for k in range(5)]}]


@pytest.mark.parametrize(("n", "t"), SIZES)
def test_fewer_than_t_trustees_get_a_wrong_point(n: int, t: int) -> None:
    run = _run(n, t)
    marks = [3, 0, 1]
    cts = [encrypt(run.key, m)[0] for m in marks]
    for subset in run.subsets(t):
        assert _decrypt_with(run, subset, cts) == [base_mul(m) for m in marks]
    for subset in run.subsets(t - 1):
        wrong = _decrypt_with(run, subset, cts) if subset else [ct.beta for ct in cts]
        for point, m in zip(wrong, marks, strict=True):
            assert point != base_mul(m)
            assert discrete_log(point, 100) is None


def _seal_share(run: Run, sender: int, receiver: int, value: int) -> dict[str, str]:
    """What a dishonest sender can send: `value` properly encrypted to the receiver's key."""
    e = random_scalar()
    ephemeral = base_mul(e)
    info = trustees._share_info(run.ceremony, sender, receiver)
    nonce = bytes(12)
    sealed = AESGCM(trustees._share_key(mul(run.comm_keys[receiver], e), ephemeral, info)).encrypt(
        nonce, scalar_bytes(value), info)
    return {"to": receiver, "ephemeral": point_hex(ephemeral), "sealed": (nonce + sealed).hex()}


def _true_value(run: Run, sender: int, receiver: int) -> int:
    return trustees._poly(trustees._coefficients(run.ceremony, run.seeds[sender], sender), receiver)


def _with_share(run: Run, sender: int, share: dict[str, str]) -> dict[int, dict[str, Any]]:
    messages = copy.deepcopy(run.round2)
    messages[sender]["shares"] = [share if s["to"] == share["to"] else s for s in messages[sender]["shares"]]
    return messages


@pytest.mark.parametrize(("n", "t"), SIZES)
def test_a_share_encrypted_with_a_wrong_value_draws_a_complaint_naming_the_sender(n: int, t: int) -> None:
    run = _run(n, t)
    sender, receiver = n, 2
    honest = _with_share(run, sender, _seal_share(run, sender, receiver, _true_value(run, sender, receiver)))
    assert round3(run.ceremony, run.seeds[receiver], receiver, honest) == run.round3[receiver]
    messages = _with_share(run, sender, _seal_share(run, sender, receiver, _true_value(run, sender, receiver) + 1))
    check_round2(run.ceremony, sender, messages[sender])  # nobody else can tell
    answer = round3(run.ceremony, run.seeds[receiver], receiver, messages)
    assert set(answer) == {"trustee", "complaint"} and answer["trustee"] == receiver
    assert answer["complaint"] == f"第 {sender} 位监票人发来的份额与其公开承诺不符"
    for j in run.ceremony.indices():
        if j != receiver:
            assert round3(run.ceremony, run.seeds[j], j, messages) == run.round3[j]


@pytest.mark.parametrize(("n", "t"), SIZES)
def test_a_share_that_cannot_be_decrypted_draws_a_complaint_naming_the_sender(n: int, t: int) -> None:
    run = _run(n, t)
    sender, receiver = 1, 3
    for_someone_else = next(s for s in run.round2[sender]["shares"] if s["to"] == 2)
    corrupted = next(s for s in run.round2[sender]["shares"] if s["to"] == receiver)
    corrupted = {**corrupted, "sealed": _flip_last(corrupted["sealed"])}
    for share in ({**for_someone_else, "to": receiver}, corrupted):
        answer = round3(run.ceremony, run.seeds[receiver], receiver, _with_share(run, sender, share))
        assert answer == {"trustee": receiver, "complaint": f"第 {sender} 位监票人发来的份额无法解密"}


def test_a_share_that_is_not_hex_draws_a_complaint_naming_the_sender() -> None:
    run = _run(3, 2)
    share = next(s for s in run.round2[1]["shares"] if s["to"] == 3)
    share = {**share, "sealed": "zz" + share["sealed"][2:]}
    answer = round3(run.ceremony, run.seeds[3], 3, _with_share(run, 1, share))
    assert answer["trustee"] == 3 and "第 1 位监票人" in answer["complaint"]


def _r1(change: Callable[[dict[str, Any], Run], None]) -> Callable[[Run], dict[str, Any]]:
    def make(run: Run) -> dict[str, Any]:
        message = copy.deepcopy(run.round1[1])
        change(message, run)
        return message
    return make


ROUND1_BAD = {
    "proof-c-changed": (_r1(lambda m, _r: m["comm_proof"].__setitem__("c", _bump(m["comm_proof"]["c"]))),
                        "持有私钥的证明不成立"),
    "proof-s-changed": (_r1(lambda m, _r: m["comm_proof"].__setitem__("s", _bump(m["comm_proof"]["s"]))),
                        "持有私钥的证明不成立"),
    "another-trustees-key-and-proof": (_r1(lambda m, r: m.update({k: r.round1[2][k] for k in ("comm_key", "comm_proof")})),
                                       "持有私钥的证明不成立"),
    "another-key": (_r1(lambda m, _r: m.__setitem__("comm_key", OTHER_POINT)), "持有私钥的证明不成立"),
    "index-mismatch": (lambda r: copy.deepcopy(r.round1[2]), "编号应为 1"),
    "identity-key": (_r1(lambda m, _r: m.__setitem__("comm_key", point_hex(IDENTITY))), "不是有效的群元素"),
    "extra-field": (_r1(lambda m, _r: m.__setitem__("seed", "00")), "格式不对"),
    "proof-not-a-pair": (_r1(lambda m, _r: m.__setitem__("comm_proof", [1, 2])), "应为 {c, s}"),
}


@pytest.mark.parametrize("name", list(ROUND1_BAD))
def test_a_bad_communication_key_message_is_refused_naming_the_trustee(name: str) -> None:
    run = _run(3, 2)
    make, says = ROUND1_BAD[name]
    assert check_round1(run.ceremony, 1, copy.deepcopy(run.round1[1])) == run.comm_keys[1]
    with pytest.raises(CeremonyError) as refused:
        check_round1(run.ceremony, 1, make(run))
    assert "第 1 位监票人的通信公钥" in str(refused.value) and says in str(refused.value)


def test_a_communication_key_message_from_another_ceremony_is_refused() -> None:
    run = _run(3, 2)
    other = Ceremony(3, 5, 3, 2)
    with pytest.raises(CeremonyError, match="持有私钥的证明不成立"):
        check_round1(other, 1, run.round1[1])


def _r2(change: Callable[[dict[str, Any], Run], None]) -> Callable[[Run], dict[str, Any]]:
    def make(run: Run) -> dict[str, Any]:
        message = copy.deepcopy(run.round2[1])
        change(message, run)
        return message
    return make


ROUND2_BAD = {
    "key-proof-c-changed": (_r2(lambda m, _r: m["key_proof"].__setitem__("c", _bump(m["key_proof"]["c"]))),
                            "持有系数的证明不成立"),
    "key-proof-s-changed": (_r2(lambda m, _r: m["key_proof"].__setitem__("s", _bump(m["key_proof"]["s"]))),
                            "持有系数的证明不成立"),
    "communication-proof-as-key-proof": (
        _r2(lambda m, r: m.update(key_proof=r.round1[1]["comm_proof"], commitments=[r.round1[1]["comm_key"],
                                                                                   *m["commitments"][1:]])),
        "持有系数的证明不成立"),
    "another-trustees-commitments": (_r2(lambda m, r: m.update(commitments=r.round2[2]["commitments"],
                                                               key_proof=r.round2[2]["key_proof"])),
                                     "持有系数的证明不成立"),
    "first-commitment-replaced": (_r2(lambda m, _r: m["commitments"].__setitem__(0, OTHER_POINT)), "持有系数的证明不成立"),
    "one-commitment-too-few": (_r2(lambda m, _r: m["commitments"].pop()), "应有 2 个承诺"),
    "one-commitment-too-many": (_r2(lambda m, _r: m["commitments"].append(OTHER_POINT)), "应有 2 个承诺"),
    "index-mismatch": (lambda r: copy.deepcopy(r.round2[2]), "编号应为 1"),
    "identity-commitment": (_r2(lambda m, _r: m["commitments"].__setitem__(1, point_hex(IDENTITY))), "不是有效的群元素"),
    "a-share-missing": (_r2(lambda m, _r: m["shares"].pop()), "应依次发给其他每一位监票人一份"),
    "shares-out-of-order": (_r2(lambda m, _r: m["shares"].reverse()), "应依次发给其他每一位监票人一份"),
    "a-share-to-self": (_r2(lambda m, _r: m["shares"][0].__setitem__("to", 1)), "应依次发给其他每一位监票人一份"),
    "sealed-too-short": (_r2(lambda m, _r: m["shares"][0].__setitem__("sealed", m["shares"][0]["sealed"][:-2])),
                         "（给第 2 位）：密文应为 120 位小写十六进制"),
    "sealed-not-hex": (_r2(lambda m, _r: m["shares"][0].__setitem__("sealed", "zz" + m["shares"][0]["sealed"][2:])),
                       "第 1 位监票人的承诺"),
    "ephemeral-small-order": (_r2(lambda m, _r: m["shares"][1].__setitem__("ephemeral", SMALL_ORDER[5].hex())),
                              "（给第 3 位） 不是有效的群元素"),
}


@pytest.mark.parametrize("name", list(ROUND2_BAD))
def test_a_bad_commitment_message_is_refused_naming_the_trustee(name: str) -> None:
    run = _run(3, 2)
    make, says = ROUND2_BAD[name]
    assert check_round2(run.ceremony, 1, copy.deepcopy(run.round2[1])) == run.commitments[1]
    with pytest.raises(CeremonyError) as refused:
        check_round2(run.ceremony, 1, make(run))
    assert "第 1 位监票人的承诺" in str(refused.value) and says in str(refused.value)


def _sums(run: Run, marks: list[int]) -> list[Ciphertext]:
    return [encrypt(run.key, m)[0] for m in marks]


@pytest.mark.parametrize(("n", "t"), SIZES)
def test_honest_decryption_shares_are_accepted(n: int, t: int) -> None:
    run = _run(n, t)
    cts = _sums(run, [0, 1, 4])
    alphas = [ct.alpha for ct in cts]
    for i in run.ceremony.indices():
        message = decrypt_shares(DECRYPT, i, run.shares[i], alphas)
        shares = check_decryption(DECRYPT, i, verification_key(run.commitments, i), alphas, message)
        assert shares == [mul(a, run.shares[i]) for a in alphas]


def _doubled(message: dict[str, Any], _run: Run, _alphas: list[bytes]) -> None:
    item = message["shares"][1]
    item["share"] = point_hex(mul(read_point(item["share"], "share"), 2))


def _with_other_secret(message: dict[str, Any], run: Run, alphas: list[bytes]) -> None:
    message["shares"] = decrypt_shares(DECRYPT, 2, run.shares[3], alphas)["shares"]


def _for_another_item(message: dict[str, Any], _run: Run, _alphas: list[bytes]) -> None:
    message["shares"][1], message["shares"][2] = message["shares"][2], message["shares"][1]


def _from_another_vote(message: dict[str, Any], run: Run, alphas: list[bytes]) -> None:
    message["shares"] = decrypt_shares(("decrypt", "vote:8"), 2, run.shares[2], alphas)["shares"]


def _proof_of_another_trustee(message: dict[str, Any], run: Run, alphas: list[bytes]) -> None:
    theirs = decrypt_shares(DECRYPT, 3, run.shares[3], alphas)["shares"]
    message["shares"][1]["proof"] = theirs[1]["proof"]


DECRYPTION_BAD = {
    "share-multiplied-by-2": (_doubled, "第 2 份的解密证明不成立"),
    "made-with-another-trustees-secret": (_with_other_secret, "第 1 份的解密证明不成立"),
    "another-trustees-proof": (_proof_of_another_trustee, "第 2 份的解密证明不成立"),
    "shares-swapped-between-items": (_for_another_item, "第 2 份的解密证明不成立"),
    "made-for-another-vote": (_from_another_vote, "第 1 份的解密证明不成立"),
    "one-share-missing": (lambda m, _r, _a: m["shares"].pop(), "应为第 2 位的 3 份"),
    "another-trustee-number": (lambda m, _r, _a: m.__setitem__("trustee", 3), "应为第 2 位的 3 份"),
    "identity-share": (lambda m, _r, _a: m["shares"][0].__setitem__("share", point_hex(IDENTITY)), "第 1 份 不是有效的群元素"),
    "extra-field": (lambda m, _r, _a: m["shares"][0].__setitem__("x", 1), "格式不对"),
}


@pytest.mark.parametrize("name", list(DECRYPTION_BAD))
def test_a_wrong_decryption_share_is_refused_naming_the_trustee(name: str) -> None:
    run = _run(5, 3)
    alphas = [ct.alpha for ct in _sums(run, [2, 0, 1])]
    message = decrypt_shares(DECRYPT, 2, run.shares[2], alphas)
    y2 = verification_key(run.commitments, 2)
    check_decryption(DECRYPT, 2, y2, alphas, copy.deepcopy(message))
    change, says = DECRYPTION_BAD[name]
    change(message, run, alphas)
    with pytest.raises(CeremonyError) as refused:
        check_decryption(DECRYPT, 2, y2, alphas, message)
    assert "第 2 位监票人的解密份额" in str(refused.value) and says in str(refused.value)


def test_a_decryption_share_checked_against_another_trustees_key_is_refused() -> None:
    run = _run(3, 2)
    alphas = [ct.alpha for ct in _sums(run, [1])]
    message = decrypt_shares(DECRYPT, 1, run.shares[1], alphas)
    with pytest.raises(CeremonyError, match="第 1 位监票人的解密份额：第 1 份的解密证明不成立"):
        check_decryption(DECRYPT, 1, verification_key(run.commitments, 2), alphas, message)


# -- counting -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("ballots", "order", "pools"), [
    ({1: 5, 2: 7, 3: 12}, [1, 2, 3], [((1,), 5), ((2,), 7), ((3,), 12)]),
    ({1: 5, 2: 7, 3: 12}, [3, 1, 2], [((3,), 12), ((1,), 5), ((2,), 7)]),
    ({1: 2, 2: 10, 3: 3, 4: 1}, [1, 2, 3, 4], [((1, 3, 4), 6), ((2,), 10)]),
    ({1: 4, 2: 1, 3: 6}, [1, 2, 3], [((1, 2), 5), ((3,), 6)]),
    ({1: 8, 2: 3, 3: 6, 4: 1}, [1, 2, 3, 4], [((1,), 8), ((2, 3, 4), 10)]),
    ({1: 6, 2: 3, 3: 6}, [1, 2, 3], [((1, 2), 9), ((3,), 6)]),
    ({1: 6, 2: 3, 3: 6}, [3, 2, 1], [((3, 2), 9), ((1,), 6)]),
    ({1: 9, 2: 4}, [1, 2], [((1, 2), 13)]),
    ({1: 1, 2: 2, 3: 1}, [1, 2, 3], [((1, 2, 3), 4)]),
    ({1: 4}, [1], [((1,), 4)]),
    ({1: 0, 2: 6, 3: 0}, [1, 2, 3], [((1,), 0), ((2,), 6), ((3,), 0)]),
    ({1: 0, 2: 2, 3: 7, 4: 0}, [1, 2, 3, 4], [((1,), 0), ((2, 3), 9), ((4,), 0)]),
    ({1: 0, 2: 2, 3: 0, 4: 1}, [1, 2, 3, 4], [((1,), 0), ((2, 4), 3), ((3,), 0)]),
    ({1: 0, 2: 0}, [1, 2], [((1,), 0), ((2,), 0)]),
    ({}, [1, 2], []),
    ({1: 3, 2: 9}, [5, 2, 1, 6], [((2, 1), 12)]),
], ids=["none-small", "in-order", "small-pooled", "small-pooled-exactly-5", "small-pool-to-fewest",
        "fewest-tie-first", "fewest-tie-first-in-order", "one-small-one-large", "all-small", "only-one",
        "empty-alone", "empty-alone-small-merged", "empty-alone-all-small", "all-empty", "nothing",
        "order-with-others"])
def test_small_groups_are_pooled_before_anything_is_decrypted(ballots: dict[int, int], order: list[int],
                                                             pools: list[tuple[tuple[int, ...], int]]) -> None:
    assert MIN_POOL == 5
    assert pool_groups(ballots, order) == [Pool(groups, n) for groups, n in pools]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.integers(1, 30), st.integers(0, 12), max_size=10).flatmap(
    lambda b: st.tuples(st.just(b), st.permutations(sorted(b)))), st.integers(1, 8))
def test_no_pool_with_ballots_is_smaller_than_the_minimum_unless_all_ballots_are(
        case: tuple[dict[int, int], list[int]], minimum: int) -> None:
    ballots, order = case
    pools = pool_groups(ballots, order, minimum)
    pooled = [g for p in pools for g in p.group_ids]
    assert sorted(pooled) == sorted(ballots), "every group in exactly one pool"
    assert [order.index(p.group_ids[0]) for p in pools] == sorted(order.index(p.group_ids[0]) for p in pools)
    total = sum(ballots.values())
    for pool in pools:
        assert pool.ballots == sum(ballots[g] for g in pool.group_ids)
        assert list(pool.group_ids) == sorted(pool.group_ids, key=order.index)
        if pool.ballots:
            assert pool.ballots >= minimum or total < minimum, pool
            assert all(ballots[g] for g in pool.group_ids), "a group with no ballots is kept alone"
            assert sum(ballots[g] >= minimum for g in pool.group_ids) <= 1, "large groups stay apart"
        else:
            assert len(pool.group_ids) == 1
    for g, n in ballots.items():
        if n >= minimum and not any(0 < ballots[h] < minimum for h in ballots):
            assert Pool((g,), n) in pools, "without small groups every group is its own pool"


@FAST
@given(st.dictionaries(st.integers(1, 5), st.integers(0, 7), min_size=1, max_size=4), st.randoms())
def test_the_pools_sums_decrypt_to_the_sums_of_the_plaintext_marks(per_group: dict[int, int], rnd: Any) -> None:
    questions = [YES_NO, ELECTION]
    ballots: list[tuple[int, dict[int, list[int]]]] = []
    for g, n in per_group.items():
        for _ in range(n):
            yes_no, elected = rnd.randrange(3), rnd.sample(range(5), rnd.randrange(4))
            ballots.append((g, {10: [int(k == yes_no) for k in range(3)],
                                12: [int(k in elected) for k in range(5)]}))
    encrypted = [(g, {q.question_id: [encrypt(KEY, m)[0] for m in marks[q.question_id]] for q in questions})
                 for g, marks in ballots]
    pools = pool_groups(per_group, sorted(per_group))
    sums = add_up(pools, encrypted, {10: 3, 12: 5})
    assert [ps.pool for ps in sums] == pools
    plain = [sub(ct.beta, mul(ct.alpha, SECRET)) for ct in to_decrypt(sums)]
    counts = counts_of(sums, plain)
    for pool, got in zip(pools, counts, strict=True):
        mine = [marks for g, marks in ballots if g in pool.group_ids]
        assert got == {q: [sum(m[q][k] for m in mine) for k in range(n)] for q, n in ((10, 3), (12, 5))}
        assert sum(got[10]) == pool.ballots
    assert len(to_decrypt(sums)) == 8 * sum(1 for p in pools if p.ballots)


def test_a_pool_without_ballots_has_nothing_to_decrypt_and_counts_zero() -> None:
    pools = [Pool((1,), 0), Pool((2,), 1)]
    sums = add_up(pools, [(2, {10: [encrypt(KEY, m)[0] for m in (0, 1, 0)]})], {10: 3})
    assert sums[0].sums == {10: [Ciphertext(IDENTITY, IDENTITY)] * 3}
    assert sums[0].json() == {"group_ids": [1], "ballots": 0, "sums": {"10": [
        {"alpha": point_hex(IDENTITY), "beta": point_hex(IDENTITY)}] * 3}}
    assert to_decrypt(sums) == sums[1].sums[10]
    plain = [sub(ct.beta, mul(ct.alpha, SECRET)) for ct in to_decrypt(sums)]
    assert counts_of(sums, plain) == [{10: [0, 0, 0]}, {10: [0, 1, 0]}]


SUMS = [PoolSums(Pool((1, 2), 3), {10: [Ciphertext(IDENTITY, IDENTITY)] * 2})]


@pytest.mark.parametrize(("plaintexts", "counts"), [
    ([base_mul(0), base_mul(3)], [{10: [0, 3]}]),
    ([base_mul(3), base_mul(2)], [{10: [3, 2]}]),
    ([base_mul(3), base_mul(4)], "事项 10 第 2 项的解密结果不在 0–3 之间"),
    ([base_mul(4), base_mul(0)], "事项 10 第 1 项的解密结果不在 0–3 之间"),
    ([base_mul(-1), base_mul(0)], "事项 10 第 1 项的解密结果不在 0–3 之间"),
    ([base_mul(1), base_mul(random_scalar())], "事项 10 第 2 项的解密结果不在 0–3 之间"),
], ids=["zero-and-all", "all-and-two", "one-above", "first-above", "minus-one", "random-point"])
def test_a_decryption_above_the_pools_ballots_is_refused(plaintexts: list[bytes], counts: Any) -> None:
    if isinstance(counts, str):
        with pytest.raises(ValueError, match=counts):
            counts_of(SUMS, plaintexts)
    else:
        assert counts_of(SUMS, plaintexts) == counts


@pytest.mark.parametrize("m", [0, 1, 2, 17, 40])
def test_the_discrete_log_finds_m_up_to_the_bound_and_no_further(m: int) -> None:
    assert discrete_log(base_mul(m), 40) == m
    assert discrete_log(base_mul(m), m) == m
    assert discrete_log(base_mul(m), m - 1) is None


@pytest.mark.parametrize(("n", "t"), SIZES)
def test_end_to_end_small_groups_are_counted_together_by_t_trustees(n: int, t: int) -> None:
    run = _run(n, t)
    questions = [YES_NO]
    per_group = {1: [0, 0, 1, 2, 0, 1], 2: [1], 3: [2, 2], 4: []}
    pools = pool_groups({g: len(v) for g, v in per_group.items()}, [1, 2, 3, 4])
    assert pools == [Pool((1, 2, 3), 9), Pool((4,), 0)]
    ballots = []
    for g, choices in per_group.items():
        for c in choices:
            content = seal_ballot(VOTE, run.key, questions, {10: [int(k == c) for k in range(3)]})
            ballots.append((g, check_ballot(VOTE, run.key, questions, content).ciphertexts))
    sums = add_up(pools, ballots, {10: 3})
    plain = _decrypt_with(run, run.subsets(t)[-1], to_decrypt(sums))
    assert counts_of(sums, plain) == [{10: [3, 3, 3]}, {10: [0, 0, 0]}]


def test_a_trustee_missing_someones_commitments_gets_no_share_rather_than_a_wrong_one() -> None:
    run = _run(3, 2)
    partial = {i: m for i, m in run.round2.items() if i != 2}
    with pytest.raises(CeremonyError, match="尚未收到第 2 位监票人的承诺与份额"):
        trustees.my_share(run.ceremony, run.seeds[1], 1, partial)


@pytest.mark.parametrize("marks", [[True, False, False], [1.0, 0, 0]], ids=["bool", "float"])
def test_sealing_refuses_marks_that_are_not_the_integers_0_and_1(marks: list[Any]) -> None:
    with pytest.raises(BallotError):
        seal_ballot(VOTE, KEY, [SealedQuestion.of(10, "yes_no", 3, None)], {10: marks})
