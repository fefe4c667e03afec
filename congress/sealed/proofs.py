"""Non-interactive zero-knowledge proofs (Fiat-Shamir, challenge over the whole statement).

As in the Belenios specification a proof is a list of (challenge, response) pairs; the verifier
recomputes the commitments from them and checks that the challenges add up to the hash of the
statement and the commitments. Responses are s = w + c·x (mod L), so a commitment is recomputed as
g^s · X^(-c). Every hash starts with the caller's context (which vote, question, option, trustee), so
a proof made for one statement proves nothing for another.
"""

from __future__ import annotations

from dataclasses import dataclass

from congress.sealed.group import (
    L,
    base_mul,
    hash_to_scalar,
    mul,
    point_hex,
    random_scalar,
    read_scalar,
    scalar_hex,
    sub,
)


@dataclass(frozen=True, slots=True)
class Pair:
    """One (challenge, response) pair of a proof."""

    c: int
    s: int

    def json(self) -> dict[str, str]:
        return {"c": scalar_hex(self.c), "s": scalar_hex(self.s)}

    @staticmethod
    def read(data: object, what: str) -> Pair:
        # Exactly {c, s}: with every field strict a ballot has one encoding, so a copy is the same
        # ballot (the same hash) and is refused as a duplicate; an extra key would make a "new" one.
        if not isinstance(data, dict) or set(data) != {"c", "s"}:
            raise ValueError(f"{what} 应为 {{c, s}}")
        return Pair(read_scalar(data.get("c"), f"{what}.c"), read_scalar(data.get("s"), f"{what}.s"))


def _commit(s: int, c: int, base: bytes | None, public: bytes) -> bytes:
    """base^s · public^(-c); base None is the generator g."""
    left = base_mul(s) if base is None else mul(base, s)
    return sub(left, mul(public, c))


# -- knowledge of a discrete logarithm (Schnorr): keys and key-share commitments ------------------

def prove_key(context: tuple[str, ...], secret: int) -> Pair:
    public = base_mul(secret)
    w = random_scalar()
    c = hash_to_scalar(*context, "key", point_hex(public), point_hex(base_mul(w)))
    return Pair(c, (w + c * secret) % L)


def verify_key(context: tuple[str, ...], public: bytes, proof: Pair) -> bool:
    commitment = _commit(proof.s, proof.c, None, public)
    return proof.c == hash_to_scalar(*context, "key", point_hex(public), point_hex(commitment))


# -- equality of discrete logarithms (Chaum-Pedersen): decryption shares -------------------------

def prove_decryption(context: tuple[str, ...], secret: int, alpha: bytes) -> tuple[bytes, Pair]:
    """D = alpha^x with a proof that log_g(Y) = log_alpha(D), Y = g^x the trustee's verification key."""
    share = mul(alpha, secret)
    w = random_scalar()
    c = hash_to_scalar(*context, "decrypt", point_hex(base_mul(secret)), point_hex(alpha), point_hex(share),
                       point_hex(base_mul(w)), point_hex(mul(alpha, w)))
    return share, Pair(c, (w + c * secret) % L)


def verify_decryption(context: tuple[str, ...], verification_key: bytes, alpha: bytes, share: bytes,
                      proof: Pair) -> bool:
    a = _commit(proof.s, proof.c, None, verification_key)
    b = _commit(proof.s, proof.c, alpha, share)
    return proof.c == hash_to_scalar(*context, "decrypt", point_hex(verification_key), point_hex(alpha),
                                     point_hex(share), point_hex(a), point_hex(b))


# -- a ciphertext encrypts one of several values (disjunctive Chaum-Pedersen) ---------------------

def prove_one_of(context: tuple[str, ...], key: bytes, alpha: bytes, beta: bytes, r: int, values: list[int],
                 true_index: int) -> list[Pair]:
    """(alpha, beta) = (g^r, g^m·y^r) with m = values[true_index]: proves m is one of `values` and
    shows nothing of which. The other branches are simulated with random challenge and response."""
    pairs: list[Pair | None] = []
    commitments: list[str] = []
    w = random_scalar()
    for index, value in enumerate(values):
        if index == true_index:
            pairs.append(None)
            commitments += [point_hex(base_mul(w)), point_hex(mul(key, w))]
        else:
            pair = Pair(random_scalar(), random_scalar())
            pairs.append(pair)
            commitments += _branch(key, alpha, beta, value, pair)
    c = hash_to_scalar(*context, point_hex(alpha), point_hex(beta), *commitments)
    c_true = (c - sum(p.c for p in pairs if p is not None)) % L
    pairs[true_index] = Pair(c_true, (w + c_true * r) % L)
    return [p for p in pairs if p is not None]


def verify_one_of(context: tuple[str, ...], key: bytes, alpha: bytes, beta: bytes, values: list[int],
                  proof: list[Pair]) -> bool:
    if len(proof) != len(values):
        return False
    commitments: list[str] = []
    for value, pair in zip(values, proof, strict=True):
        commitments += _branch(key, alpha, beta, value, pair)
    c = hash_to_scalar(*context, point_hex(alpha), point_hex(beta), *commitments)
    return sum(p.c for p in proof) % L == c


def _branch(key: bytes, alpha: bytes, beta: bytes, value: int, pair: Pair) -> list[str]:
    """The branch "m = value": A = g^s·alpha^(-c), B = y^s·(beta/g^value)^(-c)."""
    a = _commit(pair.s, pair.c, None, alpha)
    b = _commit(pair.s, pair.c, key, sub(beta, base_mul(value)))
    return [point_hex(a), point_hex(b)]
