"""How the categoriser's settings are chosen: on issues the model never saw *within the shipped set*,
the topic split (GroupKFold 5 over 60 title topics) and the group split (leave one 代表团 out) of
bench/categorise.py, never on the unseen set (congress/data/unseen_proposals.jsonl stays a test set:
it is measured once per frozen choice by bench/categorise.py).

    python bench/categorise_choices.py

Prints top-1 / top-2 for the shipped settings and each variant tried (issue 19, point 4), among them
the ablations of the lexicon's issue-19 extension: without it, and without the words of it that
appear in the titles of the topic-split errors read before it was written (SEEN_IN_ERRORS), which
shows how much of its gain on these splits is fitted; and the weight of staff-confirmed examples
(CONFIRMED_WEIGHT) with half of each held-out fold confirmed.  Every row includes the sentence encoder
(SEMANTIC; its own choices are in bench/categorise_embed.py).
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
from categorise import DEFAULT_DATA, load, topic_groups, topk_hits  # noqa: E402
from rich.progress import Progress  # noqa: E402
from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut  # noqa: E402

import congress.tally.categorise as C  # noqa: E402

# Words of the extension found in the titles of the shipped model's topic-split errors, which were
# read before the extension was written.
SEEN_IN_ERRORS = frozenset("""家属区 心理健康 更衣室 工作服 互助保障 劳保鞋 手套 疲劳驾驶 作业环境 燃料 综合利用 大修
    石灰窑 木屑 树皮 绩效 绩效考核 考核办法 外委 人员配置 能源管理 能源计量 绩效奖金 奖金分配 一线倾斜 通讯补贴
    岗位调整 管理模式 模拟市场 自主管理 移动办公 电子审批 不胜任 职工意见 职工参与 开拓""".split())

SHIPPED = {"WORD_FEATURES": C.WORD_FEATURES, "LEXICON_WEIGHT": C.LEXICON_WEIGHT, "TITLE_BONUS": C.TITLE_BONUS,
           "SVM_C": C.SVM_C}
_BASE = C._parse_lexicon(C._LEXICON_SOURCE)
_EXTENSION = C._parse_lexicon(C._LEXICON_EXTENSION)
LEXICONS = {
    "shipped": C.LEXICON,
    "no extension": _BASE,
    "blind extension": {c: {**w, **{k: v for k, v in _EXTENSION.get(c, {}).items() if k not in SEEN_IN_ERRORS}}
                        for c, w in _BASE.items()},
}
VARIANTS = [
    ("shipped", {}),
    ("lexicon without the extension", {"lexicon": "no extension"}),
    ("extension less SEEN_IN_ERRORS", {"lexicon": "blind extension"}),
    ("lexicon weight 0.4", {"LEXICON_WEIGHT": 0.4}),
    ("lexicon weight 0.6", {"LEXICON_WEIGHT": 0.6}),
    ("lexicon weight 0.75", {"LEXICON_WEIGHT": 0.75}),
    ("jieba word features", {"WORD_FEATURES": True}),
    ("keyword title bonus 0", {"TITLE_BONUS": 0.0}),
    ("keyword title bonus 2", {"TITLE_BONUS": 2.0}),
    ("SVM C 0.5", {"SVM_C": 0.5}),
    ("SVM C 2", {"SVM_C": 2.0}),
    ("char 1-3 grams", {"char13": True}),
]


def main() -> int:
    rows = load(DEFAULT_DATA)
    texts = [C.proposal_text(r["title"], r["reason"], r["suggestion"]) for r in rows]
    labels = np.array([r["category"] for r in rows])
    splits = {
        "topic": list(GroupKFold(5).split(texts, labels, topic_groups(rows, 0))),
        "group": list(LeaveOneGroupOut().split(texts, labels, [r["group"] for r in rows])),
    }
    real = sk_text.TfidfVectorizer

    def char13(**kw):  # the categoriser builds its vectoriser inside train(): swap the char range there
        if kw.get("analyzer") == "char" and kw.get("ngram_range") == (1, 2):
            kw["ngram_range"] = (1, 3)
        return real(**kw)

    results = []
    with Progress(transient=True) as bar:
        task = bar.add_task("variants", total=len(VARIANTS) * sum(len(f) for f in splits.values()))
        for name, change in VARIANTS:
            for key, value in {**SHIPPED, **{k: v for k, v in change.items() if k.isupper()}}.items():
                setattr(C, key, value)
            sk_text.TfidfVectorizer = char13 if change.get("char13") else real
            lexicon = LEXICONS[change.get("lexicon", "shipped")]
            figures = []
            for folds in splits.values():
                hits1 = hits2 = 0
                for train, test in folds:
                    model = C.Categoriser.train([(texts[i], labels[i]) for i in train], lexicon=lexicon)
                    proba = model.predict_proba([texts[i] for i in test])
                    hits1 += topk_hits(proba, model.categories, labels[test], 1).sum()
                    hits2 += topk_hits(proba, model.categories, labels[test], 2).sum()
                    bar.advance(task)
                figures += [hits1 / len(texts), hits2 / len(texts)]
            results.append((name, *figures))
    sk_text.TfidfVectorizer = real
    for key, value in SHIPPED.items():
        setattr(C, key, value)
    print("the shipped set's issues never seen: topic split (GroupKFold 5, 60 topics), group split (leave one out)")
    print(f"{'variant':<32} | {'topic top-1':>11} {'top-2':>6} | {'group top-1':>11} {'top-2':>6}")
    for name, t1, t2, g1, g2 in results:
        print(f"{name:<32} | {t1:11.1%} {t2:6.1%} | {g1:11.1%} {g2:6.1%}")
    print("\nlearning from staff's decisions: half of each held-out fold confirmed, the other half suggested")
    for weight in (1.0, C.CONFIRMED_WEIGHT, 10.0):
        figures = [f"{t1:11.1%} {t2:6.1%}" for t1, t2 in (_half_confirmed(texts, labels, folds, weight)
                                                          for folds in splits.values())]
        name = f"confirmed weight {weight:g}" + (" (shipped)" if weight == C.CONFIRMED_WEIGHT else "")
        print(f"{name:<32} | " + " | ".join(figures))
    return 0


def _half_confirmed(texts, labels, folds, weight):
    """(top-1, top-2) when half of each test fold (KFold 2, both ways) is given as confirmed."""
    hits1 = hits2 = n = 0
    for train, test in folds:
        for a, b in KFold(2, shuffle=True, random_state=0).split(test):
            model = C.Categoriser.train([(texts[i], labels[i]) for i in train], confirmed_weight=weight,
                                        confirmed=[(texts[i], labels[i]) for i in test[a]])
            proba = model.predict_proba([texts[i] for i in test[b]])
            hits1 += topk_hits(proba, model.categories, labels[test[b]], 1).sum()
            hits2 += topk_hits(proba, model.categories, labels[test[b]], 2).sum()
            n += len(b)
    return hits1 / n, hits2 / n


if __name__ == "__main__":
    raise SystemExit(main())
