"""Notices to proposers (decided, answered, merged) and to delegates when a vote opens (off by
default), who may configure them, and two senders at once sending each notice once."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from congress.actions.base import Context
from congress.actions.casework import assign_proposal, decide_proposal, reply_proposal
from congress.actions.notices import notices_view, set_notices
from congress.actions.proposals import submit_proposal
from congress.application.auth import delegate_actor, observer_actor
from congress.application.notice_sender import Sender
from congress.db.engine import Database
from congress.db.models import Notice
from congress.domain.errors import DomainError
from congress.notices.settings import smtp_settings
from tests.db.test_casework import as_department, registered
from tests.db.test_proposals import act, file
from tests.notices.conftest import SetClock
from tests.story import SETUP, open_pay_vote

T0 = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)
HR = "人力资源部"


def emails(db, story, people):  # type: ignore[no-untyped-def]
    act(db, SETUP, set_notices, story.congress_id,
        delegate_emails={d.employee_id: f"{d.employee_id.lower()}@example.cn" for d in people})
    return {d.id: f"{d.employee_id.lower()}@example.cn" for d in people}


def test_a_proposer_hears_when_the_proposal_is_decided_answered_or_merged(db, story, smtp_sink):  # type: ignore[no-untyped-def]
    a, b, c, d, e, f = story.voting()[:6]
    mail = emails(db, story, [a, d])
    p = registered(db, story, a, [b, c])  # 立案
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR)
    act(db, as_department(db), reply_proposal, story.congress_id, p["id"], "A", "已在夜班食堂开设热饭窗口，每晚供应。")
    dup = file(db, story, d, [e, f], title="给夜班弄点夜宵")
    act(db, delegate_actor(d), submit_proposal, story.congress_id, dup["id"])
    act(db, SETUP, decide_proposal, story.congress_id, dup["id"], "合并立案", merge_into_id=p["id"])

    counts, _ = Sender(db, SetClock(datetime.now(UTC)), smtp=smtp_settings()).drain()

    assert counts["sent"] == 3
    assert [s[:6] for s in smtp_sink.subjects(mail[a.id])] == ["【提案审查】", "【提案答复】"]
    assert "已立案" in smtp_sink.subjects(mail[a.id])[0]
    assert [s for s in smtp_sink.subjects(mail[d.id])] == ["【提案审查】第 2 号提案《给夜班弄点夜宵》已合并立案"]
    body = smtp_sink.messages[1].get_content()
    assert "满意度测评" in body and "https://congress.example.cn/delegate?congress=" in body
    assert smtp_sink.subjects(f"{b.employee_id.lower()}@example.cn") == []  # co-signers: not by e-mail


def test_a_proposer_without_an_email_or_with_the_rule_off_gets_nothing_queued(db, story):  # type: ignore[no-untyped-def]
    a, b, c, d, e, f = story.voting()[:6]
    registered(db, story, a, [b, c])  # no e-mail on the roster
    emails(db, story, [d])
    act(db, SETUP, set_notices, story.congress_id, rules={"proposer_decided": False})
    registered(db, story, d, [e, f], title="关于增设职工书屋的建议")
    with db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Notice)) == 0


def test_delegates_hear_a_vote_open_only_when_staff_switch_it_on(db, story, smtp_sink, robots):  # type: ignore[no-untyped-def]
    people = story.voting()[:3]
    mail = emails(db, story, people)
    act(db, SETUP, set_notices, story.congress_id,
        add_channel={"audience": "delegates", "kind": "wecom", "address": robots.url("/wecom/delegates?key=d")})
    open_pay_vote(db, story)
    with db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Notice)) == 0  # off by default

    act(db, SETUP, set_notices, story.congress_id, rules={"vote_opened": True})
    with db.write() as session:
        from congress.actions.votes import create_vote, open_vote

        ctx = Context(session, SETUP, datetime.now(UTC))
        vote = create_vote(ctx, story.congress_id, story.agenda[1]["id"], "第二轮表决",
                           [{"kind": "yes_no", "text": "是否同意"}])
        open_vote(ctx, story.congress_id, vote["id"])
    Sender(db, SetClock(datetime.now(UTC)), smtp=smtp_settings()).drain()

    assert all(smtp_sink.subjects(address) == ["【表决开始】第二轮表决"] for address in mail.values())
    assert len(robots.texts("/wecom/delegates")) == 1 and "【表决开始】第二轮表决" in robots.texts("/wecom")[0]


def test_only_staff_set_notices_a_delegate_or_observer_is_refused_and_nothing_changes(db, story):  # type: ignore[no-untyped-def]
    delegate = delegate_actor(story.voting()[0])
    spec = {"audience": "staff", "kind": "email", "address": "x@example.cn"}
    for actor, code in ((delegate, "forbidden"), (observer_actor(story.congress_id), "read_only")):
        with pytest.raises(DomainError) as refused:
            act(db, actor, set_notices, story.congress_id, add_channel=spec)
        assert refused.value.code == code
        with pytest.raises(DomainError):
            with db.read() as session:
                notices_view(Context(session, actor, datetime.now(UTC)), story.congress_id)
    with db.read() as session:
        view = notices_view(Context(session, SETUP, datetime.now(UTC)), story.congress_id)
    assert view["channels"] == []


def test_a_webhook_is_shown_masked_from_the_moment_it_is_saved(db, story):  # type: ignore[no-untyped-def]
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa"
    reply = act(db, SETUP, set_notices, story.congress_id,
                add_channel={"audience": "department", "department": HR, "kind": "wecom", "address": url})
    shown = reply["channels"][0]["address"]
    assert shown == "qyapi.weixin.qq.com/…5aaa" and "693a91f6" not in str(reply)
    with pytest.raises(DomainError) as refused:
        act(db, SETUP, set_notices, story.congress_id,
            add_channel={"audience": "department", "department": HR, "kind": "wecom", "address": "ftp://x"})
    assert "https://" in refused.value.message


def test_two_senders_at_once_send_each_notice_once(db, story, robots):  # type: ignore[no-untyped-def]
    act(db, SETUP, set_notices, story.congress_id,
        add_channel={"audience": "department", "department": HR, "kind": "dingtalk", "address": robots.url("/dingtalk/x")})
    voting = story.voting()
    for i in range(12):
        p = registered(db, story, voting[3 * i], voting[3 * i + 1:3 * i + 3], title=f"关于第 {i} 车间通风改造的建议")
        act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR, now=T0)
    clock = SetClock(T0 + timedelta(minutes=1))
    start = threading.Barrier(2)
    results: list[dict[str, int]] = []

    def one_sender() -> None:
        own = Database(db.url)  # its own engine and connections, as another process has
        start.wait()
        try:
            results.append(Sender(own, clock, batch=1).drain()[0])
        finally:
            own.dispose()

    threads = [threading.Thread(target=one_sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    titles = [r.body["markdown"]["title"] for r in robots.on("/dingtalk")]
    assert len(titles) == 12 and len(set(titles)) == 12  # each once
    assert sum(r["sent"] for r in results) == 12


def test_two_sender_processes_on_one_database_send_each_notice_once(db, story, robots):  # type: ignore[no-untyped-def]
    """The same with two `congress notices send --once` processes started together (PostgreSQL: the
    claim's SKIP LOCKED; SQLite: its one writer at a time)."""
    act(db, SETUP, set_notices, story.congress_id,
        add_channel={"audience": "department", "department": HR, "kind": "feishu", "address": robots.url("/feishu/x")})
    voting = story.voting()
    for i in range(20):
        p = registered(db, story, voting[3 * i], voting[3 * i + 1:3 * i + 3], title=f"关于第 {i} 号宿舍楼加装电梯的建议")
        act(db, SETUP, assign_proposal, story.congress_id, p["id"], HR)
    argv = [sys.executable, "-m", "congress.cli", "--database-url", db.url, "notices", "send", "--once", "--batch", "1"]
    processes = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120)[0] for p in processes]

    texts = robots.texts("/feishu/x")
    assert len(texts) == 20 and len(set(texts)) == 20
    assert sum(int(re.search(r"已发送 (\d+)", out).group(1)) for out in outs) == 20
