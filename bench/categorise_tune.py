"""Issue 19, point 4, third attempt: the weights of the categoriser's parts, chosen where it is allowed.

    python bench/categorise_tune.py [--extra congress/data/proposals_extra.jsonl [--extra …]]

Measured on the shipped set's topic split (GroupKFold 5, 60 title topics) and group split (leave one
代表团 out), and on the first unseen set (congress/data/unseen_proposals.jsonl, already read while tuning
before): aggregate figures only, no proposal is printed.  The fresh set (unseen_proposals_2.jsonl) is
never read here.  ``--extra`` adds proposals that are always on the training side (never tested).

Each fold's parts are computed once (the SVM's decision values for a few settings, the keyword prior,
the encoder's logistic regression and its k nearest training proposals) and the variants are
weighted sums of them, so a grid costs seconds.
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

from categorise import DEFAULT_DATA, UNSEEN_DATA, load, topic_groups, topk_hits  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

import congress.tally.categorise as C  # noqa: E402
from congress.tally import semantic  # noqa: E402

CATS = list(C.DEFAULT_CATEGORIES)
SVMS = [((1, 2), 1.0), ((1, 2), 0.3), ((1, 3), 1.0), ((1, 3), 0.3), ((1, 2), 0.1)]
LOGREGS = (0.1, 1.0)
KNNS = (5, 10, 20)


def texts_of(rows) -> list[str]:
    return [C.proposal_text(r["title"], r["reason"], r["suggestion"]) for r in rows]


def in_category_order(values, classes) -> np.ndarray:
    out = np.tile(values.min(axis=1, keepdims=True), (1, len(CATS)))
    for j, c in enumerate(classes):
        out[:, CATS.index(c)] = values[:, j]
    return out


def parts(train_t, train_y, train_v, test_t, test_v) -> dict:
    """Every part's scores for one fold, columns in CATS order."""
    out = {}
    train_y = np.asarray(train_y)
    for ngram, c in SVMS:
        vec = TfidfVectorizer(analyzer="char", ngram_range=ngram, sublinear_tf=True)
        svm = LinearSVC(C=c).fit(vec.fit_transform(train_t), train_y)
        out[("svm", ngram, c)] = in_category_order(svm.decision_function(vec.transform(test_t)), svm.classes_)
    out["kw"] = C._KeywordScorer(C.LEXICON, CATS).scores(test_t)
    mean, sd = train_v.mean(axis=0), train_v.std(axis=0) + 1e-6
    for c in LOGREGS:
        lr = LogisticRegression(C=c, max_iter=3000).fit((train_v - mean) / sd, train_y)
        out[("lr", c)] = in_category_order(lr.predict_log_proba((test_v - mean) / sd), lr.classes_)
    sims = test_v @ train_v.T
    for k in KNNS:
        idx = np.argsort(-sims, axis=1)[:, :k]
        votes = np.full((len(test_t), len(CATS)), 0.5)  # add-half smoothing: log of 0 never
        for r, row in enumerate(idx):
            for i in row:
                votes[r, CATS.index(train_y[i])] += 1.0
        out[("knn", k)] = np.log(votes / votes.sum(axis=1, keepdims=True))
    return out


def combos():
    for svm, lw, sw, lr_c, kw, k in itertools.product(
        SVMS, (0.5, 0.75, 1.0), (0.0, 0.25, 0.5, 0.75, 1.0, 1.5), LOGREGS, (0.0, 0.25, 0.5, 1.0), KNNS
    ):
        if kw == 0 and k != KNNS[0]:
            continue
        if sw == 0 and lr_c != LOGREGS[0]:
            continue
        yield (svm, lw, sw, lr_c, kw, k)


def score(p, combo) -> np.ndarray:
    svm, lw, sw, lr_c, kw, k = combo
    return (p[("svm", *svm)] + lw * p["kw"]) / C.TEMPERATURE + sw * p[("lr", lr_c)] + kw * p[("knn", k)]


def calibration(extra_path) -> int:
    """Mean top confidence beside top-1 accuracy, pooled over the topic and group splits, for the
    Categoriser as configured (extra proposals on the training side), and the log loss at a few
    scales of its logits (1 = as shipped)."""
    rows = load(DEFAULT_DATA)
    extra_rows = [r for path in extra_path or () for r in load(path)]
    extra = list(zip(texts_of(extra_rows), (r["category"] for r in extra_rows), strict=True))
    texts = texts_of(rows)
    labels = np.array([r["category"] for r in rows])
    splits = list(GroupKFold(5).split(texts, labels, topic_groups(rows, 0))) + list(
        LeaveOneGroupOut().split(texts, labels, [r["group"] for r in rows]))
    logits, truth = [], []
    for train, test in splits:
        model = C.Categoriser.train([(texts[i], labels[i]) for i in train] + extra)
        proba = model.predict_proba([texts[i] for i in test])
        logits.append(np.log(np.clip(proba, 1e-12, 1)))
        truth += list(labels[test])
    z, y = np.vstack(logits), np.array([CATS.index(t) for t in truth])
    for scale in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        zs = z * scale
        p = np.exp(zs - zs.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        print(f"scale {scale:4g}: mean top confidence {p.max(axis=1).mean():.3f}, top-1 accuracy "
              f"{(p.argmax(axis=1) == y).mean():.3f}, log loss {-np.log(p[np.arange(len(y)), y]).mean():.3f}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extra", type=Path, action="append", help="proposals always on the training side (repeatable)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--word-only", action="store_true", help="with --calibration: the model without the encoder")
    ap.add_argument("--calibration", action="store_true",
                    help="the shipped Categoriser's confidence against its accuracy on the two splits")
    args = ap.parse_args(argv)
    if args.calibration:
        C.SEMANTIC = not args.word_only
        return calibration(args.extra)
    rows = load(DEFAULT_DATA)
    extra = [r for path in args.extra or () for r in load(path)]
    unseen = load(UNSEEN_DATA)
    texts, u_texts, x_texts = texts_of(rows), texts_of(unseen), texts_of(extra)
    labels = np.array([r["category"] for r in rows])
    u_labels = np.array([r["category"] for r in unseen])
    x_labels = np.array([r["category"] for r in extra], dtype=labels.dtype)
    vectors = semantic.embed(texts + u_texts + x_texts)
    v, u_v, x_v = vectors[: len(texts)], vectors[len(texts): len(texts) + len(u_texts)], vectors[len(texts) + len(u_texts):]

    measures = {
        "topic": list(GroupKFold(5).split(texts, labels, topic_groups(rows, 0))),
        "group": list(LeaveOneGroupOut().split(texts, labels, [r["group"] for r in rows])),
        "unseen1": [(np.arange(len(texts)), None)],
    }
    folds = []  # (measure, parts, truth)
    for name, splits in measures.items():
        for train, test in splits:
            tr_t = [texts[i] for i in train] + x_texts
            tr_y = np.concatenate([labels[train], x_labels])
            tr_v = np.vstack([v[train], x_v]) if len(x_texts) else v[train]
            if test is None:
                folds.append((name, parts(tr_t, tr_y, tr_v, u_texts, u_v), u_labels))
            else:
                folds.append((name, parts(tr_t, tr_y, tr_v, [texts[i] for i in test], v[test]), labels[test]))
        print(f"  … {name} parts done", file=sys.stderr, flush=True)

    results = []
    for combo in combos():
        hits = {m: np.zeros(3) for m in measures}
        for name, p, truth in folds:
            s = score(p, combo)
            hits[name] += [topk_hits(s, CATS, truth, 1).sum(), topk_hits(s, CATS, truth, 2).sum(), len(truth)]
        figs = [x for m in measures for x in (hits[m][0] / hits[m][2], hits[m][1] / hits[m][2])]
        results.append((combo, figs))
    shipped = next(f for c, f in results if c == (((1, 2), 1.0), 0.5, 0.25, 1.0, 0.0, KNNS[0]))
    print(f"{'svm ngram C':<14} {'lex':>4} {'enc':>4} {'lrC':>4} {'knn':>4} {'k':>3} | "
          f"{'topic':>13} | {'group':>13} | {'unseen 1':>13} | sum")

    def line(combo, f):
        svm, lw, sw, lr_c, kw, k = combo
        return (f"{str(svm[0]) + ' ' + str(svm[1]):<14} {lw:4g} {sw:4g} {lr_c:4g} {kw:4g} {k:3d} | "
                f"{f[0]:6.1%} {f[1]:6.1%} | {f[2]:6.1%} {f[3]:6.1%} | {f[4]:6.1%} {f[5]:6.1%} | {sum(f):.3f}")

    print("shipped:")
    print(line((((1, 2), 1.0), 0.5, 0.25, 1.0, 0.0, KNNS[0]), shipped))
    print(f"best {args.top} by the sum of the six figures, of {len(results)}:")
    for combo, f in sorted(results, key=lambda r: -sum(r[1]))[: args.top]:
        print(line(combo, f))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
