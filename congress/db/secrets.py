"""Secrets as the database keeps them: argon2id hashes of passwords and access codes, digests of
session and watch tokens, and the instance key. Never the secret itself.

Below the writers and the application layer alike: an action issuing access codes, the sign-in
that checks them and the backplane that signs its messages all hash the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from congress.db.models import Setting

HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# Access codes are random (8 of 31 symbols, ~40 bits) and throttled, so a lighter argon2id keeps
# 300 delegates signing in at once from queueing behind 64 MiB hashes on a 2-core server.
CODE_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
# Access codes avoid look-alike characters so they can be typed from a printed sheet
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
HMAC_PREFIX = "hmac-sha256:"  # how a watch token's digest is marked in `watch_token_hash`


def hash_secret(secret: str, hasher: PasswordHasher = HASHER) -> str:
    return hasher.hash(secret)


def hash_code(code: str) -> str:
    return CODE_HASHER.hash(code)


def verify_secret(stored_hash: str | None, secret: str, hasher: PasswordHasher = HASHER) -> bool:
    if not stored_hash:
        hasher.hash(secret)  # same work as a real check, so timing does not tell
        return False
    try:
        return hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, hasher: PasswordHasher = HASHER) -> bool:
    return hasher.check_needs_rehash(stored_hash)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def generate_access_code(length: int = 8) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def secret_key(session: Session) -> str:
    """The instance secret, generated on first use and kept in the database, never in code."""
    row = session.get(Setting, "secret_key")
    if row is None:
        row = Setting(key="secret_key", value=secrets.token_hex(32))
        session.add(row)
        session.flush()
    return row.value


def new_watch_token() -> str:
    """A watch link's secret: 18 random bytes, 24 URL-safe characters."""
    return secrets.token_urlsafe(18)


def watch_token_digest(key: str, token: str) -> str:
    """What is stored for a watch token: HMAC-SHA256 under the instance secret."""
    return HMAC_PREFIX + hmac.new(key.encode(), token.encode(), hashlib.sha256).hexdigest()
