"""The hash chain over a congress's event log (pure: no I/O).

Event n's hash is SHA-256 over the length-prefixed fields

    "congress-event-v1" | previous hash | seq | type | canonical(payload)

where the previous hash is event n-1's hash and event 1's previous hash is GENESIS (64 zeros).
Each field is preceded by its length in bytes as 8 bytes big-endian, so no bytes can slide from
one field into the next ("ab"+"c" and "a"+"bc" hash differently). Changing, removing, inserting or
reordering any event changes that event's hash and, through the chain, the head hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

GENESIS = "0" * 64
TAG = b"congress-event-v1"


def canonical(payload: Any) -> bytes:
    """JSON with sorted keys, no spaces, non-ASCII kept as is, in UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def as_stored(payload: Any) -> Any:
    """The payload as a JSON column gives it back: tuples become lists, int keys strings."""
    return json.loads(json.dumps(payload))


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def event_hash(prev_hash: str, seq: int, type: str, payload: Any) -> str:
    message = b"".join(_field(part) for part in (
        TAG, prev_hash.encode("ascii"), str(int(seq)).encode("ascii"), type.encode("utf-8"), canonical(payload)))
    return hashlib.sha256(message).hexdigest()


def chain_head(events: Iterable[tuple[int, str, Any]], prev_hash: str = GENESIS) -> str:
    """The hash after (seq, type, payload) events in order, starting from `prev_hash`."""
    head = prev_hash
    for seq, type, payload in events:
        head = event_hash(head, seq, type, payload)
    return head
