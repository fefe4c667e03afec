"""Category suggestions (提案分类建议) for proposals reaching the committee.

The model (congress.tally.categorise) learns from the seed set and from every category staff have
confirmed; it is trained once at start-up (warm_categoriser) and again when staff have confirmed
more. A submission's suggestion is computed before its write (Command.prepare), not inside it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.engine import kept
from congress.db.models import Proposal
from congress.domain.permissions import Actor, Permission
from congress.tally.categorise import (
    DEFAULT_CATEGORIES,
    Categoriser,
    Suggestion,
    proposal_text,
    seed_examples,
    words,
)

RETRAIN_SECONDS = 30.0  # retrained at most this often (0.3-1 s of CPU on the 1,742 built-in proposals)
REASONS_KEPT = 5000


class _Trained:
    """One database's categoriser and the reasons it gave; one per Database (db.engine.kept): it
    learns from that database's confirmed categories, so another app's must never answer."""

    def __init__(self) -> None:
        self.model_lock = threading.Lock()
        self.model: tuple[int, float, Categoriser] | None = None  # (confirmed count, trained at, model)
        self.retraining: threading.Thread | None = None  # the thread training the next model, if any
        self.reasons_lock = threading.Lock()
        self.reasons: dict[Any, Any] = {}  # (text, category) -> reasons, for the model under "model"


def _trained(session: Session) -> _Trained:
    return kept(session, "categoriser", _Trained)


def _confirmed_examples(session: Session) -> list[tuple[str, str]]:
    confirmed = session.execute(sa.select(Proposal.title, Proposal.reason, Proposal.suggestion,
                                          Proposal.category).where(Proposal.category.is_not(None)))
    return [(proposal_text(t, r, s), c) for t, r, s, c in confirmed if c in DEFAULT_CATEGORIES]


def _train(count: int, examples: list[tuple[str, str]]) -> tuple[int, float, Categoriser]:
    return count, time.monotonic(), Categoriser.train(seed_examples(), DEFAULT_CATEGORIES, confirmed=examples)


def _retrain(trained: _Trained, count: int, examples: list[tuple[str, str]]) -> None:
    fresh = None
    try:
        fresh = _train(count, examples)
    finally:  # a failed training leaves the model before in place, and the next call tries again
        with trained.model_lock:
            if fresh is not None:
                trained.model = fresh
            trained.retraining = None


def _categoriser(session: Session) -> Categoriser:
    """Seed set + every category staff have confirmed (this and earlier congresses).  Trained here
    the first time; after that, when staff have confirmed more (at most every RETRAIN_SECONDS), the
    next model trains in a thread and this one keeps answering: a second of training must not hold
    up a submission, or the writes queued behind it."""
    trained = _trained(session)
    count = session.scalar(sa.select(sa.func.count()).select_from(Proposal).where(Proposal.category.is_not(None))) or 0
    with trained.model_lock:
        model = trained.model
        if model is None:
            model = trained.model = _train(count, _confirmed_examples(session))
        elif (model[0] != count and time.monotonic() - model[1] > RETRAIN_SECONDS
              and trained.retraining is None):
            # The examples are read here, on the caller's session; only the training leaves.
            trained.retraining = threading.Thread(target=_retrain, name="categoriser-retrain", daemon=True,
                                                  args=(trained, count, _confirmed_examples(session)))
            trained.retraining.start()
        return model[2]


def warm_categoriser(session: Session) -> None:
    """Load scikit-learn and train once, off the write path, when the server starts.

    Otherwise the first proposal submitted pays ~1 s of imports and training inside the writer,
    and every command queued behind it waits (seen in the rehearsal as the worst delivery times).
    The word segmenter behind a suggestion's reasons loads its dictionary here too (~0.5 s)."""
    _categoriser(session)
    words("食堂")


def suggest_category(session: Session, proposal: Proposal, prepared: Any = None) -> Suggestion:
    """The category suggested to staff; `prepared` is what `prepare_suggestion` computed before the
    write, used if the proposal's text is still the text it was computed for."""
    text = proposal_text(proposal.title, proposal.reason, proposal.suggestion)
    if isinstance(prepared, PreparedSuggestion) and prepared.text == text:
        return prepared.suggestion
    return _categoriser(session).suggest(text)[0]


def suggestion_reasons(session: Session, proposals: list[Proposal]) -> list[list[str]]:
    """For each proposal, the words that weighed most for its suggested category ("依据：食堂、伙食"),
    from the model as it is now (the reasons are not stored: no column holds them); [] when it has
    no suggestion."""
    keys = [(proposal_text(p.title, p.reason, p.suggestion), p.suggested_category) for p in proposals]
    if not any(category for _, category in keys):
        return [[] for _ in proposals]
    model = _categoriser(session)
    trained = _trained(session)
    reasons_cache = trained.reasons
    with trained.reasons_lock:
        if reasons_cache.get("model") is not model:  # retrained: other weights, other reasons
            reasons_cache.clear()
            reasons_cache["model"] = model
        missing = list(dict.fromkeys((text, category) for text, category in keys
                                     if category and (text, category) not in reasons_cache))
    # The queue is read again after each decision: only proposals not seen before cost model time
    # (~0.7 ms each, 300 in 0.2 s).
    found: dict[tuple[str, str | None], Any] = (
        dict(zip(missing, model.reasons_many(missing), strict=True)) if missing else {})
    with trained.reasons_lock:
        if len(reasons_cache) > REASONS_KEPT:
            reasons_cache.clear()
            reasons_cache["model"] = model
        reasons_cache.update(found)
        cached = {k: reasons_cache.get(k, found.get(k, ())) for k in keys if k[1]}
    return [list(cached[k]) if k[1] else [] for k in keys]


@dataclass(frozen=True)
class PreparedSuggestion:
    text: str
    suggestion: Suggestion


def prepare_suggestion(session: Session, actor: Actor, congress_id: int | None, args: dict[str, Any]
                       ) -> PreparedSuggestion | None:
    """Suggest a category before the write that sends a proposal to the committee (Command.prepare).

    The model's scoring (and a retraining after staff confirmed categories) took about a quarter of
    a submission's time inside the group commit, where every command of the batch waited for it."""
    if args.get("approve") is False:  # a leader returning a proposal: nothing reaches the committee
        return None
    if not (actor.may(Permission.FILE_PROPOSAL) or actor.may(Permission.PRE_REVIEW_PROPOSAL)):
        return None  # refused in the write anyway; no model time for it
    proposal = session.get(Proposal, args["proposal_id"])
    if proposal is None or proposal.congress_id != congress_id:
        return None
    text = proposal_text(proposal.title, proposal.reason, proposal.suggestion)
    return PreparedSuggestion(text, _categoriser(session).suggest(text)[0])
