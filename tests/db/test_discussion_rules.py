"""Documents, group rooms, review opinions and requests to speak: the rules each action enforces,
on SQLite and PostgreSQL with the schema from the migrations, with a fixed clock."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from congress.actions.agenda import add_agenda_item, set_current_item
from congress.actions.base import Context
from congress.actions.documents import (
    MAX_DOCUMENT_BYTES,
    replace_version,
    table_document,
    upload_document,
    upload_version,
)
from congress.actions.opinions import (
    mark_opinion_handled,
    opinions_for_item,
    opinions_table,
    save_opinion,
    submit_opinion,
)
from congress.actions.rooms import MAX_MESSAGE_CHARS, group_rooms, hide_message, pin_message, post_message
from congress.actions.roster import import_roster
from congress.actions.setup import create_congress
from congress.actions.speakers import (
    end_speech,
    give_floor,
    order_speakers,
    request_to_speak,
    withdraw_speech_request,
)
from congress.application.auth import delegate_actor, observer_actor
from congress.db.engine import Database
from congress.db.models import Delegate, Event, Message
from congress.domain.errors import DomainError
from congress.domain.kinds import Role
from congress.domain.permissions import Actor
from congress.live.hub import may_see
from congress.reads.document_pages import render_markdown
from congress.reads.documents import documents_snapshot, readable_version
from congress.reads.snapshot import build_snapshot
from congress.records.opinions_export import COLUMNS, opinions_print_html, opinions_xlsx

# Two groups: 长沙 (leader 甲一, 甲二, 列席 甲三) and 岳阳 (leader 乙一, 乙二)
ROSTER = """employee_id,name,gender,group,unit,role,is_group_leader,delegate_type
A1,甲一,男,长沙,一车间,一线职工,1,正式代表
A2,甲二,女,长沙,一车间,一线职工,0,正式代表
A3,甲三,男,长沙,二车间,管理人员,0,列席代表
B1,乙一,男,岳阳,三车间,一线职工,1,正式代表
B2,乙二,女,岳阳,三车间,一线职工,0,正式代表
""".encode()
T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


as_actor = delegate_actor


@dataclass
class World:
    db: Database
    congress_id: int
    item_id: int
    group_a: int
    group_b: int
    leader_a: Actor
    member_a: Actor
    guest_a: Actor  # 列席代表: speaks, does not vote
    leader_b: Actor
    member_b: Actor
    staff: Actor
    observer: Actor

    def act(self, actor: Actor, fn: Callable[..., Any], *args: Any, at: datetime = T0, **kwargs: Any
            ) -> tuple[Any, list[Event]]:
        with self.db.write() as session:
            ctx = Context(session, actor, at)
            return fn(ctx, self.congress_id, *args, **kwargs), ctx.events

    def do(self, actor: Actor, fn: Callable[..., Any], *args: Any, at: datetime = T0, **kwargs: Any) -> Any:
        return self.act(actor, fn, *args, at=at, **kwargs)[0]

    def refused(self, code: str, actor: Actor, fn: Callable[..., Any], *args: Any, at: datetime = T0,
                **kwargs: Any) -> str:
        with pytest.raises(DomainError) as caught:
            self.act(actor, fn, *args, at=at, **kwargs)
        assert caught.value.code == code, caught.value
        return caught.value.message

    def snapshot(self, actor: Actor) -> dict[str, Any]:
        with self.db.read() as session:
            return build_snapshot(session, self.congress_id, actor)


@pytest.fixture
def world(db: Database) -> World:
    """The congress through the real actions (no accounts or access codes: nobody signs in here)."""
    staff = Actor(role=Role.STAFF, name="工会 王敏")
    with db.write() as session:
        ctx = Context(session, staff, T0)
        congress = create_congress(ctx, "第十届职代会第三次会议", ["长沙", "岳阳"])
        import_roster(ctx, congress.id, ROSTER, "roster.csv")
        item = add_agenda_item(ctx, congress.id, "审议", "审议公司工作报告")
        by_id = {d.employee_id: as_actor(d) for d in session.scalars(
            sa.select(Delegate).where(Delegate.congress_id == congress.id))}
    a1, a2, a3, b1, b2 = (by_id[e] for e in ("A1", "A2", "A3", "B1", "B2"))
    return World(db, congress.id, item["id"], a1.group_id or 0, b1.group_id or 0, a1, a2, a3, b1, b2, staff,
                 observer_actor(congress.id))


# -- rooms ---------------------------------------------------------------------------------------------
def test_a_room_is_seen_and_written_only_by_its_group_and_staff(world: World) -> None:
    w = world
    mine, events = w.act(w.member_a, post_message, "<script>alert(1)</script> 报告第三部分要具体")
    assert mine["text"] == "<script>alert(1)</script> 报告第三部分要具体"  # raw text, for textContent
    (event,) = events
    assert (event.type, event.audience, event.audience_id) == ("room.message_posted", "group", w.group_a)
    assert may_see(w.leader_a, event.audience, event.audience_id) and may_see(w.staff, event.audience, event.audience_id)
    assert not may_see(w.member_b, event.audience, event.audience_id)
    assert not may_see(w.observer, event.audience, event.audience_id)
    w.do(w.member_b, post_message, "岳阳组意见")
    w.do(w.staff, post_message, "请各组围绕报告讨论", group_id=w.group_b)

    w.refused("other_group", w.member_b, post_message, "串门", group_id=w.group_a)
    w.refused("not_found", w.member_b, post_message, "回复", reply_to_id=mine["id"])  # not in their room
    w.refused("read_only", w.observer, post_message, "观众发言")
    w.refused("missing_field", w.staff, post_message, "发到哪？")
    department = Actor(role=Role.DEPARTMENT, name="人力资源部", account_id=None)
    w.refused("forbidden", department, post_message, "部门发言", group_id=w.group_a)
    reply = w.do(w.guest_a, post_message, "列席代表也可以发言", reply_to_id=mine["id"], agenda_item_id=w.item_id)
    assert reply["reply_to_id"] == mine["id"]

    rooms_a = w.snapshot(w.member_a)["room"]
    assert [r["group_id"] for r in rooms_a] == [w.group_a]
    assert [m["text"] for m in rooms_a[0]["messages"]] == [mine["text"], "列席代表也可以发言"]
    rooms_b = w.snapshot(w.member_b)["room"]
    assert [r["group_id"] for r in rooms_b] == [w.group_b]
    assert [m["text"] for m in rooms_b[0]["messages"]] == ["岳阳组意见", "请各组围绕报告讨论"]
    assert rooms_b[0]["messages"][1]["is_staff_author"] is True
    assert w.snapshot(w.observer)["room"] == []
    assert w.snapshot(w.staff)["room"] == []  # staff read every group's room with group_rooms
    assert [r["group_id"] for r in w.do(w.staff, group_rooms)["groups"]] == [w.group_a, w.group_b]


def test_hidden_message_is_a_stub_for_members_and_kept_whole_in_the_record(world: World) -> None:
    w = world
    message = w.do(w.member_a, post_message, "与报告无关的广告")
    w.refused("not_group_leader", w.member_a, hide_message, message["id"], "跑题")
    w.refused("other_group", w.leader_b, hide_message, message["id"], "跑题")
    w.refused("read_only", w.observer, hide_message, message["id"], "跑题")
    w.refused("reason_required", w.leader_a, hide_message, message["id"], "  ")
    w.do(w.leader_a, pin_message, message["id"])
    result, events = w.act(w.leader_a, hide_message, message["id"], "与议题无关")
    assert result["message"]["hidden_reason"] == "与议题无关"
    hidden, record = events
    assert (hidden.type, hidden.audience, hidden.audience_id) == ("room.message_hidden", "group", w.group_a)
    assert "text" not in hidden.payload["message"] and "hidden_reason" not in hidden.payload["message"]
    assert (record.type, record.audience, record.payload["hidden_reason"]) == ("room.hide_recorded", "staff",
                                                                              "与议题无关")
    w.refused("already_hidden", w.staff, hide_message, message["id"], "再隐藏")
    w.refused("message_hidden", w.leader_a, pin_message, message["id"])

    (stub,) = w.snapshot(w.member_a)["room"][0]["messages"]
    assert stub == {"id": message["id"], "group_id": w.group_a, "reply_to_id": None, "agenda_item_id": None,
                    "created_at": stub["created_at"], "is_hidden": True, "is_pinned": False}
    staff_stub = w.do(w.staff, group_rooms)["groups"][0]["messages"][0]
    assert (staff_stub["hidden_reason"], staff_stub["hidden_by"]) == ("与议题无关", "甲一")
    assert "text" not in staff_stub
    with w.db.read() as session:
        row = session.get(Message, message["id"])
        assert row is not None
        assert (row.text, row.hidden_reason, row.hidden_by) == ("与报告无关的广告", "与议题无关", "甲一")


def test_message_length_and_rate_are_limited_with_clear_errors(world: World) -> None:
    w = world
    text = w.refused("message_too_long", w.member_a, post_message, "长" * (MAX_MESSAGE_CHARS + 1))
    assert str(MAX_MESSAGE_CHARS) in text and str(MAX_MESSAGE_CHARS + 1) in text
    w.refused("bad_field", w.member_a, post_message, "   ")
    w.do(w.member_a, post_message, "长" * MAX_MESSAGE_CHARS)  # exactly the limit is fine
    for second in range(1, 5):
        w.do(w.member_a, post_message, f"第 {second} 条", at=T0 + timedelta(seconds=second))
    text = w.refused("too_many_messages", w.member_a, post_message, "第 6 条", at=T0 + timedelta(seconds=5))
    assert "10 秒" in text and "5 条" in text
    w.do(w.leader_a, post_message, "别人不受影响", at=T0 + timedelta(seconds=5))
    # Ten seconds after the first, the window has room again
    w.do(w.member_a, post_message, "第 6 条", at=T0 + timedelta(seconds=10, milliseconds=1))
    w.refused("too_many_messages", w.member_a, post_message, "第 7 条", at=T0 + timedelta(seconds=10, milliseconds=2))


# -- opinions --------------------------------------------------------------------------------------
def test_only_the_leader_drafts_and_submits_then_the_opinion_is_read_only(world: World) -> None:
    w = world
    said = w.do(w.member_a, post_message, "建议把安全投入单列")
    other_room = w.do(w.member_b, post_message, "岳阳的发言")
    w.refused("not_group_leader", w.member_a, save_opinion, w.item_id, agreement="同意")
    w.refused("forbidden", w.staff, save_opinion, w.item_id, agreement="同意")
    w.refused("read_only", w.observer, submit_opinion, w.item_id)
    w.refused("not_found", w.leader_a, save_opinion, w.item_id, quoted_message_ids=[other_room["id"]])
    w.refused("no_draft", w.leader_a, submit_opinion, w.item_id)
    w.do(w.leader_a, save_opinion, w.item_id, agreement="", suggestions="", objections="")
    w.refused("opinion_empty", w.leader_a, submit_opinion, w.item_id)

    draft, events = w.act(w.leader_a, save_opinion, w.item_id, agreement="同意报告", suggestions="=1+1 安全投入单列",
                          quoted_message_ids=[said["id"], said["id"]])
    assert draft["quoted_message_ids"] == [said["id"]] and draft["status"] == "draft"
    assert [(e.type, e.audience, e.audience_id) for e in events] == [("opinion.saved", "group", w.group_a)]
    w.refused("not_group_leader", w.member_a, submit_opinion, w.item_id)
    w.refused("opinion_not_submitted", w.staff, mark_opinion_handled, draft["id"], "已采纳")
    submitted, events = w.act(w.leader_a, submit_opinion, w.item_id, at=T0 + timedelta(minutes=5))
    assert submitted["status"] == "submitted" and events[0].type == "opinion.submitted"
    assert may_see(w.staff, events[0].audience, events[0].audience_id)
    assert not may_see(w.member_b, events[0].audience, events[0].audience_id)
    w.refused("opinion_submitted", w.leader_a, save_opinion, w.item_id, agreement="改一下")
    w.refused("opinion_submitted", w.leader_a, submit_opinion, w.item_id)

    table = w.do(w.staff, opinions_for_item, w.item_id)
    assert [(g["group"], g["opinion"] and g["opinion"]["status"]) for g in table["groups"]] == [
        ("长沙", "submitted"), ("岳阳", None)]
    w.refused("read_only", w.observer, opinions_for_item, w.item_id)
    w.refused("forbidden", w.leader_a, opinions_for_item, w.item_id)
    w.refused("bad_field", w.staff, mark_opinion_handled, submitted["id"], "随便")
    handled = w.do(w.staff, mark_opinion_handled, submitted["id"], "部分采纳", note="纳入明年预算")
    assert (handled["handling"], handled["handling_note"]) == ("部分采纳", "纳入明年预算")
    assert [o["group_id"] for o in w.snapshot(w.member_b)["opinions"]] == []
    assert [o["group_id"] for o in w.snapshot(w.member_a)["opinions"]] == [w.group_a]
    assert w.snapshot(w.observer)["opinions"] == []


def test_opinions_export_one_row_per_group_as_text(world: World) -> None:
    w = world
    said = w.do(w.member_a, post_message, "<b>安全</b>第一")
    w.do(w.leader_a, save_opinion, w.item_id, agreement="同意", suggestions="=HYPERLINK(\"x\")",
         objections="<script>alert(1)</script>", quoted_message_ids=[said["id"]])
    w.do(w.leader_a, submit_opinion, w.item_id)
    with w.db.read() as session:
        table = opinions_table(session, w.congress_id, w.item_id)
    sheet = load_workbook(io.BytesIO(opinions_xlsx(table))).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert tuple(rows[0]) == COLUMNS == ("代表团(组)", "议程", "赞同意见", "建议", "不同意见", "引用发言", "提交时间",
                                         "处理情况")
    assert rows[1][:6] == ["长沙", "审议公司工作报告", "同意", "=HYPERLINK(\"x\")", "<script>alert(1)</script>",
                           "甲二：<b>安全</b>第一"]
    assert sheet.cell(2, 4).data_type == "s"  # text, not a formula
    assert rows[1][7] == "待处理" and rows[2][0] == "岳阳" and rows[2][7] == "未报送"
    page = opinions_print_html(table, "第十届职代会第三次会议")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;安全&lt;/b&gt;第一" in page and "@page" in page


# -- documents ---------------------------------------------------------------------------------------
def test_uploads_are_checked_by_content_and_size(world: World) -> None:
    w = world
    upload = (w.staff, upload_document, "工作报告", w.item_id, True)
    w.refused("bad_file", *upload, "报告.pdf", b"<html>not a pdf</html>")
    w.refused("unsupported_type", *upload, "报告.docx", b"PK\x03\x04....")
    w.refused("unsupported_type", *upload, "报告.exe", b"MZ\x90\x00")
    w.refused("bad_file", *upload, "报告.md", "报告".encode("gb18030"))
    w.refused("empty_file", *upload, "报告.md", b"")
    w.refused("too_large", *upload, "报告.pdf", b"%PDF-" + b"0" * MAX_DOCUMENT_BYTES)
    w.refused("bad_field", w.staff, upload_document, "  ", w.item_id, True, "a.md", b"# x")
    w.refused("forbidden", w.leader_a, upload_document, "报告", w.item_id, True,
              "a.md", b"# x")
    w.refused("read_only", w.observer, upload_document, "报告", w.item_id, True, "a.md", b"# x")
    # A PDF is a PDF by its bytes, whatever its name says
    added = w.do(w.staff, upload_document, "财务报告", None, False, "../../财务报告.md", PDF_BYTES)
    assert added["versions"][0]["content_type"] == "application/pdf"
    assert added["versions"][0]["filename"] == "财务报告.md"
    assert w.snapshot(w.staff)["documents"][0]["versions"][0]["size"] == len(PDF_BYTES)


def test_tabled_document_changes_only_by_new_versions_and_old_ones_stay_readable(world: World) -> None:
    w = world
    draft = "# 工作报告（征求意见稿）\n".encode()
    added, events = w.act(w.staff, upload_document, "公司工作报告", w.item_id, False, "report.md", draft)
    assert [(e.type, e.audience) for e in events] == [("document.added", "delegates")]
    assert may_see(w.member_b, "delegates", None) and not may_see(w.observer, "delegates", None)
    doc_id = added["id"]
    fixed = "# 工作报告（审议稿）\n".encode()
    w.do(w.staff, replace_version, doc_id, 1, "report.md", fixed)  # before tabling: corrected in place
    tabled, events = w.act(w.staff, table_document, doc_id)
    assert events[0].type == "document.tabled"
    w.refused("document_tabled", w.staff, table_document, doc_id)
    message = w.refused("document_tabled", w.staff, replace_version, doc_id, 1, "report.md", b"# changed")
    assert "新版本" in message
    second = w.do(w.staff, upload_version, doc_id, "report-v2.md", "# 工作报告（修改稿）\n".encode())
    assert second["version"]["version"] == 2
    with w.db.read() as session:
        _doc, first = readable_version(session, w.member_b, w.congress_id, doc_id, 1)
        assert first.content == fixed
        _doc, latest = readable_version(session, w.member_b, w.congress_id, doc_id, 2)
        assert latest.content.decode().startswith("# 工作报告（修改稿）")
    (document,) = w.snapshot(w.member_a)["documents"]
    assert document["is_tabled"] and [v["version"] for v in document["versions"]] == [1, 2]


def test_observers_read_only_public_documents(world: World) -> None:
    w = world
    private = w.do(w.staff, upload_document, "财务报告（内部）", w.item_id, False, "finance.md", b"# internal")
    public, events = w.act(w.staff, upload_document, "公司工作报告", w.item_id, True, "report.pdf", PDF_BYTES)
    assert events[0].audience == "public"
    assert [d["title"] for d in w.snapshot(w.observer)["documents"]] == ["公司工作报告"]
    assert [d["title"] for d in w.snapshot(w.member_b)["documents"]] == ["财务报告（内部）", "公司工作报告"]
    with w.db.read() as session:
        with pytest.raises(DomainError) as caught:
            readable_version(session, w.observer, w.congress_id, private["id"], 1)
        assert caught.value.code == "not_found"
        assert readable_version(session, w.observer, w.congress_id, public["id"], 1)[1].content == PDF_BYTES
        assert [d["id"] for d in documents_snapshot(session, w.congress_id, w.observer)] == [public["id"]]


@pytest.mark.parametrize("source", [
    "<script>alert(1)</script>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "<javascript:alert(1)>",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "![i](javascript:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](vbscript:msgbox)",
    "[x](file:///etc/passwd)",
    "<img src=x onerror=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
])
def test_markdown_renders_script_and_script_links_inert(source: str) -> None:
    """Nothing but paragraphs of escaped text comes out: no script, no link, no image, no attribute."""
    html = render_markdown(source)
    assert set(re.findall(r"<[^>]*>", html)) == {"<p>", "</p>"}, html


def test_markdown_keeps_http_and_relative_links() -> None:
    html = render_markdown("[a](https://example.com/报告) [b](./附件.md) [c](#第一部分)")
    assert html.count("<a href=") == 3 and 'rel="noopener noreferrer nofollow"' in html


# -- requests to speak --------------------------------------------------------------------------------
def test_speech_requests_wait_in_order_and_the_floor_is_public(world: World) -> None:
    w = world
    w.refused("no_current_item", w.member_a, request_to_speak, topic="安全生产")
    w.do(w.staff, set_current_item, w.item_id)
    first, events = w.act(w.member_a, request_to_speak, topic="安全生产")
    assert [(e.type, e.audience, e.audience_id) for e in events] == [
        ("speech.requested", "delegate", w.member_a.delegate_id)]
    w.refused("already_requested", w.member_a, request_to_speak)
    w.refused("forbidden", w.staff, request_to_speak)
    w.refused("read_only", w.observer, request_to_speak)
    second = w.do(w.guest_a, request_to_speak, topic="列席代表的建议")
    third = w.do(w.member_b, request_to_speak)
    w.refused("forbidden", w.member_b, withdraw_speech_request, first["id"])
    w.refused("forbidden", w.member_b, order_speakers, [third["id"]])
    ordered = w.do(w.staff, order_speakers, [third["id"], first["id"]])
    assert ordered["order"] == [third["id"], first["id"], second["id"]]
    w.refused("bad_field", w.staff, order_speakers, [third["id"], third["id"]])
    assert [r["id"] for r in w.snapshot(w.staff)["speakers"]["waiting"]] == [third["id"], first["id"], second["id"]]
    assert [r["id"] for r in w.snapshot(w.member_a)["speakers"]["waiting"]] == [first["id"]]
    assert w.snapshot(w.observer)["speakers"] == {"current": None, "waiting": []}

    floor, events = w.act(w.staff, give_floor, third["id"], seconds_allowed=300)
    assert [(e.type, e.audience) for e in events] == [("speaker.floor_given", "public")]
    assert (floor["name"], floor["group"], floor["seconds_allowed"]) == ("乙二", "岳阳", 300)
    _floor, events = w.act(w.staff, give_floor, first["id"], at=T0 + timedelta(minutes=5))
    assert [e.type for e in events] == ["speaker.ended", "speaker.floor_given"]
    assert events[0].payload["request_id"] == third["id"]
    current = w.snapshot(w.observer)["speakers"]["current"]
    assert (current["name"], current["group"], current["agenda_item_id"]) == ("甲二", "长沙", w.item_id)
    w.refused("not_waiting", w.staff, give_floor, first["id"])
    w.do(w.guest_a, withdraw_speech_request, second["id"])
    w.refused("not_waiting", w.guest_a, withdraw_speech_request, second["id"])
    ended = w.do(w.staff, end_speech)
    assert ended["request_id"] == first["id"]
    w.refused("no_speaker", w.staff, end_speech)
    assert w.snapshot(w.observer)["speakers"]["current"] is None
    assert w.do(w.member_a, request_to_speak)["position"] == 4  # after speaking, may ask again
    with w.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Event).where(
            Event.type == "speaker.floor_given")) == 2


def test_a_waiting_request_stays_on_its_item_when_the_agenda_moves_on_and_a_removal_tells_the_delegate(
        world: World) -> None:
    w = world
    w.do(w.staff, set_current_item, w.item_id)
    asked = w.do(w.member_a, request_to_speak, topic="安全生产")
    other = w.do(w.member_b, request_to_speak, topic="食堂")
    with w.db.write() as session:
        second_item = add_agenda_item(Context(session, w.staff, T0), w.congress_id, "审议", "审议职工代表提案工作报告")

    # Staff move the agenda on: nothing happens to the requests, and no speech event goes out
    _moved, events = w.act(w.staff, set_current_item, second_item["id"])
    assert [e.type for e in events] == ["agenda.current_changed"]
    staff_view = w.snapshot(w.staff)["speakers"]["waiting"]
    assert [(r["id"], r["agenda_item_id"], r["status"]) for r in staff_view] == [
        (asked["id"], w.item_id, "waiting"), (other["id"], w.item_id, "waiting")]
    assert [r["id"] for r in w.snapshot(w.member_a)["speakers"]["waiting"]] == [asked["id"]]
    assert w.snapshot(w.observer)["speakers"]["waiting"] == []

    # A request is per item: the same delegate may ask on the new item as well
    here = w.do(w.member_a, request_to_speak, topic="提案办理")
    assert (here["agenda_item_id"], here["position"]) == (second_item["id"], 1)
    assert [r["id"] for r in w.snapshot(w.member_a)["speakers"]["waiting"]] == [asked["id"], here["id"]]
    # Ordering is for the current item's queue; a request left on the earlier item is not in it
    w.refused("bad_field", w.staff, order_speakers, [asked["id"]])

    # Staff may still call a request from the earlier item…
    floor = w.do(w.staff, give_floor, other["id"])
    assert (floor["name"], floor["agenda_item_id"], floor["topic"]) == ("乙二", w.item_id, "食堂")
    # …or take one off the list: the delegate is told which request and on which item
    removed, events = w.act(w.staff, withdraw_speech_request, asked["id"])
    (event,) = events
    assert (event.type, event.audience, event.audience_id) == ("speech.removed", "delegate", w.member_a.delegate_id)
    assert may_see(w.member_a, event.audience, event.audience_id) and may_see(w.staff, event.audience, event.audience_id)
    assert not may_see(w.member_b, event.audience, event.audience_id)
    assert not may_see(w.observer, event.audience, event.audience_id)
    assert {k: event.payload[k] for k in ("id", "agenda_item_id", "agenda_item_title", "topic", "status", "removed_by")} == {
        "id": asked["id"], "agenda_item_id": w.item_id, "agenda_item_title": "审议公司工作报告", "topic": "安全生产",
        "status": "withdrawn", "removed_by": "工会 王敏"}
    assert removed["id"] == asked["id"]
    # The delegate withdrawing their own is not news to them
    _withdrawn, events = w.act(w.member_a, withdraw_speech_request, here["id"])
    assert [e.type for e in events] == ["speech.withdrawn"]
    assert w.snapshot(w.member_a)["speakers"]["waiting"] == []
    assert w.snapshot(w.staff)["speakers"]["waiting"] == []
