"""The group: the prime-order subgroup of the Ed25519 curve, through libsodium (PyNaCl).

Points travel as 64 lowercase hex digits (the 32-byte compressed encoding of RFC 8032); scalars as
64 lowercase hex digits of their 32-byte little-endian form, always reduced below the group order L.
libsodium's `crypto_core_ed25519_is_valid_point` checks that a point read from outside is canonical,
on the curve, not of small order and in the prime-order subgroup: the identity is never accepted from
outside (no honest ballot or key contains it), only produced inside sums and decryptions.
"""

from __future__ import annotations

import hashlib
import secrets

from nacl import bindings as _na

# The order of the prime-order subgroup (RFC 8032 section 5.1).
L = 2**252 + 27742317777372353535851937790883648493
IDENTITY = bytes([1]) + bytes(31)
DOMAIN = "congress/sealed/v1"


class GroupError(ValueError):
    """A point or scalar from outside that is not a valid group element: names which one."""


def scalar_bytes(n: int) -> bytes:
    return (n % L).to_bytes(32, "little")


def scalar_int(data: bytes) -> int:
    return int.from_bytes(data, "little")


def random_scalar() -> int:
    """Uniform in [1, L): from the system CSPRNG."""
    return secrets.randbelow(L - 1) + 1


def base_mul(n: int) -> bytes:
    """g^n (in additive notation n·G)."""
    n %= L
    if n == 0:
        return IDENTITY
    return _na.crypto_scalarmult_ed25519_base_noclamp(scalar_bytes(n))


def mul(point: bytes, n: int) -> bytes:
    """point^n. libsodium refuses an identity result, which only n = 0 or the identity give here."""
    n %= L
    if n == 0 or point == IDENTITY:
        return IDENTITY
    return _na.crypto_scalarmult_ed25519_noclamp(scalar_bytes(n), point)


def add(p: bytes, q: bytes) -> bytes:
    return _na.crypto_core_ed25519_add(p, q)


def sub(p: bytes, q: bytes) -> bytes:
    return _na.crypto_core_ed25519_sub(p, q)


def add_all(points: list[bytes]) -> bytes:
    total = IDENTITY
    for point in points:
        total = add(total, point)
    return total


def is_valid_point(data: bytes) -> bool:
    return len(data) == 32 and bool(_na.crypto_core_ed25519_is_valid_point(data))


def point_hex(point: bytes) -> str:
    return point.hex()


def scalar_hex(n: int) -> str:
    return scalar_bytes(n).hex()


def read_point(text: object, what: str) -> bytes:
    """A point from outside (a ballot, a key, a share), or GroupError naming `what`."""
    if not isinstance(text, str) or len(text) != 64:
        raise GroupError(f"{what} 应为 64 位十六进制的曲线点")
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise GroupError(f"{what} 不是十六进制") from None
    if data.hex() != text or not is_valid_point(data):
        raise GroupError(f"{what} 不是有效的群元素")
    return data


def read_scalar(text: object, what: str) -> int:
    """A scalar from outside, canonical (below L), or GroupError naming `what`."""
    if not isinstance(text, str) or len(text) != 64:
        raise GroupError(f"{what} 应为 64 位十六进制的标量")
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise GroupError(f"{what} 不是十六进制") from None
    value = scalar_int(data)
    if data.hex() != text or value >= L:
        raise GroupError(f"{what} 不是规范的标量")
    return value


def hash_to_scalar(*parts: str) -> int:
    """The Fiat-Shamir challenge: SHA-512 of the domain tag and the parts joined by '|', reduced mod L
    (as RFC 8032 turns SHA-512 output into a scalar). Parts are hex strings and fixed labels."""
    text = "|".join((DOMAIN, *parts))
    return int.from_bytes(hashlib.sha512(text.encode("utf-8")).digest(), "little") % L


def derive_scalar(seed: bytes, *labels: str) -> int:
    """A secret scalar derived from a trustee's seed: SHA-512 as a PRF with a domain-separated label,
    as RFC 8032 derives a signing scalar from its seed. Never zero in practice (probability 1/L)."""
    text = "|".join((DOMAIN, "derive", *labels)).encode("utf-8")
    value = int.from_bytes(hashlib.sha512(text + b"|" + seed).digest(), "little") % L
    return value or 1


G = base_mul(1)
