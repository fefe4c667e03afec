"""The data model of the whole product, named as in the glossary (docs/glossary in DESIGN.md).

Kinds and states are stored as short strings (not database enums) so that later migrations can
add values without altering types; the allowed values live in congress.domain.kinds.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from congress.db.base import Base, utcnow

JSONDict = dict[str, Any]


def _fk(target: str, *, ondelete: str | None = "CASCADE") -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete=ondelete)


class Setting(Base):
    """Instance-wide key/value settings, e.g. the secret key generated on first run."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


class Term(Base):
    """届: a term of 3–5 years; each congress (职代会) is one of its sessions (次), with the same delegates."""

    __tablename__ = "term"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))  # e.g. 纸业集团第十届职工代表大会
    number: Mapped[int | None]  # 第N届, when known
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Congress(Base):
    __tablename__ = "congress"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # Every congress has a term (create_congress makes one; revision 0006 gave older ones theirs);
    # nullable in the schema only because SQLite cannot tighten a column without rebuilding the table.
    term_id: Mapped[int | None] = mapped_column(_fk("term.id", ondelete="RESTRICT"), index=True)
    session_number: Mapped[int] = mapped_column(default=1, server_default="1")  # 第M次
    status: Mapped[str] = mapped_column(sa.String(20), default="preparing")
    is_rehearsal: Mapped[bool] = mapped_column(default=False)
    # Per-congress rules (quorum fraction, co-signers needed, ...), see congress.domain.rules
    rules: Mapped[JSONDict] = mapped_column(sa.JSON, default=dict)
    # Last event seq handed out; incremented under a row lock so seq is gap-free (congress.actions.events)
    last_seq: Mapped[int] = mapped_column(default=0)
    # No foreign key: agenda_item already refers to congress, and a cycle would complicate migrations
    current_agenda_item_id: Mapped[int | None]
    check_in_opens_at: Mapped[datetime | None]
    check_in_closes_at: Mapped[datetime | None]
    filing_opens_at: Mapped[datetime | None]
    filing_closes_at: Mapped[datetime | None]
    # Observers: a watch link that is open, needs a token, or is switched off
    watch_mode: Mapped[str] = mapped_column(sa.String(10), default="open")
    watch_token_hash: Mapped[str | None] = mapped_column(sa.String(128))
    stream_kind: Mapped[str] = mapped_column(sa.String(10), default="none")  # none | hls | embed
    stream_url: Mapped[str | None] = mapped_column(sa.String(1000))
    stream_delay_seconds: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    groups: Mapped[list[Group]] = relationship(back_populates="congress", order_by="Group.position")


class Group(Base):
    """代表团(组): a delegation, a venue or an online group."""

    __tablename__ = "delegate_group"
    __table_args__ = (sa.UniqueConstraint("congress_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    position: Mapped[int] = mapped_column(default=0)
    congress: Mapped[Congress] = relationship(back_populates="groups")


class Department(Base):
    """承办部门: handles the proposals assigned to it."""

    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Account(Base):
    """A sign-in for union staff or a department. Delegates sign in with their own access code."""

    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # staff | department
    login: Mapped[str] = mapped_column(sa.String(100), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    department_id: Mapped[int | None] = mapped_column(_fk("department.id", ondelete="SET NULL"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delegate(Base):
    """职工代表. Voting (正式代表) or non-voting (列席代表, 特邀代表)."""

    __tablename__ = "delegate"
    __table_args__ = (sa.UniqueConstraint("congress_id", "employee_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"), index=True)
    group_id: Mapped[int] = mapped_column(_fk("delegate_group.id", ondelete="RESTRICT"), index=True)
    employee_id: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(100))
    gender: Mapped[str] = mapped_column(sa.String(4))
    unit: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(sa.String(20))
    delegate_type: Mapped[str] = mapped_column(sa.String(10))
    is_group_leader: Mapped[bool] = mapped_column(default=False)
    # False once a re-import no longer lists the delegate; kept because ballots and proposals refer to it
    is_active: Mapped[bool] = mapped_column(default=True)
    access_code_hash: Mapped[str | None] = mapped_column(sa.String(200))
    code_issued_at: Mapped[datetime | None]
    email: Mapped[str | None] = mapped_column(sa.String(200))  # for notices to a proposer (optional)
    group: Mapped[Group] = relationship()

    @property
    def is_voting(self) -> bool:
        return self.delegate_type == "正式代表"


class SignInSession(Base):
    """A server-side session: revocable and expiring. Only the token's hash is stored."""

    __tablename__ = "sign_in_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    role: Mapped[str] = mapped_column(sa.String(20))  # staff | delegate | department
    account_id: Mapped[int | None] = mapped_column(_fk("account.id"))
    delegate_id: Mapped[int | None] = mapped_column(_fk("delegate.id"))
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    address: Mapped[str | None] = mapped_column(sa.String(64))


class SignInFailure(Base):
    """Failed sign-ins, for throttling per account and per address across every worker."""

    __tablename__ = "sign_in_failure"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AgendaItem(Base):
    """议程: 审议, 审议通过, 审议决定, 选举, 民主评议, 确认, name lists."""

    __tablename__ = "agenda_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(sa.String(20))
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # Name lists (presidium, scrutineers) keep their names here
    names: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")  # pending | current | done


class Attendance(Base):
    """签到: one row per stay; leaving early (中途退场) sets checked_out_at."""

    __tablename__ = "attendance"
    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(_fk("delegate.id"), index=True)
    checked_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    method: Mapped[str] = mapped_column(sa.String(10))  # self | desk
    reason: Mapped[str | None] = mapped_column(sa.String(500))  # 补签到 reason
    by_account_id: Mapped[int | None] = mapped_column(_fk("account.id", ondelete="SET NULL"))
    checked_out_at: Mapped[datetime | None]
    checkout_reason: Mapped[str | None] = mapped_column(sa.String(500))


class Vote(Base):
    """表决: one round of voting on an agenda item; may hold several questions (分项表决)."""

    __tablename__ = "vote"
    __table_args__ = (sa.UniqueConstraint("agenda_item_id", "round"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"), index=True)
    agenda_item_id: Mapped[int] = mapped_column(_fk("agenda_item.id"), index=True)
    round: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(sa.String(300))
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")
    is_secret: Mapped[bool] = mapped_column(default=False)
    is_changeable: Mapped[bool] = mapped_column(default=False)
    shows_live_counts: Mapped[bool] = mapped_column(default=False)
    shows_voters_publicly: Mapped[bool] = mapped_column(default=False)
    closes_after_seconds: Mapped[int | None]
    # group_id (as string) -> "online" | "hand_count"; groups not listed vote online
    group_modes: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    opened_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    certified_at: Mapped[datetime | None]
    certified_by: Mapped[str | None] = mapped_column(sa.String(100))  # 总监票人
    published_at: Mapped[datetime | None]
    result: Mapped[JSONDict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Secret votes: the trustees' key the ballots are sealed under (set when the vote opens), and at
    # close the encrypted sums per pool of groups that the trustees decrypt (congress.sealed.counting).
    ceremony_id: Mapped[int | None] = mapped_column(_fk("key_ceremony.id", ondelete=None))
    sealed_tally: Mapped[JSONDict | None] = mapped_column(sa.JSON)
    ceremony: Mapped[KeyCeremony | None] = relationship()
    questions: Mapped[list[Question]] = relationship(order_by="Question.position", cascade="all, delete-orphan")


class Question(Base):
    __tablename__ = "question"
    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(_fk("vote.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(sa.String(20))  # yes_no | election | rating
    text: Mapped[str] = mapped_column(sa.String(500))
    seats: Mapped[int | None]
    allows_write_in: Mapped[bool] = mapped_column(default=False)
    basis: Mapped[str] = mapped_column(sa.String(20), default="all_voting")
    threshold: Mapped[str] = mapped_column(sa.String(20), default="1/2")
    is_strict: Mapped[bool] = mapped_column(default=True)
    options: Mapped[list[Option]] = relationship(order_by="Option.position", cascade="all, delete-orphan")


class Option(Base):
    """A choice of a question: 赞成/反对/弃权, a candidate, or a rating scale step."""

    __tablename__ = "option"
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(_fk("question.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    key: Mapped[str] = mapped_column(sa.String(50))
    label: Mapped[str] = mapped_column(sa.String(200))


class BallotCast(Base):
    """Who took part in a vote. Kept apart from what was chosen so secret votes cannot be joined."""

    __tablename__ = "ballot_cast"
    __table_args__ = (
        sa.UniqueConstraint("vote_id", "delegate_id"),
        sa.UniqueConstraint("vote_id", "request_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(_fk("vote.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(_fk("delegate.id"))
    group_id: Mapped[int] = mapped_column(_fk("delegate_group.id"))
    request_id: Mapped[str] = mapped_column(sa.String(64))
    cast_at: Mapped[datetime] = mapped_column(default=utcnow)


class Ballot(Base):
    """选票: the answers. For a secret vote there is no delegate, no time and a random key."""

    __tablename__ = "ballot"
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    vote_id: Mapped[int] = mapped_column(_fk("vote.id"), index=True)
    group_id: Mapped[int] = mapped_column(_fk("delegate_group.id"))
    delegate_id: Mapped[int | None] = mapped_column(_fk("delegate.id"))  # None when the vote is secret
    answers: Mapped[JSONDict] = mapped_column(sa.JSON)
    receipt: Mapped[str] = mapped_column(sa.String(32), index=True)
    updated_at: Mapped[datetime | None]  # None when secret


class SealedBallot(Base):
    """选票 of a secret vote: ciphertexts and proofs only (congress.sealed.ballot). No voter, no time,
    a random key; `hash` is the receipt the delegate's phone computed, unique in the vote."""

    __tablename__ = "sealed_ballot"
    __table_args__ = (sa.UniqueConstraint("vote_id", "hash"),)
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    vote_id: Mapped[int] = mapped_column(_fk("vote.id"), index=True)
    group_id: Mapped[int] = mapped_column(_fk("delegate_group.id"))
    hash: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[JSONDict] = mapped_column(sa.JSON)


class KeyCeremony(Base):
    """The trustees' (监票人) joint key of a congress's secret votes, made by the trustees themselves."""

    __tablename__ = "key_ceremony"
    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"), index=True)
    threshold: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(20), default="collecting")  # collecting | ready | failed
    public_key: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    trustees: Mapped[list[Trustee]] = relationship(order_by="Trustee.index", cascade="all, delete-orphan")


class Trustee(Base):
    """A scrutineer holding one share of a ceremony's key; numbered 1..n in the ceremony."""

    __tablename__ = "trustee"
    __table_args__ = (sa.UniqueConstraint("ceremony_id", "index"), sa.UniqueConstraint("ceremony_id", "delegate_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    ceremony_id: Mapped[int] = mapped_column(_fk("key_ceremony.id"), index=True)
    index: Mapped[int]
    delegate_id: Mapped[int] = mapped_column(_fk("delegate.id"))


class TrusteeMessage(Base):
    """What a trustee published in one round of the ceremony (all of it public)."""

    __tablename__ = "trustee_message"
    __table_args__ = (sa.UniqueConstraint("ceremony_id", "trustee_index", "round"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ceremony_id: Mapped[int] = mapped_column(_fk("key_ceremony.id"), index=True)
    trustee_index: Mapped[int]
    round: Mapped[int]
    content: Mapped[JSONDict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DecryptionShare(Base):
    """A trustee's decryption of a secret vote's encrypted sums, with proofs."""

    __tablename__ = "decryption_share"
    __table_args__ = (sa.UniqueConstraint("vote_id", "trustee_index"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(_fk("vote.id"), index=True)
    trustee_index: Mapped[int]
    content: Mapped[JSONDict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupCount(Base):
    """分组计票: a group's hand count or paper-ballot figures, entered with its scrutineer."""

    __tablename__ = "group_count"
    __table_args__ = (sa.UniqueConstraint("vote_id", "group_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(_fk("vote.id"), index=True)
    group_id: Mapped[int] = mapped_column(_fk("delegate_group.id"))
    method: Mapped[str] = mapped_column(sa.String(20))  # show_of_hands | paper
    figures: Mapped[JSONDict] = mapped_column(sa.JSON)
    scrutineer: Mapped[str] = mapped_column(sa.String(100))
    entered_by: Mapped[str] = mapped_column(sa.String(100))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)


class Proposal(Base):
    """提案, filed by a delegate, co-signed (附议) by others."""

    __tablename__ = "proposal"
    __table_args__ = (sa.UniqueConstraint("congress_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"), index=True)
    number: Mapped[int | None]  # 提案号, given on submission
    proposer_id: Mapped[int] = mapped_column(_fk("delegate.id"))
    group_id: Mapped[int] = mapped_column(_fk("delegate_group.id"))
    title: Mapped[str] = mapped_column(sa.String(300))
    reason: Mapped[str] = mapped_column(sa.Text)  # 案由
    suggestion: Mapped[str] = mapped_column(sa.Text)  # 建议和措施
    suggested_department: Mapped[str | None] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(30), default="draft")
    category: Mapped[str | None] = mapped_column(sa.String(30))
    suggested_category: Mapped[str | None] = mapped_column(sa.String(30))
    category_confidence: Mapped[float | None]
    is_key: Mapped[bool] = mapped_column(default=False)  # 重点提案
    is_between_sessions: Mapped[bool] = mapped_column(default=False)  # 平时提案
    merged_into_id: Mapped[int | None] = mapped_column(_fk("proposal.id", ondelete="SET NULL"))
    award_level: Mapped[str | None] = mapped_column(sa.String(30))  # 优秀提案
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    # 上次会议转入: the proposal of the previous session this one continues (copied with its history)
    carried_from_id: Mapped[int | None] = mapped_column(_fk("proposal.id", ondelete="SET NULL"))
    carried_from_number: Mapped[int | None]  # its number there
    carried_from_session: Mapped[str | None] = mapped_column(sa.String(60))  # e.g. 第十届第三次


class Cosignature(Base):
    """附议: invited by the proposer or offered by the delegate; accepted or declined."""

    __tablename__ = "cosignature"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "delegate_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(_fk("proposal.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(_fk("delegate.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default="invited")  # invited | accepted | declined
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]


class Decision(Base):
    """立案审查: 立案 / 合并立案 / 转为意见建议 / 不予立案 / 转为议案."""

    __tablename__ = "decision"
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(_fk("proposal.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_by: Mapped[str] = mapped_column(sa.String(100))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)


class Assignment(Base):
    """承办: a lead (主办) or helping (协办) department with a due date, per round."""

    __tablename__ = "assignment"
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(_fk("proposal.id"), index=True)
    department_id: Mapped[int] = mapped_column(_fk("department.id", ondelete="RESTRICT"))
    is_lead: Mapped[bool] = mapped_column(default=True)
    round: Mapped[int] = mapped_column(default=1)
    due_at: Mapped[datetime | None]
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    misassigned_reason: Mapped[str | None] = mapped_column(sa.Text)


class Reply(Base):
    """答复: class A/B/C/D and text, one per round; rounds are kept, never overwritten."""

    __tablename__ = "reply"
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(_fk("proposal.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(_fk("assignment.id"))
    round: Mapped[int] = mapped_column(default=1)
    reply_class: Mapped[str] = mapped_column(sa.String(2))
    text: Mapped[str] = mapped_column(sa.Text)
    replied_by: Mapped[str] = mapped_column(sa.String(100))
    replied_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rating(Base):
    """满意度测评 of a reply by the proposer: 满意 / 基本满意 / 不满意."""

    __tablename__ = "rating"
    __table_args__ = (sa.UniqueConstraint("reply_id", "delegate_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(_fk("proposal.id"), index=True)
    reply_id: Mapped[int] = mapped_column(_fk("reply.id"))
    delegate_id: Mapped[int] = mapped_column(_fk("delegate.id"))
    rating: Mapped[str] = mapped_column(sa.String(10))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    rated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Document(Base):
    """A report or paper attached to an agenda item; tabled documents change only by new versions."""

    __tablename__ = "document"
    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(_fk("agenda_item.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(300))
    is_public: Mapped[bool] = mapped_column(default=False)
    is_tabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentVersion(Base):
    __tablename__ = "document_version"
    __table_args__ = (sa.UniqueConstraint("document_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(_fk("document.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)
    filename: Mapped[str] = mapped_column(sa.String(300))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by: Mapped[str] = mapped_column(sa.String(100))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    """A message in a group's discussion room; hidden messages keep their reason in the record."""

    __tablename__ = "message"
    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"), index=True)
    group_id: Mapped[int] = mapped_column(_fk("delegate_group.id"), index=True)
    author_delegate_id: Mapped[int | None] = mapped_column(_fk("delegate.id"))
    author_account_id: Mapped[int | None] = mapped_column(_fk("account.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(sa.String(100))
    agenda_item_id: Mapped[int | None] = mapped_column(_fk("agenda_item.id", ondelete="SET NULL"))
    reply_to_id: Mapped[int | None] = mapped_column(_fk("message.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(sa.Text)
    is_pinned: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str | None] = mapped_column(sa.Text)
    hidden_by: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Event(Base):
    """事件: one entry of a congress's ordered, append-only log. seq is per congress and gap-free."""

    __tablename__ = "event"
    # by type: what a snapshot reads from the log (cancel reasons, records, hand counts, late ballots)
    __table_args__ = (sa.UniqueConstraint("congress_id", "seq"),
                      sa.Index("ix_event_congress_type", "congress_id", "type"))
    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"))
    seq: Mapped[int]
    type: Mapped[str] = mapped_column(sa.String(50))
    payload: Mapped[JSONDict] = mapped_column(sa.JSON)
    audience: Mapped[str] = mapped_column(sa.String(10))  # public | group | staff | delegates | delegate
    audience_id: Mapped[int | None]  # the group or delegate the event is for
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # H(previous hash, seq, type, canonical payload): the tamper-evident chain (congress.records)
    hash: Mapped[str | None] = mapped_column(sa.String(64))


class CommandResult(Base):
    """The first reply to a command, so a command resent with the same id is answered, not re-applied."""

    __tablename__ = "command_result"
    __table_args__ = (sa.UniqueConstraint("principal", "command_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(sa.String(64))
    command_id: Mapped[str] = mapped_column(sa.String(64))
    reply: Mapped[JSONDict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the id was first used for: a resend must be the same op with the same arguments
    # (service.args_digest), anything else is refused as `id_reused`. NULL in rows from before 0004.
    op: Mapped[str | None] = mapped_column(sa.String(40))
    args_digest: Mapped[str | None] = mapped_column(sa.String(64))


class ProposalAttachment(Base):
    __tablename__ = "proposal_attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(_fk("proposal.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(300))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class GroupOpinion(Base):
    """审议意见: a group's review opinion on an agenda item, drafted by its leader, sent to the presidium."""

    __tablename__ = "group_opinion"
    __table_args__ = (sa.UniqueConstraint("group_id", "agenda_item_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"), index=True)
    group_id: Mapped[int] = mapped_column(_fk("delegate_group.id"))
    agenda_item_id: Mapped[int] = mapped_column(_fk("agenda_item.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default="draft")  # draft | submitted
    agreement: Mapped[str] = mapped_column(sa.Text, default="")  # points of agreement
    suggestions: Mapped[str] = mapped_column(sa.Text, default="")
    objections: Mapped[str] = mapped_column(sa.Text, default="")
    quoted_message_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    drafted_by: Mapped[str] = mapped_column(sa.String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    handling: Mapped[str | None] = mapped_column(sa.String(30))  # how staff handled it
    handling_note: Mapped[str | None] = mapped_column(sa.Text)


class SpeechRequest(Base):
    """发言申请: a delegate asks to speak on the current item; staff order the list and give the floor."""

    __tablename__ = "speech_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(_fk("agenda_item.id", ondelete="SET NULL"))
    delegate_id: Mapped[int] = mapped_column(_fk("delegate.id"))
    topic: Mapped[str] = mapped_column(sa.String(300), default="")
    position: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(20), default="waiting")  # waiting | speaking | done | withdrawn
    seconds_allowed: Mapped[int | None]
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


# ---- notices (issue 19): who hears what, by e-mail and group-robot webhooks; the outbox -------------

class NoticeConfig(Base):
    """A congress's notice rules: which notice goes to whom (congress.domain.notices.RULES)."""

    __tablename__ = "notice_config"
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"), primary_key=True)
    rules: Mapped[JSONDict] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NoticeChannel(Base):
    """Where one audience hears: an e-mail address or a group robot's webhook (企业微信/钉钉/飞书).
    A webhook's address holds its key: shown masked, never logged, never put in a notice row."""

    __tablename__ = "notice_channel"
    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"), index=True)
    audience: Mapped[str] = mapped_column(sa.String(20))  # department | staff
    department_id: Mapped[int | None] = mapped_column(_fk("department.id"))
    kind: Mapped[str] = mapped_column(sa.String(20))  # email | wecom | dingtalk | feishu
    address: Mapped[str] = mapped_column(sa.String(1000))
    secret: Mapped[str | None] = mapped_column(sa.String(200))  # 钉钉/飞书 signing secret
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notice(Base):
    """The outbox: one message to one recipient on one channel, written in the transaction of the
    event that causes it; the sender claims, sends and records it (congress.application.notice_sender)."""

    __tablename__ = "notice"
    __table_args__ = (sa.Index("ix_notice_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(_fk("congress.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))  # assigned | due_7 | due_1 | overdue | decided | ...
    channel: Mapped[str] = mapped_column(sa.String(20))  # email | wecom | dingtalk | feishu
    # A reference, never a key: "channel:<id>" (a webhook or address of notice_channel) or "delegate:<id>"
    recipient: Mapped[str] = mapped_column(sa.String(100))
    recipient_label: Mapped[str] = mapped_column(sa.String(200), default="")
    proposal_id: Mapped[int | None] = mapped_column(_fk("proposal.id"))
    due_at: Mapped[datetime | None]  # the due date a reminder was queued for: changed since, it is cancelled
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str] = mapped_column(sa.String(500), default="")
    not_before: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")  # pending|sending|sent|failed|cancelled
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dedupe_key: Mapped[str] = mapped_column(sa.String(300), unique=True)
