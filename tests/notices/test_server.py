"""Through a real server: staff add a robot over the HTTP API, an assignment made with a command
queues its notice in the command's own transaction, and the server's own sender (started by the
app's lifespan) delivers it to the robot receiver; staff read the outbox with notices_view."""

from __future__ import annotations

import time

import httpx

from congress.settings import Settings
from tests.db.test_casework import registered
from tests.story import LiveServer, sign_in


def test_the_server_sends_an_assignment_notice_queued_by_a_command(db, database_url, story, robots):  # type: ignore[no-untyped-def]
    a, b, c = story.voting()[:3]
    p = registered(db, story, a, [b, c])
    server = LiveServer(Settings(database_url=database_url, port=0)).start()
    try:
        cookie, csrf = sign_in(server.url, {"login": story.staff_login, "password": story.staff_password})
        client = httpx.Client(base_url=server.url, cookies={"congress_session": cookie},
                              headers={"X-CSRF-Token": csrf}, timeout=30)

        def command(op: str, **body):  # type: ignore[no-untyped-def]
            response = client.post(f"/api/congresses/{story.congress_id}/commands/{op}", json=body)
            assert response.status_code == 200, response.text
            return response.json()["result"]

        added = command("set_notices", add_channel={"audience": "department", "department": "人力资源部",
                                                    "kind": "feishu", "address": robots.url("/feishu/server/hook-7a7a")})
        assert added["channels"][0]["address"].endswith("/…7a7a")
        command("assign_proposal", proposal_id=p["id"], lead="人力资源部", due_at="2030-01-31T18:00:00+08:00")

        deadline = time.monotonic() + 20
        while not robots.on("/feishu/server") and time.monotonic() < deadline:
            time.sleep(0.1)
        [received] = robots.on("/feishu/server")
        assert received.problems == [] and "【提案交办】" in received.body["content"]["text"]
        # The sender records the delivery only after the robot has answered, so the receiver can
        # hold the message a moment before the outbox says sent: wait for that, not just the message.
        view = command("notices_view")
        while view["outbox"]["sent"] == 0 and time.monotonic() < deadline + 10:
            time.sleep(0.1)
            view = command("notices_view")
        assert view["outbox"]["sent"] == 1 and view["outbox"]["pending"] == 3, view["outbox"]  # 7 days, 1 day, overdue: later
    finally:
        server.stop()
