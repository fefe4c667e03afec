"""Documents as a viewer reads them: who may read all (staff, the congress's delegates) or only the
public ones (observers), each document with its versions, and the snapshot's `documents` section.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from congress.db.models import Document, DocumentVersion
from congress.domain.errors import DomainError
from congress.domain.kinds import Role
from congress.domain.permissions import Actor


# -- reading rights ------------------------------------------------------------------------------
def may_read_all(actor: Actor, congress_id: int) -> bool:
    """Staff, and the delegates of this congress, read every document; others only public ones."""
    if actor.role is Role.STAFF:
        return True
    return actor.role is Role.DELEGATE and actor.congress_id == congress_id


def _version_json(congress_id: int, document_id: int, version: int, filename: str, content_type: str,
                  size: int, sha256: str, uploaded_by: str, uploaded_at: Any) -> dict[str, Any]:
    return {"version": version, "filename": filename, "content_type": content_type, "size": size,
            "sha256": sha256, "uploaded_by": uploaded_by, "uploaded_at": uploaded_at.isoformat(),
            "url": version_url(congress_id, document_id, version)}


def document_json(document: Document, versions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": document.id, "agenda_item_id": document.agenda_item_id, "title": document.title,
            "is_public": document.is_public, "is_tabled": document.is_tabled, "versions": versions}


def _versions_of(session: Session, documents: list[Document]) -> dict[int, list[dict[str, Any]]]:
    """Every version's description, without loading the files themselves."""
    by_id = {d.id: d for d in documents}
    result: dict[int, list[dict[str, Any]]] = {d.id: [] for d in documents}
    if not documents:
        return result
    rows = session.execute(
        sa.select(DocumentVersion.document_id, DocumentVersion.version, DocumentVersion.filename,
                  DocumentVersion.content_type, sa.func.length(DocumentVersion.content), DocumentVersion.sha256,
                  DocumentVersion.uploaded_by, DocumentVersion.uploaded_at)
        .where(DocumentVersion.document_id.in_(list(by_id)))
        .order_by(DocumentVersion.document_id, DocumentVersion.version))
    for document_id, *rest in rows:
        result[document_id].append(_version_json(by_id[document_id].congress_id, document_id, *rest))
    return result


def documents_snapshot(session: Session, congress_id: int, actor: Actor) -> list[dict[str, Any]]:
    """The documents this viewer may read, each with its versions (not their content)."""
    query = sa.select(Document).where(Document.congress_id == congress_id).order_by(Document.id)
    if not may_read_all(actor, congress_id):
        query = query.where(Document.is_public)
    documents = list(session.scalars(query))
    versions = _versions_of(session, documents)
    return [document_json(d, versions[d.id]) for d in documents]


# -- JSON -----------------------------------------------------------------------------------------
def version_url(congress_id: int, document_id: int, version: int) -> str:
    return f"/api/congresses/{congress_id}/documents/{document_id}/versions/{version}"


def version_json(document: Document, version: DocumentVersion) -> dict[str, Any]:
    return _version_json(document.congress_id, document.id, version.version, version.filename,
                         version.content_type, len(version.content), version.sha256, version.uploaded_by,
                         version.uploaded_at)


def readable_version(session: Session, actor: Actor, congress_id: int, document_id: int,
                     version: int) -> tuple[Document, DocumentVersion]:
    """The version a viewer asked for; a document they may not read is 'not found' to them."""
    document = session.get(Document, document_id)
    if document is None or document.congress_id != congress_id or not (
            document.is_public or may_read_all(actor, congress_id)):
        raise DomainError("not_found", f"找不到文件（编号 {document_id}）")
    row = session.scalar(sa.select(DocumentVersion).where(DocumentVersion.document_id == document_id,
                                                          DocumentVersion.version == version))
    if row is None:
        raise DomainError("not_found", f"文件没有第 {version} 版")
    return document, row
