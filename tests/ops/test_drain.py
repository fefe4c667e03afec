"""A draining worker (congress.live.drain), on a real uvicorn server with SQLite and PostgreSQL: from the
moment it drains, a new websocket is closed with 1012 before its hello, a command that arrives is
neither applied nor answered (the client resends it, with the same id, to another worker), and the
drain closes the open sockets with 1012 after answering what it had started.

The SIGTERM itself is tested on `congress serve` processes (test_rolling_restart.py); here the server
runs in a thread of the test, where the signal handlers are not installed, and the drain is started
the way the handler starts it."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from congress.db.models import AgendaItem
from congress.settings import Settings
from tests.story import LiveClient, LiveServer, build_story, sign_in

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_draining_worker_refuses_new_sockets_and_starts_no_command(db, database_url):
    story = build_story(db, with_codes=False)
    server = await asyncio.to_thread(LiveServer(Settings(database_url=database_url, port=0)).start)
    app, url, ws_url = server.app, server.url, server.ws_url
    staff = None
    try:
        cookie, _csrf = await asyncio.to_thread(sign_in, url, {"login": "staff", "password": story.staff_password})
        staff = LiveClient(ws_url, story.congress_id, cookie)
        await staff.connect()
        assert (await staff.command("add_agenda_item", kind="审议", title="排空之前"))["msg"] == "ack"
        assert staff.hello["msg"] == "hello"

        app.state.draining = True  # what the SIGTERM handler does first
        late = await connect(f"{ws_url}?congress={story.congress_id}",
                             additional_headers={"Cookie": f"congress_session={cookie}"})
        with pytest.raises(ConnectionClosed) as closed:
            await late.recv()
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1012, "service restart")  # type: ignore[union-attr]

        assert staff.ws is not None
        await staff.ws.send(json.dumps({"op": "add_agenda_item", "id": "while-draining", "kind": "审议",
                                        "title": "排空之时"}))
        await staff.ws.send(json.dumps({"op": "ping", "id": "ping-1"}))
        # frames are read in order: the pong says the command before it was read (while draining)
        await staff.wait_for(lambda: any(m.get("msg") == "pong" for m in staff.ephemeral))
        loop = app.state.service._publisher.get_loop()  # the server's event loop
        drained = asyncio.run_coroutine_threadsafe(app.state.drain.finish(), loop)
        await asyncio.wrap_future(drained)
        deadline = time.monotonic() + 10
        while staff.closed is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert staff.closed == (1012, "service restart")
        assert "while-draining" not in staff.replies
        with db.read() as session:
            titles = list(session.scalars(sa.select(AgendaItem.title).where(AgendaItem.congress_id == story.congress_id)))
        assert "排空之前" in titles and "排空之时" not in titles
    finally:
        if staff is not None:
            await staff.close()
        await asyncio.to_thread(server.stop)
