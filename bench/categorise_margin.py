"""Issue 19, point 4, fourth attempt: the categoriser's weights chosen for its margin over the baseline.

    python bench/categorise_margin.py

The third attempt reached top-1 >= 88% and top-2 >= 97% on two sets of issues never seen, but not
"never below the plain baseline": trained on the same 738 proposals, the plain char 1-3 gram TF-IDF +
LinearSVC placed 2 more of 120 first on the first and third unseen sets, and more with half a set
confirmed.  This script chooses again, for that condition, on measures that have all been read
already:

* the shipped set's topic split (GroupKFold 5, 60 title topics) and group split (leave one 代表团 out);
* the unseen sets (congress/data/unseen_proposals.jsonl, _2, _3, and since the fifth attempt _4),
  trained on the shipped set;
* each of them with half of it confirmed on site (weight CONFIRMED_WEIGHT for the categoriser, 1 for
  the baseline, as bench/categorise.py measures it), both halves in turn.

The training-only proposals are on every training side.  The fourth unseen set
(congress/data/unseen_proposals_4.jsonl, written and committed before this script first ran) was not read
here for the fourth attempt (``--sets 3``): that choice was measured on it once, by
bench/categorise.py.  The fifth attempt reads it too (``--sets 4``, the default); the fifth set
(congress/data/unseen_proposals_5.jsonl, committed before that run) is never read here.  Aggregate
figures only; no proposal is printed.

The parts (computed once per fold): the SVM of ``categorise_tune.SVMS``, the keyword prior, the
encoder's logistic regression (C 0.1 / 1), and the plain baseline's own decision values ("plain":
char 1-3 grams, raw term counts, C 1; weights up to 3 since the fifth attempt).  A variant is
``(svm + lexicon x prior + plain_weight x plain) / TEMPERATURE + encoder_weight x log P``.
The parts are fitted without class weights, as they were at the fifth attempt; the shipped model
weighs categories by the inverse of their share since the sixth set (``BALANCED_CLASSES``, measured
by ``bench/categorise.py --balanced``), so the "shipped" line here is the weighting before that.

The first rule, fixed before the first run (13860e3): the variant whose **smallest top-1 margin over
the baseline** (percentage points, over the measures) is largest; ties broken by the smallest
top-2 margin, then by the sum of all the figures, then by the fewest weights changed from the
shipped ones.  Its pick (char 1-3 grams, lexicon 0.25, encoder 0.25, the plain part 1) was 0.8 points
ahead of the baseline everywhere but fell to 96.7% top-2 on the second unseen set and to 84.7% / 96.4%
on the topic split: it traded away the issue's other condition, which that rule did not name.  So,
after seeing that output, the rule that decides (``--rule targets``, the default): among the variants
that reach top-1 >= 88% and top-2 >= 97% on every unseen measure and are below the baseline on no
measure (top-1 or top-2), the highest sum of the figures; ties by the fewest weights changed.
``--rule margin`` prints the first rule's order.  Fixed before the fifth attempt's run: if no variant
qualifies, the shipped weights stay (the list still shows the nearest).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from categorise import (  # noqa: E402
    DEFAULT_DATA,
    EXTRA_DATA,
    FRESH3_DATA,
    FRESH4_DATA,
    FRESH_DATA,
    UNSEEN_DATA,
    load,
    topic_groups,
    topk_hits,
)
from categorise_tune import CATS, SVMS, in_category_order, texts_of  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedKFold  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

import congress.tally.categorise as C  # noqa: E402
from congress.tally import semantic  # noqa: E402

LOGREGS = (0.1, 1.0)
LEXICON_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
ENCODER_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
PLAIN_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 3.0)
SHIPPED = (((1, 2), 1.0), C.LEXICON_WEIGHT, C.SEMANTIC_WEIGHT, semantic.SEMANTIC_C, C.PLAIN_WEIGHT)


def parts(train_t, train_y, train_w, train_v, test_t, test_v, plain_train) -> dict:
    """Every part's scores for one fold, columns in CATS order.  ``plain_train``: the baseline's own
    (texts, labels), confirmed proposals given once."""
    out = {}
    train_y = np.asarray(train_y)
    for ngram, c in SVMS:
        vec = TfidfVectorizer(analyzer="char", ngram_range=ngram, sublinear_tf=True)
        svm = LinearSVC(C=c).fit(vec.fit_transform(train_t), train_y, sample_weight=train_w)
        out[("svm", ngram, c)] = in_category_order(svm.decision_function(vec.transform(test_t)), svm.classes_)
    out["kw"] = C._KeywordScorer(C.LEXICON, CATS).scores(test_t)
    mean, sd = train_v.mean(axis=0), train_v.std(axis=0) + 1e-6
    for c in LOGREGS:
        lr = LogisticRegression(C=c, max_iter=3000).fit((train_v - mean) / sd, train_y, sample_weight=train_w)
        out[("lr", c)] = in_category_order(lr.predict_log_proba((test_v - mean) / sd), lr.classes_)
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))  # bench/categorise.py Baseline
    plain = LinearSVC().fit(vec.fit_transform(plain_train[0]), np.asarray(plain_train[1]))
    out["plain"] = in_category_order(plain.decision_function(vec.transform(test_t)), plain.classes_)
    return out


def variants(plain_weights=PLAIN_WEIGHTS):
    for svm, lw, sw, lr_c, pw in itertools.product(SVMS, LEXICON_WEIGHTS, ENCODER_WEIGHTS, LOGREGS, plain_weights):
        if sw == 0 and lr_c != LOGREGS[0]:
            continue
        yield (svm, lw, sw, lr_c, pw)


def score(p, variant) -> np.ndarray:
    svm, lw, sw, lr_c, pw = variant
    return (p[("svm", *svm)] + lw * p["kw"] + pw * p["plain"]) / C.TEMPERATURE + sw * p[("lr", lr_c)]


def changed(variant) -> int:
    return sum(a != b for a, b in zip(variant, SHIPPED, strict=True))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--sets", type=int, choices=(3, 4), default=4,
                    help="how many unseen sets to read: 3 for the fourth attempt's choice, 4 for the fifth's")
    ap.add_argument("--rule", choices=("targets", "margin"), default="targets",
                    help="targets: reach issue 19's figures, never below the baseline, then the sum (the rule "
                         "that decides); margin: the first rule, the largest smallest top-1 margin")
    args = ap.parse_args(argv)
    rows = load(DEFAULT_DATA)
    extra = [r for path in EXTRA_DATA for r in load(path)]
    paths = (UNSEEN_DATA, FRESH_DATA, FRESH3_DATA, FRESH4_DATA)[: args.sets]
    sets = {f"unseen {n}": load(path) for n, path in enumerate(paths, 1)}
    texts, x_texts = texts_of(rows), texts_of(extra)
    labels = np.array([r["category"] for r in rows])
    x_labels = np.array([r["category"] for r in extra], dtype=labels.dtype)
    set_texts = {name: texts_of(s) for name, s in sets.items()}
    set_labels = {name: np.array([r["category"] for r in s], dtype=labels.dtype) for name, s in sets.items()}
    every = texts + x_texts + [t for ts in set_texts.values() for t in ts]
    vectors = dict(zip(every, semantic.embed(every), strict=True))

    def vecs(ts):
        return np.vstack([vectors[t] for t in ts])

    folds = []  # (measure, parts, truth)

    def fold(name, train_t, train_y, train_w, test_t, truth, plain_train):
        p = parts(train_t + x_texts, np.concatenate([train_y, x_labels]),
                  np.concatenate([train_w, np.ones(len(x_texts))]), vecs(train_t + x_texts), test_t, vecs(test_t),
                  (plain_train[0] + x_texts, np.concatenate([plain_train[1], x_labels])))
        folds.append((name, p, np.asarray(truth)))

    for name, splits in (("topic", GroupKFold(5).split(texts, labels, topic_groups(rows, 0))),
                         ("group", LeaveOneGroupOut().split(texts, labels, [r["group"] for r in rows]))):
        for train, test in splits:
            tr = [texts[i] for i in train]
            fold(name, tr, labels[train], np.ones(len(tr)), [texts[i] for i in test], labels[test],
                 (tr, labels[train]))
        print(f"  … {name} split done", file=sys.stderr, flush=True)
    for name in sets:
        u_t, u_y = set_texts[name], set_labels[name]
        fold(name, texts, labels, np.ones(len(texts)), u_t, u_y, (texts, labels))
        for train, test in StratifiedKFold(2, shuffle=True, random_state=0).split(u_t, u_y):
            half = [u_t[i] for i in train]
            fold(f"{name} half", texts + half, np.concatenate([labels, u_y[train]]),
                 np.concatenate([np.ones(len(texts)), np.full(len(half), C.CONFIRMED_WEIGHT)]),
                 [u_t[i] for i in test], u_y[test], (texts + half, np.concatenate([labels, u_y[train]])))
        print(f"  … {name} done", file=sys.stderr, flush=True)
    measures = list(dict.fromkeys(name for name, _, _ in folds))

    def figures(score_of):
        hits = {m: np.zeros(3) for m in measures}
        for name, p, truth in folds:
            s = score_of(p)
            hits[name] += [topk_hits(s, CATS, truth, 1).sum(), topk_hits(s, CATS, truth, 2).sum(), len(truth)]
        return np.array([[hits[m][0] / hits[m][2], hits[m][1] / hits[m][2]] for m in measures])

    base = figures(lambda p: p["plain"])
    results = []
    for variant in variants():
        f = figures(lambda p, v=variant: score(p, v))
        margin = f - base
        if args.rule == "margin":
            key = (round(margin[:, 0].min(), 6), round(margin[:, 1].min(), 6), round(f.sum(), 6), -changed(variant))
        else:
            unseen = np.array([not m.startswith(("topic", "group")) for m in measures])
            qualifies = (f[unseen, 0] >= 0.88 - 1e-9).all() and (f[unseen, 1] >= 0.97 - 1e-9).all() \
                and (margin >= -1e-9).all()
            key = (int(qualifies), round(f.sum(), 6), -changed(variant))
        results.append((key, variant, f))
    results.sort(key=lambda r: r[0], reverse=True)

    head = " | ".join(f"{m:>13}" for m in measures)
    print(f"{'svm ngram C':<12} {'lex':>4} {'enc':>4} {'lrC':>4} {'plain':>5} | {head} | min margin 1 / 2")

    def line(variant, f):
        svm, lw, sw, lr_c, pw = variant
        cells = " | ".join(f"{a:6.1%} {b:6.1%}" for a, b in f)
        m = f - base
        return (f"{str(svm[0]) + ' ' + str(svm[1]):<12} {lw:4g} {sw:4g} {lr_c:4g} {pw:5g} | {cells} | "
                f"{m[:, 0].min():+.1%} / {m[:, 1].min():+.1%}")

    print(f"{'baseline':<35} | " + " | ".join(f"{a:6.1%} {b:6.1%}" for a, b in base))
    print("shipped:")
    print(line(SHIPPED, next(f for _, v, f in results if v == SHIPPED)))
    rule = ("smallest top-1 margin, then top-2, then the sum" if args.rule == "margin"
            else "the figures reached and never below the baseline, then the sum")
    if args.rule == "targets":
        print(f"{sum(1 for key, _, _ in results if key[0])} of {len(results)} variants reach the figures and are "
              "never below the baseline")
    print(f"best {args.top} of {len(results)} by the rule ({rule}):")
    for _, variant, f in results[: args.top]:
        print(line(variant, f))
    if args.rule == "targets" and not results[0][0][0]:
        print(f"chosen: none qualifies, the shipped weights stay {SHIPPED}")
    else:
        print(f"chosen: {results[0][1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
