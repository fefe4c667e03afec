"""A secret election voted through the delegate page in Chromium, then read as an administrator with
the whole database would read it: every table, in storage order, with SQLite's rowid or PostgreSQL's
ctid and xmin, every timestamp, the event log. The promise tested (docs/secrecy.md): the database
holds no per-ballot plaintext at all, so no arrangement of its rows ties a choice to a voter; what
can be tied to a voter is a ciphertext, and nothing the server holds opens one.

Six delegates vote one after another, half a second apart, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from congress.db.base import Base
from congress.db.engine import Database
from congress.db.migrate import upgrade
from congress.db.models import Ballot, BallotCast, SealedBallot
from congress.sealed.group import L, base_mul, mul, sub
from congress.sealed.kit import share_of
from congress.sealed.trustees import lagrange_at_zero
from congress.settings import Settings
from tests.browser.conftest import CHROMIUM, PHONE, Site, shot, sign_in_delegate
from tests.conftest import create_pg_database, drop_pg_database
from tests.sealing import make_trustees
from tests.story import LiveServer, Story, build_story

pytestmark = pytest.mark.browser

CANDIDATES = ["周海燕", "陈立新", "王志远", "李秀英", "张卫东"]
# Who marks whom, in the order they vote: every pattern differs, so a link would show.
CHOICES = [["周海燕", "陈立新"], ["王志远"], ["李秀英", "张卫东"], ["周海燕"], [], ["陈立新", "张卫东"]]
SHORT_RECEIPT = re.compile(r"^[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}$")


@pytest.fixture(params=["sqlite", "postgresql"])
def any_site(request: pytest.FixtureRequest, tmp_path: Path,
             story_template: tuple[Path, Story]) -> Iterator[Site]:
    """The story's congress served by a real server, on a SQLite file or a PostgreSQL database."""
    if request.param == "sqlite":
        template, story = story_template
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{template}{suffix}").exists():
                shutil.copyfile(f"{template}{suffix}", tmp_path / f"congress.db{suffix}")
        url, drop = f"sqlite:///{tmp_path / 'congress.db'}", None
    else:
        url = drop = create_pg_database()
        upgrade(url)
        builder = Database(url)
        try:
            story = build_story(builder)
        finally:
            builder.dispose()
    db = Database(url)
    server = LiveServer(Settings(database_url=url, port=0, coalesce_seconds=0.1)).start()
    site = Site(server, story, url, db)
    try:
        yield site
    finally:
        site.server.stop()
        db.dispose()
        if drop:
            drop_pg_database(drop)


def every_row(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table with what storage reveals: rowid (SQLite), ctid and xmin (PostgreSQL)."""
    out: dict[str, list[dict[str, Any]]] = {}
    with db.read() as session:
        sqlite = session.get_bind().dialect.name == "sqlite"
        for table in Base.metadata.sorted_tables:
            extra = "rowid AS _rowid" if sqlite else "ctid::text AS _ctid, xmin::text AS _xmin"
            order = "rowid" if sqlite else "ctid"
            rows = session.execute(sa.text(f'SELECT {extra}, * FROM "{table.name}" ORDER BY {order}'))
            out[table.name] = [{k: (v.hex() if isinstance(v, bytes) else v) for k, v in r._mapping.items()}
                               for r in rows]
    return out


def text_of(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, default=str)


def hex_values(rows: dict[str, list[dict[str, Any]]]) -> set[int]:
    """Every 64-hex-digit value anywhere in the database, read as a scalar: the secrets an
    administrator could try as the key (the instance secret key, tokens, hashes, points)."""
    found = set()
    for table in rows.values():
        for row in table:
            for match in re.findall(r"[0-9a-fA-F]{64}", text_of(row)):
                found.add(int.from_bytes(bytes.fromhex(match), "little") % L)
    return found


def opens(ciphertext: dict[str, str], secret: int) -> bool:
    """Whether `secret` decrypts this 0/1 ciphertext: beta / alpha^x is g^0 or g^1."""
    plain = sub(bytes.fromhex(ciphertext["beta"]), mul(bytes.fromhex(ciphertext["alpha"]), secret))
    return plain in (base_mul(0), base_mul(1))


def vote_on_the_phone(browser: Any, site: Site, employee_id: str, marks: list[str]) -> str:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai", service_workers="block")
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.set_default_timeout(20_000)
        page.goto(site.url + "/sign-in")
        page.get_by_label("工号", exact=True).fill(employee_id)
        page.get_by_label("访问码", exact=True).fill(site.story.codes[employee_id])
        page.get_by_role("button", name="登录", exact=True).click()
        page.wait_for_url("**/delegate")
        panel = page.locator(".vote-panel")
        expect(panel).to_contain_text("补选职工董事（无记名）")
        expect(panel.locator(".sealed-help")).to_contain_text("您的选择在本机加密后才发出")
        for name in marks:
            panel.get_by_text(name, exact=True).click()
        panel.get_by_role("button", name="下一步：确认选择").click()
        panel.get_by_role("button", name="确认投票").click()
        expect(panel.locator(".recorded")).to_contain_text("已记录")
        expect(panel.locator(".recorded")).to_contain_text("服务器、工作人员和任何单独一位监票人都看不到它")
        receipt = panel.locator(".receipt").inner_text()
        if employee_id == site.story.voting()[0].employee_id:
            shot(page, f"secret-ballot-recorded-{site.database_url.split(':')[0]}", full_page=True)
        assert not errors, errors
        return receipt
    finally:
        context.close()


def test_six_secret_ballots_cast_on_phones_leave_no_choice_that_can_be_tied_to_a_voter(browser: Any, any_site: Site) -> None:
    if not CHROMIUM.exists():
        pytest.skip("no chromium")
    site, story = any_site, any_site.story
    site.check_in_before_pages_open(0.7)
    main_hall = story.voting(story.delegates[0].group_id)
    trustees = make_trustees(site.db, story.congress_id, main_hall[-3:])
    staff = site.staff()
    vote = site.command(staff, "create_vote", agenda_item_id=story.agenda[2]["id"], title="补选职工董事（无记名）",
                        is_secret=True, questions=[{"kind": "election", "text": "补选职工董事 2 名", "seats": 2,
                                                    "candidates": CANDIDATES}])
    site.command(staff, "open_vote", vote_id=vote["id"])
    voters = [d for d in main_hall[:12] if not d.is_group_leader][:6]
    before = every_row(site.db)

    receipts = []
    for voter, marks in zip(voters, CHOICES, strict=True):
        receipts.append(vote_on_the_phone(browser, site, voter.employee_id, marks))
        time.sleep(0.5)
    after = every_row(site.db)

    # 1. Nothing written while the six voted names a candidate: no per-ballot plaintext anywhere,
    #    in any table, event payload, stored command reply, session or log row.
    seen_before = {table: {text_of({k: v for k, v in r.items() if not k.startswith("_")}) for r in rows}
                   for table, rows in before.items()}
    written = [(table, text_of(r)) for table, rows in after.items() for r in rows
               if text_of({k: v for k, v in r.items() if not k.startswith("_")}) not in seen_before[table]]
    assert any(table == "sealed_ballot" for table, _t in written) and any(table == "event" for table, _t in written)
    leaks = [(table, text) for table, text in written if any(name in text for name in CANDIDATES)]
    assert leaks == []
    with site.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Ballot).where(Ballot.vote_id == vote["id"])) == 0
        sealed = list(session.scalars(sa.select(SealedBallot).where(SealedBallot.vote_id == vote["id"])))
        cast = list(session.scalars(sa.select(BallotCast).where(BallotCast.vote_id == vote["id"])))
    assert sorted(c.delegate_id for c in cast) == sorted(v.id for v in voters)
    assert len(sealed) == 6 and {c.name for c in SealedBallot.__table__.columns} == {"id", "vote_id", "group_id",
                                                                                     "hash", "content"}
    # The receipts the phones showed are the hashes of what they sent.
    assert all(SHORT_RECEIPT.match(r) for r in receipts)
    assert sorted(r.replace("-", "") for r in receipts) == sorted(s.hash[:16].upper() for s in sealed)

    # 2. The administrator's best link: storage order (rowid / ctid) and, on PostgreSQL, the writing
    #    transaction (xmin) do pair each sealed ballot with its voter's ballot_cast row ...
    stored = [r for r in after["sealed_ballot"] if r["vote_id"] == vote["id"]]
    assert len(stored) == 6
    # ... but what they pair a voter with is a ciphertext, and no value the database holds opens one:
    # not the instance's secret key, not a session token, not a hash, not a point read as a scalar.
    candidates = hex_values(after)
    assert len(candidates) > 50
    ciphertexts = [c for r in stored for q in json.loads(json.dumps(r["content"]) if isinstance(r["content"], dict)
                                                         else r["content"])["questions"] for c in q["choices"]]
    assert len(ciphertexts) == 6 * len(CANDIDATES)
    assert [x for x in candidates if any(opens(c, x) for c in ciphertexts[:5])] == []
    # The check itself works: the joint secret, which only two trustees together could rebuild
    # from their key files, opens every one of them.
    state = trustees.state()
    shares = {i: share_of(state, i, trustees.seeds[i]) for i in (1, 3)}
    joint = sum(x * lagrange_at_zero([1, 3], i) for i, x in shares.items()) % L
    assert all(opens(c, joint) for c in ciphertexts)

    # 3. The trustees, two of three, decrypt only the group's sum: the totals are the marks made.
    site.command(staff, "close_vote", vote_id=vote["id"])
    trustees.decrypt(vote["id"], [1, 2])
    result = site.command(staff, "sealed_ballots", vote_id=vote["id"])
    assert result["count"] == 6
    with site.db.read() as session:
        from congress.db.models import Vote

        stored_vote = session.get(Vote, vote["id"])
        assert stored_vote is not None and stored_vote.result is not None
        question = stored_vote.result["questions"][0]
    expected = {name: sum(name in marks for marks in CHOICES) for name in CANDIDATES}
    assert {o["label"]: o["count"] for o in question["options"]} == expected
    main = next(g for g in question["groups"] if g["group_id"] == story.delegates[0].group_id)
    assert main["returned"] == 6 and main["counts"] == expected


def test_a_phone_that_cannot_encrypt_is_told_to_ask_staff_and_sends_nothing(site: Site, open_page: Any) -> None:
    """No BigInt (an old browser): the secret vote shows a clear message instead of choices."""
    story = site.story
    checked_in = set(site.check_in_before_pages_open(0.7))
    make_trustees(site.db, story.congress_id, story.voting(story.delegates[0].group_id)[-3:])
    staff = site.staff()
    vote = site.command(staff, "create_vote", agenda_item_id=story.agenda[2]["id"], title="补选职工董事（无记名）",
                        is_secret=True, questions=[{"kind": "election", "text": "补选职工董事 1 名", "seats": 1,
                                                    "candidates": CANDIDATES[:3]}])
    site.command(staff, "open_vote", vote_id=vote["id"])
    voter = next(d for d in story.voting() if d.employee_id in checked_in and not d.is_group_leader)
    page = sign_in_delegate(open_page, site, voter.employee_id, init_script="delete globalThis.BigInt;")
    panel = page.locator(".vote-panel")
    expect(panel).to_contain_text("您的浏览器无法加密选票")
    expect(panel).to_contain_text("请联系工作人员")
    expect(panel.get_by_role("button", name="下一步：确认选择")).to_have_count(0)
    with site.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(BallotCast)) == 0


def test_after_a_reload_a_delegate_sees_their_sealed_receipt_again_and_whether_it_counted(site: Site, open_page: Any) -> None:
    story = site.story
    checked_in = set(site.check_in_before_pages_open(0.7))
    trustees = make_trustees(site.db, story.congress_id, story.voting(story.delegates[0].group_id)[-3:])
    staff = site.staff()
    vote = site.command(staff, "create_vote", agenda_item_id=story.agenda[2]["id"], title="补选职工董事（无记名）",
                        is_secret=True, questions=[{"kind": "election", "text": "补选职工董事 1 名", "seats": 1,
                                                    "candidates": CANDIDATES[:3]}])
    site.command(staff, "open_vote", vote_id=vote["id"])
    voter = next(d for d in story.voting() if d.employee_id in checked_in and not d.is_group_leader)
    page = sign_in_delegate(open_page, site, voter.employee_id)
    panel = page.locator(".vote-panel")
    panel.get_by_text(CANDIDATES[1], exact=True).click()
    panel.get_by_role("button", name="下一步：确认选择").click()
    panel.get_by_role("button", name="确认投票").click()
    receipt = panel.locator(".receipt").inner_text()

    page.reload()
    panel = page.locator(".vote-panel")
    expect(panel).to_contain_text("我的选票已记录")
    panel.get_by_role("button", name="查看我的回执").click()
    expect(panel.locator(".my-receipt .receipt")).to_have_text(receipt)
    expect(panel.locator(".my-receipt")).to_contain_text("表决截止时将计入结果")
    expect(panel.locator(".my-receipt")).not_to_contain_text(CANDIDATES[1])

    site.command(staff, "close_vote", vote_id=vote["id"])
    trustees.decrypt(vote["id"], [1, 2])
    page.reload()
    card = page.locator("article.card", has_text="补选职工董事（无记名）")
    card.get_by_role("button", name="查看我的回执").click()
    expect(card.locator(".my-receipt .receipt")).to_have_text(receipt)
    expect(card.locator(".my-receipt")).to_contain_text("已按所投内容计入结果")
    shot(page, "secret-receipt-after-reload", full_page=True)
