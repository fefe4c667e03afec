"""The story's congress, for `congress demo`: 295 voting delegates in 7 groups, an agenda, a vote,
and a live test picture when ffmpeg is on the machine."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import sqlalchemy as sa

from congress.actions.accounts import add_department, add_staff, issue_codes
from congress.actions.agenda import add_agenda_item, set_current_item
from congress.actions.attendance import check_in_at_desk
from congress.actions.base import Context
from congress.actions.documents import table_document, upload_document
from congress.actions.roster import import_roster
from congress.actions.setup import create_congress, set_stream
from congress.actions.trustees import ceremony_state, name_trustees, post_trustee_message
from congress.actions.votes import create_vote
from congress.application.auth import delegate_actor
from congress.application.service import system_clock
from congress.db.engine import Database, is_sqlite
from congress.db.migrate import upgrade
from congress.db.models import Congress, Delegate, Group
from congress.demo.proposals import file_demo_proposals, file_for_pre_review
from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.sealed.kit import key_file_text, next_message
from congress.sealed.trustees import new_seed
from congress.streaming.encoder import TestPicture, ffmpeg_path

NAME = "纸业集团第十届职工代表大会第三次会议"
GROUPS = ["主会场", "长沙", "岳阳", "怀化", "益阳", "永州", "宁波"]
DEMO_ACTOR = Actor(role=Role.STAFF, name="示例数据")
DEPARTMENTS = ["人力资源部", "安全环保部", "生产技术部", "后勤服务中心", "财务部", "工会办公室"]
DEMO_STREAM_URL = "/live/demo.m3u8"  # the test picture's playlist, served by congress itself (CONGRESS_STREAM_DIR)
# The HLS hold (delay_seconds for kind hls): the server gives observers nothing younger than this. It
# is set to the stream's edge latency, here one 2-s segment of a playlist written on this machine
# (docs/streaming.md); each viewer's page holds the rest by its own picture.
DEMO_STREAM_HOLD_SECONDS = 2
NO_FFMPEG_HINT = ("  直播画面       未找到 ffmpeg：观众页和大屏显示“直播尚未开始”。要看测试画面（会议名称和时钟），"
                  "请安装 ffmpeg（apt-get install ffmpeg，macOS 用 brew install ffmpeg）后重新运行 congress demo")


def story_roster() -> bytes:
    return resources.files("congress").joinpath("data/roster.csv").read_bytes()


@dataclass
class DemoInfo:
    base_url: str
    congress_id: int
    staff_login: str
    staff_password: str
    delegate: tuple[str, str, str]  # employee id, name, code
    leader: tuple[str, str, str, str]  # employee id, name, group, code
    department: tuple[str, str]
    trustees: list[tuple[str, str, str, str]]  # employee id, name, code, key file

    def text(self) -> str:
        trustee_lines = [f"  监票人 {i}       工号 {e}（{n}）   访问码 {c}   密钥文件 {k}"
                         for i, (e, n, c, k) in enumerate(self.trustees, start=1)]
        return "\n".join([
            f"示例职代会已就绪：{NAME}",
            f"  工作人员登录   {self.base_url}/sign-in   账号 {self.staff_login}   密码 {self.staff_password}",
            f"  代表登录       {self.base_url}/sign-in   工号 {self.delegate[0]}（{self.delegate[1]}）   访问码 {self.delegate[2]}",
            f"  团(组)长登录   {self.base_url}/sign-in   工号 {self.leader[0]}（{self.leader[1]}，{self.leader[2]}团长）   访问码 {self.leader[3]}",
            f"  承办部门登录   {self.base_url}/sign-in   账号 {self.department[0]}   密码 {self.department[1]}",
            f"  观众（云听会） {self.base_url}/watch?congress={self.congress_id}",
            f"  大屏           {self.base_url}/screen?congress={self.congress_id}",
            "  无记名选举的密钥已由 3 位监票人生成；截止后任意 2 位解密计票合计（网页 /trustee 载入密钥文件，"
            "或 congress trustee decrypt）：",
            *trustee_lines,
            "以上密码和访问码只显示这一次（示例数据，每次运行 congress demo 都会重新生成）。",
        ])


def demo_folder(url: str) -> Path:
    """Where the demo keeps its files: beside its SQLite database (else the current folder)."""
    return Path(sa.engine.make_url(url).database or "").parent if is_sqlite(url) else Path.cwd()


def start_demo_picture(folder: Path) -> TestPicture | None:
    """The looping test picture (the congress's name and a clock) as live HLS in folder/congress-demo-live,
    or None when ffmpeg is missing. Its log is beside it; the caller stops it with the server."""
    if ffmpeg_path() is None:
        return None
    live = folder / "congress-demo-live"
    if live.is_dir():  # the last run's segments: a player must not start on a stale picture
        for old in [*live.glob("demo*.ts"), *live.glob("demo*.m3u8*")]:
            old.unlink(missing_ok=True)
    return TestPicture(live, title=NAME, name="demo", log_path=folder / "congress-demo-ffmpeg.log").start()


def set_demo_stream(url: str, congress_id: int, picture: TestPicture | None) -> str:
    """Point the congress's stream at the test picture, or (no ffmpeg, or it stopped) leave it unset;
    what to print."""
    # An ffmpeg that already stopped (e.g. built without libx264) would leave viewers on 正在重试
    failed = picture is not None and not picture.running
    db = Database(url)
    try:
        with db.write() as session:
            ctx = Context(session, DEMO_ACTOR, system_clock())
            if picture is not None and not failed:
                set_stream(ctx, congress_id, "hls", DEMO_STREAM_URL, DEMO_STREAM_HOLD_SECONDS)
            elif ctx.get(Congress, congress_id, "职代会").stream_url == DEMO_STREAM_URL:  # --keep after ffmpeg went
                set_stream(ctx, congress_id, "none")
    finally:
        db.dispose()
    if picture is None:
        return NO_FFMPEG_HINT
    if failed:
        return (f"  直播画面       ffmpeg 未能生成测试画面，观众页显示“直播尚未开始”。原因见 {picture.log_path}："
                f"\n{picture.log_tail(600).strip()}")
    return (f"  直播测试画面   ffmpeg 生成（会议名称和时钟），观众页和大屏播放 {DEMO_STREAM_URL}"
            f"（日志 {picture.log_path}）")


def build_demo(url: str, *, fresh: bool = True, base_url: str = "http://127.0.0.1:8000") -> DemoInfo:
    folder = demo_folder(url)
    if fresh and is_sqlite(url):
        path = Path(sa.engine.make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    upgrade(url)
    db = Database(url)
    try:
        with db.write() as session:
            return _populate(Context(session, DEMO_ACTOR, system_clock()), base_url,
                             folder / "congress-demo-trustees")
    finally:
        db.dispose()


def _make_trustees(ctx: Context, cid: int, members: list[Delegate], folder: Path) -> list[Path]:
    """The demo's three trustees make the key as their own computers would (congress.sealed.kit), and
    their key files are written where the demo runs: in real use each file stays with its trustee."""
    named = name_trustees(ctx, cid, [m.employee_id for m in members], 2)
    seeds = [new_seed() for _ in members]
    for _round in range(3):
        for index, (member, seed) in enumerate(zip(members, seeds, strict=True), start=1):
            trustee_ctx = Context(ctx.session, delegate_actor(member), ctx.now)
            state = ceremony_state(trustee_ctx, cid, named["ceremony_id"])["ceremony"]
            step = next_message(state, index, seed)
            if step is not None:
                post_trustee_message(trustee_ctx, cid, named["ceremony_id"], step[0], step[1])
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, (member, seed) in enumerate(zip(members, seeds, strict=True), start=1):
        path = folder / f"监票人{index}-{member.employee_id}.json"
        path.unlink(missing_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(key_file_text(seed))
        paths.append(path)
    return paths


def _populate(ctx: Context, base_url: str, trustee_folder: Path) -> DemoInfo:
    congress = create_congress(ctx, NAME, GROUPS)
    cid = congress.id
    import_roster(ctx, cid, story_roster(), "roster.csv")
    _account, staff_password = add_staff(ctx, "admin", "工会工作人员")
    department, dept_password = add_department(ctx, DEPARTMENTS[0])
    for name in DEPARTMENTS[1:]:
        add_department(ctx, name)
    codes = {c["employee_id"]: c["code"] for c in issue_codes(ctx, cid)}
    items = [
        add_agenda_item(ctx, cid, "名单", "通过大会主席团、监票人名单", names=["主席团：王建国、李红梅、张卫东", "总监票人：刘志强"]),
        add_agenda_item(ctx, cid, "审议", "审议公司工作报告", "总经理作 2026 年工作报告，各代表团分组审议。"),
        add_agenda_item(ctx, cid, "审议", "审议公司财务工作报告", "财务总监作财务预决算报告。"),
        add_agenda_item(ctx, cid, "审议通过", "表决《职工薪酬福利调整方案》"),
        add_agenda_item(ctx, cid, "审议通过", "表决《安全生产责任制实施办法》"),
        add_agenda_item(ctx, cid, "选举", "补选职工董事"),
    ]
    set_current_item(ctx, cid, items[1]["id"])
    groups = {g.name: g.id for g in ctx.session.scalars(sa.select(Group).where(Group.congress_id == cid))}
    delegates = list(ctx.session.scalars(sa.select(Delegate).where(Delegate.congress_id == cid)
                                         .order_by(Delegate.employee_id)))
    voting = [d for d in delegates if d.is_voting]
    delegate = next(d for d in voting if not d.is_group_leader and d.group_id == groups["长沙"])
    leader = next(d for d in voting if d.is_group_leader and d.group_id == groups["宁波"])
    # Most delegates are already checked in, so a vote can open; the printed ones check in themselves.
    # Exactly 250 (what the README says): the printed delegate and leader are not among them.
    rng = random.Random(2020)
    for d in rng.sample([d for d in voting if d.id not in (delegate.id, leader.id)], 250):
        check_in_at_desk(ctx, cid, d.employee_id)
    create_vote(ctx, cid, items[3]["id"], "表决《职工薪酬福利调整方案》", [{"kind": "yes_no", "text": "是否同意《职工薪酬福利调整方案》"}],
                hand_count_groups=[groups["宁波"]])
    create_vote(ctx, cid, items[5]["id"], "补选职工董事（无记名）",
                [{"kind": "election", "text": "补选职工董事 1 名", "candidates": ["周海燕", "陈立新"], "seats": 1}],
                is_secret=True)
    trustees = [d for d in voting if d.group_id == groups["主会场"] and not d.is_group_leader][-3:]
    key_files = _make_trustees(ctx, cid, trustees, trustee_folder)
    file_demo_proposals(ctx, cid)
    file_for_pre_review(ctx, cid, groups["永州"])
    for item, name, title, is_public in ((items[1], "work-report.md", "公司2026年工作报告", True),
                                         (items[2], "finance-report.md", "公司2026年财务预决算报告", False)):
        data = resources.files("congress").joinpath(f"data/demo/{name}").read_bytes()
        document = upload_document(ctx, cid, title, item["id"], is_public, name, data)
        table_document(ctx, cid, document["id"])
    leader_group = next(name for name, gid in groups.items() if gid == leader.group_id)
    return DemoInfo(base_url, cid, "admin", staff_password, (delegate.employee_id, delegate.name, codes[delegate.employee_id]),
                    (leader.employee_id, leader.name, leader_group, codes[leader.employee_id]),
                    (department.login, dept_password),
                    [(t.employee_id, t.name, codes[t.employee_id], str(k)) for t, k in zip(trustees, key_files, strict=True)])
