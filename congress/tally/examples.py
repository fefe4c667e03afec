"""The labelled proposals shipped with the package: the measured set (data/proposals.jsonl) and the
training-only ones (data/proposals_extra.jsonl and data/proposals_extra_2.jsonl), read once.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any


def _read_jsonl(name: str) -> tuple[dict[str, Any], ...]:
    with resources.files("congress").joinpath(name).open("r", encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh if line.strip())


@lru_cache(maxsize=1)
def load_seed_proposals() -> tuple[dict[str, Any], ...]:
    """The labelled proposals shipped in congress/data/proposals.jsonl (read once): the measured set,
    with its groups and duplicates (the similarity search and the demo read it too)."""
    return _read_jsonl("data/proposals.jsonl")


# Training-only files, in order: 271 by one author (issue 19's third attempt), 107 by another
TRAINING_FILES = ("data/proposals_extra.jsonl", "data/proposals_extra_2.jsonl")


@lru_cache(maxsize=1)
def load_training_proposals() -> tuple[dict[str, Any], ...]:
    """More labelled proposals, for training only (issue 19): written in the shipped set's style and
    category proportions on issues it does not raise, so the model meets more of each category's
    vocabulary.  The benchmark always keeps them on the training side (they are never a test proposal)."""
    return tuple(row for name in TRAINING_FILES for row in _read_jsonl(name))


