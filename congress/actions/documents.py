"""Documents (会议文件): the reports delegates study online, attached to agenda items.

Staff upload a PDF or a Markdown file; tabling (提交大会审议) freezes a document: from then on a
change is a new version, never an in-place edit, and every earlier version stays readable.
Observers read only documents marked public; staff and the congress's delegates read all.

Word files (DOCX) are refused with a hint to save them as PDF: converting them (mammoth) does not
sanitise its output, so it would need a second library (an HTML sanitiser) for one convenience.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any

import sqlalchemy as sa

from congress.actions.base import Context
from congress.db.models import AgendaItem, Document, DocumentVersion
from congress.domain.commands import Command, Key, Obj, Param
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience
from congress.domain.permissions import Permission
from congress.reads.documents import (
    document_json,
    version_json,
)

PDF = "application/pdf"
MARKDOWN = "text/markdown"
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
MAX_MARKDOWN_BYTES = 1024 * 1024
MARKDOWN_SUFFIXES = (".md", ".markdown", ".txt")
WORD_SUFFIXES = (".docx", ".doc", ".wps")



def document_audience(document: Document) -> Audience:
    return Audience.PUBLIC if document.is_public else Audience.DELEGATES


# -- files -----------------------------------------------------------------------------------------
def clean_filename(filename: str) -> str:
    """The last path part, without control characters, at most 200 characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[-200:] or "document"


def sniff_content_type(filename: str, data: bytes) -> str:
    """PDF by its magic bytes, Markdown by its name and UTF-8 text; anything else is refused."""
    if not data:
        raise DomainError("empty_file", "上传的文件是空的")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DomainError("too_large", f"文件超过 {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB",
                          params={"limit": f"{MAX_DOCUMENT_BYTES // (1024 * 1024)} MB"})
    lower = filename.lower()
    if data.startswith(b"%PDF-"):
        return PDF
    if lower.endswith(".pdf"):
        raise DomainError("bad_file", "文件名为 .pdf，但内容不是 PDF 文件")
    if data.startswith(b"PK\x03\x04") or lower.endswith(WORD_SUFFIXES):
        raise DomainError("unsupported_type", "暂不接受 Word 文件，请另存为 PDF 后上传")
    if not lower.endswith(MARKDOWN_SUFFIXES):
        raise DomainError("unsupported_type", "只接受 PDF 或 Markdown（.md）文件")
    if len(data) > MAX_MARKDOWN_BYTES:
        raise DomainError("too_large", f"Markdown 文件超过 {MAX_MARKDOWN_BYTES // 1024} KB",
                          params={"limit": f"{MAX_MARKDOWN_BYTES // 1024} KB"})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError("bad_file", "Markdown 文件须为 UTF-8 编码") from exc
    if "\x00" in text:
        raise DomainError("bad_file", "Markdown 文件含有二进制内容")
    return MARKDOWN





# -- actions -----------------------------------------------------------------------------------------
def _document(ctx: Context, congress_id: int, document_id: int) -> Document:
    document = ctx.session.get(Document, document_id)
    if document is None or document.congress_id != congress_id:
        raise DomainError("not_found", f"找不到文件（编号 {document_id}）")
    return document


def _add_version(ctx: Context, document: Document, number: int, filename: str, data: bytes) -> DocumentVersion:
    filename = clean_filename(filename)
    version = DocumentVersion(document_id=document.id, version=number, filename=filename,
                              content_type=sniff_content_type(filename, data), content=data,
                              sha256=hashlib.sha256(data).hexdigest(), uploaded_by=ctx.actor.name,
                              uploaded_at=ctx.now)
    ctx.session.add(version)
    ctx.session.flush()
    return version


def upload_document(ctx: Context, congress_id: int, title: str, agenda_item_id: int | None, is_public: bool,
                    filename: str, data: bytes) -> dict[str, Any]:
    """A new document with its first version."""
    ctx.actor.require(Permission.MANAGE_DOCUMENTS)
    title = title.strip()
    if not title or len(title) > 300:
        raise DomainError("bad_field", "文件标题不能为空，且不超过 300 字", params={"field": "title"})
    if agenda_item_id is not None:
        ctx.find(AgendaItem, agenda_item_id, congress_id, f"本次职代会没有这项议程（编号 {agenda_item_id}）")
    document = Document(congress_id=congress_id, agenda_item_id=agenda_item_id, title=title,
                        is_public=is_public, created_at=ctx.now)
    ctx.session.add(document)
    ctx.session.flush()
    version = _add_version(ctx, document, 1, filename, data)
    data_json = document_json(document, [version_json(document, version)])
    ctx.emit(congress_id, "document.added", data_json, document_audience(document))
    return data_json


def upload_version(ctx: Context, congress_id: int, document_id: int, filename: str, data: bytes) -> dict[str, Any]:
    """A later upload is a new version; the earlier ones stay as they were."""
    ctx.actor.require(Permission.MANAGE_DOCUMENTS)
    document = _document(ctx, congress_id, document_id)
    number = ctx.next_number(congress_id, DocumentVersion.version, DocumentVersion.document_id == document.id)
    version = _add_version(ctx, document, number, filename, data)
    payload = {"document_id": document.id, "version": version_json(document, version)}
    ctx.emit(congress_id, "document.version_added", payload, document_audience(document))
    return payload


def replace_version(ctx: Context, congress_id: int, document_id: int, version: int, filename: str,
                    data: bytes) -> dict[str, Any]:
    """Correct a version in place, only while the document is not yet tabled."""
    ctx.actor.require(Permission.MANAGE_DOCUMENTS)
    document = _document(ctx, congress_id, document_id)
    if document.is_tabled:
        raise DomainError("document_tabled", "文件已提交大会审议，不能原地修改；请上传新版本")
    row = ctx.session.scalar(sa.select(DocumentVersion).where(DocumentVersion.document_id == document.id,
                                                              DocumentVersion.version == version))
    if row is None:
        raise DomainError("not_found", f"文件没有第 {version} 版")
    filename = clean_filename(filename)
    row.content_type = sniff_content_type(filename, data)
    row.filename, row.content = filename, data
    row.sha256 = hashlib.sha256(data).hexdigest()
    row.uploaded_by, row.uploaded_at = ctx.actor.name, ctx.now
    payload = {"document_id": document.id, "version": version_json(document, row)}
    ctx.emit(congress_id, "document.version_replaced", payload, document_audience(document))
    return payload


def table_document(ctx: Context, congress_id: int, document_id: int) -> dict[str, Any]:
    """提交大会审议: from now on the document changes only by new versions."""
    ctx.actor.require(Permission.MANAGE_DOCUMENTS)
    document = _document(ctx, congress_id, document_id)
    if document.is_tabled:
        raise DomainError("document_tabled", "文件已提交大会审议")
    document.is_tabled = True
    payload = {"document_id": document.id, "title": document.title, "at": ctx.now.isoformat()}
    ctx.emit(congress_id, "document.tabled", payload, document_audience(document))
    return payload



COMMANDS: tuple[Command, ...] = (
    Command("table_document", table_document, (Param("document_id", int),),
            "文件提交大会审议（此后只能上传新版本）",
            result=Obj((Key("document_id", int), Key("title", str), Key("at", str)),
                       "提交大会审议: the document is frozen; a later change is a new version (uploads: *HTTP "
                       "endpoints*)"),
            errors=("document_tabled", "not_found"), permissions=(Permission.MANAGE_DOCUMENTS,)),
)
