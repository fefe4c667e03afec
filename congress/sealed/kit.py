"""What a trustee's own computer does with the public state: pure, so the CLI, the demo, the
rehearsal and the tests all run the same steps (the browser runs the same in web/js/sealed.js).

`ceremony_state` is the JSON of the `ceremony_state` command; `sealed` is the `sealed_ballots`
answer of a closed secret vote. The seed never leaves the caller.
"""

from __future__ import annotations

import json
from typing import Any

from congress.sealed.ballot import SealedQuestion, seal_ballot
from congress.sealed.counting import decryption_context, sums_from_json, to_decrypt
from congress.sealed.group import read_point
from congress.sealed.trustees import Ceremony, decrypt_shares, my_share, round1, round2, round3


def ceremony_from_state(state: dict[str, Any]) -> Ceremony:
    return Ceremony(state["congress_id"], state["ceremony_id"], state["trustee_count"], state["threshold"])


def _round(state: dict[str, Any], number: int) -> dict[int, dict[str, Any]]:
    return {int(i): m for i, m in state["messages"].get(str(number), {}).items()}


def next_message(state: dict[str, Any], index: int, seed: bytes) -> tuple[int, dict[str, Any]] | None:
    """The round this trustee should post now and its message, or None (waiting for the others, or
    done). Round r can be posted once every trustee has posted round r-1."""
    if state["status"] != "collecting":
        return None
    ceremony = ceremony_from_state(state)
    rounds = {r: _round(state, r) for r in (1, 2, 3)}
    for number in (1, 2, 3):
        if index in rounds[number]:
            continue
        if number > 1 and len(rounds[number - 1]) < ceremony.trustees:
            return None
        if number == 1:
            return 1, round1(ceremony, seed, index)
        if number == 2:
            keys = {i: read_point(m["comm_key"], f"trustee {i}") for i, m in rounds[1].items()}
            return 2, round2(ceremony, seed, index, keys)
        return 3, round3(ceremony, seed, index, rounds[2])
    return None


def share_of(state: dict[str, Any], index: int, seed: bytes) -> int:
    return my_share(ceremony_from_state(state), seed, index, _round(state, 2))


def decryption_message(state: dict[str, Any], index: int, seed: bytes, vote_id: int,
                       sealed_tally: dict[str, Any]) -> dict[str, Any]:
    """This trustee's decryption shares of a closed vote's sums (congress.actions.sealed_tally)."""
    context = decryption_context(vote_id, state["public_key"], sealed_tally["ballots_digest"])
    alphas = [ct.alpha for ct in to_decrypt(sums_from_json(sealed_tally["pools"], check=True))]
    return decrypt_shares(context, index, share_of(state, index, seed), alphas)


KEY_FILE_FORMAT = "congress-trustee-key"


def key_file_text(seed: bytes) -> str:
    """What a trustee saves (a file, or printed as a QR code): the seed and nothing else."""
    return json.dumps({"format": KEY_FILE_FORMAT, "version": 1, "seed": seed.hex()}) + "\n"


def seed_from_key_file(text: str) -> bytes:
    try:
        data = json.loads(text)
        seed = bytes.fromhex(data["seed"]) if data.get("format") == KEY_FILE_FORMAT else b""
    except (ValueError, KeyError, TypeError, AttributeError):
        seed = b""
    if len(seed) != 32:
        raise ValueError("这不是监票人密钥文件（应为 congress-trustee-key 格式，含 32 字节的 seed）")
    return seed


def seal_answers(vote: dict[str, Any], choices: dict[str, Any]) -> dict[str, Any]:
    """A ballot sealed as the delegate page seals it: `vote` as the server describes it (vote_json,
    with `sealing`), `choices` as a named vote's answers (question id -> option key, or a list of keys
    for an election)."""
    questions, marks = [], {}
    for q in vote["questions"]:
        keys = [o["key"] for o in q["options"]]
        questions.append(SealedQuestion.of(q["id"], q["kind"], len(keys), q["seats"]))
        chosen = choices[str(q["id"])]
        chosen = chosen if isinstance(chosen, list) else [chosen]
        marks[q["id"]] = [int(k in chosen) for k in keys]
    key = read_point(vote["sealing"]["public_key"], "监票人公钥")
    return seal_ballot(vote["id"], key, questions, marks)
