"""A delegate's page while PostgreSQL is away (issue 17, point 4): a command answered `unavailable` is not
dropped as a failure; the page says it is retrying and sends it again with the same id until the
database is back, and it is applied once. The PostgreSQL is a private cluster (tests.live.test_database_outage)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.db.models import Attendance
from congress.settings import Settings
from tests.browser.conftest import Site, shot, sign_in_delegate
from tests.private_services import PrivatePostgres, postgres  # noqa: F401 (fixture)
from tests.story import GROUPS, LiveServer, build_story, main_hall_roster


@pytest.fixture
def site(postgres: PrivatePostgres) -> Iterator[Site]:  # noqa: F811 (the private cluster, not SQLite)
    upgrade(postgres.url)
    db = Database(postgres.url)
    story = build_story(db, roster=main_hall_roster(6), groups=GROUPS[:1])
    server = LiveServer(Settings(database_url=postgres.url, port=0, coalesce_seconds=0.1)).start()
    try:
        yield Site(server, story, postgres.url, db)
    finally:
        server.stop()
        db.dispose()


def test_a_check_in_refused_while_the_database_is_away_goes_through_by_itself_once(
        site: Site, open_page, postgres: PrivatePostgres) -> None:  # noqa: F811
    delegate = site.story.voting()[0]
    page = sign_in_delegate(open_page, site, delegate.employee_id)
    badge = page.locator(".live-badge")
    button = page.get_by_role("button", name="签到", exact=True)
    expect(button).to_be_visible()
    expect(badge).to_be_hidden()

    postgres.stop()
    button.click()
    expect(badge).to_have_text("服务器暂时无法保存，正在自动重试…")
    expect(page.locator("#checkin-button")).to_have_text("正在提交…")
    shot(page, "database-away-retrying")

    postgres.start()
    expect(page.locator(".checked-in")).to_contain_text("已签到", timeout=30_000)
    expect(badge).to_be_hidden()
    with site.db.read() as session:
        stays = session.scalar(sa.select(sa.func.count()).select_from(Attendance)
                               .where(Attendance.delegate_id == delegate.id))
    assert stays == 1
