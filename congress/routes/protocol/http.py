"""The HTTP endpoints that are not commands: pages, sign-in, uploads, exports, health.

Declared here beside the route tables they describe (congress/routes/*, congress/ops/*, the app's
`/ws`); tests/unit/test_protocol.py fails when a route has no entry here or an entry no route.
Written out in docs/protocol.md (*HTTP endpoints*) and the OpenAPI document. The details stay in
docs/api.md, docs/streaming.md and docs/deploy.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from congress.routes.pages import PAGES  # the page names, as the route serves them


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str  # as the route table spells it, with its converters (`{congress_id:int}`)
    who: str
    summary: str
    request: str = ""  # the body or the query, in words
    errors: tuple[str, ...] = ()
    content_type: str = "application/json"  # of a successful answer
    status: int = 200

    @property
    def plain_path(self) -> str:
        """`/api/congresses/{congress_id}/…`: the path without its converters (OpenAPI's form)."""
        return re.sub(r"\{(\w+):[^}]+\}", r"{\1}", self.path)


_C = "/api/congresses/{congress_id:int}"

ENDPOINTS: tuple[Endpoint, ...] = (
    # Pages (congress/routes/pages.py): HTML files with their ES modules, zh-CN first with English
    Endpoint("GET", "/", "anyone", "redirects to `/sign-in`", content_type="text/html", status=307),
    Endpoint("GET", "/{name:str}", "anyone (each page asks the API for what its reader may see)",
             "a page: " + ", ".join(f"`/{p}`" for p in PAGES) + " (the watch page: `/watch?congress=ID[&watch=TOKEN]`); "
             "any other name is 404", content_type="text/html"),
    Endpoint("GET", "/ws", "anyone: signed-in people by their cookie, observers as the watch link allows",
             "the live protocol (websocket; this page, from *Connecting*)", "`congress`, `since`, `watch`, `as_of`",
             errors=("refused", "unavailable", "rate_limited"), status=101),
    # Signing in (congress/routes/api.py; docs/api.md, *Signing in*)
    Endpoint("POST", "/api/sign-in", "anyone",
             "sets the `congress_session` cookie; `{role, name, congress_id, csrf_token}`",
             "staff or department: `{login, password}`; delegate: `{employee_id, code, congress_id?}`",
             errors=("bad_request", "bad_credentials", "choose_congress", "too_many_attempts")),
    Endpoint("POST", "/api/sign-out", "signed-in people (with the CSRF header)", "ends the session"),
    Endpoint("GET", "/api/me", "anyone", "`{role, name, …, csrf_token}`, or `{role: \"observer\"}` without a session"),
    # Reading
    Endpoint("GET", "/api/congresses", "anyone", "the congresses: `id`, `name`, `status`, `is_rehearsal`, watch mode"),
    Endpoint("GET", f"{_C}/state", "signed-in people; observers as the watch link allows",
             "`{seq, role, snapshot}` (*Snapshot*); an observer's is held by the stream's hold and adds "
             "`last_seq`, `held_seconds`, `shows`, `as_of_too_old`, `events`", "`as_of` (observers)",
             errors=("bad_request", "not_found", "watching_off", "watch_token_required")),
    Endpoint("POST", f"{_C}/commands/{{op:str}}", "as the op says (*Client commands*)",
             "`{result: …}`: any command of the table, its arguments as the JSON body; headers `X-CSRF-Token` "
             "(writes), `Idempotency-Key`? (1–64 characters)", "the op's arguments",
             errors=("unknown_op", "bad_json", "csrf", "not_signed_in", "id_reused")),
    Endpoint("GET", "/api/openapi.json", "anyone", "this description as OpenAPI 3.1 (generated from the command table)"),
    Endpoint("GET", f"{_C}/chapters.vtt", "signed-in people of the congress; observers as the watch link allows",
             "WebVTT chapters of the replay from the public event log", "`start`? (ISO), `end`? (ISO), `lang`? (`en`)",
             content_type="text/vtt"),
    Endpoint("GET", f"{_C}/timeline.json", "signed-in people of the congress; observers as the watch link allows",
             "the replay's timeline: the state after each public event (docs/api.md, *The replay's timeline*)"),
    # Writing beside the commands (congress/routes/admin.py, api.py)
    Endpoint("POST", "/api/congresses", "staff", "201 `{result: {id, name, groups}}`: a new congress with its groups",
             "`{name, groups: [group name, …], is_rehearsal?}`", errors=("bad_field",), status=201),
    Endpoint("POST", f"{_C}/roster", "staff",
             "`{result: {voting, non_voting, groups, per_group, added, updated, unchanged, removed, warnings, …}}`; "
             "with errors nothing is imported: 400 `{error: {code: roster_invalid, rows: [{row, column, reason}]}}`",
             "the file (CSV, GB18030 CSV or XLSX) as the body or multipart field `file`; `?dry_run=1` only checks, "
             "`create_groups=1`, `filename=`", errors=("roster_invalid", "too_large")),
    Endpoint("POST", f"{_C}/codes", "staff",
             "`{codes: [...]}`: the new access codes, once (`Cache-Control: no-store`); old codes stop working",
             "`{employee_ids?: [工号, …], only_missing?: bool}`", errors=("bad_field",)),
    # Documents (congress/routes/documents.py; *Documents and discussion*)
    Endpoint("POST", f"{_C}/documents", "staff", "201 `{result: document}`: a new document with version 1",
             "multipart: `title`, `agenda_item_id`?, `is_public`?, `file`",
             errors=("bad_file", "unsupported_type", "too_large"), status=201),
    Endpoint("POST", f"{_C}/documents/{{document_id:int}}/versions", "staff",
             "201 `{result: version}`: a new version, also after tabling", "multipart: `file`",
             errors=("bad_file", "unsupported_type", "too_large", "not_found"), status=201),
    Endpoint("GET", f"{_C}/documents/{{document_id:int}}/versions/{{version:int}}", "who may read the document",
             "a PDF inline; Markdown as a sandboxed HTML page, `?format=json` → `{title, filename, content_type, html, "
             "text}`, `?format=raw` → `text/plain`", "`format`? (`json`, `raw`)", errors=("not_found",),
             content_type="application/pdf"),
    Endpoint("PUT", f"{_C}/documents/{{document_id:int}}/versions/{{version:int}}", "staff",
             "corrects version n in place", "multipart: `file`",
             errors=("document_tabled", "bad_file", "unsupported_type", "too_large", "not_found")),
    Endpoint("GET", f"{_C}/opinions/{{item_id:int}}/print", "staff", "the groups' 审议意见 as a page to print",
             content_type="text/html"),
    Endpoint("GET", f"{_C}/opinions/{{item_id:int}}/export.xlsx", "staff",
             "the groups' 审议意见, one row per group (XLSX)",
             content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    # Proposals (congress/routes/attachments.py, admin.py)
    Endpoint("POST", f"{_C}/proposals/{{proposal_id:int}}/attachments", "the proposer, on a draft",
             "201 `{result: attachment}`", "multipart: `file`", errors=("missing_field", "too_large", "not_found"),
             status=201),
    Endpoint("GET", f"{_C}/proposals/{{proposal_id:int}}/attachments/{{attachment_id:int}}",
             "who may read the proposal", "the file", errors=("not_found",), content_type="application/octet-stream"),
    Endpoint("GET", f"{_C}/proposals/register.xlsx", "staff", "提案汇总表 (XLSX)",
             content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    Endpoint("GET", f"{_C}/proposals/report.{{kind}}", "staff",
             "提案办理情况报告 as of the end of `date` (Beijing time): `report.pdf` or `report.xlsx`",
             "`date`? (YYYY-MM-DD, default today)", errors=("bad_field",), content_type="application/pdf"),
    # Operations (congress/ops; docs/deploy.md)
    Endpoint("GET", "/healthz", "anyone", "the process answers", content_type="text/plain"),
    Endpoint("GET", "/readyz", "this host", "ready: database, Redis, not draining; else 503", content_type="text/plain"),
    Endpoint("GET", "/metrics", "this host, or a bearer of the metrics token", "Prometheus series",
             content_type="text/plain"),
)
