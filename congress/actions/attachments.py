"""Attachments to a proposal draft (photos of the problem, a drawing, a sheet of figures)."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.actions.base import Context
from congress.db.models import Assignment, Cosignature, Proposal, ProposalAttachment
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience, Role
from congress.domain.proposals import ProposalStatus
from congress.permissions import Permission

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 5
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
    ctx.actor.require(Permission.FILE_PROPOSAL)
    proposal = ctx.get(Proposal, proposal_id, "提案")
    if proposal.congress_id != congress_id or proposal.proposer_id != ctx.actor.delegate_id:
        raise DomainError("not_yours", "只有提案人本人可以添加附件")
    if proposal.status != ProposalStatus.DRAFT:
        raise DomainError("bad_proposal_state", "提案已提交，不能再添加附件")
    if not data:
        raise DomainError("bad_file", "附件是空文件")
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise DomainError("bad_file", "附件不能超过 10 MB")
    count = ctx.session.scalar(sa.select(sa.func.count()).select_from(ProposalAttachment)
                               .where(ProposalAttachment.proposal_id == proposal.id)) or 0
    if count >= MAX_ATTACHMENTS:
        raise DomainError("bad_file", f"每件提案最多 {MAX_ATTACHMENTS} 个附件")
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


def attachment_info(id: int, filename: str, content_type: str, size: int, sha256: str) -> dict[str, Any]:
    return {"id": id, "filename": filename, "content_type": content_type, "size": size, "sha256": sha256}


def attachments_of(session: Session, proposal_id: int) -> list[dict[str, Any]]:
    """A proposal's attachments as listed with it: the database measures each file. Loading the
    rows loaded the files themselves (up to 5 × 10 MB) into every write and read that lists the
    proposal: each command on it in the writer, staff's review queue, the proposer's snapshot."""
    return [attachment_info(*row) for _pid, *row in session.execute(
        _LISTING.where(ProposalAttachment.proposal_id == proposal_id))]


def attachments_of_many(session: Session, proposal_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    listed: dict[int, list[dict[str, Any]]] = {}
    for proposal_id, *row in session.execute(_LISTING.where(ProposalAttachment.proposal_id.in_(proposal_ids))):
        listed.setdefault(proposal_id, []).append(attachment_info(*row))
    return listed


_LISTING = sa.select(ProposalAttachment.proposal_id, ProposalAttachment.id, ProposalAttachment.filename,
                     ProposalAttachment.content_type, sa.func.length(ProposalAttachment.content),
                     ProposalAttachment.sha256).order_by(ProposalAttachment.id)


def readable_attachment(ctx: Context, congress_id: int, proposal_id: int, attachment_id: int) -> ProposalAttachment:
    """Staff, the proposer, its co-signers and the departments it is assigned to may read it."""
    proposal = ctx.get(Proposal, proposal_id, "提案")
    row = ctx.session.get(ProposalAttachment, attachment_id)
    if proposal.congress_id != congress_id or row is None or row.proposal_id != proposal.id:
        raise DomainError("not_found", "找不到这个附件")
    actor = ctx.actor
    allowed = actor.role is Role.STAFF
    if actor.role is Role.DELEGATE:
        allowed = proposal.proposer_id == actor.delegate_id or ctx.session.scalar(sa.select(Cosignature.id).where(
            Cosignature.proposal_id == proposal.id, Cosignature.delegate_id == actor.delegate_id)) is not None
    if actor.role is Role.DEPARTMENT:
        allowed = ctx.session.scalar(sa.select(Assignment.id).where(
            Assignment.proposal_id == proposal.id, Assignment.department_id == actor.department_id)) is not None
    if not allowed:
        raise DomainError("forbidden", "无权查看这个附件")
    return row
