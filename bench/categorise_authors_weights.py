"""Issue 19, point 4: the categoriser's weights chosen again, leave one author out over eight sets.

    python bench/categorise_authors_weights.py [--top 15]

With the seven measured sets as training data, the eighth set (congress/data/unseen_proposals_8.jsonl,
measured once by bench/categorise.py) reached issue 19's figures but placed one proposal fewer in the
top two than the plain baseline trained on the same proposals, and leave one author out over the
seven (bench/categorise_authors.py) found the model below the baseline on sets 6 and 7.  The weights
were chosen for 738 built-in proposals; with 1,623 the plain part may deserve more.  So they are
chosen again here, on the eight sets, all of them read by now:

* fold k tests set k; it trains on the shipped set, the written training files and the other seven
  sets, less every proposal of theirs that reads as the same issue as one of set k (char-bigram
  TF-IDF cosine >= 0.22, bench/categorise_authors.py ``same_issue``);
* the parts of each fold, fitted once: the tuned SVM of ``categorise_tune.SVMS`` and the encoder's
  logistic regression (C 0.1 / 1), both with balanced class weights as shipped (``BALANCED_CLASSES``),
  the keyword prior, and the plain baseline itself (char 1-3 grams, every example once);
* a variant is ``(svm + lexicon x prior + plain_weight x plain) / TEMPERATURE + encoder x log P``,
  what ``Categoriser.scores`` computes; the shipped weights' line must equal the model's own figures
  (checked against ``Categoriser.train`` on each fold, printed).

The rule, fixed in this file before it ran: a variant qualifies if, pooled over the eight folds, it
reaches top-1 >= 88% and top-2 >= 97% and is at or above the baseline on both.  Among those, the
fewest (set, top-1 or top-2) figures below the baseline's; then the highest pooled top-1 + top-2;
then the fewest weights changed from the shipped ones.  The pick replaces the shipped weights only
if it has fewer figures below the baseline than they have, or as few and a higher sum; otherwise
they stay.  (Added after the first run, which printed the list: the word model without the encoder,
the default install's, takes the same rule's pick among the variants with the encoder at 0.)  A ninth set (bench/data/unseen_proposals_9.jsonl), written and committed before this ran,
then measures the outcome once (bench/categorise.py).  Aggregate figures only; no proposal is printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from categorise_authors import DATA, READ_SETS, built_in, same_issue  # noqa: E402
from categorise_authors import load as load_pairs  # noqa: E402
from categorise_margin import LOGREGS, SHIPPED, changed, score, variants  # noqa: E402
from categorise_tune import CATS, SVMS, in_category_order  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

import congress.tally.categorise as C  # noqa: E402
from congress.tally import semantic  # noqa: E402

# The grid of bench/categorise_margin.py (SVMS x lexicon x encoder x C), the plain part's weight finer
PLAIN_WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)


def parts(train: list[tuple[str, str]], test: list[str]) -> dict:
    """Every part's scores for one fold, columns in CATS order."""
    from threadpoolctl import threadpool_limits

    texts, labels = [t for t, _ in train], np.asarray([c for _, c in train])
    out = {}
    for ngram, c in SVMS:
        vec = TfidfVectorizer(analyzer="char", ngram_range=ngram, sublinear_tf=True)
        svm = LinearSVC(C=c, class_weight="balanced").fit(vec.fit_transform(texts), labels)
        out[("svm", ngram, c)] = in_category_order(svm.decision_function(vec.transform(test)), svm.classes_)
    out["kw"] = C._KeywordScorer(C.LEXICON, CATS).scores(test)
    train_v, test_v = semantic.embed(texts), semantic.embed(test)
    mean, sd = train_v.mean(axis=0), train_v.std(axis=0) + 1e-6
    for c in LOGREGS:
        with threadpool_limits(limits=1, user_api="blas"):
            lr = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit((train_v - mean) / sd, labels)
        out[("lr", c)] = in_category_order(lr.predict_log_proba((test_v - mean) / sd), lr.classes_)
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))
    plain = LinearSVC().fit(vec.fit_transform(texts), labels)
    out["plain"] = in_category_order(plain.decision_function(vec.transform(test)), plain.classes_)
    return out


def hits(scores: np.ndarray, truth: np.ndarray, k: int) -> int:
    order = np.argsort(-scores, axis=1)[:, :k]
    cats = np.asarray(CATS)
    return int(sum(t in set(cats[row]) for row, t in zip(order, truth, strict=True)))


def describe(variant) -> str:
    (ngram, c), lw, sw, lr_c, pw = variant
    return f"svm {ngram[0]}-{ngram[1]} C{c:g}, lexicon {lw:g}, encoder {sw:g} (C{lr_c:g}), plain {pw:g}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)
    from rich.progress import Progress

    sets = {k: load_pairs(DATA / name) for k, name in READ_SETS.items()}  # 1-8
    base = built_in()
    folds = []  # (k, parts, truth, model's own [top-1, top-2])
    with Progress(transient=True) as bar:
        task = bar.add_task("parts, leave one author out", total=len(sets))
        for k, test in sets.items():
            others = [ex for j, s in sets.items() if j != k for ex in s]
            near = same_issue([t for t, _ in others], [t for t, _ in test])
            train = base + [ex for ex, drop in zip(others, near, strict=True) if not drop]
            texts, truth = [t for t, _ in test], np.asarray([c for _, c in test])
            model = C.Categoriser.train(train, C.DEFAULT_CATEGORIES)
            proba = in_category_order(model.predict_proba(texts), model.categories)
            folds.append((k, parts(train, texts), truth, [hits(proba, truth, 1), hits(proba, truth, 2)]))
            bar.advance(task)

    n = sum(len(t) for _, _, t, _ in folds)
    baseline = {k: [hits(p["plain"], t, 1), hits(p["plain"], t, 2)] for k, p, t, _ in folds}
    b_pooled = np.sum(list(baseline.values()), axis=0)
    results = []
    for v in variants(PLAIN_WEIGHTS):
        per = {k: [hits(score(p, v), t, 1), hits(score(p, v), t, 2)] for k, p, t, _ in folds}
        pooled = np.sum(list(per.values()), axis=0)
        below = sum(per[k][m] < baseline[k][m] for k in per for m in (0, 1))
        ok = pooled[0] >= 0.88 * n and pooled[1] >= 0.97 * n and pooled[0] >= b_pooled[0] and pooled[1] >= b_pooled[1]
        results.append((v, per, pooled, below, ok))

    shipped = next(r for r in results if r[0] == SHIPPED)
    own = {k: o for k, _, _, o in folds}
    print(f"folds: {len(folds)} sets, {n} proposals tested; built-in {len(base)}")
    print("the shipped weights here and Categoriser.train on each fold (they must agree):")
    for k, _, t, o in folds:
        print(f"  set {k} ({len(t)}): here {shipped[1][k][0]}/{shipped[1][k][1]}, the model {o[0]}/{o[1]}, "
              f"baseline {baseline[k][0]}/{baseline[k][1]}  (top-1/top-2 hits)")
    agree = all(shipped[1][k] == own[k] for k in own)
    print(f"  {'agree' if agree else 'DO NOT AGREE: the parts are not the model; nothing is chosen'}\n")
    print(f"baseline pooled: {b_pooled[0] / n:.1%} / {b_pooled[1] / n:.1%}")

    def key(r):  # noqa: ANN001, ANN202
        return (r[3], -(r[2][0] + r[2][1]), changed(r[0]))

    ranked = sorted((r for r in results if r[4]), key=key)
    print(f"variants: {len(results)}, qualifying (pooled >= 88% / 97% and >= the baseline): {len(ranked)}")
    print(f"{'#':>3} {'below':>5} {'top-1':>6} {'top-2':>6}  weights")
    line = "{:>3} {:>5} {:6.1%} {:6.1%}  {}"
    print(line.format("now", shipped[3], shipped[2][0] / n, shipped[2][1] / n, describe(SHIPPED) + " (shipped)"))
    for i, r in enumerate(ranked[: args.top], 1):
        print(line.format(i, r[3], r[2][0] / n, r[2][1] / n, describe(r[0])))
    if not agree or not ranked:
        print("\nrule: the shipped weights stay")
        return 0
    pick = ranked[0]
    better = pick[3] < shipped[3] or (pick[3] == shipped[3] and sum(pick[2]) > sum(shipped[2]))
    print(f"\nrule (fixed before it ran): pick {describe(pick[0])}: {pick[3]} figures below the baseline "
          f"(shipped {shipped[3]}), pooled sum {sum(pick[2])} (shipped {sum(shipped[2])}): "
          f"{'ADOPT' if better and pick[0] != SHIPPED else 'the shipped weights stay'}")
    print("per set, the pick against the baseline (top-1/top-2 hits):")
    for k, _, t, _ in folds:
        print(f"  set {k} ({len(t)}): {pick[1][k][0]}/{pick[1][k][1]} against {baseline[k][0]}/{baseline[k][1]}")
    # The default install has no encoder (congress[semantic] is opt-in): its word model keeps the
    # weights of its own kind, picked by the same rule among the variants without the encoder.
    words = [r for r in ranked if r[0][2] == 0]
    shipped_words = next(r for r in results if r[0] == (SHIPPED[0], SHIPPED[1], 0.0, LOGREGS[0], SHIPPED[4]))
    print(f"\nwithout the encoder: now {describe(shipped_words[0])}: {shipped_words[3]} below, "
          f"{shipped_words[2][0] / n:.1%} / {shipped_words[2][1] / n:.1%}")
    for i, r in enumerate(words[:5], 1):
        print(line.format(i, r[3], r[2][0] / n, r[2][1] / n, describe(r[0])))
    if words:
        w = words[0]
        print("per set, its pick against the baseline: "
              + ", ".join(f"set {k} {w[1][k][0]}/{w[1][k][1]} vs {baseline[k][0]}/{baseline[k][1]}" for k in w[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
