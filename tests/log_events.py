"""Event types only the tests of the log itself write (seqs, the hash chain): declared for their
Context alone, so the product's `Context.emit` still refuses them (congress.domain.events)."""

from __future__ import annotations

from types import MappingProxyType

from congress.domain.events import EVENTS, PUBLIC, declare

TEST_EVENTS = MappingProxyType({
    **EVENTS,
    "test.written": declare("test.written", PUBLIC, "writer?: int, n?: int, k?: int", "a test's write"),
    "test.rolled_back": declare("test.rolled_back", PUBLIC, "writer?: int, n?: int", "written, then rolled back"),
})
