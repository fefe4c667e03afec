"""Documents (会议文件): the reports delegates study online, attached to agenda items.

Staff upload a PDF or a Markdown file; tabling (提交大会审议) freezes a document: from then on a
change is a new version, never an in-place edit, and every earlier version stays readable.
Observers read only documents marked public; staff and the congress's delegates read all.

Word files (DOCX) are refused with a hint to save them as PDF: converting them (mammoth) does not
sanitise its output, so it would need a second library (an HTML sanitiser) for one convenience.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote

import sqlalchemy as sa
from markdown_it import MarkdownIt
from markdown_it.token import Token
from sqlalchemy.orm import Session

from congress.actions.base import Context
from congress.commands import Command, Param, register
from congress.db.models import AgendaItem, Document, DocumentVersion
from congress.domain.errors import DomainError
from congress.domain.kinds import Audience, Role
from congress.live.snapshot import snapshot_section
from congress.permissions import Actor, Permission

PDF = "application/pdf"
MARKDOWN = "text/markdown"
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
MAX_MARKDOWN_BYTES = 1024 * 1024
MARKDOWN_SUFFIXES = (".md", ".markdown", ".txt")
WORD_SUFFIXES = (".docx", ".doc", ".wps")


# -- reading rights ------------------------------------------------------------------------------
def may_read_all(actor: Actor, congress_id: int) -> bool:
    """Staff, and the delegates of this congress, read every document; others only public ones."""
    if actor.role is Role.STAFF:
        return True
    return actor.role is Role.DELEGATE and actor.congress_id == congress_id


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
        raise DomainError("too_large", f"文件超过 {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB")
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
        raise DomainError("too_large", f"Markdown 文件超过 {MAX_MARKDOWN_BYTES // 1024} KB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError("bad_file", "Markdown 文件须为 UTF-8 编码") from exc
    if "\x00" in text:
        raise DomainError("bad_file", "Markdown 文件含有二进制内容")
    return MARKDOWN


# -- Markdown, rendered safely -----------------------------------------------------------------
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")


def is_safe_link(url: str) -> bool:
    """Only http(s) and relative links (and #anchors); never javascript:, data:, file:, ..."""
    # Browsers drop tabs and newlines inside a scheme; percent-decode too, to judge the strictest reading
    cleaned = "".join(ch for ch in unquote(url) if ch > " ").lower()
    scheme = _SCHEME.match(cleaned)
    return scheme is None or scheme.group(1) in ("http", "https")


def _markdown() -> MarkdownIt:
    # "js-default": raw HTML in the file is escaped as text, no linkify, no typographer.
    md = MarkdownIt("js-default")
    md.validateLink = is_safe_link  # type: ignore[method-assign]

    def link_open(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)

    def image(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        # No <img> at all: a remote picture is a tracking pixel (the reader's address and time go to
        # whoever runs it), and a relative one names nothing this server has. The alt text stays.
        alt = renderer.renderInlineAsText(tokens[idx].children or [], options, env)
        return f'<span class="image-omitted">[{html.escape(f"图片：{alt}" if alt else "图片")}]</span>'

    md.add_render_rule("image", image)
    return md


_MD = _markdown()


def render_markdown(text: str) -> str:
    """HTML that runs nothing and loads nothing: raw HTML is shown as text, links only to http(s) or
    relative places, images only as their alt text."""
    return _MD.render(text)


def markdown_page(title: str, body_html: str) -> str:
    """A standalone, printable page around rendered Markdown (served with a no-script CSP)."""
    return ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>"
            "body{font-family:system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;line-height:1.7;"
            "max-width:46em;margin:2em auto;padding:0 1em;color:#222}"
            "pre,code{white-space:pre-wrap}table{border-collapse:collapse}td,th{border:1px solid #999;"
            "padding:.2em .5em}img{max-width:100%}@media print{body{margin:0;max-width:none}}"
            f"</style></head><body><article>{body_html}</article></body></html>")


# -- JSON -----------------------------------------------------------------------------------------
def version_url(congress_id: int, document_id: int, version: int) -> str:
    return f"/api/congresses/{congress_id}/documents/{document_id}/versions/{version}"


def _version_json(congress_id: int, document_id: int, version: int, filename: str, content_type: str,
                  size: int, sha256: str, uploaded_by: str, uploaded_at: Any) -> dict[str, Any]:
    return {"version": version, "filename": filename, "content_type": content_type, "size": size,
            "sha256": sha256, "uploaded_by": uploaded_by, "uploaded_at": uploaded_at.isoformat(),
            "url": version_url(congress_id, document_id, version)}


def version_json(document: Document, version: DocumentVersion) -> dict[str, Any]:
    return _version_json(document.congress_id, document.id, version.version, version.filename,
                         version.content_type, len(version.content), version.sha256, version.uploaded_by,
                         version.uploaded_at)


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
        raise DomainError("bad_field", "文件标题不能为空，且不超过 300 字")
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


@snapshot_section("documents")
def documents_snapshot(session: Session, congress_id: int, actor: Actor) -> list[dict[str, Any]]:
    """The documents this viewer may read, each with its versions (not their content)."""
    query = sa.select(Document).where(Document.congress_id == congress_id).order_by(Document.id)
    if not may_read_all(actor, congress_id):
        query = query.where(Document.is_public)
    documents = list(session.scalars(query))
    versions = _versions_of(session, documents)
    return [document_json(d, versions[d.id]) for d in documents]


register(
    Command("table_document", table_document, (Param("document_id", int),),
            "文件提交大会审议（此后只能上传新版本）"),
)
