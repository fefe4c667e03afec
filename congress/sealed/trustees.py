"""The trustees' key (监票人密钥): threshold key generation and decryption shares.

Key generation is Pedersen's verifiable secret sharing run by every trustee at once (as in the
Belenios specification's threshold mode; no dealer, so nobody ever holds the whole key):

1. Each trustee i publishes a communication key P_i = g^p_i with a proof that they hold p_i.
2. Each trustee i picks a polynomial f_i of degree t-1, publishes commitments C_ik = g^a_ik with a
   proof for C_i0, and sends f_i(j) to every other trustee j, encrypted to P_j (ECIES: a fresh
   ephemeral key, HKDF-SHA256, AES-256-GCM; RFC 5869 and NIST SP 800-38D through `cryptography`).
3. Each trustee j decrypts what the others sent, checks every value against the commitments
   (g^f_i(j) = prod_k C_ik^(j^k)) and confirms with the verification key Y_j = g^x_j of their share
   x_j = sum_i f_i(j), or names the trustee whose value does not check.

The joint key is y = prod_i C_i0; any t trustees can decrypt, fewer learn nothing. Everything a
trustee needs is derived from one 32-byte seed, which stays on their own computer: it is the only
thing to keep, and the server never sees it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from congress.sealed.group import (
    IDENTITY,
    GroupError,
    L,
    add,
    add_all,
    base_mul,
    derive_scalar,
    mul,
    point_hex,
    random_scalar,
    read_point,
    scalar_bytes,
    scalar_int,
    sub,
)
from congress.sealed.proofs import Pair, prove_decryption, prove_key, verify_decryption, verify_key

SEED_BYTES = 32


class CeremonyError(ValueError):
    """A ceremony message or a decryption share that must be refused; says which and why."""


@dataclass(frozen=True, slots=True)
class Ceremony:
    """Which key this is: the congress and ceremony ids, n trustees and the threshold t."""

    congress_id: int
    ceremony_id: int
    trustees: int
    threshold: int

    def __post_init__(self) -> None:
        if not 1 <= self.threshold <= self.trustees:
            raise CeremonyError(f"门限应在 1 到 {self.trustees} 之间")

    @property
    def context(self) -> tuple[str, ...]:
        return ("ceremony", f"congress:{self.congress_id}", f"ceremony:{self.ceremony_id}",
                f"n:{self.trustees}", f"t:{self.threshold}")

    def indices(self) -> range:
        return range(1, self.trustees + 1)


def new_seed() -> bytes:
    return os.urandom(SEED_BYTES)


def _comm_secret(ceremony: Ceremony, seed: bytes, index: int) -> int:
    return derive_scalar(seed, *ceremony.context, f"trustee:{index}", "communication")


def _coefficients(ceremony: Ceremony, seed: bytes, index: int) -> list[int]:
    return [derive_scalar(seed, *ceremony.context, f"trustee:{index}", f"coefficient:{k}")
            for k in range(ceremony.threshold)]


def _poly(coefficients: list[int], x: int) -> int:
    value = 0
    for a in reversed(coefficients):
        value = (value * x + a) % L
    return value


# -- round 1: communication keys ------------------------------------------------------------------

def round1(ceremony: Ceremony, seed: bytes, index: int) -> dict[str, Any]:
    p = _comm_secret(ceremony, seed, index)
    proof = prove_key((*ceremony.context, f"trustee:{index}", "communication"), p)
    return {"trustee": index, "comm_key": point_hex(base_mul(p)), "comm_proof": proof.json()}


def check_round1(ceremony: Ceremony, index: int, message: Any) -> bytes:
    where = f"第 {index} 位监票人的通信公钥"
    try:
        _keys(message, {"trustee", "comm_key", "comm_proof"}, where)
        if message["trustee"] != index:
            raise CeremonyError(f"{where}：编号应为 {index}")
        key = read_point(message["comm_key"], where)
        proof = Pair.read(message["comm_proof"], where)
    except (GroupError, ValueError) as error:
        raise CeremonyError(str(error)) from None
    if not verify_key((*ceremony.context, f"trustee:{index}", "communication"), key, proof):
        raise CeremonyError(f"{where}：持有私钥的证明不成立")
    return key


# -- round 2: commitments and encrypted shares ----------------------------------------------------

def _share_info(ceremony: Ceremony, sender: int, receiver: int) -> bytes:
    return "|".join((*ceremony.context, "share", f"from:{sender}", f"to:{receiver}")).encode("utf-8")


def _share_key(shared: bytes, ephemeral: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral, info=info).derive(shared)


def round2(ceremony: Ceremony, seed: bytes, index: int, comm_keys: dict[int, bytes]) -> dict[str, Any]:
    coefficients = _coefficients(ceremony, seed, index)
    shares = []
    for j in ceremony.indices():
        if j == index:
            continue
        e = random_scalar()
        ephemeral = base_mul(e)
        info = _share_info(ceremony, index, j)
        nonce = os.urandom(12)
        sealed = AESGCM(_share_key(mul(comm_keys[j], e), ephemeral, info)).encrypt(
            nonce, scalar_bytes(_poly(coefficients, j)), info)
        shares.append({"to": j, "ephemeral": point_hex(ephemeral), "sealed": (nonce + sealed).hex()})
    proof = prove_key((*ceremony.context, f"trustee:{index}", "commitment"), coefficients[0])
    return {"trustee": index, "commitments": [point_hex(base_mul(a)) for a in coefficients],
            "key_proof": proof.json(), "shares": shares}


def check_round2(ceremony: Ceremony, index: int, message: Any) -> list[bytes]:
    """The public checks of a round-2 message; returns the commitments. That each encrypted value
    matches the commitments only its receiver can check (round 3)."""
    where = f"第 {index} 位监票人的承诺"
    try:
        _keys(message, {"trustee", "commitments", "key_proof", "shares"}, where)
        if message["trustee"] != index:
            raise CeremonyError(f"{where}：编号应为 {index}")
        raw = message["commitments"]
        if not isinstance(raw, list) or len(raw) != ceremony.threshold:
            raise CeremonyError(f"{where}：应有 {ceremony.threshold} 个承诺")
        commitments = [read_point(c, f"{where}第 {k + 1} 个") for k, c in enumerate(raw)]
        proof = Pair.read(message["key_proof"], where)
        shares = message["shares"]
        receivers = [s.get("to") for s in shares] if isinstance(shares, list) and all(
            isinstance(s, dict) for s in shares) else None
        if receivers != [j for j in ceremony.indices() if j != index]:
            raise CeremonyError(f"{where}：应依次发给其他每一位监票人一份")
        for share in shares:
            _keys(share, {"to", "ephemeral", "sealed"}, where)
            read_point(share["ephemeral"], f"{where}（给第 {share['to']} 位）")
            sealed = share["sealed"]
            if not isinstance(sealed, str) or len(sealed) != 2 * (12 + 32 + 16) \
                    or any(ch not in "0123456789abcdef" for ch in sealed):
                raise CeremonyError(f"{where}（给第 {share['to']} 位）：密文应为 120 位小写十六进制")
    except (GroupError, ValueError) as error:
        raise CeremonyError(str(error)) from None
    if not verify_key((*ceremony.context, f"trustee:{index}", "commitment"), commitments[0], proof):
        raise CeremonyError(f"{where}：持有系数的证明不成立")
    return commitments


def expected_share_point(commitments: list[bytes], j: int) -> bytes:
    """g^f_i(j) from trustee i's public commitments: prod_k C_ik^(j^k)."""
    return add_all([mul(c, pow(j, k, L)) for k, c in enumerate(commitments)])


def my_share(ceremony: Ceremony, seed: bytes, index: int, round2_messages: dict[int, dict[str, Any]]) -> int:
    """Trustee `index`'s share x = sum_i f_i(index): their own value plus what each other trustee sent,
    each checked against its sender's commitments. CeremonyError names a sender whose value fails."""
    missing = [i for i in ceremony.indices() if i != index and i not in round2_messages]
    if missing:
        raise CeremonyError(f"尚未收到第 {'、'.join(map(str, missing))} 位监票人的承诺与份额")
    p = _comm_secret(ceremony, seed, index)
    total = _poly(_coefficients(ceremony, seed, index), index)
    for sender, message in sorted(round2_messages.items()):
        if sender == index:
            continue
        commitments = check_round2(ceremony, sender, message)
        share = next(s for s in message["shares"] if s["to"] == index)
        ephemeral = read_point(share["ephemeral"], "ephemeral")
        raw = bytes.fromhex(share["sealed"])
        info = _share_info(ceremony, sender, index)
        try:
            value = scalar_int(AESGCM(_share_key(mul(ephemeral, p), ephemeral, info)).decrypt(raw[:12], raw[12:], info))
        except InvalidTag:
            raise CeremonyError(f"第 {sender} 位监票人发来的份额无法解密") from None
        if value >= L or base_mul(value) != expected_share_point(commitments, index):
            raise CeremonyError(f"第 {sender} 位监票人发来的份额与其公开承诺不符")
        total = (total + value) % L
    return total


# -- round 3 and the joint key --------------------------------------------------------------------

def verification_key(commitments: dict[int, list[bytes]], j: int) -> bytes:
    """Y_j = g^x_j, computed by anyone from all the commitments."""
    return add_all([expected_share_point(cs, j) for _i, cs in sorted(commitments.items())])


def joint_key(commitments: dict[int, list[bytes]]) -> bytes:
    return add_all([cs[0] for _i, cs in sorted(commitments.items())])


def round3(ceremony: Ceremony, seed: bytes, index: int, round2_messages: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """Confirm (with Y_j), or complain about the first trustee whose value does not check."""
    try:
        x = my_share(ceremony, seed, index, round2_messages)
    except CeremonyError as error:
        return {"trustee": index, "complaint": str(error)}
    return {"trustee": index, "verification_key": point_hex(base_mul(x))}


# -- decryption shares ----------------------------------------------------------------------------

def decrypt_shares(context: tuple[str, ...], index: int, share: int, alphas: list[bytes]) -> dict[str, Any]:
    """Trustee `index`'s decryption share of each ciphertext (alpha^x_j), each with its proof."""
    out = []
    for k, alpha in enumerate(alphas):
        d, proof = prove_decryption((*context, f"trustee:{index}", f"item:{k}"), share, alpha)
        out.append({"share": point_hex(d), "proof": proof.json()})
    return {"trustee": index, "shares": out}


def check_decryption(context: tuple[str, ...], index: int, verification: bytes, alphas: list[bytes],
                     message: Any) -> list[bytes]:
    where = f"第 {index} 位监票人的解密份额"
    try:
        _keys(message, {"trustee", "shares"}, where)
        if message["trustee"] != index or not isinstance(message["shares"], list) \
                or len(message["shares"]) != len(alphas):
            raise CeremonyError(f"{where}：应为第 {index} 位的 {len(alphas)} 份")
        shares = []
        for k, (alpha, item) in enumerate(zip(alphas, message["shares"], strict=True)):
            _keys(item, {"share", "proof"}, where)
            d = read_point(item["share"], f"{where}第 {k + 1} 份")
            if not verify_decryption((*context, f"trustee:{index}", f"item:{k}"), verification, alpha, d,
                                     Pair.read(item["proof"], where)):
                raise CeremonyError(f"{where}：第 {k + 1} 份的解密证明不成立")
            shares.append(d)
    except (GroupError, ValueError) as error:
        raise CeremonyError(str(error)) from None
    return shares


def lagrange_at_zero(indices: list[int], i: int) -> int:
    value = 1
    for j in indices:
        if j != i:
            value = value * j % L * pow((j - i) % L, -1, L) % L
    return value


def combine(betas: list[bytes], shares: dict[int, list[bytes]]) -> list[bytes]:
    """g^m for each ciphertext from exactly t trustees' checked shares: beta / prod_j D_j^lambda_j."""
    indices = sorted(shares)
    out = []
    for k, beta in enumerate(betas):
        d = IDENTITY
        for i in indices:
            d = add(d, mul(shares[i][k], lagrange_at_zero(indices, i)))
        out.append(sub(beta, d))
    return out


def _keys(data: Any, keys: set[str], where: str) -> None:
    if not isinstance(data, dict) or set(data) != keys:
        raise CeremonyError(f"{where}：格式不对，应含 {', '.join(sorted(keys))}")

