"""A PostgreSQL outage while the server runs (issue 18): HTTP answers 503 `unavailable` with
Retry-After instead of 500; a new websocket gets an `unavailable` error and close 1013 (Try Again
Later) instead of a dropped connection; a command on an open socket gets a retryable `unavailable`
error and the socket stays; when the database is back, everything works again on its own, and the
command resent with the same id is applied once.

The PostgreSQL here is a private cluster this test starts itself (tests/private_services.py: initdb +
pg_ctl on a free port), so that stopping it disturbs nothing else; it is always stopped at teardown.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

import httpx
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.db.models import Attendance
from congress.settings import Settings
from tests.private_services import PrivatePostgres
from tests.private_services import postgres as postgres  # the private cluster fixture
from tests.story import GROUPS, LiveClient, LiveServer, build_story, main_hall_roster, sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def opening(url: str, cookie: str) -> tuple[dict, int | None, str | None]:
    """A new signed-in socket: its first message and, if the server closed it, the code and reason."""
    async with connect(url, additional_headers={"Cookie": f"congress_session={cookie}"}, open_timeout=30) as ws:
        first = json.loads(await ws.recv())
        try:
            await asyncio.wait_for(ws.recv(), 2)
        except (TimeoutError, ConnectionClosed):
            pass
        return first, ws.close_code, ws.close_reason


async def test_a_database_outage_is_answered_503_and_1013_and_the_server_recovers_on_its_own(
        postgres: PrivatePostgres, caplog: pytest.LogCaptureFixture) -> None:
    upgrade(postgres.url)
    db = Database(postgres.url)
    story = build_story(db, roster=main_hall_roster(6), groups=GROUPS[:1])
    delegate = story.voting()[0]
    db.dispose()
    server = LiveServer(Settings(database_url=postgres.url, port=0)).start()
    client: LiveClient | None = None
    try:
        cookie, csrf = sign_in(server.url, {"employee_id": delegate.employee_id, "code": story.codes[delegate.employee_id],
                                            "congress_id": story.congress_id})
        headers = {"Cookie": f"congress_session={cookie}", "X-CSRF-Token": csrf}
        state_url = f"{server.url}/api/congresses/{story.congress_id}/state"
        check_in_url = f"{server.url}/api/congresses/{story.congress_id}/commands/check_in"
        ws_url = f"{server.ws_url}?congress={story.congress_id}"
        client = LiveClient(server.ws_url, story.congress_id, cookie)
        assert (await client.connect())["msg"] == "hello"
        assert (await client.command("proposal_stats"))["msg"] == "ack"

        postgres.stop()
        with caplog.at_level(logging.WARNING):
            async with httpx.AsyncClient(timeout=30) as http:
                for method, url, body in (("GET", state_url, None), ("POST", check_in_url, {}),
                                          ("GET", f"{server.url}/api/congresses", None),
                                          ("GET", f"{server.url}/api/me", None),
                                          ("POST", f"{server.url}/api/sign-in", {"login": "staff", "password": "x"})):
                    response = await http.request(method, url, json=body, headers=headers)
                    assert response.status_code == 503, (url, response.status_code, response.text)
                    assert response.json()["error"]["code"] == "unavailable"
                    assert int(response.headers["Retry-After"]) > 0

            first, code, reason = await opening(ws_url, cookie)
            assert first["msg"] == "error" and first["code"] == "unavailable", first
            assert code == 1013 and reason, (code, reason)

            # Commands on the socket that was open: a retryable error each, and the socket stays
            checked = await client.command("check_in", command_id="in-during-outage")
            assert checked["msg"] == "error" and checked["code"] == "unavailable" and checked["retry_after"] > 0
            read = await client.command("proposal_stats")
            assert read["msg"] == "error" and read["code"] == "unavailable", read
            assert client.closed is None
        # Warnings, not a traceback per request, frame or second
        tracebacks = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
        assert not tracebacks, [f"{r.name}: {r.getMessage()}" for r in tracebacks]

        postgres.start()
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(timeout=30) as http:
            while (response := await http.get(state_url, headers=headers)).status_code != 200:
                assert time.monotonic() < deadline, response.text
                await asyncio.sleep(0.2)
        again, code, _ = await opening(ws_url, cookie)
        assert again["msg"] == "hello" and code is None
        client.replies.pop("in-during-outage")
        retried = await client.command("check_in", command_id="in-during-outage")
        assert retried["msg"] == "ack", retried
        check = Database(postgres.url)
        try:
            with check.read() as session:
                assert session.scalar(sa.select(sa.func.count()).select_from(Attendance)
                                      .where(Attendance.delegate_id == delegate.id)) == 1
        finally:
            check.dispose()
    finally:
        if client is not None:
            await client.close()
        server.stop()
