"""The shipped deploy/nginx.conf in front of a real worker: what a browser sends arrives as the server
needs it — the Host (the Origin check) and the person's address (X-Forwarded-For / X-Real-IP)."""

from __future__ import annotations

import asyncio
import json

import httpx
from websockets.asyncio.client import connect

from congress.db.engine import Database
from congress.ops.server_process import ServerProcess
from tests.ops.nginx import Nginx
from tests.story import build_story


def test_a_browsers_sign_in_command_and_socket_pass_through_nginx(pg_url, tmp_path):
    db = Database(pg_url)
    story = build_story(db)
    delegate = story.voting()[0]
    worker = ServerProcess(pg_url, tmp_path / "worker.log")
    try:
        with Nginx(tmp_path, [worker.port]) as nginx:
            browser = {"Origin": nginx.url, "Sec-Fetch-Site": "same-origin"}  # what Chromium sends
            with httpx.Client(base_url=nginx.url, headers=browser, timeout=30) as http:
                signed = http.post("/api/sign-in", json={"employee_id": delegate.employee_id,
                                                         "code": story.codes[delegate.employee_id],
                                                         "congress_id": story.congress_id})
                assert signed.status_code == 200, signed.text  # was 403 cross_site: Host arrived as "congress"
                cookie = signed.cookies["congress_session"]

            async def hello() -> dict:
                async with connect(f"{nginx.ws_url}?congress={story.congress_id}", origin=nginx.url,  # type: ignore[arg-type]
                                   additional_headers={"Cookie": f"congress_session={cookie}"}) as ws:
                    return json.loads(await ws.recv())

            first = asyncio.run(hello())
            assert first["msg"] == "hello", first  # was refused 4403 "cross-site connection refused"
            assert first["identity"]["delegate_id"] == delegate.id
    finally:
        worker.stop()
        db.dispose()
