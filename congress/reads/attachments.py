"""A proposal's attachments as listed: name, type, size and digest, never the content.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import ProposalAttachment
from congress.domain.limits import (
    MAX_ATTACHMENT_BYTES as MAX_ATTACHMENT_BYTES,  # the route's body limit  # the route's body limit
)


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
