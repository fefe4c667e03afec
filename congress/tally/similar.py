"""Similar proposals and likely duplicates (重复提案 / 合并立案 candidates).

Pure logic, no database and no network.  Duplicates are reworded rather than copied
("夜班吃不上热饭" vs "给夜班弄点夜宵"), so the similarity is built in three steps:

1. *concept normalisation*: a small synonym lexicon of the domain maps colloquial variants onto
   one canonical word (宵夜/热饭/泡面 → 夜宵, 年假 → 年休假, 收入/薪酬 → 工资, ...);
2. *character 1-2 gram TF-IDF cosine* over the normalised text, with IDF fitted on the corpus
   plus the built-in seed proposals (a stable reference collection);
3. *category agreement*: the cosine is scaled by ``(1 - w) + w * <p_query, p_candidate>`` where
   ``p`` are the categoriser's probabilities, since a duplicate raises the same kind of issue.

The ``score`` of a match is that similarity *standardised against the query's background*: how
many standard deviations it stands above the query's typical similarity to the reference
collection.  Raw cosines are not comparable across queries (a long, formal proposal scores low
against everything; a short one high), a standardised score is, so a single threshold works.
Within one query the ranking is the same as by the scaled cosine.

``bench/categorise.py`` measures ranking and flagging against ``duplicate_of`` in the seed data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from congress.tally.categorise import agreement_categoriser, proposal_text
from congress.tally.examples import load_seed_proposals

# A match whose score reaches this is flagged as a likely duplicate.  Chosen on the seed data
# (bench/categorise.py, out-of-fold category probabilities): F1 of the flag is flat at
# 0.75-0.77 for thresholds 10-11.5 (precision 79% -> 100%, recall 72% -> 61%); 10 is taken
# from the recall end because a false flag costs staff one look, while a missed duplicate
# sends the same issue to two departments.
DUPLICATE_THRESHOLD = 10.0
# Weight of category agreement in the similarity (0 = ignore categories).
CATEGORY_AGREEMENT_WEIGHT = 0.5

# canonical word <- colloquial or formal variants.  General vocabulary of the domain, kept
# small on purpose.  Note: it was written with the data set's duplicate pairs in view, so the
# duplicate figures of the benchmark are optimistic for it; the benchmark also prints the
# figures without it.
_SYNONYM_SOURCE: dict[str, str] = {
    "津贴": "补贴 补助 夜班费",
    "工资": "收入 薪酬 薪水 工钱",
    "大病": "重病 重大疾病 尿毒症 癌症 肿瘤",
    "救助": "帮扶 救济 募捐 捐款",
    "节日": "过节 逢年过节",
    "慰问品": "发的东西 福利品 购物卡",
    "反馈": "回音 下文 答复 回复 没人管",
    "食堂": "饭堂",
    "夜宵": "宵夜 夜餐 热饭 泡面",
    "夜班": "大夜班 三班倒 倒班",
    "年休假": "年假 休年假",
    "停车": "车位 贴条 罚单",
    "班车": "通勤车 交通车",
    "体检": "健康检查",
    "奖励": "奖金",
    "故障": "坏了 抢修 非计划停机",
    "洗澡": "淋浴",
    "劳动防护用品": "劳保用品 防护用品 劳保",
    "异味": "臭味 恶臭",
    "维修": "修理",
    "空调": "冷气",
    "宿舍": "寝室",
    "报销": "报账",
    "培训": "教学",
}


def _synonym_map(source: dict[str, str]) -> dict[str, str]:
    return {variant: canonical for canonical, variants in source.items() for variant in variants.split()}


SYNONYMS: dict[str, str] = _synonym_map(_SYNONYM_SOURCE)


def _normaliser(synonyms: dict[str, str]) -> Callable[[str], str]:
    if not synonyms:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(v) for v in sorted(synonyms, key=len, reverse=True)))
    return lambda text: pattern.sub(lambda m: synonyms[m.group(0)], text)


normalise = _normaliser(SYNONYMS)


class CategoryModel(Protocol):
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class Similar:
    id: Hashable
    score: float  # standardised similarity; compare with DUPLICATE_THRESHOLD
    cosine: float = 0.0  # the category-scaled cosine in 0..1, for display


def is_likely_duplicate(score: float) -> bool:
    return score >= DUPLICATE_THRESHOLD


# The score in words for staff, who cannot be asked to read standard deviations. On the seed data
# (360 proposals, 36 marked duplicates) the marked duplicates score 7.7-16.8, and the five nearest
# proposals of a proposal score 3.5-7.8 (10th-90th percentile): at 7 or more two proposals very
# likely raise the same matter in other words; under 4 they share little more than the vocabulary.
CLOSE_SIMILARITY = 7.0
SOME_SIMILARITY = 4.0
SIMILARITY_LEVELS = ("duplicate", "close", "some", "faint")  # 很可能重复, 很相似, 有些相似, 不太相似


def similarity_level(score: float) -> str:
    """One of SIMILARITY_LEVELS, from the standardised score."""
    if is_likely_duplicate(score):
        return "duplicate"
    if score >= CLOSE_SIMILARITY:
        return "close"
    if score >= SOME_SIMILARITY:
        return "some"
    return "faint"


def similarity_share(score: float) -> float:
    """The score as a share of the duplicate threshold, 0..1: the length of the bar staff see."""
    return round(min(max(score, 0.0) / DUPLICATE_THRESHOLD, 1.0), 2)


@lru_cache(maxsize=1)
def seed_texts() -> tuple[str, ...]:
    return tuple(proposal_text(p["title"], p["reason"], p["suggestion"]) for p in load_seed_proposals())


class SimilarityIndex:
    """Index over a corpus of (id, text); answer many queries without refitting.

    ``reference``: extra texts for IDF and the background statistics (default: the built-in seed
    proposals).  ``categoriser``: anything with ``predict_proba(texts)``; default is the word model
    trained on the seed set with the weights the threshold was measured with (agreement_categoriser);
    pass ``category_weight=0`` to ignore categories.
    """

    def __init__(
        self,
        corpus: Iterable[tuple[Hashable, str]],
        *,
        categoriser: CategoryModel | None = None,
        reference: Sequence[str] | None = None,
        category_weight: float = CATEGORY_AGREEMENT_WEIGHT,
        synonyms: dict[str, str] | None = None,
    ):
        from sklearn.feature_extraction.text import TfidfVectorizer

        items = list(corpus)
        self.ids: list[Hashable] = [i for i, _ in items]
        texts = [t for _, t in items]
        self._normalise = normalise if synonyms is None else _normaliser(synonyms)
        reference = list(seed_texts() if reference is None else reference)
        # Background collection: reference + corpus, each distinct text once.
        background = list(dict.fromkeys(reference + texts))
        self._weight = float(category_weight) if category_weight else 0.0
        if self._weight and categoriser is None:
            categoriser = agreement_categoriser()
        self._categoriser = categoriser if self._weight else None

        self._vectoriser = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
        self._vectoriser.fit([self._normalise(t) for t in background] or ["空"])
        # Vectorise (and categorise) every distinct text once; the corpus rows are a subset.
        self._background = self._vectorise(background)
        self._background_cats = self._categories(background)
        self._position = {t: i for i, t in enumerate(background)}
        rows = np.array([self._position[t] for t in texts], dtype=int)
        self._corpus = self._background[rows]
        self._corpus_cats = None if self._background_cats is None else self._background_cats[rows]

    def _vectorise(self, texts: Sequence[str]) -> Any:  # a scipy sparse matrix (sklearn has no types)
        if not texts:
            from scipy.sparse import csr_matrix

            return csr_matrix((0, len(self._vectoriser.vocabulary_)))
        return self._vectoriser.transform([self._normalise(t) for t in texts])

    def _categories(self, texts: Sequence[str]) -> np.ndarray | None:
        if self._categoriser is None or not texts:
            return None
        return np.asarray(self._categoriser.predict_proba(list(texts)), dtype=float)

    def _rows(self, texts: Sequence[str]) -> tuple[Any, np.ndarray | None]:
        """Vectors and category probabilities of `texts`: a text the index holds (a queued proposal
        is in the corpus) is taken from it, the others are computed together in one batch."""
        from scipy.sparse import vstack

        fresh = [t for t in dict.fromkeys(texts) if t not in self._position]
        where = {t: len(self._position) + j for j, t in enumerate(fresh)}
        rows = np.array([self._position.get(t, where.get(t, 0)) for t in texts], dtype=int)
        vectors, cats = self._background, self._background_cats
        if fresh:
            vectors = vstack([vectors, self._vectorise(fresh)], format="csr")
            fresh_cats = self._categories(fresh)  # None exactly when cats is (no categoriser)
            if cats is not None and fresh_cats is not None:
                cats = np.vstack([cats, fresh_cats])
        return vectors[rows], None if cats is None else cats[rows]

    def _scaled(self, cosines: np.ndarray, cats: np.ndarray | None, query_cats: np.ndarray | None) -> np.ndarray:
        """Cosines (rows × queries) scaled by category agreement."""
        if cats is None or query_cats is None:
            return cosines
        scaled: np.ndarray = cosines * ((1.0 - self._weight) + self._weight * (cats @ query_cats.T))
        return scaled

    def query(
        self,
        text: str,
        k: int = 5,
        *,
        among: Iterable[Hashable] | None = None,
        exclude: Iterable[Hashable] = (),
    ) -> list[Similar]:
        """The k corpus entries most similar to ``text``, best first.

        ``among`` restricts the candidates (e.g. proposals filed earlier); ``exclude`` drops some
        (e.g. the query proposal itself).
        """
        return self.query_many([(text, exclude)], k, among=among)[0]

    # Queries answered per matrix product: bounds the dense (corpus × queries) arrays.
    BATCH = 256

    def query_many(
        self,
        queries: Sequence[tuple[str, Iterable[Hashable]]],
        k: int = 5,
        *,
        among: Iterable[Hashable] | None = None,
    ) -> list[list[Similar]]:
        """``query`` for many (text, exclude) pairs at once, e.g. staff's whole review queue: one
        matrix product per batch instead of one vectorising and scoring pass per proposal."""
        if not self.ids or k <= 0:
            return [[] for _ in queries]
        allowed = np.ones(len(self.ids), dtype=bool)
        if among is not None:
            wanted = set(among)
            allowed &= np.array([i in wanted for i in self.ids])
        results: list[list[Similar]] = []
        for first in range(0, len(queries), self.BATCH):
            batch = queries[first:first + self.BATCH]
            vectors, cats = self._rows([text for text, _ in batch])
            sims = self._scaled((self._corpus @ vectors.T).toarray(), self._corpus_cats, cats)
            plain = (self._background @ vectors.T).toarray()
            back_all = self._scaled(plain, self._background_cats, cats)
            for j, (_text, exclude) in enumerate(batch):
                # Leave the query's own text (and verbatim copies) out of its background.
                back = back_all[:, j][plain[:, j] < 0.999]
                mean = float(back.mean()) if back.size else 0.0
                std = float(back.std()) if back.size > 1 else 0.0
                std = max(std, 0.005)  # observed 0.0095-0.029 on the seed set
                mine = allowed
                dropped = set(exclude)
                if dropped:
                    mine = allowed & np.array([i not in dropped for i in self.ids])
                candidates = np.flatnonzero(mine)
                column = sims[:, j]
                order = candidates[np.argsort(-column[candidates], kind="stable")][:k]
                results.append([Similar(self.ids[i], (float(column[i]) - mean) / std, float(column[i]))
                                for i in order])
        return results


def find_similar(
    query_text: str,
    corpus: Sequence[tuple[Hashable, str]],
    k: int = 5,
    *,
    categoriser: CategoryModel | None = None,
    reference: Sequence[str] | None = None,
) -> list[Similar]:
    """The k proposals of ``corpus`` most similar to ``query_text``, best first.

    For many queries over the same corpus build a :class:`SimilarityIndex` once instead.
    """
    return SimilarityIndex(corpus, categoriser=categoriser, reference=reference).query(query_text, k)


__all__ = [
    "CATEGORY_AGREEMENT_WEIGHT",
    "CLOSE_SIMILARITY",
    "DUPLICATE_THRESHOLD",
    "SIMILARITY_LEVELS",
    "SOME_SIMILARITY",
    "SYNONYMS",
    "Similar",
    "SimilarityIndex",
    "find_similar",
    "is_likely_duplicate",
    "similarity_level",
    "similarity_share",
    "normalise",
    "seed_texts",
]
