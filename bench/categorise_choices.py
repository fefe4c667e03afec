"""How the categoriser's settings were chosen: random stratified 5-fold CV on the shipped set only
(seeds 0, 1, 2, pooled), never the topic split, group split or unseen set that bench/categorise.py
reports (those stay test measures).

    python bench/categorise_choices.py

Prints top-1 / top-2 for the shipped settings and each variant tried (issue 19, point 4).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import sklearn.feature_extraction.text as sk_text  # noqa: E402
from categorise import DEFAULT_DATA, load, topk_hits  # noqa: E402
from rich.progress import Progress  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

import congress.tally.categorise as C  # noqa: E402

SHIPPED = {"WORD_FEATURES": C.WORD_FEATURES, "LEXICON_WEIGHT": C.LEXICON_WEIGHT, "TITLE_BONUS": C.TITLE_BONUS,
           "SVM_C": C.SVM_C}
VARIANTS = [
    ("shipped", {}),
    ("jieba word features", {"WORD_FEATURES": True}),
    ("lexicon weight 1.0", {"LEXICON_WEIGHT": 1.0}),
    ("keyword title bonus 2", {"TITLE_BONUS": 2.0}),
    ("keyword title bonus 0", {"TITLE_BONUS": 0.0}),
    ("SVM C 0.3", {"SVM_C": 0.3}),
    ("SVM C 3", {"SVM_C": 3.0}),
    ("char 1-3 grams", {"char13": True}),
    ("char 1-3 grams + jieba words", {"char13": True, "WORD_FEATURES": True}),
]


def main() -> int:
    rows = load(DEFAULT_DATA)
    texts = [C.proposal_text(r["title"], r["reason"], r["suggestion"]) for r in rows]
    labels = np.array([r["category"] for r in rows])
    folds = [f for seed in (0, 1, 2) for f in StratifiedKFold(5, shuffle=True, random_state=seed).split(texts, labels)]
    real = sk_text.TfidfVectorizer

    def char13(**kw):  # the categoriser builds its vectoriser inside train(): swap the char range there
        if kw.get("analyzer") == "char" and kw.get("ngram_range") == (1, 2):
            kw["ngram_range"] = (1, 3)
        return real(**kw)

    results = []
    with Progress(transient=True) as bar:
        task = bar.add_task("variants", total=len(VARIANTS) * len(folds))
        for name, change in VARIANTS:
            for key, value in {**SHIPPED, **{k: v for k, v in change.items() if k != "char13"}}.items():
                setattr(C, key, value)
            sk_text.TfidfVectorizer = char13 if change.get("char13") else real
            hits1 = hits2 = n = 0
            for train, test in folds:
                model = C.Categoriser.train([(texts[i], labels[i]) for i in train])
                proba = model.predict_proba([texts[i] for i in test])
                hits1 += topk_hits(proba, model.categories, labels[test], 1).sum()
                hits2 += topk_hits(proba, model.categories, labels[test], 2).sum()
                n += len(test)
                bar.advance(task)
            results.append((name, hits1 / n, hits2 / n))
    sk_text.TfidfVectorizer = real
    print("random stratified 5-fold CV on the shipped set, seeds 0-2 pooled")
    print(f"{'variant':<32} {'top-1':>6} {'top-2':>6}")
    for name, a1, a2 in results:
        print(f"{name:<32} {a1:6.1%} {a2:6.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
