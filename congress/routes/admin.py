"""Staff HTTP endpoints outside the command table: creating a congress and issuing access codes.
(Codes are returned once, in this response, and stored only as hashes.)"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from congress.actions.accounts import issue_codes
from congress.actions.base import Context
from congress.actions.setup import create_congress
from congress.domain.errors import DomainError
from congress.routes.api import _actor, _json, _service, error_response


async def new_congress(request: Request) -> Response:
    """POST /api/congresses {name, groups: [...], is_rehearsal?}"""
    try:
        actor = await _actor(request, writing=True)
        body = await _json(request)
        groups = body.get("groups")
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise DomainError("bad_field", "groups 应为代表团(组)名称的列表", params={"field": "groups"})

        def create(ctx: Context) -> dict[str, Any]:
            congress = create_congress(ctx, str(body.get("name", "")), groups,
                                       is_rehearsal=bool(body.get("is_rehearsal", False)))
            return {"id": congress.id, "name": congress.name, "is_rehearsal": congress.is_rehearsal,
                    "groups": [{"id": g.id, "name": g.name} for g in congress.groups]}

        return JSONResponse({"result": await _service(request).run_direct(actor, create)}, status_code=201)
    except DomainError as error:
        return error_response(error)


async def codes(request: Request) -> Response:
    """POST /api/congresses/{id}/codes {employee_ids?: [...], only_missing?: bool} → the codes, once."""
    congress_id = int(request.path_params["congress_id"])
    try:
        actor = await _actor(request, writing=True)
        body = await _json(request)
        ids = body.get("employee_ids")
        if ids is not None and not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
            raise DomainError("bad_field", "employee_ids 应为工号列表", params={"field": "employee_ids"})

        def issue(ctx: Context) -> dict[str, Any]:
            return {"codes": issue_codes(ctx, congress_id, ids, only_missing=bool(body.get("only_missing")))}

        response = JSONResponse({"result": await _service(request).run_direct(actor, issue)})
        response.headers["Cache-Control"] = "no-store"
        return response
    except DomainError as error:
        return error_response(error)


async def proposal_register(request: Request) -> Response:
    """GET /api/congresses/{id}/proposals/register.xlsx: 提案汇总表, for staff."""
    import tempfile
    from pathlib import Path

    import anyio

    from congress.db.models import Congress
    from congress.domain.permissions import Permission
    from congress.domain.time import BEIJING
    from congress.reads.proposal_views import proposal_board
    from congress.records.exports import write_proposal_register
    from congress.records.term_report import term_statistics_if_sessions

    congress_id = int(request.path_params["congress_id"])
    try:
        actor = await _actor(request, writing=False)
        actor.require(Permission.READ_STAFF_VIEWS)
        service = _service(request)

        def build() -> bytes:
            with service.db.read() as session:
                ctx = Context(session, actor, service.clock())
                congress = ctx.get(Congress, congress_id, "职代会")
                board = proposal_board(ctx, congress_id, limit=2000)
                # A later session of a 届: a sheet per session and 届汇总 with charts (docs/terms.md)
                term_stats = term_statistics_if_sessions(session, congress_id, ctx.now.astimezone(BEIJING).date())
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "register.xlsx"
                write_proposal_register(board["proposals"], path, f"{congress.name}提案汇总表", term_stats)
                return path.read_bytes()

        data = await anyio.to_thread.run_sync(build)
    except DomainError as error:
        return error_response(error)
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''%E6%8F%90%E6%A1%88%E6%B1%87%E6%80%BB%E8%A1%A8.xlsx",
                             "Cache-Control": "no-store"})


async def progress_report(request: Request) -> Response:
    """GET /api/congresses/{id}/proposals/report.pdf|xlsx?date=YYYY-MM-DD: 提案办理情况报告 as of the
    end of that day (today, Beijing time, when no date is given), for staff."""
    from urllib.parse import quote

    import anyio

    from congress.domain.permissions import Permission
    from congress.domain.time import BEIJING
    from congress.records.minutes import find_cjk_font
    from congress.records.progress_report import (
        MEDIA_TYPES,
        parse_day,
        report_figures,
        report_pdf,
        report_xlsx,
    )
    from congress.records.term_report import term_statistics_if_sessions

    congress_id, kind = int(request.path_params["congress_id"]), request.path_params["kind"]
    try:
        actor = await _actor(request, writing=False)
        actor.require(Permission.READ_STAFF_VIEWS)
        if kind not in MEDIA_TYPES:
            raise DomainError("bad_field", "报告格式应为 pdf 或 xlsx", params={"field": "kind"})
        service = _service(request)
        today = service.clock().astimezone(BEIJING)
        day = parse_day(request.query_params.get("date") or today.date().isoformat())

        def build() -> bytes:
            font = find_cjk_font() if kind == "pdf" else None
            with service.db.read() as session:
                name, figures = report_figures(session, congress_id, day)
                term_stats = term_statistics_if_sessions(session, congress_id, today.date()) if font is None else None
            return report_pdf(font, name, figures, today) if font is not None else report_xlsx(name, figures, term_stats)

        data = await anyio.to_thread.run_sync(build)
    except DomainError as error:
        return error_response(error)
    filename = quote(f"提案办理情况报告-{day.isoformat()}.{kind}")
    return Response(data, media_type=MEDIA_TYPES[kind],
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}", "Cache-Control": "no-store"})


routes = [
    Route("/api/congresses/{congress_id:int}/proposals/register.xlsx", proposal_register),
    Route("/api/congresses/{congress_id:int}/proposals/report.{kind}", progress_report),
    Route("/api/congresses", new_congress, methods=["POST"]),
    Route("/api/congresses/{congress_id:int}/codes", codes, methods=["POST"]),
]
