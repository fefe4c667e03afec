"""HTTP routes for documents and the groups' review opinions: uploads (multipart), reading a
version, the opinions' XLSX export and printable page. Thin: parse, call an action, reply.

Everything else (tabling, rooms, opinions, speakers) goes through the command table.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import anyio
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from congress.actions.documents import (
    MAX_DOCUMENT_BYTES,
    PDF,
    replace_version,
    upload_document,
    upload_version,
)
from congress.actions.opinions import opinions_table
from congress.application.ratelimit import UPLOAD_COST
from congress.db.models import Congress
from congress.domain.errors import DomainError
from congress.domain.permissions import Actor, Permission
from congress.reads.document_pages import markdown_page, render_markdown
from congress.reads.documents import readable_version
from congress.records.opinions_export import opinions_print_html, opinions_xlsx
from congress.routes.api import _actor, _service, error_response, spend
from congress.routes.headers import DOCUMENT_CSP  # a sandbox: documents and printouts run and fetch nothing

STATUS = {"too_large": 413, "document_tabled": 409, "unsupported_type": 415}
MULTIPART_SLACK = 64 * 1024  # the form fields and boundaries around the file


def _error(error: DomainError) -> Response:
    response = error_response(error)
    response.status_code = STATUS.get(error.code, response.status_code)
    return response


def _disposition(filename: str) -> str:
    """inline, with an ASCII fallback name and the real (often Chinese) name per RFC 6266."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in filename) or "document"
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _safe_headers() -> dict[str, str]:
    return {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"}


async def _upload(request: Request) -> tuple[dict[str, Any], str, bytes]:
    """The form's text fields, and the file's name and bytes, refusing oversize uploads early."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_DOCUMENT_BYTES + MULTIPART_SLACK:
        raise DomainError("too_large", f"文件超过 {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB",
                          params={"limit": f"{MAX_DOCUMENT_BYTES // (1024 * 1024)} MB"})
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise DomainError("bad_request", "请用 multipart/form-data 上传文件（字段 file）")
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise DomainError("missing_field", "缺少文件（字段 file）")
    data = await upload.read(MAX_DOCUMENT_BYTES + 1)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    await form.close()
    return fields, upload.filename or "document", data


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


async def add_document(request: Request) -> Response:
    """POST /api/congresses/{id}/documents: title, agenda_item_id?, is_public?, file."""
    congress_id = int(request.path_params["congress_id"])
    try:
        actor = await _actor(request, writing=True)
        await spend(request, actor, UPLOAD_COST)
        fields, filename, data = await _upload(request)
        item = (fields.get("agenda_item_id") or "").strip()
        if item and not item.isdigit():
            raise DomainError("bad_field", "字段 agenda_item_id 应为整数", params={"field": "agenda_item_id"})
        result = await _service(request).run_direct(
            actor, upload_document, congress_id, fields.get("title", ""), int(item) if item else None,
            _is_true(fields.get("is_public")), filename, data)
        return JSONResponse({"result": result})
    except DomainError as error:
        return _error(error)


async def add_version(request: Request) -> Response:
    """POST /api/congresses/{id}/documents/{doc_id}/versions: a new version (also after tabling)."""
    congress_id, document_id = int(request.path_params["congress_id"]), int(request.path_params["document_id"])
    try:
        actor = await _actor(request, writing=True)
        await spend(request, actor, UPLOAD_COST)
        _fields, filename, data = await _upload(request)
        result = await _service(request).run_direct(actor, upload_version, congress_id, document_id, filename, data)
        return JSONResponse({"result": result})
    except DomainError as error:
        return _error(error)


async def change_version(request: Request) -> Response:
    """PUT .../versions/{n}: correct a version in place; refused (document_tabled) once tabled."""
    params = request.path_params
    try:
        actor = await _actor(request, writing=True)
        await spend(request, actor, UPLOAD_COST)
        _fields, filename, data = await _upload(request)
        result = await _service(request).run_direct(
            actor, replace_version, int(params["congress_id"]), int(params["document_id"]),
            int(params["version"]), filename, data)
        return JSONResponse({"result": result})
    except DomainError as error:
        return _error(error)


def _check_watch(session: Any, actor: Actor, congress_id: int) -> Congress:
    """The congress read. An anonymous reader was already let in, or refused, by the observers'
    rule (routes.api._actor → congress.application.watching: ?watch= or X-Watch-Token in token mode)."""
    congress = session.get(Congress, congress_id)
    if congress is None:
        raise DomainError("no_such_congress", f"没有编号为 {congress_id} 的职代会")
    return congress


async def read_version(request: Request) -> Response:
    """GET .../versions/{n}: a PDF inline; Markdown as a safe HTML page, ?format=json ({html, text})
    or ?format=raw (the text as text/plain)."""
    params = request.path_params
    congress_id = int(params["congress_id"])
    service = _service(request)
    try:
        actor = await _actor(request, writing=False)

        def work() -> tuple[str, str, str, bytes]:
            with service.db.read() as session:
                _check_watch(session, actor, congress_id)
                document, version = readable_version(session, actor, congress_id, int(params["document_id"]),
                                                     int(params["version"]))
                return document.title, version.filename, version.content_type, version.content

        title, filename, content_type, content = await anyio.to_thread.run_sync(work)
    except DomainError as error:
        return _error(error)
    headers = {**_safe_headers(), "Content-Disposition": _disposition(filename),
               "Content-Security-Policy": DOCUMENT_CSP}
    if content_type == PDF:
        return Response(content, media_type=PDF, headers=headers)
    text = content.decode("utf-8-sig")
    fmt = request.query_params.get("format", "html")
    if fmt == "raw":
        return PlainTextResponse(text, headers=headers)
    rendered = render_markdown(text)
    if fmt == "json":
        return JSONResponse({"title": title, "filename": filename, "content_type": content_type,
                             "html": rendered, "text": text}, headers=_safe_headers())
    return HTMLResponse(markdown_page(title, rendered), headers=headers)


async def _staff_table(request: Request) -> tuple[dict[str, Any], str]:
    actor = await _actor(request, writing=False)
    actor.require(Permission.READ_STAFF_VIEWS)
    congress_id, item_id = int(request.path_params["congress_id"]), int(request.path_params["item_id"])
    service = _service(request)

    def work() -> tuple[dict[str, Any], str]:
        with service.db.read() as session:
            congress = _check_watch(session, actor, congress_id)
            return opinions_table(session, congress_id, item_id), congress.name

    return await anyio.to_thread.run_sync(work)


async def print_opinions(request: Request) -> Response:
    """GET /api/congresses/{id}/opinions/{item_id}/print: staff only, a page to print."""
    try:
        table, congress_name = await _staff_table(request)
    except DomainError as error:
        return _error(error)
    return HTMLResponse(opinions_print_html(table, congress_name),
                        headers={**_safe_headers(), "Content-Security-Policy": DOCUMENT_CSP})


async def export_opinions(request: Request) -> Response:
    """GET /api/congresses/{id}/opinions/{item_id}/export.xlsx: staff only, one row per group."""
    try:
        table, _name = await _staff_table(request)
    except DomainError as error:
        return _error(error)
    filename = f"审议意见-议程{table['agenda_item']['id']}.xlsx"
    return Response(opinions_xlsx(table),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={**_safe_headers(),
                             "Content-Disposition": _disposition(filename).replace("inline", "attachment", 1)})


routes = [
    Route("/api/congresses/{congress_id:int}/documents", add_document, methods=["POST"]),
    Route("/api/congresses/{congress_id:int}/documents/{document_id:int}/versions", add_version, methods=["POST"]),
    Route("/api/congresses/{congress_id:int}/documents/{document_id:int}/versions/{version:int}", read_version,
          methods=["GET"]),
    Route("/api/congresses/{congress_id:int}/documents/{document_id:int}/versions/{version:int}", change_version,
          methods=["PUT"]),
    Route("/api/congresses/{congress_id:int}/opinions/{item_id:int}/print", print_opinions),
    Route("/api/congresses/{congress_id:int}/opinions/{item_id:int}/export.xlsx", export_opinions),
]
