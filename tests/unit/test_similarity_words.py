"""The similarity score of two proposals in words and as a bar, for staff who cannot be asked to
read standard deviations (congress/tally/similar.py)."""

from __future__ import annotations

import pytest

from congress.tally.similar import DUPLICATE_THRESHOLD, similarity_level, similarity_share


@pytest.mark.parametrize(("score", "level", "share"), [
    (-1.0, "faint", 0.0),
    (0.0, "faint", 0.0),
    (2.07, "faint", 0.21),  # the "相似度 2.07": barely more alike than any two proposals
    (3.99, "faint", 0.4),
    (4.0, "some", 0.4),
    (6.99, "some", 0.7),
    (7.0, "close", 0.7),
    (9.99, "close", 1.0),
    (DUPLICATE_THRESHOLD, "duplicate", 1.0),
    (16.8, "duplicate", 1.0),
])
def test_a_similarity_score_reads_as_words_and_a_bar_that_is_full_at_the_duplicate_threshold(score, level, share):
    assert similarity_level(score) == level
    assert similarity_share(score) == share
