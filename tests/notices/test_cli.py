"""`congress notices …` on a real database: a webhook added from standard input is printed masked,
`send --once` drains the outbox into the robot receiver, `test` sends one message on a channel."""

from __future__ import annotations

import io

from congress.actions.casework import assign_proposal
from congress.cli import main
from tests.db.test_casework import registered
from tests.db.test_proposals import act
from tests.story import SETUP


def test_channel_add_status_send_and_test_from_the_command_line(db, story, robots, smtp_sink, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    url = db.url
    hook = robots.url("/wecom/cli?key=cli-key-abcdef-0123")
    monkeypatch.setattr("sys.stdin", io.StringIO(hook + "\n"))
    assert main(["--database-url", url, "notices", "channel", "add", "--audience", "department",
                 "--department", "人力资源部", "--kind", "wecom", "--address", "-"]) == 0
    assert main(["--database-url", url, "notices", "rules", "vote_opened=on"]) == 0
    out = capsys.readouterr().out
    assert "渠道 1: 人力资源部 · 企业微信群机器人 · 127.0.0.1:" in out and "/…0123" in out
    assert "cli-key" not in out and "开  vote_opened" in out

    a, b, c = story.voting()[:3]
    p = registered(db, story, a, [b, c])
    act(db, SETUP, assign_proposal, story.congress_id, p["id"], "人力资源部")
    assert main(["--database-url", url, "notices", "send", "--once"]) == 0
    assert "已发送 1" in capsys.readouterr().out
    assert len(robots.on("/wecom/cli")) == 1

    assert main(["--database-url", url, "notices", "test", "--channel", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("测试消息已发送：企业微信群机器人 → 人力资源部") and "cli-key" not in out
    assert "【测试】" in robots.texts("/wecom/cli")[1]
    assert main(["--database-url", url, "notices", "test", "--email", "it@example.cn"]) == 0
    assert smtp_sink.subjects("it@example.cn") == ["【测试】职代会系统通知测试"]
