"""Pure counting and ratification: quorum, motions, elections, ratings, group counts. No I/O."""

from congress.domain.kinds import QuestionKind
from congress.tally.counting import (
    Answer,
    CastBallot,
    GroupRoll,
    GroupTally,
    Question,
    Tally,
    combine,
    count_ballots,
)
from congress.tally.election import (
    CandidateResult,
    ElectionKind,
    ElectionOutcome,
    ballot_is_valid,
    elect,
    election_kind,
)
from congress.tally.handcount import CountMethod, GroupCountCheck, validate_group_count
from congress.tally.motion import MotionOutcome, OptionCounts, YesNo, decide_motion, option_label
from congress.tally.rating import DEFAULT_SCALE, RatingLine, RatingOutcome, summarise_rating
from congress.tally.rules import (
    DEFAULT_RULE,
    QUORUM_FRACTION,
    Basis,
    QuorumResult,
    Rule,
    check_quorum,
    quorum_required,
)
from congress.tally.words import chinese_number, fraction_words, percent_words

__all__ = [
    "DEFAULT_RULE",
    "DEFAULT_SCALE",
    "QUORUM_FRACTION",
    "Answer",
    "Basis",
    "CandidateResult",
    "CastBallot",
    "CountMethod",
    "ElectionKind",
    "ElectionOutcome",
    "GroupCountCheck",
    "GroupRoll",
    "GroupTally",
    "MotionOutcome",
    "OptionCounts",
    "Question",
    "QuestionKind",
    "QuorumResult",
    "RatingLine",
    "RatingOutcome",
    "Rule",
    "Tally",
    "YesNo",
    "ballot_is_valid",
    "check_quorum",
    "chinese_number",
    "combine",
    "count_ballots",
    "decide_motion",
    "elect",
    "election_kind",
    "fraction_words",
    "option_label",
    "percent_words",
    "quorum_required",
    "summarise_rating",
    "validate_group_count",
]
