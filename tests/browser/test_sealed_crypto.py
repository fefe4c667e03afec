"""web/js/sealed.js in real Chromium against congress.sealed in Python: the same ballots, the same
ceremony, byte for byte. A ballot sealed on the phone passes the server's check and has the same
receipt; a ballot sealed by Python passes the phone's check and a tampered one is refused there; a
trustee in the browser takes part in a ceremony with trustees in Python, and their decryption shares
combine into the right counts.

The page is a blank page served with web/ (under /static/, as the app serves it) from a small static
server on 127.0.0.1, a secure context, so ES modules and WebCrypto work as they do on the real site.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from nacl import bindings

from congress.sealed import counting, group, trustees
from congress.sealed.ballot import (
    BallotError,
    SealedQuestion,
    ballot_hash,
    check_ballot,
    seal_ballot,
    short_receipt,
)
from congress.sealed.group import GroupError
from tests.browser.conftest import ROOT

pytestmark = pytest.mark.browser

WEB = ROOT / "web"
BLANK = b"<!doctype html><html lang=zh-CN><meta charset=utf-8><title>sealed</title><link rel=icon href=\"data:,\"></html>"

# The eight points of small order (the torsion subgroup), as noble-curves lists them.
TORSION = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
]
YES_NO = SealedQuestion.of(1, "yes_no", 3, None)
ELECTION = SealedQuestion.of(2, "election", 5, 3)
QUESTIONS = [YES_NO, ELECTION]


class _Handler(SimpleHTTPRequestHandler):
    """web/ under /static/, a blank page at /, nothing else."""

    def do_GET(self) -> None:  # noqa: N802 (the http.server name)
        if self.path == "/":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(BLANK)))
            self.end_headers()
            self.wfile.write(BLANK)
        elif self.path.startswith("/static/"):
            self.path = self.path[len("/static"):]
            super().do_GET()
        else:
            self.send_error(404)

    def log_message(self, *args: Any) -> None:
        pass


def serve_web() -> tuple[ThreadingHTTPServer, str]:
    """A static server for web/ on a free port of 127.0.0.1 (also used by bench/sealed_browser.py)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(WEB)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def static_site() -> Iterator[str]:
    server, url = serve_web()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def page(browser: Any, static_site: str) -> Iterator[Any]:
    """A blank page with sealed.js imported as `S`; any JavaScript error on it fails the test."""
    context = browser.new_context()
    errors: list[str] = []
    tab = context.new_page()
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.goto(static_site + "/")
    assert tab.evaluate("async () => { window.S = await import('/static/js/sealed.js'); return S.supportsSealing(); }")
    yield tab
    context.close()
    assert not errors, errors


def js_questions(questions: list[SealedQuestion]) -> list[dict[str, int]]:
    return [asdict(q) for q in questions]


def js_marks(marks: dict[int, list[int]]) -> dict[str, list[int]]:
    return {str(q): row for q, row in marks.items()}


def js_error(page: Any, script: str, arg: Any) -> str:
    """Runs `script` (a function of one argument) expecting it to throw; returns 'Name: message'."""
    return page.evaluate(f"""async (arg) => {{
        try {{ await ({script})(arg); }} catch (e) {{ return `${{e.name}}: ${{e.message}}`; }}
        return 'no error';
    }}""", arg)


def shape(data: Any) -> Any:
    """The JSON's structure with every hex string replaced by its length: Python's and JS's must match."""
    if isinstance(data, dict):
        return {k: shape(v) for k, v in data.items()}
    if isinstance(data, list):
        return [shape(v) for v in data]
    if isinstance(data, str):
        return f"hex{len(data)}"
    return data


def opened(ct_json: dict[str, str], secret: int) -> bytes:
    """g^m of one ciphertext under the secret key: beta / alpha^x."""
    return group.sub(bytes.fromhex(ct_json["beta"]), group.mul(bytes.fromhex(ct_json["alpha"]), secret))


# -- the group and the hashes ---------------------------------------------------------------------

def test_sealed_question_kinds_match_python(page: Any) -> None:
    cases = [(1, "yes_no", 3, None), (2, "election", 5, 3), (3, "election", 2, 5), (6, "rating", 4, None)]
    got = page.evaluate("(cases) => cases.map((c) => S.sealedQuestion(...c))", [list(c) for c in cases])
    assert got == [asdict(SealedQuestion.of(*c)) for c in cases]
    # An election without seats is refused on both sides rather than guessed at.
    for bad in ((4, "election", 4, None), (5, "election", 4, 0)):
        with pytest.raises(BallotError):
            SealedQuestion.of(*bad)
        refused = page.evaluate("(c) => { try { S.sealedQuestion(...c); return null } catch (e) { return e.message } }",
                                list(bad))
        assert refused == f"选举事项 {bad[0]} 的应选名额应至少为 1"


def test_points_are_accepted_and_refused_exactly_as_libsodium_does(page: Any) -> None:
    proper = [group.base_mul(group.random_scalar()) for _ in range(4)]
    candidates = [p.hex() for p in proper]
    candidates += TORSION
    candidates += [bindings.crypto_core_ed25519_add(proper[0], bytes.fromhex(t)).hex() for t in TORSION[1:]]  # off the subgroup
    # y >= p (non-canonical), with and without the sign bit; x = 0 with the sign bit set
    for k in range(19):
        y = (2**255 - 19 + k).to_bytes(32, "little")
        candidates += [y.hex(), (y[:31] + bytes([y[31] | 0x80])).hex()]
    candidates += ["01" + "00" * 30 + "80", "ec" + "ff" * 30 + "ff"]
    candidates += [os.urandom(32).hex() for _ in range(40)]  # about half on the curve, some in the group
    candidates += [proper[1].hex().upper(), "zz" * 32, proper[2].hex()[:62], 7]
    expected = []
    for text in candidates:
        try:
            group.read_point(text, "p")
            expected.append(True)
        except GroupError:
            expected.append(False)
    got = page.evaluate("(cs) => cs.map((c) => { try { S.readPoint(c, 'p'); return true; } catch (e) {"
                        " if (e.name !== 'GroupError') throw e; return false; } })", candidates)
    assert got == expected
    assert sum(expected) >= 4 and not all(expected)


def test_scalars_hashes_and_derived_keys_match_python(page: Any) -> None:
    scalars = [0, 1, group.L - 1, group.L, group.L + 5, 2**256 - 1]
    texts = [n.to_bytes(32, "little").hex() for n in scalars] + [group.scalar_hex(12345).upper()]
    expected = []
    for text in texts:
        try:
            expected.append(str(group.read_scalar(text, "s")))
        except GroupError:
            expected.append(None)
    got = page.evaluate("(ts) => ts.map((t) => { try { return String(S.readScalar(t, 's')); } catch (e) {"
                        " if (e.name !== 'GroupError') throw e; return null; } })", texts)
    assert got == expected

    parts = ["ballot", "vote:7", "监票人|密钥", "😀", group.G.hex()]
    seed = os.urandom(32)
    got = page.evaluate("""([parts, seed]) => ({
        hash: S.scalarHex(S.hashToScalar(...parts)),
        derived: S.scalarHex(S.deriveScalar(new Uint8Array(seed), ...parts)),
        g5: S.pointHex(S.baseMul(5n)), identity: S.pointHex(S.baseMul(0n)),
    })""", [parts, list(seed)])
    assert got == {"hash": group.scalar_hex(group.hash_to_scalar(*parts)),
                   "derived": group.scalar_hex(group.derive_scalar(seed, *parts)),
                   "g5": group.base_mul(5).hex(), "identity": group.IDENTITY.hex()}


def test_the_receipt_hash_is_pythons_for_any_json(page: Any) -> None:
    content = {"vote_id": 12, "b": "监票人", "a": [1, -2, True, None, {"z": "\x7f\x00\n\t\"\\/", "y": "😀\u2028é"}],
               "\uffff": 1, "😀": 2, "B": [], "é": {}, "": "~ "}
    got = page.evaluate("(c) => [S.ballotHash(c), S.canonical(c)]", content)
    assert got[1] == json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert got[0] == ballot_hash(content)
    full = ballot_hash({"x": 1})
    assert page.evaluate("(h) => S.shortReceipt(h)", full) == short_receipt(full)


# -- ballots --------------------------------------------------------------------------------------

MARK_PATTERNS = [
    {1: [1, 0, 0], 2: [0, 0, 0, 0, 0]},  # a blank election
    {1: [0, 1, 0], 2: [1, 0, 0, 0, 0]},
    {1: [0, 0, 1], 2: [0, 1, 0, 1, 0]},
    {1: [1, 0, 0], 2: [1, 0, 1, 0, 1]},  # as many names as seats
    {1: [0, 0, 1], 2: [0, 0, 1, 1, 1]},
]


def test_ballots_sealed_in_the_browser_pass_the_servers_check_with_the_same_receipt(page: Any) -> None:
    secret = group.random_scalar()
    key = group.base_mul(secret)
    sealed = page.evaluate("""([vote, key, questions, patterns]) => patterns.map((marks) => {
        const ballot = S.sealBallot(vote, key, questions, marks);
        return { ballot, hash: S.ballotHash(ballot) };
    })""", [31, key.hex(), js_questions(QUESTIONS), [js_marks(m) for m in MARK_PATTERNS]])
    reference = seal_ballot(31, key, QUESTIONS, MARK_PATTERNS[0])
    hashes = set()
    for marks, out in zip(MARK_PATTERNS, sealed, strict=True):
        ballot = out["ballot"]
        assert shape(ballot) == shape(reference)
        checked = check_ballot(31, key, QUESTIONS, ballot)
        assert checked.hash == out["hash"] == ballot_hash(ballot)
        for part in ballot["questions"]:
            row = marks[part["question_id"]]
            assert [opened(ct, secret) for ct in part["choices"]] == [group.base_mul(m) for m in row]
        hashes.add(out["hash"])
    assert len(hashes) == len(MARK_PATTERNS)
    # the same ballot is refused for another vote and under another key
    with pytest.raises(BallotError):
        check_ballot(32, key, QUESTIONS, {**sealed[0]["ballot"], "vote_id": 32})
    with pytest.raises(BallotError):
        check_ballot(31, group.base_mul(group.random_scalar()), QUESTIONS, sealed[0]["ballot"])


def _check_in_js(page: Any, vote: int, key: bytes, ballot: dict[str, Any]) -> str:
    return js_error(page, "([vote, key, questions, ballot]) => S.checkBallot(vote, key, questions, ballot)",
                    [vote, key.hex(), js_questions(QUESTIONS), ballot])


def test_ballots_sealed_by_python_pass_the_browsers_check_and_tampered_ones_do_not(page: Any) -> None:
    key = group.base_mul(group.random_scalar())
    ballot = seal_ballot(8, key, QUESTIONS, {1: [0, 1, 0], 2: [1, 0, 0, 1, 0]})
    got = page.evaluate("([vote, key, questions, ballot]) => S.checkBallot(vote, key, questions, ballot)",
                        [8, key.hex(), js_questions(QUESTIONS), ballot])
    assert got == {"hash": ballot_hash(ballot)}

    def tampered(change: Any) -> dict[str, Any]:
        copy = json.loads(json.dumps(ballot))
        change(copy)
        with pytest.raises(BallotError):  # Python refuses it too: the tampering is real
            check_ballot(8, key, QUESTIONS, copy)
        return copy

    other_point = group.base_mul(group.random_scalar()).hex()
    beta = tampered(lambda b: b["questions"][1]["choices"][3].__setitem__("beta", other_point))
    assert _check_in_js(page, 8, key, beta) == "BallotError: 事项 2 第 4 个密文的 0/1 证明不成立"

    def bump_response(b: dict[str, Any]) -> None:
        pair = b["questions"][0]["individual_proofs"][2][1]
        pair["s"] = group.scalar_hex(group.read_scalar(pair["s"], "s") + 1)

    response = tampered(bump_response)
    assert _check_in_js(page, 8, key, response) == "BallotError: 事项 1 第 3 个密文的 0/1 证明不成立"

    def bump_overall(b: dict[str, Any]) -> None:
        pair = b["questions"][1]["overall_proof"][0]
        pair["c"] = group.scalar_hex(group.read_scalar(pair["c"], "c") + 1)

    overall = tampered(bump_overall)
    assert _check_in_js(page, 8, key, overall).startswith("BallotError: 事项 2：所选项数的证明不成立")

    small = tampered(lambda b: b["questions"][0]["choices"][0].__setitem__("alpha", TORSION[3]))
    assert _check_in_js(page, 8, key, small) == "BallotError: 事项 1 第 1 个密文 alpha 不是有效的群元素"

    big = tampered(lambda b: b["questions"][0]["overall_proof"][0].__setitem__("s", group.L.to_bytes(32, "little").hex()))
    assert _check_in_js(page, 8, key, big).startswith("BallotError: 事项 1 的总数证明.s 不是规范的标量")

    dropped = tampered(lambda b: b["questions"][1]["individual_proofs"].pop())
    assert _check_in_js(page, 8, key, dropped) == "BallotError: 事项 2：每个密文应有一个 0/1 证明"

    assert _check_in_js(page, 9, key, ballot).startswith("BallotError: 这张密封选票属于表决 8")
    assert _check_in_js(page, 8, group.base_mul(group.random_scalar()), ballot).startswith("BallotError:")


def test_the_browser_refuses_to_seal_marks_the_question_does_not_allow(page: Any) -> None:
    key = group.base_mul(group.random_scalar()).hex()
    seal = "([key, questions, marks]) => S.sealBallot(3, key, questions, marks)"
    cases = {
        "two answers to a yes/no question": ({1: [1, 1, 0], 2: [0, 0, 0, 0, 0]}, "事项 1 应选 1–1 项"),
        "no answer to a yes/no question": ({1: [0, 0, 0], 2: [0, 0, 0, 0, 0]}, "事项 1 应选 1–1 项"),
        "four names for three seats": ({1: [1, 0, 0], 2: [1, 1, 1, 1, 0]}, "事项 2 应选 0–3 项"),
        "a mark of 2": ({1: [2, 0, 0], 2: [0, 0, 0, 0, 0]}, "事项 1 应为 3 个 0/1 标记"),
        "too few marks": ({1: [1, 0, 0], 2: [0, 0, 0, 0]}, "事项 2 应为 5 个 0/1 标记"),
        "a missing question": ({1: [1, 0, 0]}, "事项 2 应为 5 个 0/1 标记"),
    }
    for name, (marks, says) in cases.items():
        with pytest.raises(BallotError, match=says):  # the Python reference refuses the same
            seal_ballot(3, bytes.fromhex(key), QUESTIONS, marks)
        assert js_error(page, seal, [key, js_questions(QUESTIONS), js_marks(marks)]) == f"BallotError: {says}", name
    assert js_error(page, seal, [TORSION[1], js_questions(QUESTIONS), js_marks(MARK_PATTERNS[0])]) \
        == "GroupError: key 不是有效的群元素"


# -- the trustees ---------------------------------------------------------------------------------

def _points(values: list[bytes]) -> list[str]:
    return [v.hex() for v in values]


def test_a_browser_trustee_takes_part_in_a_ceremony_with_python_trustees_and_decrypts(page: Any) -> None:
    ceremony = trustees.Ceremony(congress_id=4, ceremony_id=9, trustees=3, threshold=2)
    cer = asdict(ceremony)
    seeds = {1: trustees.new_seed(), 3: trustees.new_seed()}

    # round 1: trustee 2 in the browser, its seed made there
    r1 = {i: trustees.round1(ceremony, seeds[i], i) for i in (1, 3)}
    r1[2] = page.evaluate("(c) => { window.seed2 = S.newSeed(); return S.round1(c, seed2, 2); }", cer)
    seed2 = bytes(page.evaluate("() => Array.from(seed2)"))
    comm = {i: trustees.check_round1(ceremony, i, r1[i]) for i in (1, 2, 3)}
    assert r1[2]["comm_key"] == trustees.round1(ceremony, seed2, 2)["comm_key"]  # the same derivation
    js_comm = page.evaluate("([c, r1]) => [1, 2, 3].map((i) => S.pointHex(S.checkRound1(c, i, r1[i])))",
                            [cer, {str(i): m for i, m in r1.items()}])
    assert js_comm == [comm[i].hex() for i in (1, 2, 3)]
    assert js_error(page, "([c, m]) => S.checkRound1(c, 3, m)", [cer, r1[1]]).startswith("CeremonyError:")

    # round 2: commitments and sealed shares both ways
    r2 = {i: trustees.round2(ceremony, seeds[i], i, comm) for i in (1, 3)}
    r2[2] = page.evaluate("([c, keys]) => S.round2(c, seed2, 2, keys)", [cer, {str(i): k.hex() for i, k in comm.items()}])
    commitments = {i: trustees.check_round2(ceremony, i, r2[i]) for i in (1, 2, 3)}
    assert r2[2]["commitments"] == trustees.round2(ceremony, seed2, 2, comm)["commitments"]
    r2_js = {str(i): m for i, m in r2.items()}
    js_commitments = page.evaluate(
        "([c, r2]) => [1, 2, 3].map((i) => S.checkRound2(c, i, r2[i]).map(S.pointHex))", [cer, r2_js])
    assert js_commitments == [_points(commitments[i]) for i in (1, 2, 3)]

    # shares: Python decrypts what the browser sealed and the browser what Python sealed
    shares = {i: trustees.my_share(ceremony, seeds[i], i, r2) for i in (1, 3)}
    shares[2] = int(page.evaluate("async ([c, r2]) => String(await S.myShare(c, seed2, 2, r2))", [cer, r2_js]))
    assert shares[2] == trustees.my_share(ceremony, seed2, 2, r2)
    for j in (1, 2, 3):
        assert group.base_mul(shares[j]) == trustees.verification_key(commitments, j)
    r3 = page.evaluate("([c, r2]) => S.round3(c, seed2, 2, r2)", [cer, r2_js])
    assert r3 == {"trustee": 2, "verification_key": trustees.verification_key(commitments, 2).hex()}
    assert all("verification_key" in trustees.round3(ceremony, seeds[i], i, r2) for i in (1, 3))
    js_keys = page.evaluate("(cs) => ({ y: S.jointKey(cs), vks: [1, 2, 3].map((j) => S.verificationKey(cs, j)) })",
                            {str(i): _points(cs) for i, cs in commitments.items()})
    assert js_keys == {"y": trustees.joint_key(commitments).hex(),
                       "vks": [trustees.verification_key(commitments, j).hex() for j in (1, 2, 3)]}

    # a share altered on the way is named, by the browser and by Python
    bad = copy.deepcopy(r2)
    sealed = bad[1]["shares"][0]["sealed"]
    bad[1]["shares"][0]["sealed"] = sealed[:-2] + ("00" if sealed[-2:] != "00" else "01")
    complaint = page.evaluate("([c, r2]) => S.round3(c, seed2, 2, r2)", [cer, {str(i): m for i, m in bad.items()}])
    assert complaint == {"trustee": 2, "complaint": "第 1 位监票人发来的份额无法解密"}
    bad_js = copy.deepcopy(r2)
    bad_js[2]["shares"][1]["sealed"] = "00" * 60  # trustee 2's value for trustee 3
    with pytest.raises(trustees.CeremonyError, match="第 2 位监票人发来的份额无法解密"):
        trustees.my_share(ceremony, seeds[3], 3, bad_js)

    # ballots sealed in the browser and by Python under the joint key, in two groups, added up
    key = trustees.joint_key(commitments)
    marks_by_group = {10: MARK_PATTERNS[:3], 20: MARK_PATTERNS[3:]}
    ballots: list[tuple[int, dict[str, Any]]] = []
    hashes: list[str] = []
    for group_id, patterns in marks_by_group.items():
        for n, marks in enumerate(patterns):
            if n % 2 == 0:
                content = page.evaluate("([key, qs, marks]) => S.sealBallot(40, key, qs, marks)",
                                        [key.hex(), js_questions(QUESTIONS), js_marks(marks)])
            else:
                content = seal_ballot(40, key, QUESTIONS, marks)
            checked = check_ballot(40, key, QUESTIONS, content)
            ballots.append((group_id, checked.ciphertexts))
            hashes.append(checked.hash)
    pools = counting.pool_groups({10: 3, 20: 2}, [10, 20], minimum=1)
    sums = counting.add_up(pools, ballots, {1: 3, 2: 5})
    items = counting.to_decrypt(sums)
    alphas, betas = [ct.alpha for ct in items], [ct.beta for ct in items]
    context = counting.decryption_context(40, key.hex(), counting.ballots_digest(hashes))
    assert page.evaluate("([key, hashes]) => S.decryptionContext(40, key, S.ballotsDigest(hashes))",
                         [key.hex(), hashes[::-1]]) == list(context)

    vks = {j: trustees.verification_key(commitments, j) for j in (1, 2, 3)}
    from_js = page.evaluate("([ctx, x, alphas]) => S.decryptShares(ctx, 2, x, alphas)",
                            [list(context), group.scalar_hex(shares[2]), _points(alphas)])
    checked_js = trustees.check_decryption(context, 2, vks[2], alphas, from_js)
    from_py = {j: trustees.decrypt_shares(context, j, shares[j], alphas) for j in (1, 3)}
    checked_py = {j: trustees.check_decryption(context, j, vks[j], alphas, from_py[j]) for j in (1, 3)}
    js_checks = page.evaluate("""([ctx, vks, alphas, messages]) => [1, 3].map((j) =>
        S.checkDecryption(ctx, j, vks[j], alphas, messages[j]).map(S.pointHex))""",
                              [list(context), {str(j): v.hex() for j, v in vks.items()}, _points(alphas),
                               {str(j): m for j, m in from_py.items()}])
    assert js_checks == [_points(checked_py[1]), _points(checked_py[3])]

    expected = [{q: [sum(col) for col in zip(*(m[q] for m in patterns), strict=True)] for q in (1, 2)}
                for patterns in marks_by_group.values()]
    for other in (1, 3):
        plaintexts = trustees.combine(betas, {2: checked_js, other: checked_py[other]})
        assert counting.counts_of(sums, plaintexts) == expected
        combined_js = page.evaluate("([betas, shares]) => S.combine(betas, shares)",
                                    [_points(betas), {"2": from_js_points(from_js), str(other): _points(checked_py[other])}])
        assert combined_js == _points(plaintexts)

    # a decryption share whose proof was altered is refused by Python
    forged = json.loads(json.dumps(from_js))
    forged["shares"][0]["proof"]["s"] = group.scalar_hex(group.read_scalar(forged["shares"][0]["proof"]["s"], "s") + 1)
    with pytest.raises(trustees.CeremonyError, match="第 1 份的解密证明不成立"):
        trustees.check_decryption(context, 2, vks[2], alphas, forged)


def from_js_points(message: dict[str, Any]) -> list[str]:
    return [item["share"] for item in message["shares"]]
