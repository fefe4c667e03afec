"""Every event type of the log, declared once: its payload's fields and who may see it.

`Context.emit` (congress.actions.base) refuses a type that is not declared here, an audience the
type does not allow, and a payload whose fields do not match (`check_event`): a programming error,
raised at once, so a test catches it. docs/protocol.md's table of events is written from these
declarations (`protocol_table`); a test fails when the page differs.

A field is written `name: kinds`: kinds are JSON kinds (str, int, number, bool, list, object, null,
any) joined with `|`; a name ending in `?` may be left out. An event whose payload is a whole object
as the snapshot shows it (a vote, a proposal, a message) is `open`: its declared fields must be
there, and it may carry more. Pure data, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from congress.domain.kinds import Audience

KINDS = frozenset({"str", "int", "number", "bool", "list", "object", "null", "any"})


class EventDeclarationError(Exception):
    """An event that does not match its declaration (or has none): a bug in the code that emits it."""


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kinds: frozenset[str]
    required: bool = True

    def admits(self, value: Any) -> bool:
        return "any" in self.kinds or kind_of(value) in self.kinds or (
            kind_of(value) == "int" and "number" in self.kinds)


@dataclass(frozen=True, slots=True)
class EventType:
    """One type of event: its name, the audiences it may be emitted with, its payload's fields."""

    name: str
    audiences: frozenset[Audience]
    fields: tuple[Field, ...]
    is_open: bool = False  # the payload is a whole object: more fields than the declared ones allowed
    who: str = ""  # docs: which one of the audience (e.g. "the requester"), or when which audience
    doc: str = ""  # docs/protocol.md's payload column

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def kind_of(value: Any) -> str:
    """The JSON kind of a stored payload value (bool before int: True is an int in Python)."""
    if value is None:
        return "null"
    for kind, python in (("bool", bool), ("int", int), ("number", float), ("str", str), ("list", list),
                         ("object", dict)):
        if isinstance(value, python):
            return kind
    return type(value).__name__


def _fields(spec: str) -> tuple[Field, ...]:
    """'vote_id: int, reason?: str|null' -> the fields."""
    fields = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, kinds = (x.strip() for x in part.partition(":"))
        chosen = frozenset(kinds.split("|"))
        if not chosen <= KINDS:
            raise EventDeclarationError(f"unknown kind in {part!r}")
        fields.append(Field(name.rstrip("?"), chosen, not name.endswith("?")))
    return tuple(fields)


def declare(name: str, audiences: Audience | Iterable[Audience], fields: str, doc: str, *,
           is_open: bool = False, who: str = "") -> EventType:
    chosen = frozenset([audiences] if isinstance(audiences, Audience) else audiences)
    return EventType(name, chosen, _fields(fields), is_open, who, doc)


PUBLIC, GROUP, STAFF = Audience.PUBLIC, Audience.GROUP, Audience.STAFF
DELEGATE, DELEGATES = Audience.DELEGATE, Audience.DELEGATES

# Shapes several events share
VOTE = ("id: int, agenda_item_id: int|null, round: int, title: str, status: str, is_secret: bool, "
        "is_changeable: bool, shows_live_counts: bool, closes_after_seconds: int|null, group_modes: object|null, "
        "opened_at: str|null, closes_at: str|null, certified_by: str|null, sealing: object|null, questions: list")
BOARD = ("id: int, number: int|null, title: str, status: str, status_label: str, category: str|null, "
         "group_id: int, group: str, proposer: str, proposer_id: int|null, cosigners: list, is_key: bool, "
         "is_between_sessions: bool, merged_into_id: int|null, award_level: str|null, "
         "suggested_department: str|null, submitted_at: str|null, carried_from: object|null")
PRIVATE_PROPOSAL = (BOARD + ", reason: str|null, suggestion: str|null, attachments: list, invitations: list, "
                    "suggested_category: str|null, category_confidence: number|null")
DOCUMENT = "id: int, agenda_item_id: int|null, title: str, is_public: bool, is_tabled: bool, versions: list"
PERSON = ("delegate_id: int, employee_id: str, name: str, group_id: int|null, at: str, method?: str, "
          "reason: str|null")
MESSAGE = ("id: int, group_id: int, author_name: str, author_delegate_id: int|null, is_staff_author: bool, "
           "text: str, reply_to_id: int|null, agenda_item_id: int|null, is_pinned: bool, is_hidden: bool, "
           "created_at: str")
OPINION = ("id: int, group_id: int, group: str, agenda_item_id: int, status: str, agreement: str|null, "
           "suggestions: str|null, objections: str|null, quoted_message_ids: list, quotes: list, "
           "drafted_by: str|null, updated_at: str|null, submitted_at: str|null, handling: str|null, "
           "handling_note: str|null")
SPEECH = ("id: int, agenda_item_id: int, delegate_id: int, name: str, group_id: int|null, group: str, "
          "topic: str|null, position: int|null, status: str, requested_at: str")
WINDOW = "opens_at: str|null, closes_at: str|null"

DOC_ATTENDANCE = ("as above, with `reason`")
DOC_OPINION = ("the opinion: `id`, `group_id`, `group`, `agenda_item_id`, `status` (`draft`/`submitted`), "
               "`agreement`, `suggestions`, `objections`, `quoted_message_ids`, `quotes: [{message_id, "
               "author_name, text, is_hidden}]`, `drafted_by`, `updated_at`, `submitted_at`, `handling`, "
               "`handling_note`")
DOC_SPEECH = ("the request: `id`, `agenda_item_id`, `delegate_id`, `name`, `group_id`, `group`, `topic`, "
              "`position`, `status`, `requested_at`")
DOC_PROPOSAL_TEXT = ("the proposal with its text (`reason` 案由, `suggestion`), `invitations`, `attachments`, "
                     "`suggested_category`, `category_confidence`")
DOC_PRE_REVIEW = "`proposal_id` and `title`, or `approved` and `note`"
DOC_BOARD = ("what the board shows: `id`, `number`, `title`, `status`, `status_label`, `category`, `group_id`, "
             "`group`, `proposer`, `proposer_id`, `cosigners` (names), `is_key`, `is_between_sessions`, "
             "`merged_into_id`, `award_level`, `suggested_department`, `submitted_at`; plus what the step adds "
             "(`decision` and its `reason`; `round`, `lead_department`, `helper_departments`, `due_at`; `reply`; "
             "`rating`). Not the proposal's text: it is read with `proposal_board` or `proposal_detail` (a filing "
             "burst is hundreds of these, each to every observer)")
DOC_TERM = ("the new session: `from_congress_id`, `term`, `label`, `delegates`, `groups`, `notice_channels` (how "
            "many copied); in the previous one: `congress_id`, `name`, `label`; or `to_congress_id`, `numbers`")
DOC_STAFF_PROPOSAL = ("`proposal_id` and `category`, `confidence`, `reasons` (the words that weighed most for it, "
                      "docs/proposals.md); or `department`, `reason`")
DOC_TOLD = "`proposal_id`, `title` and `decision`, `reason`; or `reply_class`"
DOC_DOCUMENT_AUDIENCE = "public for a public document, else delegates"

DECLARED: tuple[EventType, ...] = (
    declare("congress.created", PUBLIC, "name: str, groups: list, is_rehearsal: bool",
           "`name`, `groups`, `is_rehearsal`"),
    declare("groups.added", PUBLIC, "groups: list", "`groups: [{id, name}]`"),
    declare("congress.rules_changed", PUBLIC, "rules: object", "`rules`"),
    declare("check_in.window_set", PUBLIC, WINDOW, "`opens_at`, `closes_at`"),
    declare("proposals.filing_window_set", PUBLIC, WINDOW, "`opens_at`, `closes_at` (the snapshot's `congress.filing`)"),
    declare("stream.set", PUBLIC, "kind: str|null, url: str|null, delay_seconds: int|null",
           "`kind`, `url`, `delay_seconds`"),
    declare("watch.set", PUBLIC, "mode: str", "`mode`"),
    declare("embedding.set", STAFF, "origins: list", "`origins`"),
    declare("roster.imported", PUBLIC, "voting: int, non_voting: int, groups: int, per_group: object, added: int, "
           "updated: int, removed: int",
           "`voting`, `non_voting`, `groups`, `per_group`, `added`, `updated`, `removed`"),
    declare("access_codes.issued", STAFF, "count: int", "`count`"),
    declare("agenda.item_added", PUBLIC, "id: int, position: int, kind: str, title: str, description: str|null, "
           "names: list|null, status: str",
           "the item: `id`, `position`, `kind`, `title`, `description`, `names`, `status`"),
    declare("agenda.reordered", PUBLIC, "order: list", "`order` (item ids)"),
    declare("agenda.current_changed", PUBLIC, "item_id: int|null", "`item_id`"),
    declare("attendance.changed", DELEGATES, "groups: list, eligible: int, present: int",
           "`groups: [{group_id, name, eligible, present}]`, `eligible`, `present` (应到 / 实到 of voting delegates); "
           "observers get the same numbers as the coalesced `attendance` message"),
    declare("attendance.checked_in", DELEGATE, PERSON,
           "`delegate_id`, `employee_id`, `name`, `group_id`, `at`, `method` (`self`/`desk`), `reason`"),
    declare("attendance.checked_out", DELEGATE, PERSON, DOC_ATTENDANCE),
    declare("sign_in.wait_cleared", STAFF, "employee_id: str|null, login: str|null, address: str|null, "
           "failures: int, by: str",
           "`employee_id`, `login`, `address` (null: everywhere), `failures` (how many were deleted), `by` (who "
           "cleared it)"),
    declare("vote.created", STAFF, VOTE, "the vote (as in the snapshot)", is_open=True),
    declare("vote.opened", PUBLIC, VOTE + ", quorum: str", "the vote, plus `quorum` (words)", is_open=True),
    declare("ballot.recorded", DELEGATE, "vote_id: int, at: str, is_change: bool",
           "`vote_id`, `at`, `is_change` (never a choice, never a receipt)"),
    declare("ballot.late", STAFF, "vote_id: int, group_id: int|null, at: str",
           "`vote_id`, `group_id`, `at` — a ballot confirmed while the vote was open that reached the server "
           "after the close: not counted; its sender got `{\"recorded\": false, \"late\": true, \"code\": "
           "\"arrived_after_close\", \"words\"}`"),
    declare("group_count.entered", GROUP, "vote_id: int, group_id: int, group: str, method: str, figures: object, "
           "scrutineer: str|null, entered_by: str|null, words: list",
           "`vote_id`, `group_id`, `group`, `method`, `figures`, `scrutineer`, `entered_by`, `words`"),
    declare("vote.closed", PUBLIC, "vote_id: int, at: str, cast: int", "`vote_id`, `at`, `cast`"),
    declare("vote.tallied", STAFF, "vote_id: int, result: object|null", "`vote_id`, `result`"),
    declare("vote.certified", PUBLIC, "vote_id: int, certified_by: str, at: str", "`vote_id`, `certified_by`, `at`"),
    declare("vote.published", PUBLIC, "vote_id: int, result: object|null, certified_by: str|null, record: object",
           "`vote_id`, `result`, `certified_by`, `record` (the head of the record just before it)"),
    declare("vote.cancelled", PUBLIC, "vote_id: int, reason: str", "`vote_id`, `reason`"),
    declare("trustees.named", PUBLIC, "ceremony_id: int, threshold: int, trustees: list",
           "`ceremony_id`, `threshold`, `trustees: [{index, employee_id, name, group}]`"),
    declare("trustee.posted", PUBLIC, "ceremony_id: int, trustee: int, round: int, message: object",
           "`ceremony_id`, `trustee`, `round`, `message` (communication key, commitments and encrypted shares, or "
           "the confirmation)"),
    declare("trustees.key_ready", PUBLIC, "ceremony_id: int, congress_id: int, threshold: int, public_key: str, "
           "verification_keys: object",
           "`ceremony_id`, `congress_id`, `threshold`, `public_key`, `verification_keys`"),
    declare("trustees.failed", PUBLIC, "ceremony_id: int, trustee: int, complaint: any",
           "`ceremony_id`, `trustee`, `complaint`"),
    declare("tally.ballots", PUBLIC, "vote_id: int, part: int, of: int, hashes: list",
           "`vote_id`, `part`, `of`, `hashes` (up to 500 sealed ballot hashes, sorted) — the public list of every "
           "ballot, right after `vote.closed` of a secret vote"),
    declare("tally.sealed", PUBLIC, "vote_id: int, ballots: int, ballots_digest: str, min_pool: int, pools: list",
           "`vote_id`, `ballots`, `ballots_digest` (SHA-256 of the sorted ballot hashes), `min_pool`, `pools: "
           "[{group_ids, ballots, sums}]` — after `vote.closed` of a secret vote"),
    declare("tally.share_posted", PUBLIC, "vote_id: int, trustee: int, message: object",
           "`vote_id`, `trustee`, `message` (a decryption share of every sum, with proofs)"),
    declare("tally.decrypted", PUBLIC, "vote_id: int, trustees: list, cast: int",
           "`vote_id`, `trustees` (whose shares were combined), `cast`; then `vote.tallied` to staff as for any vote"),
    declare("document.added", (PUBLIC, DELEGATES), DOCUMENT,
           "the document: `id`, `agenda_item_id`, `title`, `is_public`, `is_tabled`, `versions: [{version, "
           "filename, content_type, size, sha256, uploaded_by, uploaded_at, url}]`", who=DOC_DOCUMENT_AUDIENCE),
    declare("document.version_added", (PUBLIC, DELEGATES), "document_id: int, version: object",
           "`document_id`, `version` (as in `versions`)", who=DOC_DOCUMENT_AUDIENCE),
    declare("document.version_replaced", (PUBLIC, DELEGATES), "document_id: int, version: object",
           "`document_id`, `version` — a version corrected in place before tabling", who=DOC_DOCUMENT_AUDIENCE),
    declare("document.tabled", (PUBLIC, DELEGATES), "document_id: int, title: str, at: str",
           "`document_id`, `title`, `at`", who=DOC_DOCUMENT_AUDIENCE),
    declare("room.message_posted", GROUP, MESSAGE,
           "the message: `id`, `group_id`, `author_name`, `author_delegate_id`, `is_staff_author`, `text` (as "
           "typed: render it as text), `reply_to_id`, `agenda_item_id`, `is_pinned`, `is_hidden: false`, "
           "`created_at`"),
    declare("room.message_pinned", GROUP, "message_id: int, group_id: int, is_pinned: bool",
           "`message_id`, `group_id`, `is_pinned`"),
    declare("room.message_hidden", GROUP, "message: object",
           "`message`: the stub that replaces it (`id`, `group_id`, `reply_to_id`, `agenda_item_id`, `created_at`, "
           "`is_hidden: true`, `is_pinned: false`) — no text"),
    declare("room.hide_recorded", STAFF, "message_id: int, group_id: int, hidden_reason: str|null, hidden_by: str, "
           "at: str", "`message_id`, `group_id`, `hidden_reason`, `hidden_by`, `at`"),
    declare("opinion.saved", GROUP, OPINION, DOC_OPINION),
    declare("opinion.submitted", GROUP, OPINION, DOC_OPINION),
    declare("opinion.handled", GROUP, OPINION, DOC_OPINION),
    declare("speech.requested", DELEGATE, SPEECH, DOC_SPEECH, who="the requester"),
    declare("speech.withdrawn", DELEGATE, SPEECH, DOC_SPEECH, who="the requester"),
    declare("speech.removed", DELEGATE, SPEECH + ", agenda_item_title: str, removed_by: str",
           "staff took the request off the waiting list: the request as above (`status: \"withdrawn\"`), plus "
           "`agenda_item_title` and `removed_by` (the staff member); the delegate's page says so "
           "(\"工作人员已将您在《…》议程下的发言申请…移出等候名单\")", who="the requester"),
    declare("speakers.ordered", DELEGATES, "agenda_item_id: int, order: list",
           "`agenda_item_id`, `order` (the waiting list's request ids: ids only, so every delegate may have "
           "it; a delegate's page moves its own waiting request to its new place)"),
    declare("speaker.floor_given", PUBLIC, "request_id: int, delegate_id: int, name: str, group_id: int|null, "
           "group: str, agenda_item_id: int, topic: str|null, seconds_allowed: int|null, started_at: str",
           "`request_id`, `delegate_id`, `name`, `group_id`, `group`, `agenda_item_id`, `topic`, "
           "`seconds_allowed`, `started_at`"),
    declare("speaker.ended", PUBLIC, "request_id: int, delegate_id: int, agenda_item_id: int, ended_at: str",
           "`request_id`, `delegate_id`, `agenda_item_id`, `ended_at`"),
    declare("proposal.drafted", DELEGATE, PRIVATE_PROPOSAL + ", lead_department: str|null, helper_departments: list, "
           "due_at: str|null, reply: object|null, rating: str|null",
           DOC_PROPOSAL_TEXT + "; as the snapshot's `mine` lists it, with the case fields (empty for a draft)",
           who="the proposer"),
    declare("proposal.edited", DELEGATE, PRIVATE_PROPOSAL, DOC_PROPOSAL_TEXT, who="the proposer"),
    declare("proposal.carried_in", DELEGATE, PRIVATE_PROPOSAL + ", lead_department: str|null, helper_departments: "
           "list, due_at: str|null, reply: object|null, rating: str|null",
           DOC_PROPOSAL_TEXT + "; their case carried into this session (with `proposal.carried_over`), as the "
           "snapshot's `mine` lists it", who="the proposer"),
    declare("proposal.attachment_added", DELEGATE, "proposal_id: int, id: int, filename: str, content_type: str, "
           "size: int, sha256: str",
           "`proposal_id` and the attachment: `id`, `filename`, `content_type`, `size`, `sha256`", who="the proposer"),
    declare("cosign.invited", DELEGATE, "proposal_id: int, title: str, proposer: str",
           "`proposal_id`, `title`, `proposer`; the invitee reads the text (案由, 建议) as it stands with the read op "
           "`cosign_invitation` (`proposal_id`; the invitee only, until they decline; anyone else gets "
           "`not_found`) before answering with `answer_cosign` (`proposal_id`, `accept`). Co-signing needs this "
           "invitation: without one (never asked, or declined and not asked again) `answer_cosign` is "
           "`not_found`, for a draft and a submitted proposal alike", who="the invitee"),
    declare("cosign.request_changed", DELEGATE, BOARD + ", reason: str|null, suggestion: str|null, my_answer: str",
           "a draft (or one in 团长初审) this delegate was asked to co-sign, as their snapshot's `cosign_requests` "
           "lists it, with `my_answer` (invited, accepted; declined: it leaves their list); after an invitation, "
           "an answer, an edit, a submission to 团长初审 and a return by the leader; and for a case carried into "
           "this session, each of its co-signers",
           who="each delegate asked to co-sign it"),
    declare("cosign.answered", DELEGATE, "proposal_id: int, name: str, accepted: bool",
           "`proposal_id`, `name`, `accepted`", who="the proposer"),
    declare("proposal.pre_review_requested", DELEGATE, "proposal_id: int, title: str", DOC_PRE_REVIEW,
           who="the group's leader(s); `pre_reviewed` the proposer too (a proposal before submission is nobody "
               "else's)"),
    declare("proposal.pre_reviewed", DELEGATE, "proposal_id: int, approved: bool, note: str|null", DOC_PRE_REVIEW,
           who="the group's leader(s); `pre_reviewed` the proposer too (a proposal before submission is nobody "
               "else's)"),
    declare("proposal.submitted", PUBLIC, BOARD, DOC_BOARD, is_open=True),
    declare("proposal.categorised", PUBLIC, BOARD, DOC_BOARD, is_open=True),
    declare("proposal.decided", PUBLIC, BOARD + ", decision: str, reason: str|null", DOC_BOARD, is_open=True),
    declare("proposal.assigned", PUBLIC, BOARD + ", round: int, lead_department: str|null, helper_departments: list, "
           "due_at: str|null", DOC_BOARD, is_open=True),
    declare("proposal.replied", PUBLIC, BOARD + ", reply: object", DOC_BOARD, is_open=True),
    declare("proposal.status_changed", PUBLIC, BOARD, DOC_BOARD, is_open=True),
    declare("proposal.rated", PUBLIC, BOARD + ", rating: str, round: int", DOC_BOARD, is_open=True),
    declare("proposal.awarded", PUBLIC, BOARD, DOC_BOARD, is_open=True),
    declare("proposal.marked_key", PUBLIC, BOARD, DOC_BOARD, is_open=True),
    declare("proposal.carried_over", PUBLIC, BOARD,
           "the board's fields of a proposal carried into this session, with `carried_from: {session, number}` "
           "(every board entry has `carried_from`, null unless carried)", is_open=True),
    declare("term.session_started", STAFF, "from_congress_id: int, term: str, label: str, delegates: int, "
           "groups: int, notice_channels: int", DOC_TERM),
    declare("term.next_session", STAFF, "congress_id: int, name: str, label: str", DOC_TERM),
    declare("term.proposals_carried", STAFF, "to_congress_id: int, numbers: list", DOC_TERM),
    declare("proposal.category_suggested", STAFF, "proposal_id: int, category: str|null, confidence: number|null, "
           "reasons: list", DOC_STAFF_PROPOSAL),
    declare("proposal.misassigned", STAFF, "proposal_id: int, department: str, reason: str", DOC_STAFF_PROPOSAL),
    declare("proposal.decision_told", DELEGATE, "proposal_id: int, title: str, decision: str, reason: str|null",
           DOC_TOLD, who="the proposer and co-signers"),
    declare("proposal.reply_told", DELEGATE, "proposal_id: int, title: str, reply_class: str", DOC_TOLD,
           who="the proposer and co-signers"),
    declare("proposal.merge_told", DELEGATE, "proposal_id: int, title: str, number: int|null, merged_id: int, "
           "merged_number: int|null, merged_title: str",
           "`proposal_id`, `title`, `number` of their case; `merged_id`, `merged_number`, `merged_title` of the "
           "proposal that joined it",
           who="the proposer and co-signers of the case another proposal was merged into"),
    declare("department.added", STAFF, "id: int, name: str", "`id`, `name` (never the password)"),
    declare("account.changed", STAFF, "account_id: int, login: str, kind: str, is_active: bool, change: str, by: str, "
           "sessions_ended?: int",
           "`account_id`, `login`, `kind`, `is_active`, `change` (`password_reset`, `deactivated`, `activated`, "
           "`sessions_revoked`), `by`, `sessions_ended`? — recorded in the congress whose staff page made the "
           "change (accounts serve every congress); never the password"),
    declare("notices.set", STAFF, "changed: list, rules: list, channels: list, delegates_with_email: int",
           "`changed` (`rules`, `channel_added`, `channel_removed`, `delegate_emails`) and the configuration as "
           "`set_notices` returns it (addresses masked)"),
    declare("notice.failed", STAFF, "id: int, kind: str, channel: str, recipient: str|null, subject: str, "
           "attempts: int, error: str|null, words: str",
           "`id`, `kind`, `channel`, `recipient` (a name), `subject`, `attempts`, `error`, `words` (通知发送失败：…): "
           "a notice given up after 5 attempts (docs/notices.md)"),
)

EVENTS: Mapping[str, EventType] = MappingProxyType({e.name: e for e in DECLARED})
if len(EVENTS) != len(DECLARED):
    raise EventDeclarationError("an event type is declared twice")


def check_event(type: str, payload: Mapping[str, Any], audience: Audience | str,
                declared: Mapping[str, EventType] = EVENTS) -> EventType:
    """The declaration the event matches; EventDeclarationError saying what is wrong otherwise."""
    event = declared.get(type)
    if event is None:
        raise EventDeclarationError(f"event type {type!r} is not declared (congress.domain.events)")
    if Audience(audience) not in event.audiences:
        raise EventDeclarationError(f"{type}: audience {Audience(audience).value!r} is not one of "
                                    f"{sorted(a.value for a in event.audiences)}")
    wrong = [f"{f.name} missing" for f in event.fields if f.required and f.name not in payload]
    wrong += [f"{f.name} is {kind_of(payload[f.name])}, not {'|'.join(sorted(f.kinds))}"
              for f in event.fields if f.name in payload and not f.admits(payload[f.name])]
    if not event.is_open:
        known = {f.name for f in event.fields}
        wrong += [f"{name} not declared" for name in payload if name not in known]
    if wrong:
        raise EventDeclarationError(f"{type}: " + "; ".join(wrong))
    return event


# -- docs/protocol.md ------------------------------------------------------------------------------

def audience_words(event: EventType) -> str:
    order = [PUBLIC, DELEGATES, GROUP, DELEGATE, STAFF]
    words = " or ".join(a.value for a in order if a in event.audiences)
    return f"{words} ({event.who})" if event.who else words


def protocol_table(declared: Iterable[EventType] = DECLARED) -> str:
    """The `## Events` table of docs/protocol.md: one row per type, neighbours with the same audience
    and payload words sharing a row."""
    rows: list[tuple[list[str], str, str]] = []
    for event in declared:
        audience = audience_words(event)
        if rows and rows[-1][1:] == (audience, event.doc):
            rows[-1][0].append(event.name)
        else:
            rows.append(([event.name], audience, event.doc))
    lines = ["| type | audience | payload |", "|---|---|---|"]
    lines += [f"| {', '.join(f'`{n}`' for n in names)} | {audience} | {doc} |" for names, audience, doc in rows]
    return "\n".join(lines) + "\n"
