"""A delegate's page in Chromium, through nginx, on a worker that gets SIGTERM (issue 17 point 3): the page
is closed with 1012, reconnects at once to the other worker, its check-in sent as the worker stopped is
recorded once, later events arrive, and it shows no error. Real nginx (deploy/nginx.conf), two
`congress serve` processes, PostgreSQL and Redis."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from congress.db.engine import Database
from congress.db.models import Attendance
from congress.ops.server_process import ServerProcess, free_port
from tests.browser.conftest import CSP_WATCH, PHONE, browser, shot  # noqa: F401 (browser: the fixture)
from tests.conftest import REDIS_URL, require_redis
from tests.ops.nginx import Nginx
from tests.ops.test_rolling_restart import wait_ready
from tests.story import build_story

pytestmark = pytest.mark.browser


def test_a_page_on_a_worker_that_gets_sigterm_moves_to_the_other_at_once(browser: Any, pg_url: str,  # noqa: F811
                                                                        tmp_path) -> None:
    require_redis()
    db = Database(pg_url)
    story = build_story(db)
    delegate = story.voting()[0]
    ports = [free_port(), free_port()]
    # Only the first worker at first: the page's websocket is certainly on it.
    first = ServerProcess(pg_url, tmp_path / "worker1.log", redis_url=REDIS_URL, port=ports[0])
    second = None
    errors: list[str] = []
    sockets: list[dict[str, Any]] = []
    context = None
    try:
        with Nginx(tmp_path, ports) as nginx:
            context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai",
                                          service_workers="block")
            context.add_init_script(CSP_WATCH)
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error"
                    and "WebSocket" not in msg.text else None)

            def opened(socket: Any) -> None:
                entry: dict[str, Any] = {"hello": None, "closed": False}
                sockets.append(entry)
                socket.on("framereceived", lambda payload: entry.update(hello=time.monotonic())
                          if entry["hello"] is None and '"msg":"hello"' in str(payload) else None)
                socket.on("close", lambda _s: entry.update(closed=True))

            page.on("websocket", opened)
            page.set_default_timeout(30_000)
            page.goto(nginx.url + "/sign-in")
            page.get_by_label("工号", exact=True).fill(delegate.employee_id)
            page.get_by_label("访问码", exact=True).fill(story.codes[delegate.employee_id])
            page.get_by_role("button", name="登录", exact=True).click()
            page.wait_for_url("**/delegate")
            badge = page.locator(".live-badge")
            check_in = page.get_by_role("button", name="签到", exact=True)
            expect(check_in).to_be_visible()
            expect(badge).to_be_hidden()

            second = ServerProcess(pg_url, tmp_path / "worker2.log", redis_url=REDIS_URL, port=ports[1])
            wait_ready(second.url)
            before = len(sockets)
            check_in.click()  # and at once: SIGTERM to the page's worker
            signalled = time.monotonic()
            first.terminate()
            stopped = time.monotonic() - signalled
            deadline = time.monotonic() + 30
            while not any(s["hello"] for s in sockets[before:]):  # the page's events run while it waits
                assert time.monotonic() < deadline, "the page did not reconnect"
                page.wait_for_timeout(20)
            expect(page.locator(".checked-in")).to_contain_text("已签到")
            expect(badge).to_be_hidden()
            assert sockets[before - 1]["closed"], "the first socket was not closed"
            assert len(sockets) > before, "the page opened no new socket"
            back = next(s["hello"] for s in sockets[before:] if s["hello"] is not None) - signalled

            # Events reach the page through the other worker.
            staff = httpx.Client(base_url=nginx.url, timeout=30)
            signed = staff.post("/api/sign-in", json={"login": "staff", "password": story.staff_password})
            staff.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
            moved = staff.post(f"/api/congresses/{story.congress_id}/commands/set_current_item",
                               json={"item_id": story.agenda[2]["id"]})
            assert moved.status_code == 200, moved.text
            expect(page.locator(".current-item .item-title")).to_have_text(story.agenda[2]["title"])
            expect(page.locator(".notice.bad, [role=alert]")).to_have_count(0)  # how the page shows an error
            shot(page, "rolling-restart-page")
            print(f"\npage: worker exited {stopped:.3f} s after SIGTERM; the page's new hello "
                  f"{back:.3f} s after it")
            with db.read() as session:
                rows = session.scalar(sa.select(sa.func.count()).select_from(Attendance)
                                      .where(Attendance.delegate_id == delegate.id))
            assert rows == 1
            assert errors == []
    finally:
        if context is not None:
            context.close()
        first.stop()
        if second is not None:
            second.stop()
        db.dispose()
