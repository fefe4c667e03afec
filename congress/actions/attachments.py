"""Attachments to a proposal draft (photos of the problem, a drawing, a sheet of figures)."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.db.models import Assignment, Delegate, Proposal, ProposalAttachment
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience, Role
from congress.domain.limits import MAX_ATTACHMENT_BYTES as MAX_ATTACHMENT_BYTES  # the route's body limit
from congress.domain.limits import check_attachment
from congress.domain.permissions import Permission
from congress.domain.proposals import ProposalStatus, may_read_attachments
from congress.reads.attachments import attachment_info

# Recognised by their first bytes, not by the name the browser sends
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"PK\x03\x04", "application/zip"),  # docx / xlsx are zip containers
)


def content_type_of(data: bytes, filename: str) -> str:
    for magic, kind in SIGNATURES:
        if data.startswith(magic):
            if kind == "application/zip":
                lower = filename.lower()
                if lower.endswith(".docx"):
                    return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                if lower.endswith(".xlsx"):
                    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                break
            return kind
    raise DomainError("bad_file", "附件只接受 PDF、PNG、JPEG、DOCX 或 XLSX 文件")


def attach_file(ctx: Context, congress_id: int, proposal_id: int, filename: str, data: bytes) -> dict[str, Any]:
    from congress.actions.proposals import own_proposal  # (it lists attachments: imported here, not above)

    ctx.actor.require(Permission.FILE_PROPOSAL)
    proposal = own_proposal(ctx, congress_id, proposal_id)  # anyone else's: not_found, as if none
    if proposal.status != ProposalStatus.DRAFT:
        raise DomainError("bad_proposal_state", "提案已提交，不能再添加附件")
    # The proposer's row locked (PostgreSQL): two uploads at once both counted the files before
    # either was added. Uploads have their own transaction, outside the writer's queue. (SQLite:
    # BEGIN IMMEDIATE already runs them one after another.)
    ctx.session.execute(sa.select(Delegate.id).where(Delegate.id == proposal.proposer_id).with_for_update())
    count = ctx.session.scalar(sa.select(sa.func.count()).select_from(ProposalAttachment)
                               .where(ProposalAttachment.proposal_id == proposal.id)) or 0
    used = ctx.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(sa.func.length(ProposalAttachment.content)), 0))
                              .join(Proposal, ProposalAttachment.proposal_id == Proposal.id)
                              .where(Proposal.proposer_id == proposal.proposer_id)) or 0
    check_attachment(len(data), count, int(used))
    row = ProposalAttachment(proposal_id=proposal.id, filename=filename[-200:] or "附件",
                             content_type=content_type_of(data, filename), content=data,
                             sha256=hashlib.sha256(data).hexdigest(), uploaded_at=ctx.now)
    ctx.session.add(row)
    ctx.session.flush()
    info = attachment_json(row)
    ctx.emit(congress_id, "proposal.attachment_added", {"proposal_id": proposal.id, **info},
             Audience.DELEGATE, proposal.proposer_id)
    return info


def attachment_json(row: ProposalAttachment) -> dict[str, Any]:
    return attachment_info(row.id, row.filename, row.content_type, len(row.content), row.sha256)




def readable_attachment(ctx: Context, congress_id: int, proposal_id: int, attachment_id: int) -> ProposalAttachment:
    """The proposer, co-signers who have not declined, staff once it is submitted, and the
    departments it was handed to may read it (congress.domain.proposals.may_read_attachments).
    Every refusal — no such file, another congress, not theirs to read — is the same `not_found`."""
    from congress.reads.proposals import reading_of

    proposal = ctx.session.get(Proposal, proposal_id)
    row = ctx.session.get(ProposalAttachment, attachment_id)
    if proposal is None or proposal.congress_id != congress_id or row is None or row.proposal_id != proposal.id:
        raise DomainError("not_found", "找不到这个附件")
    actor = ctx.actor
    assigned = actor.role is Role.DEPARTMENT and ctx.session.scalar(sa.select(Assignment.id).where(
        Assignment.proposal_id == proposal.id, Assignment.department_id == actor.department_id)) is not None
    if not may_read_attachments(reading_of(ctx.session, actor, proposal), status=proposal.status,
                                is_assigned_department=assigned):
        raise DomainError("not_found", "找不到这个附件")
    return row
