"""The static pages of web/: each role's page is an HTML file with its ES modules."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
PAGES = {"sign-in": "sign-in.html", "delegate": "delegate.html", "watch": "watch.html", "staff": "staff.html",
         "screen": "screen.html", "department": "department.html", "trustee": "trustee.html"}


async def page(request: Request) -> Response:
    name = request.path_params.get("name", "")
    file = WEB_DIR / PAGES.get(name, "")
    if name not in PAGES or not file.is_file():
        return Response("Not Found", status_code=404)
    return FileResponse(file, headers={"Cache-Control": "no-cache"})


async def home(request: Request) -> Response:
    return RedirectResponse("/sign-in")


routes = [Route("/", home), Route("/{name:str}", page)]
