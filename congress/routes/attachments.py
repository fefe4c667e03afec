"""Proposal attachments over HTTP: upload to a draft, download for those who may read it."""

from __future__ import annotations

from urllib.parse import quote

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from congress.actions.attachments import MAX_ATTACHMENT_BYTES, attach_file, readable_attachment
from congress.actions.base import Context
from congress.application.ratelimit import UPLOAD_COST
from congress.domain.errors import DomainError
from congress.routes.api import _actor, _service, error_response, refuse_early, spend
from congress.routes.headers import DOCUMENT_CSP


async def upload(request: Request) -> Response:
    congress_id, proposal_id = int(request.path_params["congress_id"]), int(request.path_params["proposal_id"])
    try:
        await refuse_early(request, UPLOAD_COST)
        actor = await _actor(request, writing=True)
        await spend(request, actor, UPLOAD_COST)  # before the file is read
        form = await request.form(max_part_size=MAX_ATTACHMENT_BYTES + 1024)
        file = form.get("file")
        if file is None or isinstance(file, str):
            raise DomainError("missing_field", "缺少附件文件（字段 file）")
        data = await file.read()
        result = await _service(request).run_direct(actor, attach_file, congress_id, proposal_id,
                                                    file.filename or "附件", data)
        return JSONResponse({"result": result}, status_code=201)
    except DomainError as error:
        return error_response(error)


async def download(request: Request) -> Response:
    congress_id, proposal_id = int(request.path_params["congress_id"]), int(request.path_params["proposal_id"])
    attachment_id = int(request.path_params["attachment_id"])
    try:
        actor = await _actor(request, writing=False)
        service = _service(request)

        def read() -> tuple[bytes, str, str]:
            with service.db.read() as session:
                row = readable_attachment(Context(session, actor, service.clock()), congress_id, proposal_id,
                                          attachment_id)
                return row.content, row.content_type, row.filename

        content, content_type, filename = await anyio.to_thread.run_sync(read)
    except DomainError as error:
        return error_response(error)
    disposition = "inline" if content_type in ("application/pdf", "image/png", "image/jpeg") else "attachment"
    return Response(content, media_type=content_type, headers={
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
        "Content-Security-Policy": DOCUMENT_CSP})  # a sandbox: an uploaded file runs and fetches nothing


routes = [
    Route("/api/congresses/{congress_id:int}/proposals/{proposal_id:int}/attachments", upload, methods=["POST"]),
    Route("/api/congresses/{congress_id:int}/proposals/{proposal_id:int}/attachments/{attachment_id:int}", download),
]
